package audit

import (
	"context"
	"os"
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

// auditSystem makes the system manifest describes in a temporary directory, as root sets its
// owners, and audits the root at rootRel in it under the default policy, with the system as
// --root: links are followed inside it. It returns the system's directory and the report.
func auditSystem(t *testing.T, manifest, rootRel string) (string, *Report) {
	t.Helper()
	if !asRoot {
		t.Skip("needs root: the tree's owners must be set with chown")
	}
	sys := fixture.TempDir(t)
	entries, err := fixture.Parse(strings.NewReader(manifest), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := fixture.Materialise(afero.NewOsFs(), sys, entries, fixture.Options{Chown: true}); err != nil {
		t.Fatal(err)
	}
	a := &Auditor{Fs: afero.NewOsFs(), Policy: policy.Default(), Accounts: testAccounts(), WebUser: webUser(), SysRoot: sys}
	rep, err := a.Run(context.Background(), []string{filepath.Join(sys, rootRel)})
	if err != nil {
		t.Fatal(err)
	}
	return sys, rep
}

// Apache opens .htaccess following symlinks and wants a regular file it can read: a link to a
// file www-data cannot read, or to a directory, a link that loops, and an .htaccess that is a
// directory all make it answer 403 for the directory (proved against a real Apache in e2e/). A
// link to a readable file works, and a dangling one is no .htaccess at all.
func TestHtaccessThroughLinksOnRealTree(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: the tree's owners must be set with chown")
	}
	fsys := afero.NewOsFs()
	root := fixture.Tree(t, fsys, `
d 0755 1000:1000 .
f 0644 1000:1000 index.html
d 0755 1000:1000 link-unreadable
f 0600 1000:1000 link-unreadable/htaccess.conf
l 0777 1000:1000 link-unreadable/.htaccess htaccess.conf
d 0755 1000:1000 link-readable
f 0644 1000:1000 link-readable/htaccess.conf
l 0777 1000:1000 link-readable/.htaccess htaccess.conf
d 0755 1000:1000 link-dangling
l 0777 1000:1000 link-dangling/.htaccess missing.conf
d 0755 1000:1000 link-loop
l 0777 1000:1000 link-loop/.htaccess .htaccess
d 0755 1000:1000 link-dir
d 0755 1000:1000 link-dir/conf
f 0644 1000:1000 link-dir/conf/a.html
l 0777 1000:1000 link-dir/.htaccess conf
d 0755 1000:1000 link-closed-way
d 0700 1000:1000 link-closed-way/private
f 0644 1000:1000 link-closed-way/private/htaccess.conf
l 0777 1000:1000 link-closed-way/.htaccess private/htaccess.conf
d 0755 1000:1000 is-dir
d 0755 1000:1000 is-dir/.htaccess
d 0755 1000:1000 user-ini
f 0600 1000:1000 user-ini/.user.ini
f 0644 1000:1000 user-ini/index.html
`)
	rep := auditAs(t, fsys, root, webUser(), &access.WebUser{Name: "php", UID: 1000, GID: 1000, Role: access.RolePHP}, policy.Default())
	checkRules(t, rulesByRel(rep), map[string][]string{
		"link-unreadable/htaccess.conf": {"web-unreadable"},
		"link-unreadable/.htaccess":     {"htaccess-unreadable"},
		"link-loop/.htaccess":           {"dangling-symlink", "htaccess-unreadable"},
		"link-dir/.htaccess":            {"htaccess-unreadable"},
		"link-closed-way/private":       {"web-untraversable"},
		"link-closed-way/.htaccess":     {"htaccess-unreadable"},
		"is-dir/.htaccess":              {"htaccess-unreadable"},
		"link-dangling/.htaccess":       {"dangling-symlink"},
		// nginx and Apache refuse a request for the file itself; PHP ignores a .user.ini it
		// cannot read, so nothing else in its directory is refused.
		"user-ini/.user.ini": {"web-unreadable"},
	})
	for _, f := range rep.Findings {
		if f.Rule != policy.HtaccessUnreadable {
			continue
		}
		if f.Fix != nil {
			t.Errorf("%s: fix %+v; a plan changes nothing through a link nor turns a directory into a file", f.Entry.Rel, f.Fix)
		}
		want := map[string]string{
			"link-unreadable/.htaccess": root + "/link-unreadable/htaccess.conf, which www-data cannot read",
			"link-loop/.htaccess":       "loops back on itself",
			"link-dir/.htaccess":        root + "/link-dir/conf, a dir, not a regular file",
			"link-closed-way/.htaccess": "www-data cannot search a directory on the way",
			"is-dir/.htaccess":          "is a directory, not a regular file",
		}[f.Entry.Rel]
		if !strings.Contains(f.Message, want) || !strings.Contains(f.Message, "403 for this directory") {
			t.Errorf("%s: message %q; want it to say %q and the 403", f.Entry.Rel, f.Message, want)
		}
	}
}

// An .htaccess or .user.ini the web server can write lets it rewrite its own handler
// configuration (AddHandler, auto_prepend_file): one high web-writable-code finding, even in the
// paths the policy has it write, where it may own what it wrote; nothing else for the same fault.
func TestServerConfigWritableInUploads(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: the tree's owners must be set with chown")
	}
	fsys := afero.NewOsFs()
	root := fixture.Tree(t, fsys, `
d 0755 1000:1000 .
f 0644 1000:1000 index.php
d 0755 1000:1000 wp-content
d 2775 1000:33 wp-content/uploads
f 0644 33:33 wp-content/uploads/photo.jpg
f 0644 33:33 wp-content/uploads/.htaccess
f 0664 1000:33 wp-content/uploads/.user.ini
d 2775 1000:33 wp-content/uploads/2024
f 0644 1000:1000 wp-content/uploads/2024/.htaccess
f 0644 1000:1000 wp-content/uploads/2024/.user.ini
d 0755 1000:1000 wp-content/themes
f 0664 1000:33 wp-content/themes/.htaccess
`)
	p, err := policy.Resolve("wordpress", nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := auditAs(t, fsys, root, webUser(), nil, p)
	checkRules(t, rulesByRel(rep), map[string][]string{
		"wp-content/uploads/.htaccess": {"web-writable-code"},
		"wp-content/uploads/.user.ini": {"web-writable-code"},
		"wp-content/themes/.htaccess":  {"web-writable-code"},
	})
	for _, f := range rep.Findings {
		if f.Severity != policy.High && f.Severity != policy.Critical {
			t.Errorf("%s: %s at %s, want at least high", f.Entry.Rel, f.Rule, f.Severity)
		}
		if f.Fix == nil {
			t.Errorf("%s: no fix", f.Entry.Rel)
			continue
		}
		// The fix leaves www-data neither owner nor a writer.
		after := f.Fix.after(&f.Entry)
		id := webUser().Identity()
		if v := access.Decide(&id, &after); v.Class == access.ClassOwner || v.Can(walk.PermWrite) || !v.Can(walk.PermRead) {
			t.Errorf("%s: after the fix (%s %d:%d) www-data has %+v; want read only", f.Entry.Rel, policy.OctalMode(after.Mode), after.UID, after.GID, v)
		}
	}
}

// A symlink is judged by its target, followed read-only inside --root: named like a secret or
// leading to one whose target others can read, it is sensitive-exposed naming both; a link to
// a public file a distribution installed is nothing; who owns the link is nothing.
func TestSymlinkJudgedByTarget(t *testing.T) {
	sys, rep := auditSystem(t, `
d 0755 0:0 .
d 0755 0:0 etc
d 0755 0:0 etc/wordpress
f 0640 0:33 etc/wordpress/config-site.php
f 0644 0:0 etc/wordpress/config-open.php
d 0755 0:0 etc/ssl
f 0644 0:0 etc/ssl/site.key
d 0755 0:0 usr
d 0755 0:0 usr/share
d 0755 0:0 usr/share/javascript
d 0755 0:0 usr/share/javascript/jquery
f 0644 0:0 usr/share/javascript/jquery/jquery.js
d 0755 0:0 usr/share/php
d 0755 1000:1000 usr/share/php/mine
f 0644 1000:1000 usr/share/php/mine/lib.php
d 0755 0:0 srv
d 0755 1000:1000 srv/site
f 0644 1000:1000 srv/site/index.php
l 0777 0:0 srv/site/wp-config.php /etc/wordpress/config-site.php
l 0777 0:0 srv/site/open-config.php /etc/ssl/../ssl/site.key
d 0755 1000:1000 srv/site/blog
l 0777 0:0 srv/site/blog/wp-config.php /etc/wordpress/config-open.php
d 0755 1000:1000 srv/site/config
f 0644 1000:1000 srv/site/config/app-settings
f 0640 1000:33 srv/site/config/closed-settings
l 0777 1000:1000 srv/site/.env config/app-settings
l 0777 1000:1000 srv/site/.env.local config/closed-settings
f 0644 1000:1000 srv/site/dump.sql.gz
l 0777 1000:1000 srv/site/notes.txt dump.sql.gz
l 0777 0:0 srv/site/jquery.js /usr/share/javascript/jquery/jquery.js
l 0777 33:33 srv/site/js ../../usr/share/javascript
l 0777 0:0 srv/site/lib.php /usr/share/php/mine/lib.php
`, "srv/site")
	root := sys + "/srv/site"
	checkRules(t, rulesByRel(rep), map[string][]string{
		// Named like a secret (wp-config.php), its target readable by others: the link names both.
		"blog/wp-config.php": {"sensitive-exposed"},
		// Leading to a secret by the target's name, others read it: the same, by the target.
		// (wp-config.php, leading to a root-owned config closed to others as Debian's are, is
		// nothing: neither exposed nor an escape from the root, which the target's judging saw.)
		"open-config.php": {"sensitive-exposed"},
		".env":            {"sensitive-exposed"},
		// Closed to others, but www-data reads it through its group, where the policy keeps the
		// web server from a secret (.env.*): served through the link.
		".env.local": {"sensitive-exposed"},
		// The secret in the root is reported where it is, once, with its fix.
		"dump.sql.gz": {"sensitive-exposed"},
		// A file of the system someone else than root can change still leads outside the root.
		"lib.php": {"symlink-escapes-root"},
	})
	wants := map[string][]string{
		"blog/wp-config.php": {root + "/blog/wp-config.php", "named like a secret", sys + "/etc/wordpress/config-open.php", "mode 0644", "at most 0640"},
		"open-config.php":    {root + "/open-config.php", "leading to a secret", sys + "/etc/ssl/site.key"},
		".env":               {root + "/.env", "named like a secret", root + "/config/app-settings", "readable by others"},
		".env.local":         {"www-data can read its target", root + "/config/closed-settings", "keeps from the web server"},
	}
	for _, f := range rep.Findings {
		for _, w := range wants[f.Entry.Rel] {
			if !strings.Contains(f.Message, w) {
				t.Errorf("%s: message %q does not say %q", f.Entry.Rel, f.Message, w)
			}
		}
		if f.Entry.Type == walk.TypeSymlink && f.Fix != nil {
			t.Errorf("%s: fix %+v; a plan changes nothing through a link", f.Entry.Rel, f.Fix)
		}
	}
}

// A packaged application's trees link into one another (/usr/share/APP to /var/lib/APP,
// /etc/APP, /var/log/APP): that is the package's layout, not an escape from the root; a link into
// another application's trees still is one.
func TestLinksWithinAPackagedApp(t *testing.T) {
	_, rep := auditSystem(t, `
d 0755 0:0 .
d 0755 0:0 usr
d 0755 0:0 usr/share
d 0755 0:0 usr/share/app
f 0644 0:0 usr/share/app/index.php
l 0777 0:0 usr/share/app/plugins /var/lib/app/plugins
l 0777 0:0 usr/share/app/logs ../../../var/log/app
l 0777 0:0 usr/share/app/other /var/lib/other/data
l 0777 0:0 usr/share/app/settings.php /etc/app/settings.php
l 0777 0:0 usr/share/app/ca-bundle.crt /etc/ssl/certs/ca.crt
l 0777 0:0 usr/share/app/less.js ../javascript/less/less.js
l 0777 0:0 usr/share/app/gone /var/lib/other/gone
d 0755 0:0 etc
d 0755 0:0 etc/ssl
d 0755 0:0 etc/ssl/certs
f 0644 0:0 etc/ssl/certs/ca.crt
d 0755 0:0 var
d 0755 0:0 var/lib
d 0755 0:0 var/lib/app
d 0755 33:33 var/lib/app/plugins
d 0755 0:0 var/lib/other
d 0755 0:0 var/lib/other/data
d 0755 0:0 var/log
d 0750 33:0 var/log/app
`, "usr/share/app")
	got := rulesByRel(rep)
	for rel, want := range map[string][]string{
		// settings.php waits for the installer to write /etc/app/settings.php: dangling, not escaping.
		"settings.php": {"dangling-symlink"},
		// The public CA certificates, root's alone: nothing to report.
		"ca-bundle.crt": nil,
		// A library package that is not installed: nothing to serve, and only root can add one.
		"less.js": {"dangling-symlink"},
		// Missing in another app's tree, which others may fill: it still leads outside.
		"gone": {"dangling-symlink", "symlink-escapes-root"},
	} {
		if !slices.Equal(got[rel], want) {
			t.Errorf("%s: %v, want %v", rel, got[rel], want)
		}
	}
	// Waiting for the installer or an optional package, a dangling link breaks nothing yet: info.
	for _, f := range rep.Findings {
		if f.Rule != policy.DanglingSymlink {
			continue
		}
		want := policy.Info
		if f.Entry.Rel == "gone" {
			want = policy.Low
		}
		if f.Severity != want {
			t.Errorf("%s: dangling-symlink %s, want %s", f.Entry.Rel, f.Severity, want)
		}
	}
	for _, rel := range []string{"plugins", "logs"} {
		if slices.Contains(got[rel], "symlink-escapes-root") {
			t.Errorf("%s, a link into the app's own trees, escapes the root: %v", rel, got[rel])
		}
	}
	if !slices.Contains(got["other"], "symlink-escapes-root") {
		t.Errorf("other, a link into another app's tree, does not escape the root: %v", got["other"])
	}
}

// A link's ".." is taken by the kernel after the links before it, not by the text: a site's user
// who links x/up to the root and then peek to x/up/../other/index.html reaches the directory
// beside the root, although the text of peek's target stays in it. The escape is judged by where
// the link really leads.
func TestSymlinkEscapeJudgedByRealTarget(t *testing.T) {
	fsys := afero.NewOsFs()
	root := fixture.Tree(t, fsys, `
d 0755 1000:1000 .
f 0644 1000:1000 index.html
d 0755 1000:1000 x
l 0777 1000:1000 x/up ..
l 0777 1000:1000 peek x/up/../other/index.html
`)
	other := filepath.Join(filepath.Dir(root), "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "index.html"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rep := auditAs(t, fsys, root, webUser(), nil, policy.Default())
	if got := rulesByRel(rep)["peek"]; !slices.Contains(got, "symlink-escapes-root") {
		t.Errorf("peek, leading to %s/index.html, does not escape the root: %v", other, got)
	}
	for _, f := range rep.Findings {
		if f.Entry.Rel == "peek" && f.Rule == policy.SymlinkEscapesRoot && !strings.Contains(f.Message, other+"/index.html") {
			t.Errorf("peek: message %q does not name where the link leads, %s/index.html", f.Message, other)
		}
	}
}

// A packaged application's layout is root's: a link its site's user (or the web server) made in
// the application's trees, into the same application's configuration, is no part of it. Served,
// it hands out a file PHP alone should read, as plain text under a name the server does not run.
func TestLinksIntoAPackagedAppBySiteUser(t *testing.T) {
	_, rep := auditSystem(t, `
d 0755 0:0 .
d 0755 0:0 etc
d 0755 0:0 etc/app
f 0640 0:33 etc/app/users.xml
f 0640 0:33 etc/app/config.php
d 0755 0:0 var
d 0755 0:0 var/lib
d 0755 0:0 var/lib/app
d 0755 0:0 var/lib/app/site
f 0644 0:0 var/lib/app/site/index.php
l 0777 0:0 var/lib/app/site/config.php /etc/app/config.php
d 0755 1000:1000 var/lib/app/site/files
l 0777 1000:1000 var/lib/app/site/files/users.txt /etc/app/users.xml
l 0777 1000:1000 var/lib/app/site/files/config.txt /etc/app/config.php
`, "var/lib/app/site")
	got := rulesByRel(rep)
	if slices.Contains(got["config.php"], "symlink-escapes-root") {
		t.Errorf("config.php, root's link into the app's configuration, escapes the root: %v", got["config.php"])
	}
	for _, rel := range []string{"files/users.txt", "files/config.txt"} {
		if !slices.Contains(got[rel], "symlink-escapes-root") {
			t.Errorf("%s, the site user's link into the app's configuration, does not escape the root: %v", rel, got[rel])
		}
	}
}

// A link to a whole directory a distribution installed for everyone is judged as a link to a
// file there: Debian's phpmyadmin and roundcube link vendor directories into
// /usr/share/javascript (themes/*/jquery/images, plugins/jqueryui/js/i18n) and phpmyadmin its
// manual into /usr/share/doc. Where root alone can change the directory and the way to it, and
// others may read it, serving it gives nothing away; a directory there that another account
// can write, or that lies under one, still leads outside the root.
func TestLinkToPublicSystemDirectory(t *testing.T) {
	_, rep := auditSystem(t, `
d 0755 0:0 .
d 0755 0:0 usr
d 0755 0:0 usr/share
d 0755 0:0 usr/share/javascript
d 0755 0:0 usr/share/javascript/jquery
f 0644 0:0 usr/share/javascript/jquery/jquery.js
d 0755 0:0 usr/share/javascript/jquery-ui
d 0755 0:0 usr/share/javascript/jquery-ui/themes
d 0755 0:0 usr/share/javascript/jquery-ui/themes/base
d 0755 0:0 usr/share/javascript/jquery-ui/themes/base/images
f 0644 0:0 usr/share/javascript/jquery-ui/themes/base/images/ui-icons.png
d 2775 0:50 usr/share/javascript/shared
f 0664 0:50 usr/share/javascript/shared/lib.js
d 0755 1000:1000 usr/share/javascript/mine
d 0755 0:0 usr/share/javascript/mine/dist
f 0644 0:0 usr/share/javascript/mine/dist/lib.js
d 0755 0:0 usr/share/doc
d 0755 0:0 usr/share/doc/app
d 0755 0:0 usr/share/doc/app/html
f 0644 0:0 usr/share/doc/app/html/index.html
d 0755 0:0 usr/lib
d 0755 0:0 usr/lib/php
d 0755 0:0 usr/lib/php/vendor
f 0644 0:0 usr/lib/php/vendor/autoload.php
d 0755 0:0 usr/share/app
f 0644 0:0 usr/share/app/index.php
l 0777 0:0 usr/share/app/jquery /usr/share/javascript/jquery
d 0755 0:0 usr/share/app/themes
d 0755 0:0 usr/share/app/themes/jquery
l 0777 0:0 usr/share/app/themes/jquery/images ../../../javascript/jquery-ui/themes/base/images
l 0777 0:0 usr/share/app/manual ../doc/app/html
l 0777 0:0 usr/share/app/vendor /usr/lib/php/vendor
l 0777 1000:1000 usr/share/app/js ../javascript/jquery
l 0777 0:0 usr/share/app/shared /usr/share/javascript/shared
l 0777 0:0 usr/share/app/mine /usr/share/javascript/mine/dist
`, "usr/share/app")
	got := rulesByRel(rep)
	for rel, want := range map[string][]string{
		// Root's directories, readable by all, on a way root alone writes: nothing to report,
		// absolute or relative, in /usr/share or /usr/lib, whoever made the link.
		"jquery":               nil,
		"themes/jquery/images": nil,
		"manual":               nil,
		"vendor":               nil,
		"js":                   nil,
		// Writable by its group, or below a directory a user owns: the user can put
		// anything there for the server to serve.
		"shared": {"symlink-escapes-root"},
		"mine":   {"symlink-escapes-root"},
	} {
		if !slices.Equal(got[rel], want) {
			t.Errorf("%s: %v, want %v", rel, got[rel], want)
		}
	}
}
