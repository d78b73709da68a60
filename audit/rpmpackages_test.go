package audit

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// rpmFixture is the rpm database scripts/mkrpmdb.sh made with rpm 4.18: testapp owns
// /usr/share/testapp (SHA-256 digests), oldapp /usr/share/oldapp/readme.txt and /etc/oldapp.conf
// (MD5 digests).
const rpmFixture = "testdata/rpm/rpmdb.sqlite"

// The files as the fixture's packages ship them (scripts/mkrpmdb.sh).
var rpmShipped = map[string]string{
	"usr/share/testapp/index.php":    "<?php\necho \"testapp\";\n",
	"usr/share/testapp/config.php":   "<?php\n$db_password = \"\";\n",
	"usr/share/testapp/lib/util.php": "<?php\nfunction util() {}\n",
	"usr/share/oldapp/readme.txt":    "oldapp\n",
}

// rpmSystem is a system's tree as rpm leaves it, its database in var/lib/rpm: the packages'
// files as they ship, every directory root's 0755, the database root's 0644.
const rpmSystem = `d 0755 0:0 .
d 0755 0:0 usr
d 0755 0:0 usr/share
d 0755 0:0 usr/share/testapp
f 0644 0:0 usr/share/testapp/index.php
f 0640 0:0 usr/share/testapp/config.php
d 0755 0:0 usr/share/testapp/lib
f 0644 0:0 usr/share/testapp/lib/util.php
d 0777 33:33 usr/share/testapp/uploads
d 0755 0:0 usr/share/oldapp
f 0644 0:0 usr/share/oldapp/readme.txt
d 0755 0:0 var
d 0755 0:0 var/lib
d 0755 0:0 var/lib/rpm
f 0644 0:0 var/lib/rpm/rpmdb.sqlite
`

