package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// A site after `chown -R www-data`: the web server owns the root and the code.
const ownedTreeManifest = `
d 0755 33:33 .
f 0644 33:33 index.php
f 0644 33:33 style.css
f 0644 33:33 wp-config.php
d 0755 33:33 lib
f 0644 33:33 lib/a.php
f 0644 33:33 lib/b.php
f 0666 0:0 lib/open.html
f 0644 0:0 lib/root.html
d 0755 33:33 uploads
f 0644 33:33 uploads/photo.jpg
`

const ownedTreePolicy = `version: 1
rules:
  - paths: "**"
    dir_mode: "0755"
    file_mode: "0644"
  - paths: wp-config.php
    sensitive: true
    file_mode: "0640"
  - paths: [uploads, "uploads/**"]
    writable: true
`

// The tree the web server owns is one finding at the root, for every entry it owns outside the
// writable paths; what else is wrong with an entry is still its own finding, and what the web
// server owns where it writes is no finding at all.
func TestWebUserOwnsTreeIsOneFinding(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: the tree's files must belong to www-data")
	}
	root := fixture.Tree(t, afero.NewOsFs(), ownedTreeManifest)
	flag := uint32(1000)
	// As for a plan: each entry's fix is judged with its directory as the plan leaves it.
	a := &Auditor{Fs: afero.NewOsFs(), Policy: mustParse(t, ownedTreePolicy), Accounts: testAccounts(), WebUser: webUser(), Jobs: 2, SiteOwner: &flag, AsFixed: true}
	rep, err := a.Run(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	checkRules(t, rulesByRel(rep), map[string][]string{
		".":             {"group-mismatch", "web-user-owns-tree"},
		"wp-config.php": {"sensitive-exposed"},
		"lib/open.html": {"group-mismatch", "owner-mismatch", "world-writable"},
		"lib/root.html": {"group-mismatch", "owner-mismatch"},
	})
	tree := rep.Findings[slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Rule == policy.WebUserOwnsTree })]
	folded := map[string]*Fix{}
	for _, f := range rep.Folded {
		if f.Rule != policy.WebUserOwnsTree || f.Severity != tree.Severity {
			t.Errorf("%s folded as %s %s, want the tree's rule and severity", f.Entry.Rel, f.Rule, f.Severity)
		}
		folded[f.Entry.Rel] = f.Fix
	}
	want := []string{"index.php", "lib", "lib/a.php", "lib/b.php", "style.css", "wp-config.php"}
	if got := slices.Sorted(func(yield func(string) bool) {
		for k := range folded {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(got, want) {
		t.Errorf("folded %q, want %q", got, want)
	}
	for rel, fix := range folded {
		if fix == nil || !fix.Chown || fix.UID != 1000 {
			t.Errorf("%s: fix %+v, want a chown to deploy", rel, fix)
		}
	}
	if tree.Entries != len(want)+1 {
		t.Errorf("the tree's finding stands for %d entries, want %d", tree.Entries, len(want)+1)
	}
	for _, part := range []string{"www-data owns this root and 6 entries below it outside the policy's writable paths (of 10 below it in all)", "gives them back to deploy", "explain --in " + root} {
		if !strings.Contains(tree.Message, part) {
			t.Errorf("tree message %q lacks %q", tree.Message, part)
		}
	}
	// Each folded finding sits with its entry's shown ones, in walk order.
	for _, f := range rep.Folded {
		if f.At > 0 && f.At <= len(rep.Findings) {
			if prev := rep.Findings[f.At-1].Entry.Path; prev > f.Entry.Path && !strings.HasPrefix(f.Entry.Path, prev) {
				t.Errorf("%s folded after %s's findings", f.Entry.Path, prev)
			}
		}
	}

	// explain --in shows an entry's own findings, under the tree's rule.
	found, err := a.Findings(context.Background(), root, filepath.Join(root, "lib/a.php"))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, f := range found {
		if f.Rule != policy.WebUserOwnsTree {
			t.Errorf("explain lib/a.php: %s, want web-user-owns-tree", f.Rule)
		}
		msgs = append(msgs, f.Message)
	}
	if got := strings.Join(msgs, "\n"); !strings.Contains(got, "can rewrite this code") || !strings.Contains(got, "group www-data; the policy expects deploy") {
		t.Errorf("explain lib/a.php: %q, want its web-writable-code and group-mismatch messages", got)
	}
}

// A waiver of the tree's finding accepts the tree: nothing it stands for comes back entry by
// entry. With no site owner known, no entry is held to one: root's lib/root.html is no
// owner-mismatch against the web server.
func TestWebUserOwnsTreeWaived(t *testing.T) {
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, ownedTreeManifest)
	src := ownedTreePolicy + "waivers:\n  - rule: web-user-owns-tree\n    paths: .\n    reason: the updater rewrites the code (OPS-7)\n    expires: 2999-12-31\n"
	// For a plan, which would keep what an unwaived tree folds.
	a := &Auditor{Fs: fsys, Policy: mustParse(t, src), Accounts: testAccounts(), WebUser: webUser(), Jobs: 2, AsFixed: true}
	rep, err := a.Run(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	checkRules(t, rulesByRel(rep), map[string][]string{
		"wp-config.php": {"sensitive-exposed"},
		"lib/open.html": {"world-writable"},
	})
	if len(rep.Folded) != 0 {
		t.Errorf("folded %d findings of a waived tree, want none", len(rep.Folded))
	}
	if len(rep.Waivers) != 1 || rep.Waivers[0].Findings != 1 {
		t.Errorf("waivers %+v, want one that waived one finding", rep.Waivers)
	}
}

// A site whose root is its owner's, where the web server owns a few files, gets a finding per
// file: that is no tree of the web server's.
func TestWebUserOwnsSomeFiles(t *testing.T) {
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, "d 0755 1000:1000 .\nf 0644 33:33 index.php\nf 0644 33:33 style.css\nf 0644 1000:1000 about.html\n")
	rep := auditAs(t, fsys, root, webUser(), nil, policy.Default())
	checkRules(t, rulesByRel(rep), map[string][]string{"index.php": {"web-writable-code"}, "style.css": {"web-user-owns"}})
	if len(rep.Folded) != 0 {
		t.Errorf("folded %d findings, want none", len(rep.Folded))
	}
}

// With two roots, the first the web server's, each folded finding keeps its place as the second
// root's missing-index is put before that root's findings.
func TestWebUserOwnsTreeBesideAnotherRoot(t *testing.T) {
	fsys := fixture.NewMemFs()
	owned := fixture.Tree(t, fsys, strings.Replace(ownedTreeManifest, "index.php", "main.php", 1))
	other := "/srv/other"
	entries, err := fixture.Parse(strings.NewReader("d 0755 1000:1000 .\nf 0644 33:33 a.html\nf 0666 1000:1000 b.html\n"), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := fixture.Materialise(fsys, other, entries, fixture.Options{Chown: true}); err != nil {
		t.Fatal(err)
	}
	for _, roots := range [][]string{{owned, other}, {other, owned}} {
		a := &Auditor{Fs: fsys, Policy: mustParse(t, ownedTreePolicy+"  - paths: \"**\"\n    web: read\n"), Accounts: testAccounts(), WebUser: webUser(), Jobs: 1, AsFixed: true}
		rep, err := a.Run(context.Background(), roots)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range rep.Folded {
			if !walk.Within(f.Entry.Path, owned) {
				t.Errorf("%v: folded %s, outside the owned root", roots, f.Entry.Path)
			}
			if f.At < len(rep.Findings) && !walk.Within(rep.Findings[f.At].Entry.Path, owned) && f.At > 0 && !walk.Within(rep.Findings[f.At-1].Entry.Path, owned) {
				t.Errorf("%v: %s folded at %d, among another root's findings", roots, f.Entry.Path, f.At)
			}
		}
		if got := fmt.Sprint(rulesByRel(rep)["."]); !strings.Contains(got, "web-user-owns-tree") || !strings.Contains(got, "missing-index") {
			t.Errorf("%v: root findings %s", roots, got)
		}
	}
}

// Only the root the web server's, as after a chown of the directory alone: that is no tree, and
// the root's finding says what it is.
func TestWebUserOwnsOnlyTheRoot(t *testing.T) {
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, "d 0755 33:33 .\nf 0644 0:0 index.php\nd 0755 0:0 lib\nf 0644 0:0 lib/a.php\n")
	rep := auditAs(t, fsys, root, webUser(), nil, policy.Default())
	// www-data can replace index.php, as it writes the root: that is true, and said.
	checkRules(t, rulesByRel(rep), map[string][]string{".": {"web-user-owns"}, "index.php": {"script-in-writable-dir"}})
	if f := rep.Findings[0]; f.Entries != 0 || !strings.Contains(f.Message, "owned by www-data") {
		t.Errorf("root finding %+v, want web-user-owns's own", f)
	}
	if len(rep.Folded) != 0 {
		t.Errorf("folded %d findings, want none", len(rep.Folded))
	}
}

// What the tree does not stand for stays listed: an .htaccess the web server owns where it
// writes (a fault of its own, which a chown does not settle), and a finding a policy holds graver
// than the tree's.
func TestWebUserOwnsTreeKeepsOtherFaults(t *testing.T) {
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, ownedTreeManifest+"f 0644 33:33 uploads/.htaccess\nf 0644 33:33 lib/c.php\n")
	src := ownedTreePolicy + "  - paths: lib/c.php\n    severity:\n      web-writable-code: critical\n"
	rep := auditAs(t, fsys, root, webUser(), nil, mustParse(t, src))
	got := rulesByRel(rep)
	for _, rel := range []string{"uploads/.htaccess", "lib/c.php"} {
		if !slices.Contains(got[rel], "web-writable-code") {
			t.Errorf("%s: %v, want its web-writable-code listed", rel, got[rel])
		}
	}
	for _, f := range rep.Folded {
		if f.Entry.Rel == "uploads/.htaccess" || f.Entry.Rel == "lib/c.php" {
			t.Errorf("%s folded into the tree", f.Entry.Rel)
		}
	}
}

