package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// Owner and group expectations: the site's owner by default, the web server's group only where
// a rule allows it, the web and PHP users in writable paths, and one finding per fault.
func TestOwnerAndGroupMismatch(t *testing.T) {
	manifest := `
d 0755 1000:1000 .
f 0644 1000:1000 index.html
f 0644 0:1000 root-owned.html
f 0644 1000:0 root-group.html
f 0644 1000:33 web-group.html
f 0644 1000:2001 shared-group.html
f 0644 4242:1000 unnamed.html
f 0644 33:33 web-owned.html
d 0755 1000:33 static
f 0644 1000:33 static/app.css
f 0644 1000:1000 static/deploy-group.css
d 2775 1000:33 uploads
f 0664 33:33 uploads/photo.jpg
f 0664 1000:2001 uploads/other.jpg
`
	p := policy.Default()
	p.Rules = append(p.Rules, mustParse(t, `version: 1
rules:
  - paths: "**"
    group: site
  - paths: static/**
    group: web
  - paths: uploads/**
    writable: true
`).Rules...)
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, manifest)
	rep := auditAs(t, fsys, root, webUser(), nil, p)
	want := map[string][]string{
		"root-owned.html":   {"owner-mismatch"},
		"root-group.html":   {"group-mismatch"},
		"web-group.html":    {"group-mismatch"}, // the web group only where a rule says so
		"shared-group.html": {"group-mismatch"},
		"unnamed.html":      {"unknown-owner"}, // not also owner-mismatch
		// web-user-owns is the one finding of its owner, not also owner-mismatch; its group,
		// www-data, is a second fault, since the rule for ** allows the site's group only.
		"web-owned.html":          {"group-mismatch", "web-user-owns"},
		"static/deploy-group.css": {"group-mismatch"}, // static/** wants the web group only
		// Writable: the web or PHP group, or the site's; and only the web or PHP group may write.
		"uploads/other.jpg": {"group-mismatch", "mode-too-open"},
	}
	got := rulesByRel(rep)
	checkRules(t, got, want)
	for _, f := range rep.Findings {
		switch f.Entry.Rel {
		case "root-owned.html":
			if f.Fix == nil || !f.Fix.Chown || f.Fix.UID != 1000 || f.Fix.GID != 1000 || f.Fix.Mode != f.Entry.Mode {
				t.Errorf("owner fix %+v, want chown 1000:1000 keeping the mode", f.Fix)
			}
			if !strings.Contains(f.Message, "owned by root; the policy expects deploy (the site's)") {
				t.Errorf("message %q", f.Message)
			}
		case "static/deploy-group.css":
			if f.Fix == nil || f.Fix.GID != 33 || f.Fix.UID != 1000 {
				t.Errorf("group fix %+v, want chown 1000:33", f.Fix)
			}
		}
	}
}

func TestOwnersMustExistOnTheAuditedSystem(t *testing.T) {
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, "d 0755 1000:1000 .\n")
	for _, tt := range []struct{ src, want string }{
		{"version: 1\nrules:\n  - paths: \"**\"\n    owner: mallory\n", `site.yaml:3: owner "mallory": no such user in /etc/passwd`},
		{"version: 1\nrules:\n  - paths: \"**\"\n    group: [site, staff]\n", `site.yaml:3: group "staff": no such group in /etc/group`},
		{"version: 1\nidentities:\n  owner: mallory\n", `site.yaml: owner "mallory": no such user`},
	} {
		a := &Auditor{Fs: fsys, Policy: mustParse(t, tt.src), Accounts: testAccounts(), WebUser: webUser()}
		_, err := a.Run(context.Background(), []string{root})
		if err == nil || !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.src, err, tt.want)
		}
	}
	// Numbers need no name.
	a := &Auditor{Fs: fsys, Policy: mustParse(t, "version: 1\nrules:\n  - paths: \"**\"\n    owner: \"1000\"\n"), Accounts: testAccounts()}
	if _, err := a.Run(context.Background(), []string{root}); err != nil {
		t.Errorf("a numeric owner: %v", err)
	}
}

