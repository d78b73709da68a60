package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/webperm/webperm/audit"
)

// TestRootOrigins: the header shows the path a root was given as wherever it differs from the
// root, with a followed link a user controls; a root given as itself adds nothing.
func TestRootOrigins(t *testing.T) {
	r := sampleReport()
	r.Roots = []string{"/srv/site", "/etc", "/srv/other"}
	note := "followed a symlink alice controls (/home/alice/public_html -> /etc)"
	r.Origins = []audit.Origin{{Given: "site"}, {Given: "/home/alice/public_html", Note: note}, {Given: "/srv/other"}}

	var text bytes.Buffer
	if err := Text(&text, r, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  given     site for /srv/site\n",
		"  given     /home/alice/public_html for /etc, " + note + "\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text header lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "for /srv/other") {
		t.Errorf("a root given as itself is shown as given:\n%s", text.String())
	}

	var buf bytes.Buffer
	if err := JSON(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Roots     []string `json:"roots"`
		Given     []string `json:"given"`
		RootNotes []struct {
			Root, Given, Note string
		} `json:"root_notes"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if strings.Join(doc.Given, ",") != "site,/home/alice/public_html,/srv/other" {
		t.Errorf("given = %q, want every root's, in roots' order", doc.Given)
	}
	if len(doc.RootNotes) != 1 || doc.RootNotes[0].Root != "/etc" || doc.RootNotes[0].Given != "/home/alice/public_html" || doc.RootNotes[0].Note != note {
		t.Errorf("root_notes = %+v, want the one followed link", doc.RootNotes)
	}

	r.Roots, r.Origins = r.Roots[2:], r.Origins[2:]
	buf.Reset()
	if err := JSON(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `"given"`) || strings.Contains(buf.String(), `"root_notes"`) {
		t.Errorf("roots given as themselves got given or root_notes:\n%s", buf.String())
	}
}