// makeRPMSystem materialises manifest at sysroot on fsys, then writes the shipped files' contents
// and the fixture's database where the manifest has them.
func makeRPMSystem(t *testing.T, fsys afero.Fs, sysroot, manifest string) {
	t.Helper()
	entries, err := fixture.Parse(strings.NewReader(manifest), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := fixture.Materialise(fsys, sysroot, entries, fixture.Options{Chown: true}); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(rpmFixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		text, shipped := rpmShipped[e.Path]
		if e.Kind != fixture.File || (!shipped && filepath.Base(e.Path) != "rpmdb.sqlite") {
			continue
		}
		data := []byte(text)
		if !shipped {
			data = db
		}
		if err := afero.WriteFile(fsys, filepath.Join(sysroot, e.Path), data, e.Mode); err != nil {
			t.Fatal(err)
		}
	}
}

// rpm's database is read as dpkg's is: the paths of its packages in or above the roots, by
// package, and no others.
func TestLoadRPMPackages(t *testing.T) {
	fsys := fixture.NewMemFs()
	makeRPMSystem(t, fsys, "/img", rpmSystem)
	p := LoadPackages(fsys, "/img", []string{"/img/usr/share/testapp"})
	for path, want := range map[string]string{
		"/img/usr/share/testapp":                                          "testapp", // the root itself
		"/img/usr/share/testapp/index.php":                                "testapp",
		"/img/usr/share/testapp/lib":                                      "testapp",
		"/img/usr/share/testapp/lib/util.php":                             "testapp",
		"/img/usr/share/testapp/locale/messages-with-a-long-name-300.txt": "testapp", // from an overflow page
		"/img/usr/share/testapp/uploads":                                  "",        // made after the install
		"/img/usr/share":                                                  "",        // above the root, but no package of the fixture's owns it
		"/img/usr/share/oldapp/readme.txt":                                "",        // neither in nor above the root
		"/usr/share/testapp/index.php":                                    "",        // the host's, not the image's
		"/img/usr/share/testapp/locale/messages-with-a-long-name-301.txt": "",
	} {
		if got := p.Of(path); got != want {
			t.Errorf("Of(%s) = %q, want %q", path, got, want)
		}
	}
	p = LoadPackages(fsys, "/img", []string{"/img/usr/share/oldapp", "/img/etc"})
	if got := p.Of("/img/etc/oldapp.conf"); got != "oldapp" {
		t.Errorf("Of(/img/etc/oldapp.conf) = %q, want oldapp", got)
	}
	if n := len(p.owner); n != 3 {
		t.Errorf("%d paths kept for two roots of 3 packaged paths: %v", n, p.owner)
	}
}

// A file exactly as its rpm package ships it is Shipped, by SHA-256 or MD5 as the package's
// digests are; changed, or no regular file, it is not.
func TestRPMShipped(t *testing.T) {
	fsys := fixture.NewMemFs()
	makeRPMSystem(t, fsys, "/img", rpmSystem)
	roots := []string{"/img/usr/share/testapp", "/img/usr/share/oldapp"}
	p := LoadPackages(fsys, "/img", roots)
	for _, rel := range []string{"usr/share/testapp/index.php", "usr/share/testapp/config.php", "usr/share/oldapp/readme.txt"} {
		if !p.Shipped(fsys, "/img/"+rel) {
			t.Errorf("%s, as its package ships it, is not shipped", rel)
		}
	}
	for _, rel := range []string{"usr/share/testapp/config.php", "usr/share/oldapp/readme.txt"} {
		if err := afero.WriteFile(fsys, "/img/"+rel, []byte(rpmShipped[rel]+"changed = 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if p.Shipped(fsys, "/img/"+rel) {
			t.Errorf("%s, changed, is shipped", rel)
		}
	}
	for _, path := range []string{"/img/usr/share/testapp/lib", "/img/usr/share/testapp/uploads"} {
		if p.Shipped(fsys, path) {
			t.Errorf("%s, a directory, is shipped", path)
		}
	}
}

// rpm's database is believed only where root alone can have written it: the file itself and
// every directory down to it. Damaged or cut short, it is not believed at all, and nothing panics.
func TestRPMPackagesBelievedOnlyFromRoot(t *testing.T) {
	db, err := os.ReadFile(rpmFixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		spoil func(fsys *fixture.MemFs) error
	}{
		{"var/lib/rpm writable by others", func(fsys *fixture.MemFs) error { return fsys.Chmod("/img/var/lib/rpm", fs.ModeDir|0o777) }},
		{"var group-writable", func(fsys *fixture.MemFs) error { return fsys.Chmod("/img/var", fs.ModeDir|0o775) }},
		{"the system's root another user's", func(fsys *fixture.MemFs) error { return fsys.Chown("/img", 1000, 1000) }},
		{"the database writable by others", func(fsys *fixture.MemFs) error { return fsys.Chmod("/img/var/lib/rpm/rpmdb.sqlite", 0o666) }},
		{"the database another user's", func(fsys *fixture.MemFs) error { return fsys.Chown("/img/var/lib/rpm/rpmdb.sqlite", 1000, 0) }},
		{"the database cut short", func(fsys *fixture.MemFs) error {
			return afero.WriteFile(fsys, "/img/var/lib/rpm/rpmdb.sqlite", db[:len(db)/3], 0o644)
		}},
		{"the database cut in its header", func(fsys *fixture.MemFs) error {
			return afero.WriteFile(fsys, "/img/var/lib/rpm/rpmdb.sqlite", db[:60], 0o644)
		}},
		{"a page number damaged", func(fsys *fixture.MemFs) error {
			bad := append([]byte(nil), db...)
			// Page 2 is the Packages table's root, a leaf: the first cell's pointer goes
			// past the page.
			bad[4096+8], bad[4096+9] = 0xff, 0xff
			return afero.WriteFile(fsys, "/img/var/lib/rpm/rpmdb.sqlite", bad, 0o644)
		}},
		{"an empty database", func(fsys *fixture.MemFs) error {
			return afero.WriteFile(fsys, "/img/var/lib/rpm/rpmdb.sqlite", nil, 0o644)
		}},
		{"BerkeleyDB's Packages only", func(fsys *fixture.MemFs) error {
			if err := fsys.Remove("/img/var/lib/rpm/rpmdb.sqlite"); err != nil {
				return err
			}
			return afero.WriteFile(fsys, "/img/var/lib/rpm/Packages", db, 0o644)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fixture.NewMemFs()
			makeRPMSystem(t, fsys, "/img", rpmSystem)
			roots := []string{"/img/usr/share/testapp"}
			if got := LoadPackages(fsys, "/img", roots).Of("/img/usr/share/testapp/index.php"); got != "testapp" {
				t.Fatalf("the database as rpm leaves it: Of = %q, want testapp", got)
			}
			if err := tc.spoil(fsys); err != nil {
				t.Fatal(err)
			}
			p := LoadPackages(fsys, "/img", roots)
			if got := p.Of("/img/usr/share/testapp/index.php"); got != "" {
				t.Errorf("Of = %q, want none", got)
			}
			if p.Shipped(fsys, "/img/usr/share/testapp/index.php") {
				t.Error("index.php is shipped")
			}
		})
	}
}

// Where the database really is, every link on the way followed inside the system's root (an
// absolute link leads to the image's /usr, not the host's), is where the trust rule looks, and a
// link is followed only from a directory that rule trusts; a link that would leave the root leads
// nowhere.
func TestRPMDatabaseBehindLinks(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: the database is believed only if root's")
	}
	const usrLib = "d 0755 0:0 usr/lib\nd 0755 0:0 usr/lib/sysimage\n"
	for _, tc := range []struct {
		name, manifest string
		want           string
	}{
		{"Fedora: var/lib/rpm a link to usr/lib/sysimage/rpm", usrLib + "d 0755 0:0 usr/lib/sysimage/rpm\nf 0644 0:0 usr/lib/sysimage/rpm/rpmdb.sqlite\nd 0755 0:0 var\nd 0755 0:0 var/lib\nl 0777 0:0 var/lib/rpm ../../usr/lib/sysimage/rpm\n", "testapp"},
		{"an absolute link, inside the image", "d 0755 0:0 opt\nd 0755 0:0 opt/rpm\nf 0644 0:0 opt/rpm/rpmdb.sqlite\nd 0755 0:0 var\nd 0755 0:0 var/lib\nl 0777 0:0 var/lib/rpm /opt/rpm\n", "testapp"},
		{"the database file a link", "d 0755 0:0 opt\nf 0644 0:0 opt/rpmdb.sqlite\nd 0755 0:0 var\nd 0755 0:0 var/lib\nd 0755 0:0 var/lib/rpm\nl 0777 0:0 var/lib/rpm/rpmdb.sqlite ../../../opt/rpmdb.sqlite\n", "testapp"},
		{"the real directory writable by others", "d 0755 0:0 opt\nd 0777 0:0 opt/rpm\nf 0644 0:0 opt/rpm/rpmdb.sqlite\nd 0755 0:0 var\nd 0755 0:0 var/lib\nl 0777 0:0 var/lib/rpm /opt/rpm\n", ""},
		{"the real directory another user's", usrLib + "d 0755 1000:1000 usr/lib/sysimage/rpm\nf 0644 0:0 usr/lib/sysimage/rpm/rpmdb.sqlite\n", ""},
		{"a link out of the root", "d 0755 0:0 var\nd 0755 0:0 var/lib\nl 0777 0:0 var/lib/rpm ../../../outside/rpm\n", ""},
		{"a link in a directory others can write", "d 0755 0:0 opt\nd 0755 0:0 opt/rpm\nf 0644 0:0 opt/rpm/rpmdb.sqlite\nd 0755 0:0 var\nd 1777 0:0 var/lib\nl 0777 0:0 var/lib/rpm /opt/rpm\n", ""},
		{"a link loop", "d 0755 0:0 var\nd 0755 0:0 var/lib\nl 0777 0:0 var/lib/rpm /var/lib/rpm2\nl 0777 0:0 var/lib/rpm2 /var/lib/rpm\n", ""},
		{"RHEL 9: var/lib/rpm", "", "testapp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := afero.NewOsFs()
			top := fixture.TempDir(t)
			sysroot := filepath.Join(top, "img")
			manifest := tc.manifest
			if manifest == "" {
				manifest = "d 0755 0:0 var\nd 0755 0:0 var/lib\nd 0755 0:0 var/lib/rpm\nf 0644 0:0 var/lib/rpm/rpmdb.sqlite\n"
			}
			manifest = "d 0755 0:0 .\nd 0755 0:0 usr\nd 0755 0:0 usr/share\nd 0755 0:0 usr/share/testapp\nf 0644 0:0 usr/share/testapp/index.php\n" + manifest
			makeRPMSystem(t, fsys, sysroot, manifest)
			// The database a link out of the root would reach on the host: never read.
			makeRPMSystem(t, fsys, filepath.Join(top, "outside"), "d 0755 0:0 .\nd 0755 0:0 rpm\nf 0644 0:0 rpm/rpmdb.sqlite\n")
			root := filepath.Join(sysroot, "usr/share/testapp")
			p := LoadPackages(fsys, sysroot, []string{root})
			if got := p.Of(root + "/index.php"); got != tc.want {
				t.Errorf("Of = %q, want %q", got, tc.want)
			}
			if got := p.Shipped(fsys, root+"/index.php"); got != (tc.want != "") {
				t.Errorf("Shipped = %v", got)
			}
		})
	}
}

