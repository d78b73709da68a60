package audit

import (
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/policy"
)

// Apache opens .htaccess following symlinks and wants a regular file it can read: a link to a
// file www-data cannot read, or to a directory, a link that loops, and an .htaccess that is a
// directory all make it answer 403 for the directory (proved against a real Apache in e2e/). A
// link to a readable file works, and a dangling one is no .htaccess at all.
func TestHtaccessThroughLinksOnRealTree(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: the tree's owners must be set with chown")
	}
	fsys := afero.NewOsFs()
	root := makeTree(t, fsys, `
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
	rep := auditAs(t, fsys, root, webUser(), &WebUser{Name: "php", UID: 1000, GID: 1000, Role: RolePHP}, policy.Default())
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
	root := makeTree(t, fsys, `
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
		if v := Access(&id, &after); v.Class == ClassOwner || v.Can(PermWrite) || !v.Can(PermRead) {
			t.Errorf("%s: after the fix (%s %d:%d) www-data has %+v; want read only", f.Entry.Rel, policy.OctalMode(after.Mode), after.UID, after.GID, v)
		}
	}
}
