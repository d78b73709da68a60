package audit

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/spf13/afero"
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
			root := makeTree(t, fsys, manifest)
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
					inside := Within(f.Entry.Path, s.Path) && f.Entry.Path != s.Path
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
