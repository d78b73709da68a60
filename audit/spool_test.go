package audit

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// fill sets every field of v, at any depth, to a value that is not its zero, different for each
// field (seed counts them): a field the codec forgets does not come back.
func fill(v reflect.Value, seed *uint64, depth int) {
	*seed++
	switch v.Kind() {
	case reflect.String:
		v.SetString("s\x00\xff/é" + string(rune('a'+*seed%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint8:
		v.SetUint(1 + *seed%3) // within every enum of the package
	case reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		v.SetUint(*seed * 0x10001)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*seed))
	case reflect.Pointer:
		if depth > 2 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), seed, depth+1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), seed, depth+1)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), seed, depth)
		}
	default:
		panic("fill: no value for " + v.Kind().String())
	}
}

func TestSpoolKeepsEveryField(t *testing.T) {
	var f Finding
	seed := uint64(0)
	fill(reflect.ValueOf(&f).Elem(), &seed, 0)
	f.Entry.Dest.Entry.Dest = nil // a link's target is never a link
	f.Severity = policy.High
	s, err := newSpool()
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	plain := Finding{Rule: policy.WorldWritable, Entry: walk.Entry{Path: "/srv/a"}}
	s.put(&f)
	s.put(&plain)
	var got []Finding
	all := func(int, policy.Severity) (bool, error) { return true, nil }
	if err := s.each(all, func(_ int, g *Finding) error { got = append(got, *g); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !reflect.DeepEqual(got[0], f) || !reflect.DeepEqual(got[1], plain) {
		t.Errorf("spooled\n%+v\n%+v\nread back\n%+v", f, plain, got)
	}
	// A pass for one severity reads only its findings.
	got = nil
	high := func(_ int, sev policy.Severity) (bool, error) { return sev == policy.High, nil }
	if err := s.each(high, func(_ int, g *Finding) error { got = append(got, *g); return nil }); err != nil || len(got) != 1 || got[0].Entry.Path != f.Entry.Path {
		t.Errorf("high only: %d findings, %v", len(got), err)
	}
}

// A record cut short or damaged is an error naming the finding, never a panic.
func TestSpoolDamaged(t *testing.T) {
	s, err := newSpool()
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.put(&Finding{Rule: policy.WorldWritable, Entry: walk.Entry{Path: "/srv/a"}})
	if err := s.flushed(); err != nil {
		t.Fatal(err)
	}
	fi, _ := s.f.Stat()
	if err := s.f.Truncate(fi.Size() - 3); err != nil {
		t.Fatal(err)
	}
	all := func(int, policy.Severity) (bool, error) { return true, nil }
	err = s.each(all, func(int, *Finding) error { return nil })
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("finding 0")) {
		t.Errorf("truncated spool: %v, want an error naming finding 0", err)
	}
}

func FuzzSpoolRecord(f *testing.F) {
	e := encoder{}
	e.finding(&Finding{Rule: policy.WorldWritable, Fix: &Fix{Mode: 0o644}, Entry: walk.Entry{Path: "/srv/a", ACL: &walk.ACL{Entries: []walk.ACLEntry{{Tag: 2, ID: 33, Perm: 5}}}, Dest: &walk.LinkDest{Path: "/x", Dirs: []walk.Entry{{Path: "/"}}}}})
	f.Add(e.b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Finding
		if err := decodeFinding(b, &got); err != nil {
			if !errors.Is(err, errBadRecord) {
				t.Fatalf("error %v is not errBadRecord", err)
			}
			return
		}
		// What decodes encodes back to the same bytes.
		again := encoder{}
		again.finding(&got)
		var back Finding
		if err := decodeFinding(again.b, &back); err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("re-encoded record does not decode the same: %v", err)
		}
	})
}

// An audit that cannot make its spool fails before it walks, saying where it looked.
func TestSpoolWithoutTMPDIR(t *testing.T) {
	root := fixture.Tree(t, afero.NewOsFs(), "d 0755 0:0 .\nf 0644 0:0 index.html\n")
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	a := &Auditor{Fs: afero.NewOsFs(), Preset: "default", Accounts: testAccounts(), WebUser: webUser(), Spool: true}
	rep, err := a.Run(context.Background(), []string{root})
	// The test's name is in the directory's: "TMPDIR" in the message would prove nothing.
	if err == nil || rep != nil || !errors.Is(err, ErrSpool) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Run: %v, want a spool error naming the directory", err)
	}
}
