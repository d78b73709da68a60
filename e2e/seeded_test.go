package e2e

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/webperm/webperm/internal/fixture"
)

// A copy of what Debian's packages of an application installed, made into a system root of its
// own (--root) so that faults can be seeded into it and plans applied to it without touching the
// host's packages: the application's trees, the public system data they link into, the accounts,
// and (where the test keeps it) dpkg's record of the package's files.
type appCopy struct {
	sys   string   // the system root
	roots []string // the audited trees, as the system sees them
}

// systemData are the host's public directories that the packaged applications link into.
var systemData = []string{"/usr/share/javascript", "/usr/share/php", "/etc/passwd", "/etc/group"}

// copyApp copies pkg's trees into a new system root; with dpkg, its dpkg records too.
func copyApp(t *testing.T, pkg string, trees []string, dpkg bool) *appCopy {
	t.Helper()
	if os.Geteuid() != 0 {
		fixture.Unavailable(t, "needs root: copies trees with their owners and applies plans")
	}
	if _, err := os.Stat("/var/lib/dpkg/info/" + pkg + ".list"); err != nil {
		fixture.Unavailable(t, pkg+" is not installed: .ci/run installs it")
	}
	sys := filepath.Join(t.TempDir(), "sys")
	if err := os.Mkdir(sys, 0o755); err != nil {
		t.Fatal(err)
	}
	// The web server must reach the copy, as it reaches the host's trees.
	for d := filepath.Dir(sys); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	paths := append(slices.Clone(trees), systemData...)
	if dpkg {
		paths = append(paths, "/var/lib/dpkg/info/"+pkg+".list", "/var/lib/dpkg/info/"+pkg+".md5sums")
	}
	for _, p := range paths {
		if _, err := os.Lstat(p); err != nil {
			continue // an optional part the host lacks, as /usr/share/php may be
		}
		// Directories on the way are root's and 0755, as the host's are.
		if err := os.MkdirAll(filepath.Dir(filepath.Join(sys, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("cp", "-a", p, filepath.Join(sys, p)).CombinedOutput(); err != nil {
			t.Fatalf("cp %s: %v\n%s", p, err, out)
		}
	}
	return &appCopy{sys: sys, roots: trees}
}

// host is p, a path of the copied system, on the host.
func (c *appCopy) host(p string) string { return filepath.Join(c.sys, p) }

// hostRoots are the audited trees on the host: webperm takes a root as a path of the host, below
// --root, until it learns to read them inside the system root.
func (c *appCopy) hostRoots() []string {
	out := make([]string, len(c.roots))
	for i, r := range c.roots {
		out[i] = c.host(r)
	}
	return out
}

// findings audits the copy with --preset auto and returns the findings above info, each as
// "rule path" with the path as the copied system has it.
func (c *appCopy) findings(t *testing.T, bin string) []string {
	t.Helper()
	args := append([]string{"audit", "--format", "json", "--preset", "auto", "--web-user", webUser, "--root", c.sys}, c.hostRoots()...)
	r := runWebperm(t, bin, args...)
	if r.code != 0 && r.code != 1 {
		t.Fatalf("audit: exit %d\n%s", r.code, r.stderr)
	}
	var rep struct {
		Complete bool `json:"complete"`
		Findings []struct {
			Rule, Severity, Path string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Complete {
		t.Errorf("the audit did not read the whole copy")
	}
	var out []string
	for _, f := range rep.Findings {
		if f.Severity != "info" {
			out = append(out, f.Rule+" "+strings.TrimPrefix(f.Path, c.sys))
		}
	}
	slices.Sort(out)
	return out
}

// applyPlan writes the copy's plan as the sh script a deploy reviews, and runs it.
func (c *appCopy) applyPlan(t *testing.T, bin string, extra ...string) {
	t.Helper()
	plan := filepath.Join(t.TempDir(), "fix.sh")
	args := append([]string{"plan", "--preset", "auto", "--web-user", webUser, "--root", c.sys, "-o", plan}, extra...)
	if r := runWebperm(t, bin, append(args, c.hostRoots()...)...); r.code != 0 && r.code != 1 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	cmd := exec.Command("sh", plan, "--journal", filepath.Join(t.TempDir(), "journal"))
	cmd.Env = append(os.Environ(), "WEBPERM="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sh %s: %v\n%s", plan, err, out)
	}
}

// requireWebUser fails t unless www-data passes test(1)'s check op on the copy's path p: the
// application still reads what it serves and writes where it must.
func (c *appCopy) requireWebUser(t *testing.T, op, p string) {
	t.Helper()
	if out, err := exec.Command("runuser", "-u", webUser, "--", "test", op, c.host(p)).CombinedOutput(); err != nil {
		t.Errorf("%s cannot pass test %s on %s after the plan: %v %s", webUser, op, p, err, out)
	}
}

// requireClosed fails t where others can read the copy's file p.
func (c *appCopy) requireClosed(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Stat(c.host(p))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o004 != 0 {
		t.Errorf("%s is %v after the plan: others can still read the secret", p, fi.Mode())
	}
}

func write(t *testing.T, p, content string, mode os.FileMode, uid, gid int) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(p, uid, gid); err != nil {
		t.Fatal(err)
	}
}

// requireSeeded fails t unless the findings after seeding are the clean copy's and exactly want.
func requireSeeded(t *testing.T, clean, seeded, want []string) {
	t.Helper()
	expected := append(slices.Clone(clean), want...)
	slices.Sort(expected)
	if !slices.Equal(seeded, expected) {
		t.Errorf("findings after seeding:\n  %s\nwant the clean copy's and exactly:\n  %s", strings.Join(seeded, "\n  "), strings.Join(want, "\n  "))
	}
}

// Debian's WordPress with a database dump left in the web root, a secret made readable by all,
// and an .htaccess the web server owns in its uploads: the audit reports exactly those, and the
// plan, run as a deploy runs it, closes them and keeps uploads the web server's to write.
func TestSeededFaultsWordPress(t *testing.T) {
	bin := buildWebperm(t)
	c := copyApp(t, "wordpress", []string{"/usr/share/wordpress", "/var/lib/wordpress", "/etc/wordpress"}, true)
	www := lookupUID(t, webUser)
	// The site's configuration as the admin writes it after installing the package.
	write(t, c.host("/etc/wordpress/config-example.org.php"), "<?php\ndefine('DB_PASSWORD', 'hunter2');\n", 0o640, 0, www)
	clean := c.findings(t, bin)
	if len(clean) != 0 {
		t.Errorf("the packaged WordPress has findings above info: %q", clean)
	}

	write(t, c.host("/usr/share/wordpress/backup-2026-11-30.sql"), "-- MySQL dump 10.13  Distrib 8.0.36\n--\n-- Host: localhost    Database: wordpress\n", 0o644, 0, 0)
	if err := os.Chmod(c.host("/etc/wordpress/config-example.org.php"), 0o644); err != nil {
		t.Fatal(err)
	}
	uploads := "/var/lib/wordpress/wp-content/uploads"
	write(t, c.host(uploads+"/.htaccess"), "<IfModule mod_mime.c>\nAddType application/x-httpd-php .jpg\n</IfModule>\n", 0o644, www, www)
	requireSeeded(t, clean, c.findings(t, bin), []string{
		"sensitive-exposed /etc/wordpress/config-example.org.php",
		"sensitive-exposed /usr/share/wordpress/backup-2026-11-30.sql",
		"web-writable-code " + uploads + "/.htaccess",
	})

	c.applyPlan(t, bin)
	if after := c.findings(t, bin); !slices.Equal(after, clean) {
		t.Errorf("after the plan: %q, want the clean copy's %q", after, clean)
	}
	c.requireClosed(t, "/etc/wordpress/config-example.org.php")
	c.requireClosed(t, "/usr/share/wordpress/backup-2026-11-30.sql")
	c.requireWebUser(t, "-r", "/etc/wordpress/config-example.org.php")
	c.requireWebUser(t, "-w", uploads)
	c.requireWebUser(t, "-r", "/usr/share/wordpress/index.php")
}

// Debian's phpMyAdmin with its database password readable by all and a link to it left in the
// web root: the secret and the link are reported; the plan closes the secret (never changing
// anything through the link), which settles the link too.
func TestSeededFaultsPhpMyAdmin(t *testing.T) {
	bin := buildWebperm(t)
	c := copyApp(t, "phpmyadmin", []string{"/usr/share/phpmyadmin", "/etc/phpmyadmin", "/var/lib/phpmyadmin"}, true)
	clean := c.findings(t, bin)
	if len(clean) != 0 {
		t.Errorf("the packaged phpMyAdmin has findings above info: %q", clean)
	}
	secret := "/etc/phpmyadmin/config-db.php"
	if err := os.Chmod(c.host(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	link := "/usr/share/phpmyadmin/config-db.php.save"
	if err := os.Symlink(secret, c.host(link)); err != nil {
		t.Fatal(err)
	}
	requireSeeded(t, clean, c.findings(t, bin), []string{"sensitive-exposed " + link, "sensitive-exposed " + secret})

	// The link stays a person's to remove: the web server can read the secret, as phpMyAdmin
	// must, and would send it, named .save, as text.
	c.applyPlan(t, bin)
	if after, want := c.findings(t, bin), append(slices.Clone(clean), "sensitive-exposed "+link); !slices.Equal(after, want) {
		t.Errorf("after the plan: %q, want %q", after, want)
	}
	c.requireClosed(t, secret)
	c.requireWebUser(t, "-r", secret)
	c.requireWebUser(t, "-w", "/var/lib/phpmyadmin/tmp")
}

// DokuWiki installed by hand in Debian's layout (no package records it), then chowned to the
// web server: one finding for the tree, and one for each link out of it (the web server's now,
// they prove nothing of the package's layout); the plan gives the tree back to its owner, leaves
// the links to a person, and DokuWiki still writes its data. chown -R gave the tree's links to the web server too; webperm never changes a
// link, so those the plan leaves, and the audit names, are links the web server owns that lead
// into DokuWiki's other trees, for chown -h.
func TestSeededFaultsTreeChownedToWebUser(t *testing.T) {
	bin := buildWebperm(t)
	c := copyApp(t, "dokuwiki", []string{"/usr/share/dokuwiki", "/var/lib/dokuwiki", "/etc/dokuwiki"}, false)
	clean := c.findings(t, bin)
	if out, err := exec.Command("chown", "-R", webUser+":"+webUser, c.host("/usr/share/dokuwiki")).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
	// chown -R gave the web server the package's links out of the tree too: a link www-data owns
	// is no evidence of the package's layout (www-data may have planted it), so each is its own.
	want := []string{"web-user-owns-tree /usr/share/dokuwiki"}
	err := filepath.WalkDir(c.host("/usr/share/dokuwiki"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		dest, err := os.Readlink(p)
		if err != nil {
			return err
		}
		sys := strings.TrimPrefix(p, c.sys)
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(sys), dest)
		}
		if dest != "/usr/share/dokuwiki" && !strings.HasPrefix(dest, "/usr/share/dokuwiki/") {
			want = append(want, "symlink-escapes-root "+sys)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	requireSeeded(t, clean, c.findings(t, bin), want)

	c.applyPlan(t, bin, "--site-owner", "root")
	www := lookupUID(t, webUser)
	for _, f := range c.findings(t, bin) {
		if slices.Contains(clean, f) {
			continue
		}
		p, ok := strings.CutPrefix(f, "symlink-escapes-root ")
		fi, err := os.Lstat(c.host(p))
		if !ok || err != nil || fi.Mode()&os.ModeSymlink == 0 || int(fi.Sys().(*syscall.Stat_t).Uid) != www {
			t.Errorf("after the plan: %s, which is not a link the web server owns", f)
		}
	}
	c.requireWebUser(t, "-r", "/usr/share/dokuwiki/doku.php")
	c.requireWebUser(t, "-w", "/var/lib/dokuwiki/data/pages")
	c.requireWebUser(t, "-w", "/var/lib/dokuwiki/data/cache")
}