// chown -R www-data on a site makes the web server the site's owner: webperm still says the web
// server owns what it serves, once for the tree, where PHP's own user owning its site is the
// platform's design.
func TestWebServerOwningTheRootIsStillAFault(t *testing.T) {
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, "d 0755 33:33 .\nf 0644 33:33 index.php\nf 0644 33:33 style.css\n")
	// For a plan, which keeps what the tree folds.
	a := &Auditor{Fs: fsys, Policy: policy.Default(), Accounts: testAccounts(), WebUser: webUser(), Jobs: 2, AsFixed: true}
	rep, err := a.Run(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	checkRules(t, rulesByRel(rep), map[string][]string{".": {"web-user-owns-tree"}})
	var folded []string
	for _, f := range rep.Folded {
		folded = append(folded, f.Entry.Rel+" "+string(f.Rule))
	}
	if want := []string{"index.php web-user-owns-tree", "style.css web-user-owns-tree"}; !slices.Equal(folded, want) {
		t.Errorf("folded %q, want %q", folded, want)
	}
	php := &access.WebUser{Name: "deploy", UID: 1000, GID: 1000, Groups: []uint32{1000}, Role: access.RolePHP}
	fsys = fixture.NewMemFs()
	root = fixture.Tree(t, fsys, "d 0755 1000:1000 .\nf 0644 1000:1000 index.php\nd 0755 1000:1000 lib\nf 0644 1000:1000 lib/a.php\n")
	if got := rulesByRel(auditAs(t, fsys, root, webUser(), php, policy.Default())); len(got) != 0 {
		t.Errorf("PHP-FPM as the site's owner: %v, want no findings", got)
	}
}

// identities.owner names the site's owner where the root's owner is not it: a root-owned
// /var/www/html with the site deployed by deploy.
func TestIdentitiesNameTheSiteOwner(t *testing.T) {
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, "d 0755 0:0 .\nf 0644 1000:1000 index.html\nf 0644 0:0 stray.html\n")
	p := policy.Default()
	p.Identities = mustParse(t, "version: 1\nidentities:\n  owner: [deploy, site]\n  group: deploy\n").Identities
	// root may own (site is among the owners), but the group must be deploy's.
	checkRules(t, rulesByRel(auditAs(t, fsys, root, webUser(), nil, p)), map[string][]string{".": {"group-mismatch"}, "stray.html": {"group-mismatch"}})
}

// Regressions from the second reading of the policy change.
func TestFixesOfOwnershipFindings(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: the tree's owners must be set with chown")
	}
	fsys := afero.NewOsFs()
	root := fixture.Tree(t, fsys, `
d 0755 1000:1000 .
f 0644 0:0 about.html
f 0664 33:33 index.php
l 0777 33:33 latest about.html
d 2775 1000:33 wp-content
d 0755 1000:33 wp-content/uploads
`)
	p := policy.Default()
	p.Rules = append(p.Rules, mustParse(t, "version: 1\nrules:\n  - paths: wp-content/uploads/**\n    writable: true\n  - paths: wp-content/uploads/**/\n    php: write\n").Rules...)
	rep := auditAs(t, fsys, root, webUser(), nil, p)
	fixes := map[string]*Fix{}
	for _, f := range rep.Findings {
		key := f.Entry.Rel + " " + string(f.Rule)
		fixes[key] = f.Fix
	}
	want := map[string]Fix{
		// Owner and group wrong: both findings carry the one chown that fixes both.
		"about.html owner-mismatch": {Mode: 0o644, Chown: true, UID: 1000, GID: 1000},
		"about.html group-mismatch": {Mode: 0o644, Chown: true, UID: 1000, GID: 1000},
		// Code the web server owns: back to the site, and the group write goes too.
		"index.php web-writable-code": {Mode: 0o644, Chown: true, UID: 1000, GID: 33},
		// The group write the writable path allows the web server's group.
		"wp-content/uploads web-unwritable": {Mode: 0o775},
	}
	// A symlink is judged by its target: who owns the link itself changes nothing the web server
	// does (it cannot retarget a link, only replace it where it writes the directory).
	if rules := rulesByRel(rep)["latest"]; len(rules) > 0 {
		t.Errorf("latest, a symlink www-data owns to a file in the root: %v, want nothing", rules)
	}
	for key, w := range want {
		got, ok := fixes[key]
		if !ok {
			t.Errorf("%s: no finding (findings: %v)", key, rulesByRel(rep))
			continue
		}
		if got == nil || *got != w {
			t.Errorf("%s: fix %+v, want %+v", key, got, w)
		}
	}
}

