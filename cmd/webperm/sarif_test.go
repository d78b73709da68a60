package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/webperm/webperm/internal/sarifcheck"
)

// hostileNames are file names a URI must encode, each of which the SARIF report must carry to the
// byte: a space, '%', '#', '?', ':', a newline, a tab, quotes, invalid UTF-8, Unicode, a
// right-to-left override.
var hostileNames = []string{
	"up loads", "up loads/100% #1?.php", "new\nline.php", "tab\there&'x'.php", "bad\xffutf8.php",
	"ünïcødé.php", "c:colon.php", "\u202eevil.php", "[v6]@host.php",
}

// TestSARIFAudits audits the demo site, a clean tree and a tree of hostile names as SARIF, and
// holds each log to the SARIF 2.1.0 schema and to what code scanning relies on: every result
// points at the descriptor of its rule, and every location names its path to the byte.
func TestSARIFAudits(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the trees' owners must be set with chown")
	}
	audit := func(root string, want int) []byte {
		t.Helper()
		code, out, errOut := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", "--format", "sarif", root)
		if code != want || errOut != "" {
			t.Fatalf("audit of %s: exit %d, stderr %q; want %d and nothing on stderr", root, code, errOut, want)
		}
		return []byte(out)
	}
	demo := audit(demoTree(t), exitFindings)
	sarifcheck.Check(t, demo)

	clean := audit(tree(t, `
d 0755 0:0 .
f 0644 0:0 index.html
`), exitClean)
	if log := sarifcheck.Check(t, clean); len(log.Runs[0].Results) != 0 || !log.Runs[0].Invocations[0].ExecutionSuccessful {
		t.Errorf("a clean tree's log: %d results, execution successful %v", len(log.Runs[0].Results), log.Runs[0].Invocations[0].ExecutionSuccessful)
	}

	manifest := "d 0755 0:0 .\nf 0644 0:0 index.html\nd 0777 0:0 \"up loads\"\n"
	for _, name := range hostileNames[1:] {
		manifest += "f 0666 0:0 " + strconv.Quote(name) + "\n"
	}
	root := tree(t, manifest)
	hostile := audit(root, exitFindings)
	log := sarifcheck.Check(t, hostile)
	bases := map[string]*url.URL{}
	for id, b := range log.Runs[0].OriginalURIBaseIDs {
		bases[id], _ = url.Parse(b.URI)
	}
	located := map[string]bool{}
	for _, r := range log.Runs[0].Results {
		loc := r.Locations[0].PhysicalLocation.ArtifactLocation
		if p, err := sarifcheck.Resolve(loc.URI, loc.URIBaseID, bases); err == nil {
			located[p] = true
		}
	}
	for _, name := range hostileNames {
		if p := filepath.Join(root, name); !located[p] {
			t.Errorf("no result locates %q", p)
		}
	}
	sarifcheck.Validate(t, demo, clean, hostile)
}