// An audit of an RPM system names the package of a finding, as on a dpkg one.
func TestAuditNamesRPMPackage(t *testing.T) {
	fsys := fixture.NewMemFs()
	makeRPMSystem(t, fsys, "/img", strings.Replace(rpmSystem, "f 0644 0:0 usr/share/testapp/index.php", "f 0666 0:0 usr/share/testapp/index.php", 1))
	a := &Auditor{Fs: fsys, Policy: policy.Default(), Accounts: testAccounts(), WebUser: webUser(), Jobs: 1, SysRoot: "/img"}
	rep, err := a.Run(context.Background(), []string{"/img/usr/share/testapp"})
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]string{}
	for _, f := range rep.Findings {
		named[f.Entry.Rel] = f.Package
		if f.Entry.Rel == "index.php" && f.PackageManager != ManagerRPM {
			t.Errorf("index.php's %s: package manager %q, want rpm", f.Rule, f.PackageManager)
		}
	}
	if got, ok := named["index.php"]; !ok || got != "testapp" {
		t.Errorf("index.php, writable by all: package %q (found %v), want testapp", got, ok)
	}
	if got, ok := named["uploads"]; !ok || got != "" {
		t.Errorf("uploads, made after the install: package %q (found %v), want none", got, ok)
	}
}

