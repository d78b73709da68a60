package fixer

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// A site after `chown -R www-data:www-data`, with an uploads directory the web server writes.
const ownedTree = `
d 0755 33:33 .
f 0644 33:33 index.php
f 0640 33:33 wp-config.php
d 0755 33:33 lib
f 0644 33:33 lib/a.php
f 0644 33:33 lib/style.css
d 0775 33:33 uploads
f 0644 33:33 uploads/photo.jpg
`

const ownedTreePolicy = `version: 1
rules:
  - paths: "**"
    dir_mode: "0755"
    file_mode: "0644"
    web: read
    group: [site, web]
  - paths: wp-config.php
    sensitive: true
    file_mode: "0640"
    web: none
    php: read
  - paths: [uploads, "uploads/**"]
    writable: true
    web: write
`

func ownedTreeAudit(t *testing.T, root string, site *uint32) *audit.Report {
	t.Helper()
	p, err := policy.Parse("site.yaml", []byte(ownedTreePolicy))
	if err != nil {
		t.Fatal(err)
	}
	accounts := access.NewAccounts(
		[]access.User{{Name: "root"}, {Name: "www-data", UID: 33, GID: 33}, {Name: "deploy", UID: 1000, GID: 1000}},
		[]access.Group{{Name: "root"}, {Name: "www-data", GID: 33}, {Name: "deploy", GID: 1000}})
	a := &audit.Auditor{Fs: afero.NewOsFs(), Policy: p, Accounts: accounts, WebUser: testWebUser(), Jobs: 2, AsFixed: true, SiteOwner: site}
	rep, err := a.Run(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func materialiseOwnedTree(t *testing.T) string {
	t.Helper()
	diskRequireRoot(t)
	entries, err := fixture.Parse(strings.NewReader(ownedTree), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(fixture.TempDir(t), "site")
	if err := fixture.Materialise(afero.NewOsFs(), root, entries, fixture.Options{Chown: true}); err != nil {
		t.Fatal(err)
	}
	return root
}

// The tree the web server owns is one finding and one plan: a chown back to the site's owner of
// every entry outside the writable paths, which, applied, leaves uploads the web server's and
// writable, the secret closed, and no finding of the tree.
func TestPlanGivesTheTreeBack(t *testing.T) {
	root := materialiseOwnedTree(t)
	site := uint32(1000)
	rep := ownedTreeAudit(t, root, &site)
	plan := mustNew(t, rep)
	var changed []string
	for _, a := range plan.Actions {
		rel, _ := filepath.Rel(root, a.Path)
		changed = append(changed, rel)
		if a.Target.UID != 1000 || !slices.Contains(a.Rules, policy.WebUserOwnsTree) {
			t.Errorf("%s: target %+v for %v, want owner 1000 for web-user-owns-tree", rel, a.Target, a.Rules)
		}
	}
	slices.Sort(changed)
	if want := []string{".", "index.php", "lib", "lib/a.php", "lib/style.css", "wp-config.php"}; !slices.Equal(changed, want) {
		t.Errorf("plan changes %q, want %q", changed, want)
	}
	if len(plan.Manual) != 0 {
		t.Errorf("left to a person: %+v, want nothing", plan.Manual)
	}

	diskApply(t, plan, Options{})
	after := snapshot(t, root)
	for _, rel := range []string{"uploads", "uploads/photo.jpg"} {
		if s := after[rel]; s.UID != 33 {
			t.Errorf("%s: owner %d after the plan, want www-data's: the web server writes there", rel, s.UID)
		}
	}
	if s := after["wp-config.php"]; s.Mode&0o007 != 0 || s.GID != 33 || s.Mode&0o040 == 0 {
		t.Errorf("wp-config.php: %+v after the plan, want closed to others and readable by www-data's group", s)
	}
	again := ownedTreeAudit(t, root, &site)
	for _, f := range again.Findings {
		if f.Severity > policy.Info {
			t.Errorf("after the plan: %s %s: %s", f.Rule, f.Entry.Path, f.Message)
		}
	}
}

// With no site owner known, the plan gives nothing back and says so once, for the tree, not
// once per entry.
func TestPlanOfATreeWithNoOwner(t *testing.T) {
	root := materialiseOwnedTree(t)
	plan := mustNew(t, ownedTreeAudit(t, root, nil))
	if len(plan.Actions) != 0 {
		t.Errorf("%d actions, want none: nothing says whose the site is", len(plan.Actions))
	}
	if len(plan.Manual) != 1 || plan.Manual[0].Path != root {
		t.Fatalf("left to a person: %+v, want the root alone", plan.Manual)
	}
	m := plan.Manual[0]
	for _, want := range []string{"--site-owner", "5 more entries of the tree"} {
		if !strings.Contains(m.Reason, want) {
			t.Errorf("reason %q lacks %q", m.Reason, want)
		}
	}
	if len(m.Findings) != 1 || m.Findings[0].Rule != policy.WebUserOwnsTree {
		t.Errorf("findings %+v, want the tree's", m.Findings)
	}
}

// A packaged tree chowned to the web server is left whole to a person, once, with the package
// manager's own way back: a plan's chown would last only until the package's next upgrade.
func TestPlanOfAPackagedTree(t *testing.T) {
	root := "/usr/share/app"
	entry := func(rel string, typ walk.Type) walk.Entry {
		return walk.Entry{Path: filepath.Join(root, rel), Rel: rel, Type: typ, Mode: 0o644, UID: 33, GID: 33, OwnerKnown: true, Nlink: 1, Ino: 7}
	}
	chown := &audit.Fix{Mode: 0o644, Chown: true}
	for _, tc := range []struct{ manager, want string }{
		{audit.ManagerDpkg, "apt-get install --reinstall app"},
		{audit.ManagerRPM, "rpm --setugids app && rpm --setperms app"},
	} {
		finding := func(rel string, typ walk.Type) audit.Finding {
			return audit.Finding{Rule: policy.WebUserOwnsTree, Severity: policy.High, Entry: entry(rel, typ), Fix: chown, Package: "app", PackageManager: tc.manager}
		}
		rep := &audit.Report{
			Roots:    []string{root},
			Findings: []audit.Finding{finding(".", walk.TypeDir)},
			Folded:   []audit.Folded{{At: 1, Finding: finding("a.php", walk.TypeFile)}, {At: 1, Finding: finding("b.php", walk.TypeFile)}},
			Accounts: testAccounts(),
		}
		plan := mustNew(t, rep)
		if len(plan.Actions) != 0 || len(plan.Manual) != 1 {
			t.Fatalf("%s: %d actions, manual %+v; want the root alone left to a person", tc.manager, len(plan.Actions), plan.Manual)
		}
		for _, want := range []string{"2 more entries of the tree", tc.want} {
			if !strings.Contains(plan.Manual[0].Reason, want) {
				t.Errorf("%s: reason %q lacks %q", tc.manager, plan.Manual[0].Reason, want)
			}
		}
	}
}