// A link named as a script that leads to a file the web server can rewrite runs whatever a
// break-in writes there (wp-admin/x.php -> ../uploads/shell.jpg); one to code only root writes
// does not.
func TestLinkedScriptTheWebServerWrites(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: the upload must belong to www-data")
	}
	root := fixture.Tree(t, afero.NewOsFs(), `
d 0755 1000:1000 .
f 0644 1000:1000 index.php
d 0755 1000:1000 wp-admin
d 0775 1000:33 uploads
f 0644 33:33 uploads/shell.jpg
l 0777 1000:1000 wp-admin/x.php ../uploads/shell.jpg
l 0777 1000:1000 wp-admin/y.php ../index.php
`)
	rep := auditAs(t, afero.NewOsFs(), root, webUser(), nil, policy.Default())
	got := rulesByRel(rep)
	if !slices.Contains(got["wp-admin/x.php"], "web-writable-code") {
		t.Errorf("wp-admin/x.php: %v, want web-writable-code", got["wp-admin/x.php"])
	}
	// explain --in judges the link by where it leads, as the audit does.
	a := &Auditor{Fs: afero.NewOsFs(), Policy: policy.Default(), Accounts: testAccounts(), WebUser: webUser(), Jobs: 2}
	found, err := a.Findings(context.Background(), root, filepath.Join(root, "wp-admin/x.php"))
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, f := range found {
		rules = append(rules, string(f.Rule))
	}
	slices.Sort(rules)
	if !slices.Equal(rules, got["wp-admin/x.php"]) {
		t.Errorf("explain wp-admin/x.php: %v, the audit %v", rules, got["wp-admin/x.php"])
	}
	if slices.Contains(got["wp-admin/y.php"], "web-writable-code") {
		t.Errorf("wp-admin/y.php: %v, want no web-writable-code: www-data cannot rewrite index.php", got["wp-admin/y.php"])
	}
}

// An audit that plans nothing keeps none of what the tree folds, only the count: a tree of a
// million files costs it no memory per file.
func TestAuditKeepsNoFoldedFindings(t *testing.T) {
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, ownedTreeManifest)
	rep := auditAs(t, fsys, root, webUser(), nil, mustParse(t, ownedTreePolicy))
	if len(rep.Folded) != 0 {
		t.Errorf("folded %d findings in an audit, want none kept", len(rep.Folded))
	}
	i := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Rule == policy.WebUserOwnsTree })
	if i < 0 || rep.Findings[i].Entries != 7 {
		t.Errorf("findings %+v, want the tree's standing for 7 entries", rep.Findings)
	}
}
