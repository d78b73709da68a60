package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// TestSubtrees checks the subtrees the audit hands the writers: every directory every entry below
// which has a finding, with the number of those entries and exactly their findings' range, also
// where the root's missing-index finding is placed before them after the walk.
func TestSubtrees(t *testing.T) {
	const manifest = `d 0755 0:0 .
d 0777 0:0 a
f 0666 0:0 a/1
d 0777 0:0 a/b
f 0666 0:0 a/b/2
f 0666 0:0 a/b/3
d 0755 0:0 c
f 0666 0:0 c/1
f 0644 0:0 c/2
d 0755 0:0 d
d 0777 0:0 d/e
`
	for _, jobs := range []int{1, 4} {
		t.Run(fmt.Sprint("jobs ", jobs), func(t *testing.T) {
			fsys := afero.NewOsFs()
			root := fixture.Tree(t, fsys, manifest)
			a := &Auditor{Fs: fsys, Policy: policy.Default(), Accounts: testAccounts(), WebUser: webUser(), Jobs: jobs}
			rep, err := a.Run(context.Background(), []string{root})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Findings[0].Rule != policy.MissingIndex {
				t.Fatalf("the root's first finding is %s, want missing-index (placed after the walk)", rep.Findings[0].Rule)
			}
			var got []string
			for _, s := range rep.Subtrees {
				got = append(got, fmt.Sprintf("%s %d", s.Path[len(root):], s.Entries))
				// Findings[First:End] are the findings of the entries below, all of them.
				var below []string
				for i, f := range rep.Findings {
					inside := walk.Within(f.Entry.Path, s.Path) && f.Entry.Path != s.Path
					if inside != (i >= s.First && i < s.End) {
						t.Errorf("%s: finding %d (%s) inside %v, but its range is [%d,%d)", s.Path, i, f.Entry.Path, inside, s.First, s.End)
					}
					if inside && !slices.Contains(below, f.Entry.Path) {
						below = append(below, f.Entry.Path)
					}
				}
				if len(below) != s.Entries {
					t.Errorf("%s: %d entries below have findings, the subtree counts %d", s.Path, len(below), s.Entries)
				}
			}
			// c/2 has no finding: neither c nor the root is a subtree; d/e is d's only entry.
			want := []string{"/a/b 2", "/a 4", "/d 1"}
			if !slices.Equal(got, want) {
				t.Errorf("subtrees %q, want %q (in the order their walks end)", got, want)
			}
		})
	}
}

// TestFindingsOfOnePath checks that the findings of one entry, visited alone down the way from
// its root, are those the whole audit reports for it: every entry of the demo site.
func TestFindingsOfOnePath(t *testing.T) {
	if !asRoot {
		t.Skip("the demo site's owners can only be set as root")
	}
	entries, err := fixture.Load(filepath.Join("..", "testdata", "demo", "site.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(fixture.TempDir(t), "site")
	if err := fixture.Materialise(afero.NewOsFs(), root, entries, fixture.Options{Chown: true}); err != nil {
		t.Fatal(err)
	}
	a := &Auditor{Fs: afero.NewOsFs(), Preset: "wordpress", Accounts: testAccounts(), WebUser: webUser(), Jobs: 2}
	rep, err := a.Run(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for _, f := range rep.Findings {
		want[f.Entry.Path] = append(want[f.Entry.Path], describeFinding(&f))
	}
	checked := 0
	for _, e := range entries {
		p := filepath.Join(root, filepath.FromSlash(e.Path))
		found, err := a.Findings(context.Background(), root, p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var got []string
		for i := range found {
			got = append(got, describeFinding(&found[i]))
		}
		if !slices.Equal(got, want[p]) {
			t.Errorf("%s: findings alone %q, in the audit %q", p, got, want[p])
		}
		if len(got) > 0 {
			checked++
		}
	}
	if checked < 10 {
		t.Errorf("only %d entries of the demo have findings: the test checks little", checked)
	}
	if _, err := a.Findings(context.Background(), root, filepath.Join(root, "passwd.txt", "x")); err == nil {
		t.Error("a path through a symlink was audited: the walk never follows one")
	}
	if _, err := a.Findings(context.Background(), root, "/etc/passwd"); err == nil {
		t.Error("a path outside the root was audited")
	}
}

func describeFinding(f *Finding) string {
	fix := "none"
	if f.Fix != nil {
		fix = fmt.Sprintf("%#o %v %d:%d", f.Fix.Mode, f.Fix.Chown, f.Fix.UID, f.Fix.GID)
	}
	return fmt.Sprintf("%s %s %s (fix %s)", f.Rule, f.Severity, f.Message, fix)
}