// A rule for a directory above the root (the README's cPanel home) still holds it to the way
// through: a 0700 home is a 403, and an unset maximum is no limit, never 0000.
func TestHeldAncestorStillNeedsSearch(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: the tree's owner must be set with chown")
	}
	sys := fixture.TempDir(t)
	entries, err := fixture.Parse(strings.NewReader("d 0755 0:0 .\nd 0755 0:0 home\nd 0700 1000:1000 home/alice\nd 0755 1000:1000 home/alice/public_html\nf 0644 1000:1000 home/alice/public_html/index.html\n"), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := fixture.Materialise(afero.NewOsFs(), sys, entries, fixture.Options{Chown: true}); err != nil {
		t.Fatal(err)
	}
	p := policy.Default()
	p.Rules = append(p.Rules, mustParse(t, "version: 1\nrules:\n  - paths: /home/*/\n    dir_mode: \"0711\"\n  - paths: /srv/**\n    group: [site, web]\n").Rules...)
	a := &Auditor{Fs: afero.NewOsFs(), Policy: p, Accounts: testAccounts(), WebUser: webUser(), SysRoot: sys}
	rep, err := a.Run(context.Background(), []string{sys + "/home/alice/public_html"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, string(f.Rule)+" "+walk.SystemPath(f.Entry.Path, sys))
	}
	if strings.Join(got, "\n") != "web-untraversable /home/alice" {
		t.Errorf("findings:\n%s\nwant web-untraversable /home/alice alone", strings.Join(got, "\n"))
	}
	none, err := policy.Preset("none")
	if err != nil {
		t.Fatal(err)
	}
	if s := none.For("x", "/x", false); s.FileMax != policy.ModeBits || s.DirMax != policy.ModeBits {
		t.Errorf("preset none: maxima %v %v, want no limit", s.FileMax, s.DirMax)
	}
}

// Where the web server owns the root (chown -R www-data), the site is not the web server's: it is
// --site-owner's, else the owner of the home the root lies in (by passwd, or below /home*), else
// unknown, and the report says which. What the web server owns is then given back to that owner.
func TestSiteOwner(t *testing.T) {
	deployHome := access.NewAccounts([]access.User{{Name: "root"}, {Name: "www-data", UID: 33, GID: 33}, {Name: "deploy", UID: 1000, GID: 1000, Home: "/srv/deploy"}}, nil)
	flag := uint32(1000)
	for _, tc := range []struct {
		name     string
		root     string
		parent   uint32 // the owner of the root's parent
		accounts *access.Accounts
		flag     *uint32
		want     SiteOwner // Root is filled in; Source "root" means none is reported
		fix      string    // the owner index.html's fix, folded into the tree's finding, gives (the group www-data may stay), "" for none
	}{
		{"a home below /home", "/home/alice/public_html", 1000, testAccounts(), nil, SiteOwner{UID: 1000, GID: 1000, Source: "parent", Parent: "/home/alice"}, "1000:33"},
		{"a home by passwd", "/srv/deploy/site", 1000, deployHome, nil, SiteOwner{UID: 1000, GID: 1000, Source: "parent", Parent: "/srv/deploy"}, "1000:33"},
		{"a parent of root's", "/srv/www/site", 0, testAccounts(), nil, SiteOwner{UID: 33, GID: 33, Source: "unknown"}, ""},
		{"a parent the web server owns", "/home/www/site", 33, testAccounts(), nil, SiteOwner{UID: 33, GID: 33, Source: "unknown"}, ""},
		{"not a home", "/srv/deploy/site", 1000, testAccounts(), nil, SiteOwner{UID: 33, GID: 33, Source: "unknown"}, ""},
		{"the flag", "/srv/www/site", 0, testAccounts(), &flag, SiteOwner{UID: 1000, GID: 1000, Source: "flag"}, "1000:33"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fixture.NewMemFs()
			entries, err := fixture.Parse(strings.NewReader("d 0755 33:33 .\nf 0644 33:33 index.html\n"), t.Name())
			if err != nil {
				t.Fatal(err)
			}
			if err := fixture.Materialise(fsys, tc.root, entries, fixture.Options{Chown: true}); err != nil {
				t.Fatal(err)
			}
			if err := fsys.Chown(filepath.Dir(tc.root), int(tc.parent), int(tc.parent)); err != nil {
				t.Fatal(err)
			}
			a := &Auditor{Fs: fsys, Policy: policy.Default(), Accounts: tc.accounts, WebUser: webUser(), Jobs: 1, SiteOwner: tc.flag, AsFixed: true}
			rep, err := a.Run(context.Background(), []string{tc.root})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.Root = tc.root
			if len(rep.SiteOwners) != 1 || rep.SiteOwners[0] != want {
				t.Errorf("site owners %+v, want %+v", rep.SiteOwners, want)
			}
			fix := ""
			for _, f := range rep.Folded {
				if f.Entry.Rel == "index.html" && f.Rule == policy.WebUserOwnsTree && f.Fix != nil && f.Fix.Chown {
					fix = fmt.Sprintf("%d:%d", f.Fix.UID, f.Fix.GID)
				}
			}
			if fix != tc.fix {
				t.Errorf("index.html's web-user-owns fix gives it %q, want %q", fix, tc.fix)
			}
		})
	}
}
