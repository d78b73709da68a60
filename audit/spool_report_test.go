package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/internal/fixture"
)

// A site after `chown -R www-data`, with no index: its tree finding and its missing index are
// made at the root, the tree finding is rewritten once the walk ends, long after a spooling audit
// wrote it out.
const ownedNoIndex = `
d 0755 33:33 .
f 0644 33:33 about.html
d 0755 33:33 lib
f 0644 33:33 lib/a.php
f 0666 0:0 lib/open.html
d 0777 33:33 cache
f 0666 33:33 cache/x
f 0666 33:33 cache/y
f 0666 33:33 cache/z
`

// An audit that spools its findings writes the same reports, in every format, as one that
// keeps them in memory: on the demo site (a finding of every kind), the collapse demo (subtrees
// shown as one), and a www-data tree without an index, audited together.
func TestSpooledReportsAreTheSame(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the demo trees' files belong to several users")
	}
	dir := fixture.TempDir(t)
	var roots []string
	for _, m := range []struct{ name, manifest string }{
		{"site", "../testdata/demo/site.manifest"},
		{"collapse", "../testdata/demo/collapse.manifest"},
		{"owned", ""},
	} {
		var entries []fixture.Entry
		var err error
		if m.manifest != "" {
			entries, err = fixture.Load(m.manifest)
		} else {
			entries, err = fixture.Parse(strings.NewReader(ownedNoIndex), "owned")
		}
		if err != nil {
			t.Fatal(err)
		}
		root := filepath.Join(dir, m.name)
		if err := fixture.Materialise(afero.NewOsFs(), root, entries, fixture.Options{Chown: true}); err != nil {
			t.Fatal(err)
		}
		roots = append(roots, root)
	}
	accounts, err := access.LoadAccounts(afero.NewOsFs(), "../testdata/demo")
	if err != nil {
		t.Fatal(err)
	}
	run := func(spool bool) *audit.Report {
		a := &audit.Auditor{Fs: afero.NewOsFs(), Preset: "auto", Accounts: accounts, Jobs: 2, Spool: spool,
			WebUser: &access.WebUser{Name: "www-data", UID: 33, GID: 33, Groups: []uint32{33}, Source: "flag", Role: access.RoleWeb}}
		rep, err := a.Run(context.Background(), roots)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rep.Close() })
		return rep
	}
	mem := run(false)
	undo := audit.SpoolEverything()
	spooled := run(true)
	undo()

	if len(spooled.Findings) != 0 || spooled.NumFindings() != len(mem.Findings) || len(mem.Findings) < 40 {
		t.Fatalf("spooled audit holds %d findings in memory, %d in all; the other %d", len(spooled.Findings), spooled.NumFindings(), len(mem.Findings))
	}
	got := allFindings(t, spooled)
	sameFindings(t, "spooled", got, mem.Findings)
	tree := false
	for _, f := range got {
		tree = tree || (f.Rule == "web-user-owns-tree" && f.Entries > 1)
	}
	if !tree || len(mem.Subtrees) == 0 {
		t.Fatalf("the trees do not show what this test is for: tree finding %v, %d subtrees", tree, len(mem.Subtrees))
	}
	want := writeAll(t, mem)
	if !strings.Contains(want, "and everything below it (") {
		t.Errorf("the text report collapses no subtree: this test would not see the collapse's reading of a spool\n%s", want)
	}
	if got := writeAll(t, spooled); got != want {
		t.Errorf("the spooled reports differ:\n%s\nin memory:\n%s", got, want)
	}
}
