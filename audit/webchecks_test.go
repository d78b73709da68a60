package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
	"golang.org/x/sys/unix"
)

// webUser is www-data with a supplementary group, 2001 (shared), as the tests' accounts know it.
func webUser() *access.WebUser {
	return &access.WebUser{Name: "www-data", UID: 33, GID: 33, Groups: []uint32{33, 2001}, Source: "flag", Role: access.RoleWeb}
}

func auditAs(t *testing.T, fsys afero.Fs, root string, web, php *access.WebUser, p *policy.Policy) *Report {
	t.Helper()
	a := &Auditor{Fs: fsys, Policy: p, Accounts: testAccounts(), WebUser: web, PHPUser: php, Jobs: 2}
	rep, err := a.Run(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// The web access rules, through the auditor, so the way down the tree is traced as in a real
// audit: each blocker reported once, nothing below it again, sensitive paths left alone.
func TestWebAccessRules(t *testing.T) {
	manifest := `
d 0755 1000:1000 .
f 0644 1000:1000 index.html
f 0600 1000:1000 private.html
f 0044 33:33 owned-0044.html
f 0640 1000:33 group-web.html
f 0640 1000:2001 group-supplementary.html
f 0640 1000:1000 group-other.html
f 0600 1000:1000 wp-config.php
d 0711 1000:1000 search-only
f 0644 1000:1000 search-only/a.html
d 0644 1000:1000 no-search
f 0600 1000:1000 no-search/hidden.html
d 0755 1000:1000 no-search/deeper
d 0700 1000:1000 .git
f 0600 1000:1000 .git/HEAD
d 0755 1000:1000 .svn
f 0600 1000:1000 .svn/entries
d 0755 1000:1000 apache
f 0600 1000:1000 apache/.htaccess
f 0664 1000:33 apache/code.php
f 0664 1000:33 apache/notes.txt
f 0644 33:33 apache/style.css
f 0644 33:33 apache/owned.php
d 0775 1000:33 uploads
f 0644 1000:1000 uploads/shell.php
f 0644 1000:1000 uploads/photo.jpg
`
	want := map[string][]string{
		"private.html":     {"web-unreadable"},
		"owned-0044.html":  {"web-unreadable", "web-user-owns"},
		"group-other.html": {"web-unreadable"},
		// Readable through a supplementary group, but the policy expects the site's or the web
		// server's group.
		"group-supplementary.html": {"group-mismatch"},
		// PHP runs as www-data here (no PHP user of its own), so it must read its configuration.
		"wp-config.php":     {"web-unreadable"},
		"no-search":         {"web-untraversable"},
		"apache/.htaccess":  {"htaccess-unreadable"},
		"apache/code.php":   {"web-writable-code"},
		"apache/notes.txt":  {"mode-too-open"},
		"apache/style.css":  {"web-user-owns"},
		"apache/owned.php":  {"web-writable-code"},
		"uploads":           {"mode-too-open"},
		"uploads/shell.php": {"script-in-writable-dir"},
		".svn":              {"sensitive-exposed"},
	}
	for _, backend := range []struct {
		name string
		fs   func() afero.Fs
	}{{"memfs", func() afero.Fs { return fixture.NewMemFs() }}, {"os", func() afero.Fs { return afero.NewOsFs() }}} {
		t.Run(backend.name, func(t *testing.T) {
			if backend.name == "os" && !asRoot {
				t.Skip("needs root: the tree's owners (www-data, deploy) must be set with chown")
			}
			fsys := backend.fs()
			root := fixture.Tree(t, fsys, manifest)
			rep := auditAs(t, fsys, root, webUser(), nil, policy.Default())
			got := rulesByRel(rep)
			checkRules(t, got, want)
		})
	}
}

// With PHP running as its own user, scripts must be readable by PHP, not by the web server; PHP
// must reach them too.
func TestPHPUser(t *testing.T) {
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, `
d 0755 1000:1000 .
f 0644 1000:1000 index.html
f 0640 1000:1000 app.php
f 0600 1000:1000 hidden.php
f 0640 1000:1000 static.css
d 0701 1000:1000 lib
f 0640 1000:1000 lib/x.php
`)
	php := &access.WebUser{Name: "pool", UID: 2000, GID: 1000, Groups: []uint32{1000}, Source: "flag", Role: access.RolePHP}
	got := rulesByRel(auditAs(t, fsys, root, webUser(), php, policy.Default()))
	want := map[string]string{
		"hidden.php": "web-unreadable",
		"static.css": "web-unreadable",
		"lib":        "web-untraversable",
	}
	if len(got) != len(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	for rel, rule := range want {
		if strings.Join(got[rel], ",") != rule {
			t.Errorf("%s: %v, want %s", rel, got[rel], rule)
		}
	}
	rep := auditAs(t, fsys, root, webUser(), php, policy.Default())
	for _, f := range rep.Findings {
		if f.Entry.Rel == "hidden.php" && !strings.Contains(f.Message, "PHP's user pool cannot read") {
			t.Errorf("hidden.php: %q does not name PHP's user", f.Message)
		}
		if f.Entry.Rel == "lib" && !strings.Contains(f.Message, "PHP's user pool cannot search this directory: PHP scripts below it fail") {
			t.Errorf("lib: %q does not say PHP is blocked", f.Message)
		}
	}
}

// Policy writable paths let the web user own and write there; scripts there are still reported.
func TestWritablePaths(t *testing.T) {
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, `
d 0755 1000:1000 .
f 0644 1000:1000 index.php
d 0775 33:33 uploads
f 0664 33:33 uploads/a.jpg
f 0664 33:33 uploads/b.php
`)
	yes := true
	p := policy.Default()
	p.Rules = append(p.Rules, policy.Rule{Paths: []string{"uploads", "uploads/**"}, Writable: &yes,
		FileMax: ptr(os.FileMode(0o664)), DirMax: ptr(os.FileMode(0o775))})
	got := rulesByRel(auditAs(t, fsys, root, webUser(), nil, p))
	if len(got) != 1 || strings.Join(got["uploads/b.php"], ",") != "script-in-writable-dir" {
		t.Errorf("findings %v, want only script-in-writable-dir on uploads/b.php", got)
	}
}

func ptr[T any](v T) *T { return &v }

// An ancestor of the root that the web user cannot search is reported once, however many roots
// lie below it, and nothing inside those roots is reported as unreadable.
func TestAncestorBlocks(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: the tree's owner must be set with chown")
	}
	base := fixture.TempDir(t)
	home := filepath.Join(base, "home")
	fsys := afero.NewOsFs()
	for _, d := range []string{home, filepath.Join(home, "a"), filepath.Join(home, "b")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(home, "a", "x.html"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	a := &Auditor{Fs: fsys, Policy: policy.Default(), Accounts: testAccounts(), WebUser: webUser(), Jobs: 1}
	rep, err := a.Run(context.Background(), []string{filepath.Join(home, "a"), filepath.Join(home, "b")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, string(f.Rule)+" "+f.Entry.Path)
	}
	want := []string{"web-untraversable " + home}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep.Findings[0].Fix == nil || policy.OctalMode(rep.Findings[0].Fix.Mode) != "0711" {
		t.Errorf("fix %+v, want chmod 0711 (search for others, as cPanel's homes)", rep.Findings[0].Fix)
	}
	// Audited as an image mounted at home/a, the host's directories above it are not its way.
	a.SysRoot = filepath.Join(home, "a")
	rep, err = a.Run(context.Background(), []string{filepath.Join(home, "a")})
	if err != nil {
		t.Fatal(err)
	}
	if got := rulesByRel(rep); strings.Join(got["x.html"], ",") != "web-unreadable" || len(got) != 2 {
		t.Errorf("below --root %s: %v; want x.html unreadable (and the root's missing index), nothing above", a.SysRoot, got)
	}
}

func TestMissingIndex(t *testing.T) {
	for _, tt := range []struct {
		name, manifest string
		want           bool
	}{
		{"index.html", "d 0755 0:0 .\nf 0644 0:0 index.html\n", false},
		{"index.php", "d 0755 0:0 .\nf 0644 0:0 index.php\n", false},
		{"only in a subdirectory", "d 0755 0:0 .\nd 0755 0:0 sub\nf 0644 0:0 sub/index.html\n", true},
		{"untraversable root says so instead", "d 0700 0:0 .\nf 0644 0:0 a.html\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fixture.NewMemFs()
			root := fixture.Tree(t, fsys, tt.manifest)
			rep := auditAs(t, fsys, root, webUser(), nil, policy.Default())
			got := false
			for i, f := range rep.Findings {
				if f.Rule == policy.MissingIndex {
					got = true
					if i != 0 || f.Entry.Rel != "." || f.Severity != policy.Info {
						t.Errorf("finding %d %+v; want the root's, first, at info", i, f)
					}
				}
			}
			if got != tt.want {
				t.Errorf("missing-index reported: %v, want %v", got, tt.want)
			}
		})
	}
}

// Labels are read from security.selinux on the real file system. Without SELinux in the kernel,
// root may still write that attribute, which is enough to prove the reading and the rule.
func TestSELinuxLabelOnRealFiles(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: writing security.selinux takes CAP_SYS_ADMIN")
	}
	fsys := afero.NewOsFs()
	root := fixture.Tree(t, fsys, "d 0755 0:0 .\nf 0644 0:0 index.html\nf 0644 0:0 moved.html\n")
	for name, label := range map[string]string{
		"index.html": "system_u:object_r:httpd_sys_content_t:s0",
		"moved.html": "unconfined_u:object_r:user_home_t:s0",
	} {
		if err := unix.Lsetxattr(filepath.Join(root, name), "security.selinux", []byte(label+"\x00"), 0); err != nil {
			t.Skipf("cannot label %s: %v (the temp dir's file system keeps no security attributes)", name, err)
		}
	}
	got := rulesByRel(auditAs(t, fsys, root, webUser(), nil, policy.Default()))
	if len(got) != 1 || strings.Join(got["moved.html"], ",") != "selinux-label" {
		t.Errorf("findings %v, want selinux-label on moved.html only", got)
	}
}

