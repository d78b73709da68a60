package report

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/sarifcheck"
	"github.com/webperm/webperm/policy"
)

func writeSARIF(t *testing.T, r *audit.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := SARIF(&buf, r, Options{ToolVersion: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sarifReport is sampleReport with what else a SARIF log carries: a finding above the root, one
// of the root itself, one of a rule the catalog lacks, a directory not entered, and a second
// root inside the first.
func sarifReport() *audit.Report {
	r := sampleReport()
	r.Roots = append(r.Roots, "/srv/site/inner")
	r.Findings = append(r.Findings,
		audit.Finding{Rule: policy.WebUntraversable, Severity: policy.High, Message: "www-data cannot search /srv",
			Entry: walk.Entry{Path: "/srv", Type: walk.TypeDir, Mode: 0o700}},
		audit.Finding{Rule: policy.MissingIndex, Severity: policy.Info, Message: "no index",
			Entry: walk.Entry{Path: "/srv/site", Type: walk.TypeDir, Mode: 0o755}},
		audit.Finding{Rule: policy.WorldWritable, Severity: policy.Critical, Message: "others may write",
			Entry: walk.Entry{Path: "/srv/site/inner/up loads/#1?.php", Type: walk.TypeFile, Mode: 0o666}},
		audit.Finding{Rule: "rule-of-tomorrow", Severity: policy.Low, Message: "new",
			Entry: walk.Entry{Path: "/", Type: walk.TypeDir, Mode: 0o755}},
	)
	r.Skipped = []walk.Skip{{Path: "/srv/site/proc", FsType: "proc", Reason: walk.SkipPseudo}}
	return r
}

// TestSARIFRules checks the rule descriptors: one per rule of the catalog, in its order, with
// the texts code scanning shows, the level of the default severity, the security tag and a
// security-severity in the band of that severity.
func TestSARIFRules(t *testing.T) {
	var doc struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Name, Version, InformationURI string
					Rules                         []struct {
						ID, Name                                string
						ShortDescription, FullDescription, Help struct{ Text string }
						DefaultConfiguration                    struct{ Level string }
						Properties                              struct {
							SecuritySeverity string `json:"security-severity"`
							Tags             []string
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal(writeSARIF(t, sampleReport()), &doc); err != nil {
		t.Fatal(err)
	}
	d := doc.Runs[0].Tool.Driver
	if d.Name != "webperm" || d.Version != "v1.2.3" || d.InformationURI == "" {
		t.Errorf("driver: name %q, version %q, informationUri %q", d.Name, d.Version, d.InformationURI)
	}
	if len(d.Rules) != len(policy.Catalog) {
		t.Fatalf("%d rule descriptors, the catalog has %d rules", len(d.Rules), len(policy.Catalog))
	}
	levels := map[policy.Severity]string{policy.Critical: "error", policy.High: "error", policy.Medium: "warning", policy.Low: "note", policy.Info: "note"}
	bands := map[policy.Severity][2]float64{policy.Critical: {9, 10}, policy.High: {7, 8.9}, policy.Medium: {4, 6.9}, policy.Low: {0.1, 3.9}}
	for i, info := range policy.Catalog {
		r := d.Rules[i]
		if r.ID != string(info.ID) {
			t.Errorf("descriptor %d is %s, the catalog's rule %d %s", i, r.ID, i, info.ID)
			continue
		}
		if r.Name == "" || strings.ContainsAny(r.Name, "- ") || r.ShortDescription.Text == "" || r.FullDescription.Text == "" || r.Help.Text == "" {
			t.Errorf("%s: name %q, texts %q, %q, %q", r.ID, r.Name, r.ShortDescription.Text, r.FullDescription.Text, r.Help.Text)
		}
		if r.DefaultConfiguration.Level != levels[info.Severity] {
			t.Errorf("%s: default level %s, want %s for %s", r.ID, r.DefaultConfiguration.Level, levels[info.Severity], info.Severity)
		}
		if len(r.Properties.Tags) != 1 || r.Properties.Tags[0] != "security" {
			t.Errorf("%s: tags %q", r.ID, r.Properties.Tags)
		}
		band, rated := bands[info.Severity]
		var score float64
		if err := json.Unmarshal([]byte(r.Properties.SecuritySeverity), &score); rated && (err != nil || score < band[0] || score > band[1]) {
			t.Errorf("%s: security-severity %q, want %v to %v for %s", r.ID, r.Properties.SecuritySeverity, band[0], band[1], info.Severity)
		}
		if !rated && r.Properties.SecuritySeverity != "" {
			t.Errorf("%s: security-severity %q for %s", r.ID, r.Properties.SecuritySeverity, info.Severity)
		}
	}
}

// TestSARIFResults checks each result against its finding: rule, index, level, message,
// fingerprint, and a location that names the path to the byte, relative to the innermost root
// or, above the roots, to the file system's root.
func TestSARIFResults(t *testing.T) {
	r := sarifReport()
	out := writeSARIF(t, r)
	log := sarifcheck.Check(t, out)
	run := &log.Runs[0]
	if len(run.Results) != len(r.Findings) {
		t.Fatalf("%d results of %d findings", len(run.Results), len(r.Findings))
	}
	want := []struct{ uri, base, level string }{
		{"a%FF", "ROOT0", "warning"},
		{"p", "ROOT0", "warning"},
		{"srv", "FILESYSTEM", "error"},
		{".", "ROOT0", "note"},
		{"up%20loads/%231%3F.php", "ROOT1", "error"},
		{".", "FILESYSTEM", "note"},
	}
	for i, res := range run.Results {
		f := &r.Findings[i]
		loc := res.Locations[0].PhysicalLocation.ArtifactLocation
		if loc.URI != want[i].uri || loc.URIBaseID != want[i].base || res.Level != want[i].level {
			t.Errorf("result %d (%s): uri %q base %q level %s, want %q %q %s", i, f.Entry.Path, loc.URI, loc.URIBaseID, res.Level, want[i].uri, want[i].base, want[i].level)
		}
		if res.RuleID != string(f.Rule) || res.PartialFingerprints["webpermFingerprint/v1"] != r.Fingerprint(f) {
			t.Errorf("result %d: rule %s, fingerprints %v; the finding's %s, %s", i, res.RuleID, res.PartialFingerprints, f.Rule, r.Fingerprint(f))
		}
	}
	if last := run.Results[len(run.Results)-1]; last.RuleIndex != nil {
		t.Errorf("a rule the catalog lacks has ruleIndex %d", *last.RuleIndex)
	}
	bases := run.OriginalURIBaseIDs
	if bases["ROOT0"].URI != "file:///srv/site/" || bases["ROOT1"].URI != "file:///srv/site/inner/" || bases["FILESYSTEM"].URI != "file:///" || len(bases) != 3 {
		t.Errorf("originalUriBaseIds: %v", bases)
	}
	inv := run.Invocations
	if len(inv) != 1 || inv[0].ExecutionSuccessful || len(inv[0].Notifications) != 2 {
		t.Fatalf("invocations: %+v; want one, unsuccessful (a path was not read), with 2 notifications", inv)
	}
	if n := inv[0].Notifications; n[0].Level != "error" || n[1].Level != "note" {
		t.Errorf("notification levels %s, %s: want error for the path not read, note for the one not entered", n[0].Level, n[1].Level)
	}
	if !bytes.Contains(out, []byte(`"text": "not read: permission denied"`)) {
		t.Errorf("no notification says what was not read:\n%s", out)
	}
}

// TestSARIFComplete: a tree read in full is a successful execution with no notifications, and a
// report without findings has an empty list of results.
func TestSARIFComplete(t *testing.T) {
	r := sampleReport()
	r.Errors, r.Findings = nil, nil
	out := writeSARIF(t, r)
	log := sarifcheck.Check(t, out)
	run := &log.Runs[0]
	if inv := run.Invocations; len(inv) != 1 || !inv[0].ExecutionSuccessful || inv[0].Notifications != nil {
		t.Errorf("invocations of a complete audit: %+v", inv)
	}
	if run.Results == nil || len(run.Results) != 0 || !bytes.Contains(out, []byte(`"results": []`)) {
		t.Errorf("results of no findings: %v", run.Results)
	}
}

// TestSARIFSchema validates logs with findings above, at and below the roots, notifications,
// every kind of hostile name and message, and none of them, against the SARIF 2.1.0 schema.
func TestSARIFSchema(t *testing.T) {
	clean := sampleReport()
	clean.Errors, clean.Findings = nil, nil
	docs := [][]byte{writeSARIF(t, sarifReport()), writeSARIF(t, clean)}
	for k := range hostile {
		j := k
		pick := func() string { j = (j + 1) % len(hostile); return hostile[j] }
		out := writeSARIF(t, hostileReport(7, pick))
		sarifcheck.Check(t, out)
		docs = append(docs, out)
	}
	sarifcheck.Validate(t, docs...)
}

// TestSARIFSchemaRejects proves the validation can fail: a log whose ruleIndex is a string is
// refused by each schema the writer's logs are held to.
func TestSARIFSchemaRejects(t *testing.T) {
	out := writeSARIF(t, sarifReport())
	broken := bytes.Replace(out, []byte(`"ruleIndex": 1,`), []byte(`"ruleIndex": "1",`), 1)
	if bytes.Equal(broken, out) {
		t.Fatal("no ruleIndex to break")
	}
	msg := sarifcheck.Errors(t, sarifcheck.SchemaNames(), out, broken)
	for _, schema := range sarifcheck.SchemaNames() {
		if !strings.Contains(msg, "document 1, "+schema+": /runs/0/results/0/ruleIndex") || strings.Contains(msg, "document 0") {
			t.Errorf("%s: want the broken log refused and the log as written accepted; the validator says:\n%s", schema, msg)
		}
	}
}

// TestURIPath checks that every byte a name may hold survives the URI: each decodes back to
// itself, and only RFC 3986's unreserved characters, sub-delimiters and '/' stand for
// themselves.
func TestURIPath(t *testing.T) {
	var all []byte
	for c := 1; c < 256; c++ {
		all = append(all, byte(c))
	}
	names := append([]string{string(all), "a b", "100%", "#x", "q?x=1", "new\nline", "bad\xffutf8", "ünïcødé", "c:d", "@x", "[v6]", `back\slash`, "a/b/c", "~user/!$&'()*+,;=", "\u202e"}, hostile...)
	for _, name := range names {
		got := uriPath(name)
		if back, err := url.PathUnescape(got); err != nil || back != name {
			t.Errorf("uriPath(%q) = %q, which decodes to %q (%v)", name, got, back, err)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; c != '%' && !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=/", rune(c)) {
				t.Errorf("uriPath(%q) = %q, which holds %q unencoded", name, got, c)
				break
			}
		}
	}
	if got := uriPath("wp-content/up loads/ü"); got != "wp-content/up%20loads/%C3%BC" {
		t.Errorf("uriPath: %q", got)
	}
}

func FuzzURIPath(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := uriPath(name)
		if back, err := url.PathUnescape(got); err != nil || back != name {
			t.Errorf("uriPath(%q) = %q, which decodes to %q (%v)", name, got, back, err)
		}
	})
}
