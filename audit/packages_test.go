package audit

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// dpkg's lists are read below the audited system's root, keeping only what lies in or above a
// root, by package, with PKG:ARCH.list named PKG.
func TestLoadPackages(t *testing.T) {
	fsys := dpkgDatabase(t, "/img")
	lists := map[string]string{
		"/img/var/lib/dpkg/info/wordpress.list":    "/.\n/usr\n/usr/share\n/usr/share/wordpress\n/usr/share/wordpress/index.php\n/usr/share/wordpress/wp-admin\n",
		"/img/var/lib/dpkg/info/libc6:amd64.list":  "/.\n/usr/lib/x86_64-linux-gnu/libc.so.6\n",
		"/img/var/lib/dpkg/info/wordpress.md5sums": "d41d8cd98f00b204e9800998ecf8427e  usr/share/wordpress/secret.php\n",
		"/img/var/lib/dpkg/info/odd.list":          "relative/path\n/usr/share/wordpress/../wordpress/readme.html\n",
	}
	for name, text := range lists {
		if err := afero.WriteFile(fsys, name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := LoadPackages(fsys, "/img", []string{"/img/usr/share/wordpress"})
	for path, want := range map[string]string{
		"/img/usr/share/wordpress/index.php":      "wordpress",
		"/img/usr/share/wordpress/wp-admin":       "wordpress",
		"/img/usr/share":                          "wordpress", // above the root: its way
		"/img/usr/share/wordpress/readme.html":    "odd",       // cleaned
		"/img/usr/lib/x86_64-linux-gnu/libc.so.6": "",          // neither in nor above the root
		"/img/usr/share/wordpress/secret.php":     "",          // in md5sums only, which is no list
		"/usr/share/wordpress/index.php":          "",          // the host's, not the image's
		"/img/usr/share/wordpress/uploads":        "",          // made after the install
	} {
		if got := p.Of(path); got != want {
			t.Errorf("Of(%s) = %q, want %q", path, got, want)
		}
	}
	if got := (*Packages)(nil).Of("/x"); got != "" {
		t.Errorf("a nil Packages knows %q", got)
	}
	if got := LoadPackages(fsys, "/nodpkg", []string{"/nodpkg/srv"}).Of("/nodpkg/srv"); got != "" {
		t.Errorf("a system without dpkg has packages: %q", got)
	}
}

// A secret by name that is exactly as its package ships it (Debian's wp-config.php) is public in
// the distribution's archive: at most info. Changed by the admin, it is a secret again.
func TestShippedSecretsAreNoSecrets(t *testing.T) {
	const shipped = "<?php\n// Debian's: the site's settings are in /etc/wordpress\n"
	sum := md5.Sum([]byte(shipped))
	fsys := fixture.NewMemFs()
	entries, err := fixture.Parse(strings.NewReader("d 0755 0:0 .\nf 0644 0:0 wp-config.php\nd 0755 0:0 blog\nf 0644 0:0 blog/wp-config.php\n"), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	root := "/img/usr/share/wordpress"
	if err := fixture.Materialise(fsys, root, entries, fixture.Options{Chown: true}); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		root + "/wp-config.php":                    shipped,
		root + "/blog/wp-config.php":               shipped + "define('DB_PASSWORD', 'hunter2');\n",
		"/img/var/lib/dpkg/info/wordpress.list":    "/usr/share/wordpress\n/usr/share/wordpress/wp-config.php\n/usr/share/wordpress/blog/wp-config.php\n",
		"/img/var/lib/dpkg/info/wordpress.md5sums": hex.EncodeToString(sum[:]) + "  usr/share/wordpress/wp-config.php\n" + hex.EncodeToString(sum[:]) + "  usr/share/wordpress/blog/wp-config.php\n",
	} {
		if err := afero.WriteFile(fsys, name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dpkgDirsAsInstalled(t, fsys, "/img")
	a := &Auditor{Fs: fsys, Policy: policy.Default(), Accounts: testAccounts(), WebUser: webUser(), Jobs: 1, SysRoot: "/img"}
	rep, err := a.Run(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range rep.Findings {
		got[f.Entry.Rel] += fmt.Sprintf("%s %s;", f.Rule, f.Severity)
	}
	if want := "mode-too-open info;"; got["wp-config.php"] != want {
		t.Errorf("the shipped wp-config.php: %q, want %q", got["wp-config.php"], want)
	}
	if want := "sensitive-exposed high;"; got["blog/wp-config.php"] != want {
		t.Errorf("a changed wp-config.php: %q, want %q", got["blog/wp-config.php"], want)
	}
	// explain --in asks for one entry's findings: they are the audit's, package and all.
	for _, rel := range []string{"wp-config.php", "blog/wp-config.php"} {
		found, err := a.Findings(context.Background(), root, root+"/"+rel)
		if err != nil {
			t.Fatal(err)
		}
		one := ""
		for _, f := range found {
			one += fmt.Sprintf("%s %s;", f.Rule, f.Severity)
			if f.Package != "wordpress" {
				t.Errorf("%s: %s names the package %q, want wordpress", rel, f.Rule, f.Package)
			}
		}
		if one != got[rel] {
			t.Errorf("%s: findings alone %q, in the audit %q", rel, one, got[rel])
		}
	}
}

// A md5sums file is the audited system's, which on an image or a container's tree is not root's
// of the host: a line whose sum is not 32 hex digits (a longer one, a SHA-256) is skipped, and
// never stops the audit.
func TestMalformedMD5Sums(t *testing.T) {
	fsys := dpkgDatabase(t, "/img")
	good := md5.Sum([]byte("x"))
	sums := strings.Repeat("ab", 32) + "  srv/site/long.php\n" +
		hex.EncodeToString(good[:]) + "ff  srv/site/longer.php\n" +
		"abc  srv/site/short.php\n" +
		hex.EncodeToString(good[:]) + "  srv/site/good.php\n"
	for name, text := range map[string]string{
		"/img/var/lib/dpkg/info/app.list":    "/srv/site/good.php\n",
		"/img/var/lib/dpkg/info/app.md5sums": sums,
		"/img/srv/site/good.php":             "x",
		"/img/srv/site/longer.php":           "x",
	} {
		if err := afero.WriteFile(fsys, name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := LoadPackages(fsys, "/img", []string{"/img/srv/site"})
	if !p.Shipped(fsys, "/img/srv/site/good.php") {
		t.Error("good.php, as its package ships it, is not shipped")
	}
	if p.Shipped(fsys, "/img/srv/site/longer.php") {
		t.Error("longer.php, whose sum is no MD5, is shipped")
	}
}

// FuzzPackageLists feeds dpkg's list and md5sums parsers anything: they never panic, and keep
// only paths in or above the root.
func FuzzPackageLists(f *testing.F) {
	f.Add([]byte("/.\n/srv\n/srv/site/a.php\nrelative\n"), []byte("d41d8cd98f00b204e9800998ecf8427e  srv/site/a.php\n"+strings.Repeat("ab", 32)+"  srv/site/b.php\n"))
	f.Fuzz(func(t *testing.T, list, sums []byte) {
		for _, line := range strings.Split(string(list), "\n") {
			if !strings.HasPrefix(line, "/") {
				continue
			}
			for _, sysroot := range []string{"/", "/img", "/img/"} {
				if got, want := hostPath(sysroot, line), filepath.Join(sysroot, filepath.Clean(line)); got != want {
					t.Fatalf("hostPath(%q, %q) = %q, want %q", sysroot, line, got, want)
				}
			}
		}
		p := &Packages{owner: map[string]string{}, sums: map[string]fileSum{}}
		roots := []string{"/img/srv/site"}
		p.add("pkg", list, "/img", roots)
		p.addSums(sums, "/img", roots)
		for path := range p.owner {
			if !walk.Within(path, roots[0]) && !walk.Within(roots[0], path) {
				t.Fatalf("%q kept, neither in nor above the root", path)
			}
		}
		for path := range p.sums {
			if !walk.Within(path, roots[0]) {
				t.Fatalf("the sum of %q kept, not in the root", path)
			}
		}
	})
}

// hostPath is filepath.Join of the cleaned path, as dpkg's paths were read, cleaning only what needs it.
func TestHostPath(t *testing.T) {
	for _, sys := range []string{"/", "/usr/share/app", "/usr/share/app/", "/a//b", "/a/./b", "/a/../b", "/a/..", "/a/.", "/.", "/..", "/a/.b/..c", "/a/b.", "//"} {
		for _, sysroot := range []string{"", "/", "/img", "/img/", "/img/../mnt"} {
			if got, want := hostPath(sysroot, sys), filepath.Join(sysroot, filepath.Clean(sys)); got != want {
				t.Errorf("hostPath(%q, %q) = %q, want %q", sysroot, sys, got, want)
			}
		}
	}
}

// dpkgDatabase returns a file system holding an empty dpkg database below sysroot, whose
// directories are root's 0755 as dpkg leaves them.
func dpkgDatabase(t *testing.T, sysroot string) *fixture.MemFs {
	t.Helper()
	fsys := fixture.NewMemFs()
	if err := fsys.MkdirAll(sysroot+"/"+dpkgInfo, 0o755); err != nil {
		t.Fatal(err)
	}
	dpkgDirsAsInstalled(t, fsys, sysroot)
	return fsys
}

// dpkgDirsAsInstalled makes every directory from sysroot down to dpkg's info root's 0755.
func dpkgDirsAsInstalled(t *testing.T, fsys *fixture.MemFs, sysroot string) {
	t.Helper()
	for d := sysroot + "/" + dpkgInfo; ; d = path.Dir(d) {
		if err := fsys.Chown(d, 0, 0); err != nil {
			t.Fatal(err)
		}
		if err := fsys.Chmod(d, fs.ModeDir|0o755); err != nil {
			t.Fatal(err)
		}
		if d == sysroot {
			return
		}
	}
}

// dpkg's database is believed only where root alone can have written it: a directory on its way
// that another user owns or may write leaves the system with no packages, so no secret passes
// for shipped and no path is left out of a plan on its word.
func TestPackagesBelievedOnlyFromRoot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(fsys *fixture.MemFs) error
	}{
		{"info writable by others", func(fsys *fixture.MemFs) error { return fsys.Chmod("/img/"+dpkgInfo, fs.ModeDir|0o777) }},
		{"info another user's", func(fsys *fixture.MemFs) error { return fsys.Chown("/img/"+dpkgInfo, 1000, 1000) }},
		{"var/lib group-writable", func(fsys *fixture.MemFs) error { return fsys.Chmod("/img/var/lib", fs.ModeDir|0o775) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := dpkgDatabase(t, "/img")
			if err := afero.WriteFile(fsys, "/img/"+dpkgInfo+"/app.list", []byte("/srv/site/index.php\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := LoadPackages(fsys, "/img", []string{"/img/srv/site"}).Of("/img/srv/site/index.php"); got != "app" {
				t.Fatalf("the database as dpkg leaves it: Of = %q, want app", got)
			}
			if err := tc.spoil(fsys); err != nil {
				t.Fatal(err)
			}
			if got := LoadPackages(fsys, "/img", []string{"/img/srv/site"}).Of("/img/srv/site/index.php"); got != "" {
				t.Errorf("a database others can write is believed: Of = %q", got)
			}
		})
	}
}

func TestIsClean(t *testing.T) {
	var paths []string
	for _, p := range []string{"/", "/a", "/a/b", "/a/.b", "/a/..b", "/a/b.", "/.a", "/a/./b", "/a/../b", "/a/.", "/a/..", "/a/", "//a", "/a//b", "/.", "/.."} {
		// Long as the paths of package lists are, beyond what a concatenation may keep on the stack.
		paths = append(paths, p, "/usr/share/doc/some-package-with-a-long-name"+p)
	}
	for _, p := range paths {
		if got, want := isClean(p), filepath.Clean(p) == p; got != want {
			t.Errorf("isClean(%q) = %v, want %v", p, got, want)
		}
		var clean bool
		if n := testing.AllocsPerRun(10, func() { clean = isClean(p) }); n != 0 || clean != (filepath.Clean(p) == p) {
			t.Errorf("isClean(%q): %v allocations, want 0", p, n)
		}
	}
}
