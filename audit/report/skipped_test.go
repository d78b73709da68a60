package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/webperm/webperm/audit/walk"
)

// A report whose walk left mounts out lists each on one line, in both formats, and says when no
// extended attributes were read; a report of a plain walk says neither.
func TestSkippedAndNoXattrs(t *testing.T) {
	rep := sampleReport()
	rep.NoXattrs = true
	rep.Skipped = []walk.Skip{
		{Path: "/proc", FsType: "proc", Reason: walk.SkipPseudo},
		{Path: "/srv/site/cache", FsType: "tmpfs", Reason: walk.SkipOtherFs},
	}
	var text bytes.Buffer
	if err := Text(&text, rep, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  entries   3 examined, 1 not read, 2 directories not entered (listed below)\n",
		"  xattrs    not read (--no-xattrs): access is judged by the mode bits alone",
		"\nskipped (2): examined, not entered\n  /proc: proc, pseudo file system\n  /srv/site/cache: tmpfs, another file system (--one-file-system)\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var buf bytes.Buffer
	if err := JSON(&buf, rep, Options{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		NoXattrs bool                `json:"no_xattrs"`
		Skipped  []map[string]string `json:"skipped"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.NoXattrs || len(doc.Skipped) != 2 || doc.Skipped[0]["path"] != "/proc" || doc.Skipped[0]["fstype"] != "proc" || doc.Skipped[0]["reason"] != "pseudo file system" {
		t.Errorf("JSON: no_xattrs %v, skipped %v", doc.NoXattrs, doc.Skipped)
	}

	plain := sampleReport()
	text.Reset()
	buf.Reset()
	if err := Text(&text, plain, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&buf, plain, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, unwanted := range []string{"xattrs", "skipped", "not entered"} {
		if strings.Contains(text.String(), unwanted) || strings.Contains(buf.String(), unwanted) {
			t.Errorf("a plain report mentions %q", unwanted)
		}
	}
}
