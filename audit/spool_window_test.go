package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// windowPolicy holds the trees below to a policy with waivers that hold and waivers that have
// expired (WAIVEDTREE: the root of that name), and the tree's finding graver than the
// web-user-owns it becomes again where the web server owns the root alone: the rewrite at the
// walk's end changes the finding's severity.
const windowPolicy = `version: 1
rules:
  - paths: "**"
    dir_mode: "0755"
    file_mode: "0644"
    web: read
    severity:
      web-user-owns-tree: critical
      web-user-owns: low
  - paths: [uploads, "uploads/**"]
    writable: true
waivers:
  - rule: world-writable
    paths: "waived/**"
    reason: holds
    expires: 2999-12-31
  - rule: world-writable
    paths: "expired/**"
    reason: ran out
    expires: 2001-01-01
  - rule: web-user-owns-tree
    paths: WAIVEDTREE
    reason: the tree of "waivedtree" is accepted
    expires: 2999-12-31
  - rule: missing-index
    paths: WAIVEDTREE
    reason: "a \"findings\": null here\n  \"findings\": null"
    expires: 2001-01-01
`

// The roots of the test, by name: each a case the spool must get right.
var windowTrees = []struct{ name, manifest string }{
	// The web server owns the tree: its finding, rewritten at the end, folds the rest.
	{"owned", `
d 0755 33:33 .
f 0644 33:33 about.html
d 0755 33:33 lib
f 0644 33:33 lib/a.php
f 0666 0:0 lib/open.html
d 0777 33:33 cache
f 0666 33:33 cache/x
f 0666 33:33 cache/y
f 0666 33:33 cache/z
d 0755 0:0 waived
f 0666 0:0 waived/a
f 0666 0:0 waived/b
f 0666 0:0 waived/c
d 0755 0:0 expired
f 0666 0:0 expired/a
f 0666 0:0 expired/b
f 0666 0:0 expired/c
f 0666 0:0 expired/d
`},
	// The web server owns the root alone: no tree, its finding is web-user-owns again, of
	// another severity.
	{"alone", `
d 0755 33:33 .
f 0644 0:0 index.html
f 0644 0:0 "a\nb \"findings\": null"
d 0755 0:0 d
f 0666 0:0 d/1
f 0666 0:0 d/2
f 0666 0:0 d/3
`},
	// Nothing to report.
	{"clean", `
d 0755 0:0 .
f 0644 0:0 index.html
`},
	// Every entry has a finding, in subtrees of subtrees.
	{"open", `
d 0755 0:0 .
f 0644 0:0 index.html
d 0777 0:0 a
d 0777 0:0 a/b
f 0666 0:0 a/b/1
f 0666 0:0 a/b/2
f 0666 0:0 a/b/3
d 0777 0:0 a/c
f 0666 0:0 a/c/1
f 0666 0:0 a/c/2
f 0666 0:0 "a/c/\xff\n  \"findings\": null"
f 0666 0:0 a/1
`},
}

