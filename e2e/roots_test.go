package e2e

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webperm/webperm/internal/fixture"
)

// The attack on a root run's roots: the site user replaces public_html, or a component above
// the root, with a symlink to a tree outside its own, and webperm plan or fix, run as root on
// the path, would change that tree to the web root's policy.

// rootsFixture is a hostile site user, the webperm under test and a tree of root's outside every
// home that stands for /etc: a world-writable file and a private one the policy would change.
type rootsFixture struct {
	h       *hostile
	bin     string
	etc     string // root's, outside every home
	journal string // where fix --apply may write its journal: a directory only root can write
}

func newRootsFixture(t *testing.T) *rootsFixture {
	t.Helper()
	h := newHostile(t)
	if _, err := user.Lookup(webUser); err != nil {
		fixture.Unavailable(t, "no "+webUser+" user: "+err.Error())
	}
	f := &rootsFixture{h: h, bin: buildWebperm(t), journal: filepath.Join(t.TempDir(), "journal.jsonl")}
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f.etc = filepath.Join(base, "etc")
	outsideDir(t, f.etc, 0o755)
	outsideFile(t, filepath.Join(f.etc, "shadow"), 0o600)
	outsideFile(t, filepath.Join(f.etc, "motd"), 0o666)
	outsideDir(t, filepath.Join(f.etc, "ssl"), 0o700)
	outsideFile(t, filepath.Join(f.etc, "ssl", "key.pem"), 0o640)
	return f
}

// outsideDir makes a directory of root's with mode.
func outsideDir(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // the umask lies
		t.Fatal(err)
	}
}

// outsideFile makes a file of root's with mode.
func outsideFile(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte("webperm e2e\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// fix runs webperm fix --apply on root, for the web user, with the fixture's journal.
func (f *rootsFixture) fix(t *testing.T, root string) webpermRun {
	t.Helper()
	return runWebperm(t, f.bin, "fix", "--apply", "--journal", f.journal, "--web-user", webUser, root)
}

// plan runs webperm plan on root, for the web user.
func (f *rootsFixture) plan(t *testing.T, root string) webpermRun {
	t.Helper()
	return runWebperm(t, f.bin, "plan", "--web-user", webUser, root)
}

// requireRefused fails t unless r is a refusal with exit 2 that names the component and the user
// in control, changed nothing and wrote no journal.
func (f *rootsFixture) requireRefused(t *testing.T, what string, r webpermRun, component, who string) {
	t.Helper()
	want := who + " controls " + component + " on the way to the root"
	if r.code != 2 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "webperm: hint: ") {
		t.Errorf("%s: exit %d, stderr %q; want 2 and %q with a hint", what, r.code, r.stderr, want)
	}
	if r.stdout != "" {
		t.Errorf("%s: printed %q: a refused root gets no plan and no change", what, r.stdout)
	}
	if _, err := os.Lstat(f.journal); err == nil {
		t.Errorf("%s: wrote a journal: nothing may start before the roots are judged", what)
	}
}

// TestRootRedirectedToOutside: the site user makes public_html a symlink to a tree of root's;
// plan and fix --apply refuse, naming public_html and the user, and the tree is unchanged. Audit
// follows the link, changing nothing, and says so.
func TestRootRedirectedToOutside(t *testing.T) {
	f := newRootsFixture(t)
	h := f.h
	h.run(t, "rm -rf "+h.site+" && ln -s "+f.etc+" "+h.site)
	before := snapshot(t, f.etc)

	f.requireRefused(t, "fix --apply", f.fix(t, h.site), h.site, h.name)
	f.requireRefused(t, "plan", f.plan(t, h.site), h.site, h.name)
	// Below the link too: the root is a directory beyond it.
	f.requireRefused(t, "fix --apply of a directory below the link", f.fix(t, filepath.Join(h.site, "ssl")), h.site, h.name)
	requireUnchanged(t, before, snapshot(t, f.etc))

	r := runWebperm(t, f.bin, "audit", "--web-user", webUser, "--color", "never", h.site)
	if r.code == 2 {
		t.Fatalf("audit refused the link: %s", r.stderr)
	}
	for _, want := range []string{"roots     " + f.etc + "\n", "given     " + h.site + ", followed a symlink " + h.name + " controls (" + h.site + " -> " + f.etc + ")\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the audit's header does not say %q:\n%s", want, r.stdout)
		}
	}
	requireUnchanged(t, before, snapshot(t, f.etc))
}

// TestRootRedirectedToEtc mounts the attack with the real /etc, for plan only, which changes
// nothing even if it were to fail.
func TestRootRedirectedToEtc(t *testing.T) {
	f := newRootsFixture(t)
	h := f.h
	h.run(t, "rm -rf "+h.site+" && ln -s /etc "+h.site)
	f.requireRefused(t, "plan", f.plan(t, h.site), h.site, h.name)
}