// A system with both databases (Debian with rpm installed, an odd image) knows the packages of
// both; where both name a path, dpkg's package is named, and each path's manager is the one
// whose database named it.
func TestDpkgAndRPMTogether(t *testing.T) {
	fsys := fixture.NewMemFs()
	makeRPMSystem(t, fsys, "/img", rpmSystem)
	if err := fsys.MkdirAll("/img/"+dpkgInfo, 0o755); err != nil {
		t.Fatal(err)
	}
	dpkgDirsAsInstalled(t, fsys, "/img")
	if err := afero.WriteFile(fsys, "/img/"+dpkgInfo+"/web.list", []byte("/usr/share/testapp/lib\n/usr/share/testapp/extra.php\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := LoadPackages(fsys, "/img", []string{"/img/usr/share/testapp"})
	for path, want := range map[string]string{
		"/img/usr/share/testapp/index.php": "testapp rpm",
		"/img/usr/share/testapp/lib":       "web dpkg", // both name it
		"/img/usr/share/testapp/extra.php": "web dpkg",
		"/img/usr/share/testapp/uploads":   " ",
	} {
		if got := p.Of(path) + " " + p.ManagerOf(path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	if !p.Shipped(fsys, "/img/usr/share/testapp/index.php") {
		t.Error("index.php, as rpm's package ships it, is not shipped beside dpkg's database")
	}
}