// An audit that spools writes the same findings, subtrees and reports as one that does not,
// whatever number of findings it keeps in memory: every window from none to more than the
// report holds, so that the tree's finding is rewritten once spooled, once in memory, and once
// just at the edge; over several roots, one below a world-writable directory (findings above the
// root), one inside another, one with its tree waived, one with nothing to report.
func TestSpoolAnyWindowReportsTheSame(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the trees' files belong to several users")
	}
	dir := fixture.TempDir(t)
	open := filepath.Join(dir, "shut-parent")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	roots := map[string]string{}
	for _, tr := range windowTrees {
		entries, err := fixture.Parse(strings.NewReader(tr.manifest), tr.name)
		if err != nil {
			t.Fatal(err)
		}
		root := filepath.Join(dir, tr.name)
		if tr.name == "open" {
			root = filepath.Join(open, tr.name)
		}
		if err := fixture.Materialise(afero.NewOsFs(), root, entries, fixture.Options{Chown: true}); err != nil {
			t.Fatal(err)
		}
		roots[tr.name] = root
	}
	// www-data cannot go through the directory above "open": a finding above the root.
	if err := os.Chmod(open, 0o700); err != nil {
		t.Fatal(err)
	}
	// waivedtree is owned again, with its tree's finding waived.
	entries, _ := fixture.Parse(strings.NewReader(windowTrees[0].manifest), "waivedtree")
	waived := filepath.Join(dir, "waivedtree")
	if err := fixture.Materialise(afero.NewOsFs(), waived, entries, fixture.Options{Chown: true}); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse("site.yaml", []byte(strings.ReplaceAll(windowPolicy, "WAIVEDTREE", waived)))
	if err != nil {
		t.Fatal(err)
	}
	accounts := access.NewAccounts([]access.User{{Name: "root"}, {Name: "www-data", UID: 33, GID: 33}, {Name: "deploy", UID: 1000, GID: 1000}},
		[]access.Group{{Name: "root"}, {Name: "www-data", GID: 33}, {Name: "deploy", GID: 1000}})
	rootSets := [][]string{
		{roots["owned"], roots["alone"], roots["clean"], roots["open"]},
		{roots["open"], roots["owned"], filepath.Join(roots["owned"], "lib")},
		{roots["clean"]},
		{roots["alone"]},
		{waived, roots["owned"]},
	}
	for _, rs := range rootSets {
		run := func(spool bool) *audit.Report {
			return audited(t, &audit.Auditor{Fs: afero.NewOsFs(), Policy: pol, Accounts: accounts, Jobs: 1, Spool: spool,
				WebUser: &access.WebUser{Name: "www-data", UID: 33, GID: 33, Groups: []uint32{33}, Source: "flag", Role: access.RoleWeb}}, rs)
		}
		mem := run(false)
		want := writeAll(t, mem)
		if len(rs) == 4 {
			// The cases are there: a tree's finding, one rewritten to another severity, one
			// above a root, a missing index, an expired waiver.
			seen := map[string]bool{}
			for _, f := range mem.Findings {
				seen[string(f.Rule)+fmt.Sprint(f.Severity)] = true
				seen["expired"] = seen["expired"] || f.ExpiredWaiver != nil
			}
			for _, k := range []string{"web-user-owns-treecritical", "web-user-ownslow", "web-untraversablehigh", "missing-indexinfo", "expired"} {
				if !seen[k] {
					t.Errorf("the report has no %s: this test would not see what it is for", k)
				}
			}
		}
		for window := 0; window <= len(mem.Findings)+1; window++ {
			undo := audit.SpoolWindow(window)
			spooled := run(true)
			undo()
			name := fmt.Sprintf("%d roots, window %d", len(rs), window)
			sameFindings(t, name, allFindings(t, spooled), mem.Findings)
			for _, sev := range policy.Severities() {
				var of []audit.Finding
				if err := spooled.EachFindingOf(sev, func(i int, f *audit.Finding) error {
					if i >= len(mem.Findings) || !reflect.DeepEqual(*f, mem.Findings[i]) {
						t.Errorf("%s: %s finding %d is not the one in memory", name, sev, i)
					}
					of = append(of, *f)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, f := range mem.Findings {
					if f.Severity == sev {
						n++
					}
				}
				if len(of) != n {
					t.Errorf("%s: %d %s findings, want %d", name, len(of), sev, n)
				}
			}
			if !reflect.DeepEqual(spooled.Subtrees, mem.Subtrees) || !reflect.DeepEqual(spooled.Waivers, mem.Waivers) {
				t.Errorf("%s: subtrees or waivers differ:\n%+v\n%+v", name, spooled.Subtrees, mem.Subtrees)
			}
			if got := writeAll(t, spooled); got != want {
				t.Errorf("%s: the reports differ:\n%s\nin memory:\n%s", name, got, want)
			}
		}
	}
}

// audited is a's report on roots, closed when t ends.
func audited(t *testing.T, a *audit.Auditor, roots []string) *audit.Report {
	t.Helper()
	rep, err := a.Run(context.Background(), roots)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rep.Close() })
	return rep
}

// allFindings reads every finding of r, spooled or not, and checks each is given its index.
func allFindings(t *testing.T, r *audit.Report) []audit.Finding {
	t.Helper()
	var got []audit.Finding
	if err := r.EachFinding(func(i int, f *audit.Finding) error {
		if i != len(got) {
			t.Errorf("finding %d given as %d", len(got), i)
		}
		got = append(got, *f)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// sameFindings wants got to be want, and names the first finding that differs.
func sameFindings(t *testing.T, name string, got, want []audit.Finding) {
	t.Helper()
	if reflect.DeepEqual(got, want) || len(got) == 0 && len(want) == 0 {
		return
	}
	t.Errorf("%s: findings differ (%d, want %d)", name, len(got), len(want))
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("first difference, finding %d:\n%+v\n%+v", i, got[i], want[i])
			return
		}
	}
}

// writeAll writes r in every format and option, one after the other.
func writeAll(t *testing.T, r *audit.Report) string {
	var b bytes.Buffer
	for _, format := range report.Formats() {
		write, _ := report.Lookup(format)
		for _, opt := range []report.Options{{}, {Expand: true}, {Color: true}} {
			if err := write(&b, r, opt); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.String()
}

// The same on random web roots, audited one to three at a time, with a random window.
func TestSpoolRandomTrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 5))
	web := &access.WebUser{Name: "www-data", UID: 33, GID: 33, Groups: []uint32{33}, Source: "flag", Role: access.RoleWeb}
	accounts := access.NewAccounts([]access.User{{Name: "root"}, {Name: "www-data", UID: 33, GID: 33}, {Name: "deploy", UID: 1000, GID: 1000}},
		[]access.Group{{Name: "root"}, {Name: "www-data", GID: 33}, {Name: "deploy", GID: 1000}})
	for n := range 150 {
		fsys := fixture.NewMemFs()
		roots := fixture.RandomRoots(t, rng, fsys)
		run := func(spool bool) *audit.Report {
			return audited(t, &audit.Auditor{Fs: fsys, Policy: policy.Default(), Accounts: accounts, WebUser: web, Jobs: 1, Spool: spool}, roots)
		}
		mem := run(false)
		window := rng.IntN(len(mem.Findings) + 2)
		undo := audit.SpoolWindow(window)
		spooled := run(true)
		undo()
		if got, want := writeAll(t, spooled), writeAll(t, mem); got != want {
			t.Fatalf("tree %d, window %d: the reports differ:\n%s\nin memory:\n%s", n, window, got, want)
		}
	}
}
