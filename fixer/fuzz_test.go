package fixer

import (
	"bytes"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/walk"
)

// journalError is the form of every ReadJournal error about the journal's content: the name, the
// line, and one lower-case sentence on that line.
var journalError = regexp.MustCompile(`^fuzz:[0-9]+: [a-z][^\n]*$`)

// ReadJournal never panics, words every refusal as name:line: message, and whatever it accepts
// it accepts again, unchanged, once apply's writer has written it back (as webperm/journal/v3).
func FuzzReadJournal(f *testing.F) {
	f.Add([]byte(testHeader))
	f.Add([]byte(testHeader + testEntry))
	f.Add([]byte(testHeaderV2 + testEntry + testDone + testCapEntry))
	f.Add([]byte(testHeaderV3 + testEntry + testDone + testCapEntry + testACLEntry))
	for _, c := range journalCorrupt {
		f.Add([]byte(c.data))
	}
	for _, name := range journalHostileNames {
		root := Root{Path: "/srv/" + name, Dev: 1, Ino: 2}
		var b bytes.Buffer
		line, _ := marshalHeader(JournalHeader{Version: "v", Created: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", 3600)), Roots: []Root{root}})
		b.Write(line)
		for _, e := range []JournalEntry{
			{Path: root.Path + "/" + name, Root: root.Path, Type: walk.TypeFile, Dev: 1, Ino: 3, Old: mkState(0o4755, 0, 0), New: mkState(0o644, 0, 0)},
			{Path: "/srv", Root: root.Path, Ancestor: true, Type: walk.TypeDir, Dev: 1, Ino: 1, Old: mkState(0o700, 0, 0), New: mkState(0o711, 0, 0)},
		} {
			line, _ := marshalEntry(e)
			b.Write(line)
		}
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, entries, err := ReadJournal("fuzz", bytes.NewReader(data))
		if err != nil {
			if !journalError.MatchString(err.Error()) {
				t.Errorf("error %q is not of the form fuzz:LINE: message", err)
			}
			return
		}
		var b bytes.Buffer
		line, err := marshalHeader(h)
		if err != nil {
			t.Fatalf("cannot write the header back: %v", err)
		}
		b.Write(line)
		for _, e := range entries {
			line, err := marshalEntry(e)
			if err != nil {
				t.Fatalf("cannot write entry %d back: %v", e.Line, err)
			}
			b.Write(line)
			if e.Done != nil {
				line, err := marshalDone(e.Line, *e.Done)
				if err != nil {
					t.Fatalf("cannot write the done line of entry %d back: %v", e.Line, err)
				}
				b.Write(line)
			}
		}
		h2, entries2, err := ReadJournal("fuzz", bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("the journal written back is refused: %v\nread:\n%q\nwritten:\n%q", err, data, b.Bytes())
		}
		if h2.Version != h.Version || !h2.Created.Equal(h.Created) || !reflect.DeepEqual(h2.Roots, h.Roots) {
			t.Errorf("header %+v, written back and read again: %+v", h, h2)
		}
		if !reflect.DeepEqual(entries2, entries) {
			t.Errorf("entries %+v, written back and read again: %+v", entries, entries2)
		}
	})
}

// ReadJSON never panics, and a plan it accepts, written back, reads the same.
func FuzzReadJSON(f *testing.F) {
	var b bytes.Buffer
	if err := WriteJSON(&b, samplePlan()); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`{"schema": "webperm/plan/v1", "roots": [], "actions": [], "manual": []}`))
	f.Add([]byte(`{"schema": "webperm/plan/v1", "actions": [{"path": "/a/../b"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadJSON("fuzz", bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Errorf("error %q does not name the plan", err)
			}
			return
		}
		var out bytes.Buffer
		if err := WriteJSON(&out, p); err != nil {
			t.Fatal(err)
		}
		p2, err := ReadJSON("fuzz", &out)
		if err != nil {
			t.Fatalf("the plan written back is refused: %v\n%s", err, out.Bytes())
		}
		if !reflect.DeepEqual(p2.Roots, p.Roots) || !reflect.DeepEqual(p2.Actions, p.Actions) {
			t.Errorf("plan %+v, written back and read again: %+v", p.Actions, p2.Actions)
		}
	})
}

// scriptError is the form of every ReadScript error: the name, the line where there is one, and
// one sentence with nothing that is not visible text in it.
var scriptError = regexp.MustCompile(`^fuzz(:[0-9]+)?: [^\x00-\x1f\x7f]*$`)

// ReadScript never panics, words every refusal as name:line: message in visible text, and a
// plan it accepts, written back, reads the same.
func FuzzReadScript(f *testing.F) {
	f.Add([]byte(sampleScript(f)))
	p := samplePlan()
	p.Manual = []Manual{{Path: "/var/www/site/\x1b]0;x\a", Type: walk.TypeSymlink, Reason: "why\n", Findings: []audit.Finding{{Rule: "special-file", Message: "m\xff"}}}}
	p.Unread = []string{"/var/www/site/u\n"}
	var b bytes.Buffer
	if err := WriteScript(&b, p); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte("#!/bin/sh\n#: end of plan\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadScript("fuzz", bytes.NewReader(data))
		if err != nil {
			if !utf8.ValidString(err.Error()) || !scriptError.MatchString(err.Error()) {
				t.Errorf("error %q is not of the form fuzz:LINE: message, in visible text", err)
			}
			return
		}
		var out bytes.Buffer
		if err := WriteScript(&out, p); err != nil {
			t.Fatal(err)
		}
		p2, err := ReadScript("fuzz", &out)
		if err != nil {
			t.Fatalf("the plan written back is refused: %v\n%s", err, out.Bytes())
		}
		if p2.ID != p.ID || !reflect.DeepEqual(normalPlan(p2), normalPlan(p)) {
			t.Errorf("plan %+v, written back and read again: %+v", p, p2)
		}
	})
}