// TestRootComponentSwappedByHomeOwner: the user owns the home, not the symlink (root's, made for
// something else), and swaps it in for public_html. Owning the directory that holds it is enough
// to control it.
func TestRootComponentSwappedByHomeOwner(t *testing.T) {
	f := newRootsFixture(t)
	h := f.h
	spare := filepath.Join(h.home, "spare")
	if err := os.Symlink(f.etc, spare); err != nil { // root's
		t.Fatal(err)
	}
	h.run(t, "mv "+h.site+" "+h.site+".old && mv "+spare+" "+h.site)
	before := snapshot(t, f.etc)
	r := f.fix(t, h.site)
	f.requireRefused(t, "fix --apply", r, h.site, h.name)
	if !strings.Contains(r.stderr, "owns "+h.home+", which holds it") {
		t.Errorf("the refusal does not say how %s controls it: %s", h.name, r.stderr)
	}
	requireUnchanged(t, before, snapshot(t, f.etc))
}

// TestRootWayJudgedByHostUsers: with --root naming an image whose accounts do not list the site
// user, the way to a root on the host is still judged by the host's users, who are the ones that
// can change it. The user writes a directory of root's through its group and swaps a link of
// root's in there.
func TestRootWayJudgedByHostUsers(t *testing.T) {
	f := newRootsFixture(t)
	h := f.h
	image := t.TempDir()
	outsideDir(t, filepath.Join(image, "etc"), 0o755)
	for name, content := range map[string]string{"passwd": "root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/sh\n", "group": "root:x:0:\nwww-data:x:33:\n"} {
		if err := os.WriteFile(filepath.Join(image, "etc", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shared := filepath.Join(filepath.Dir(h.home), "shared")
	outsideDir(t, shared, 0o775)
	if err := os.Chown(shared, 0, h.gid); err != nil {
		t.Fatal(err)
	}
	spare, site := filepath.Join(shared, "spare"), filepath.Join(shared, "site")
	if err := os.Symlink(f.etc, spare); err != nil { // root's
		t.Fatal(err)
	}
	h.run(t, "mv "+spare+" "+site)
	before := snapshot(t, f.etc)
	f.requireRefused(t, "plan --root", runWebperm(t, f.bin, "plan", "--root", image, "--web-user", webUser, site), site, h.name)
	f.requireRefused(t, "fix --apply --root", runWebperm(t, f.bin, "fix", "--apply", "--root", image, "--journal", f.journal, "--web-user", webUser, site), site, h.name)
	requireUnchanged(t, before, snapshot(t, f.etc))
}

// TestRootLinkIntoAnotherSite: a link from one user's home into another's site is refused.
func TestRootLinkIntoAnotherSite(t *testing.T) {
	f := newRootsFixture(t)
	h, bob := f.h, newHostile(t)
	bob.run(t, "echo bob > "+bob.site+"/index.html && chmod 0666 "+bob.site+"/index.html")
	link := filepath.Join(h.home, "bobs")
	h.run(t, "ln -s "+bob.site+" "+link)
	before := snapshot(t, bob.home)
	f.requireRefused(t, "fix --apply", f.fix(t, link), link, h.name)
	f.requireRefused(t, "plan", f.plan(t, link), link, h.name)
	requireUnchanged(t, before, snapshot(t, bob.home))
}

// TestRootLinkWithinHome: current -> releases/2026-12-01 inside the user's own home stays
// allowed, and is fixed where the link leads.
func TestRootLinkWithinHome(t *testing.T) {
	f := newRootsFixture(t)
	h := f.h
	h.run(t, "cd "+h.home+" && mkdir -p releases/2026-12-01 && echo hi > releases/2026-12-01/index.html && chmod 0755 releases releases/2026-12-01 && chmod 0666 releases/2026-12-01/index.html && ln -s releases/2026-12-01 current")
	r := f.fix(t, filepath.Join(h.home, "current"))
	if r.code != 0 {
		t.Fatalf("fix --apply of current -> releases/2026-12-01: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	index := filepath.Join(h.home, "releases", "2026-12-01", "index.html")
	if !strings.Contains(r.stdout, index) {
		t.Errorf("fix --apply did not report changing %s:\n%s", index, r.stdout)
	}
	fi, err := os.Stat(index)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o002 != 0 {
		t.Errorf("%s is still %v after the fix", index, fi.Mode())
	}
}

// TestSavedPlanRootSwapped: a plan made while public_html was a directory is applied after the
// user swapped it for a symlink: fix --apply --plan rechecks the roots and refuses.
func TestSavedPlanRootSwapped(t *testing.T) {
	f := newRootsFixture(t)
	h := f.h
	h.run(t, "echo hi > "+h.site+"/index.html && chmod 0666 "+h.site+"/index.html && echo x > "+h.site+"/motd && chmod 0666 "+h.site+"/motd")
	plan := filepath.Join(t.TempDir(), "plan.json")
	if r := runWebperm(t, f.bin, "plan", "--format", "json", "-o", plan, "--web-user", webUser, h.site); r.code != 1 {
		t.Fatalf("plan: exit %d, want 1 (findings)\n%s", r.code, r.stderr)
	}
	h.run(t, "mv "+h.site+" "+h.site+".old && ln -s "+f.etc+" "+h.site)
	before, beforeOld := snapshot(t, f.etc), snapshot(t, h.site+".old")
	r := runWebperm(t, f.bin, "fix", "--apply", "--plan", plan, "--journal", f.journal)
	f.requireRefused(t, "fix --apply --plan", r, h.site, h.name)
	requireUnchanged(t, before, snapshot(t, f.etc))
	requireUnchanged(t, beforeOld, snapshot(t, h.site+".old"))
}

// TestSavedPlanRootKept: the recheck lets a plan whose root is still the user's own directory
// through, and it is applied.
func TestSavedPlanRootKept(t *testing.T) {
	f := newRootsFixture(t)
	h := f.h
	index := filepath.Join(h.site, "index.html")
	h.run(t, "echo hi > "+index+" && chmod 0666 "+index)
	plan := filepath.Join(t.TempDir(), "plan.json")
	if r := runWebperm(t, f.bin, "plan", "--format", "json", "-o", plan, "--web-user", webUser, h.site); r.code != 1 {
		t.Fatalf("plan: exit %d, want 1 (findings)\n%s", r.code, r.stderr)
	}
	if r := runWebperm(t, f.bin, "fix", "--apply", "--plan", plan, "--journal", f.journal); r.code != 0 {
		t.Fatalf("fix --apply --plan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	fi, err := os.Stat(index)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("%s after the fix: %v, want 0644", index, fi.Mode())
	}
}

// TestSystemRootsRefused: plan and fix never take a system directory as a root, and write
// nothing when asked to.
func TestSystemRootsRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		fixture.Unavailable(t, "needs root: a root run is what must refuse")
	}
	bin := buildWebperm(t)
	out := filepath.Join(t.TempDir(), "plan.sh")
	for _, root := range []string{"/", "/etc", "/usr", "/var"} {
		r := runWebperm(t, bin, "plan", "-o", out, root)
		if r.code != 2 || !strings.Contains(r.stderr, root+" is a system directory") || !strings.Contains(r.stderr, "webperm: hint: ") {
			t.Errorf("plan %s: exit %d, stderr %q; want 2, a system directory, and a hint", root, r.code, r.stderr)
		}
		if _, err := os.Lstat(out); err == nil {
			t.Fatalf("plan %s wrote %s", root, out)
		}
	}
}

// TestEmptyPathRefused: "" is no path, least of all the current directory.
func TestEmptyPathRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		fixture.Unavailable(t, "needs root: a root run is what must refuse")
	}
	bin := buildWebperm(t)
	cwd := t.TempDir()
	outsideFile(t, filepath.Join(cwd, "index.html"), 0o666)
	t.Chdir(cwd)
	before := snapshot(t, cwd)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	for _, args := range [][]string{{"audit", ""}, {"plan", ""}, {"fix", "--apply", "--journal", journal, ""}, {"audit", "--root", "", cwd}} {
		r := runWebperm(t, bin, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "empty path") {
			t.Errorf("webperm %q: exit %d, stderr %q; want 2 and empty path", args, r.code, r.stderr)
		}
	}
	requireUnchanged(t, before, snapshot(t, cwd))
}

// The policy a plan or fix follows decides what root changes, above the root too: one a site
// user can write (theirs, or root's in their home) is refused for plan and fix, exit 2, and the
// tree is unchanged; audit, which changes nothing, still reads it.
func TestPolicyTheSiteUserControls(t *testing.T) {
	h := newHostile(t)
	bin := buildWebperm(t)
	h.run(t, "echo x > "+filepath.Join(h.site, "index.html")+" && chmod 0666 "+filepath.Join(h.site, "index.html"))
	// What alice would write: the web server may write her home's parent, and so every home.
	const steer = "version: 1\nrules:\n  - paths: \"/home/\"\n    writable: true\n    web: write\n"
	hers := filepath.Join(h.home, "site.yaml")
	h.run(t, "printf '%s' '"+steer+"' > "+hers)
	roots := filepath.Join(h.home, "root-owned.yaml")
	if err := os.WriteFile(roots, []byte(steer), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, filepath.Dir(h.home))
	for _, policy := range []string{hers, roots} {
		for _, cmd := range [][]string{{"plan"}, {"fix", "--apply", "--journal", filepath.Join(t.TempDir(), "j.jsonl")}} {
			args := append(append(cmd, "--web-user", webUser, "--policy", policy), h.site)
			r := runWebperm(t, bin, args...)
			if r.code != 2 || !strings.Contains(r.stderr, "webperm: the policy") || !strings.Contains(r.stderr, h.home) {
				t.Errorf("webperm %s: exit %d, want 2 naming the policy or its directory\n%s", strings.Join(args, " "), r.code, r.stderr)
			}
		}
		if r := runWebperm(t, bin, "audit", "--web-user", webUser, "--policy", policy, h.site); r.code != 1 {
			t.Errorf("audit --policy %s: exit %d, want 1 (findings)\n%s", policy, r.code, r.stderr)
		}
	}
	requireUnchanged(t, before, snapshot(t, filepath.Dir(h.home)))
}