// What the policy says each identity needs: PHP reads its secrets and writes uploads; the web
// server passes through a Laravel project to public/ and reads nothing else; a secret the web
// server can read while only PHP needs it is exposed.
func TestRequiredAccess(t *testing.T) {
	manifest := `
d 0755 1000:1000 .
f 0640 1000:33 wp-config.php
f 0600 1000:1000 .env
d 0755 1000:1000 uploads
d 2775 1000:33 cache
d 0755 1000:1000 app
f 0600 1000:1000 app/Kernel.php
d 0755 1000:1000 public
f 0600 1000:1000 public/logo.png
`
	p := policy.Default()
	p.Rules = append(p.Rules, mustParse(t, `version: 1
rules:
  - paths: "**"
    web: none
  - paths: "."
    web: search
  - paths: public/**
    web: read
  - paths: [uploads/**/, cache/**/]
    writable: true
    php: write
`).Rules...)
	php := &access.WebUser{Name: "deploy", UID: 1000, GID: 1000, Groups: []uint32{1000}, Role: access.RolePHP}
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, manifest)
	for _, tt := range []struct {
		name string
		php  *access.WebUser
		want map[string][]string
	}{
		{"php-fpm as deploy", php, map[string][]string{
			// www-data reads it through the group, though only PHP (deploy, the owner) needs it.
			"wp-config.php": {"sensitive-exposed"},
			// deploy, PHP's user, owns everything as the policy expects (the site's owner): it
			// may write uploads, and owning the code is the platform's design, not a fault.
			"public/logo.png": {"web-unreadable"},
		}},
		{"mod_php as www-data", nil, map[string][]string{
			// .env is a secret PHP reads only where a preset says so (Laravel's): not here.
			"uploads":         {"web-unwritable"},
			"app/Kernel.php":  {"web-unreadable"},
			"public/logo.png": {"web-unreadable"},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := auditAs(t, fsys, root, webUser(), tt.php, p)
			got := rulesByRel(rep)
			checkRules(t, got, tt.want)
		})
	}
}
