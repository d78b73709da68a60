package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

func TestEscape(t *testing.T) {
	tests := map[string]string{
		"/srv/site/index.php":    "/srv/site/index.php",
		"/srv/my site/a b.php":   "/srv/my site/a b.php",
		"/srv/ünïcødé":           "/srv/ünïcødé",
		"/srv/new\nline":         `"/srv/new\nline"`,
		"/srv/\x1b[31mred":       `"/srv/\x1b[31mred"`,
		"/srv/bad\xffutf8":       `"/srv/bad\xffutf8"`,
		"/srv/tab\tname":         `"/srv/tab\tname"`,
		"/srv/zero\u200bwidth":   `"/srv/zero\u200bwidth"`,
		"/srv/rtl\u202eoverride": `"/srv/rtl\u202eoverride"`,
	}
	for in, want := range tests {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %s, want %s", in, got, want)
		}
	}
}

func sampleReport() *audit.Report {
	a := access.NewAccounts([]access.User{{Name: "deploy", UID: 1000, GID: 1000}}, []access.Group{{Name: "deploy", GID: 1000}})
	return &audit.Report{
		Roots:    []string{"/srv/site"},
		Policy:   "default",
		Accounts: a,
		Entries:  3,
		Findings: []audit.Finding{
			{Rule: policy.ModeTooOpen, Severity: policy.Medium, Message: "m",
				Entry: walk.Entry{Path: "/srv/site/a\xff", Type: walk.TypeFile, Mode: 0o664, UID: 1000, GID: 4242, OwnerKnown: true},
				Fix:   &audit.Fix{Mode: 0o644}},
			{Rule: policy.SpecialFile, Severity: policy.Medium, Message: "m",
				Entry: walk.Entry{Path: "/srv/site/p", Type: walk.TypeFIFO, Mode: 0o600}},
		},
		Errors: []audit.WalkError{{Path: "/srv/site/private", Err: errors.New("permission denied")}},
	}
}

func TestJSONFields(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, sampleReport(), Options{}); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema"] != Schema || doc["complete"] != false || doc["web_user"] != nil {
		t.Errorf("envelope: schema %v complete %v web_user %v", doc["schema"], doc["complete"], doc["web_user"])
	}
	fs := doc["findings"].([]any)
	known, unknown := fs[0].(map[string]any), fs[1].(map[string]any)
	if known["owner"] != "deploy" || known["uid"] != 1000.0 || known["gid"] != 4242.0 {
		t.Errorf("known owner: %v", known)
	}
	if _, ok := known["group"]; ok {
		t.Errorf("gid 4242 has no name, but the finding names a group: %v", known["group"])
	}
	if known["path_base64"] != "L3Nydi9zaXRlL2H/" || known["fix"].(map[string]any)["mode"] != "0644" {
		t.Errorf("path_base64 %v, fix %v", known["path_base64"], known["fix"])
	}
	for _, key := range []string{"uid", "gid", "owner", "group", "fix", "path_base64"} {
		if _, ok := unknown[key]; ok {
			t.Errorf("a finding with unknown ownership and no fix has %q", key)
		}
	}
	sum := doc["summary"].(map[string]any)
	if sum["entries"] != 3.0 || sum["findings"] != 2.0 || sum["errors"] != 1.0 || sum["by_severity"].(map[string]any)["medium"] != 2.0 {
		t.Errorf("summary %v", sum)
	}
	if !strings.Contains(buf.String(), `"by_severity": {
      "critical": 0,
      "high": 0,
      "medium": 2,
      "low": 0,
      "info": 0
    }`) {
		t.Errorf("by_severity is not every severity, most severe first:\n%s", buf.String())
	}
}

func TestTextOwnersAndErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := Text(&buf, sampleReport(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"file 0664 (rw-rw-r--) deploy:4242", // numeric where the system has no name
		"fifo 0600 (rw-------) ?:?",         // unknown where the backend carries no owners
		`"/srv/site/a\xff"`,
		"fix: chmod 0644",
		"not read (1): the audit is incomplete",
		"/srv/site/private: permission denied",
		"web user  unknown",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}

// Visible escapes what Escape would quote, in place: an error message keeps its own quoting.
func TestVisible(t *testing.T) {
	for in, want := range map[string]string{
		`open "/srv/a": no such file`:           `open "/srv/a": no such file`,
		"open /srv/\x1b]0;t\a\n\xff/\u202ex: é": `open /srv/\x1b]0;t\a\n\xff/\u202ex: é`,
	} {
		if got := Visible(in); got != want {
			t.Errorf("Visible(%q) = %s, want %s", in, got, want)
		}
	}
}

// An account name with a terminal escape, as a hostile ROOT/etc/passwd can hold, is escaped
// wherever the text report names an owner.
func TestTextEscapesAccountNames(t *testing.T) {
	r := sampleReport()
	r.Accounts = access.NewAccounts([]access.User{{Name: "de\x1b]0;x\aploy", UID: 1000, GID: 1000}}, []access.Group{{Name: "g\x1b[2J", GID: 1000}})
	var buf bytes.Buffer
	if err := Text(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(buf.String(), "\x1b\a") || !strings.Contains(buf.String(), `"de\x1b]0;x\aploy"`) {
		t.Errorf("account names not escaped:\n%q", buf.String())
	}
}

func TestLookup(t *testing.T) {
	if _, err := Lookup("yaml"); err == nil || err.Error() != `unknown format "yaml"` {
		t.Errorf("Lookup(yaml): %v", err)
	}
	formats := Formats()
	if !slices.IsSorted(formats) {
		t.Errorf("Formats() = %v: not sorted", formats)
	}
	for _, f := range []string{"csv", "html", "json", "jsonl", "junit", "nagios", "prometheus", "sarif", "text"} {
		if w, err := Lookup(f); w == nil || err != nil || !slices.Contains(formats, f) {
			t.Errorf("format %s: Lookup %v, Formats() %v", f, err, formats)
		}
	}
}

// A file's capabilities reach the JSON report in getcap's form, and only where it has some.
func TestJSONCapabilities(t *testing.T) {
	r := sampleReport()
	caps := walk.Capabilities{Version: 2, Permitted: 1 << 10, Effective: true}
	r.Findings = append(r.Findings, audit.Finding{Rule: policy.SetuidSetgid, Severity: policy.High, Message: "m",
		Entry: walk.Entry{Path: "/srv/site/ping", Type: walk.TypeFile, Mode: 0o755, Capabilities: caps}})
	var buf bytes.Buffer
	if err := JSON(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range doc.Findings {
		got, ok := f["capabilities"]
		if f["path"] == "/srv/site/ping" {
			if got != "cap_net_bind_service=ep" {
				t.Errorf("capabilities %v, want cap_net_bind_service=ep", got)
			}
		} else if ok {
			t.Errorf("%s: capabilities %v, but it has none", f["path"], got)
		}
	}
}

// The policy file's name, as --policy gave it, is escaped in the text report's header.
func TestTextEscapesPolicyFile(t *testing.T) {
	r := sampleReport()
	r.Policy = "/root/p\x1b]0;x\a.yaml"
	var buf bytes.Buffer
	if err := Text(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(buf.String(), "\x1b\a") || !strings.Contains(buf.String(), `"/root/p\x1b]0;x\a.yaml"`) {
		t.Errorf("policy file name not escaped:\n%q", buf.String())
	}
}
