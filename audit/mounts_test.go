package audit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
	"golang.org/x/sys/unix"
)

// mountOn mounts a fresh file system of type fstype on dir, and unmounts it when t ends.
func mountOn(t *testing.T, fstype, dir string) {
	t.Helper()
	if !asRoot {
		t.Skip("mounting a file system needs root")
	}
	if err := unix.Mount(fstype, dir, fstype, 0, ""); err != nil {
		t.Skipf("cannot mount %s on %s here: %v", fstype, dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
}

// walkMounts walks root as w says and returns the relative paths visited and the skips.
func walkMounts(t *testing.T, w *Walker, root string) (visited []string, skips []Skip) {
	t.Helper()
	err := w.Walk(context.Background(), root, Visitor{
		Entry:   func(e Entry) { visited = append(visited, e.Rel) },
		Error:   func(p string, err error) { t.Errorf("%s: %v", p, err) },
		Skipped: func(s Skip) { skips = append(skips, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return visited, skips
}

// A tree with proc and sysfs mounted in it: each mount point is visited as an entry (its mode
// and owner are checked) and listed as skipped, and nothing below it is visited, whatever the
// number of jobs; a plain directory beside them is walked.
func TestWalkSkipsPseudoFileSystems(t *testing.T) {
	root := fixture.Tree(t, afero.NewOsFs(), `
d 0755 0:0 .
d 0555 0:0 proc
d 0555 0:0 sys
d 0755 0:0 www
f 0644 0:0 www/index.html
`)
	mountOn(t, "proc", filepath.Join(root, "proc"))
	mountOn(t, "sysfs", filepath.Join(root, "sys"))
	for _, jobs := range []int{1, 4} {
		visited, skips := walkMounts(t, &Walker{Fs: afero.NewOsFs(), Jobs: jobs}, root)
		if want := []string{".", "proc", "sys", "www", "www/index.html"}; !slices.Equal(visited, want) {
			t.Errorf("jobs %d: visited %q, want %q", jobs, visited, want)
		}
		want := []Skip{
			{Path: filepath.Join(root, "proc"), FsType: "proc", Reason: SkipPseudo},
			{Path: filepath.Join(root, "sys"), FsType: "sysfs", Reason: SkipPseudo},
		}
		if !slices.Equal(skips, want) {
			t.Errorf("jobs %d: skipped %+v, want %+v", jobs, skips, want)
		}
	}
}

// A pseudo file system named as the root is walked: the user asked for it. The walk is stopped
// after a few entries, since all of /proc is large.
func TestWalkEntersPseudoRoot(t *testing.T) {
	dir := t.TempDir()
	mountOn(t, "proc", dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var below []string
	err := (&Walker{Fs: afero.NewOsFs(), Jobs: 1}).Walk(ctx, dir, Visitor{
		Entry: func(e Entry) {
			if e.Rel != "." {
				below = append(below, e.Rel)
			}
			if len(below) >= 5 {
				cancel()
			}
		},
		Error:   func(string, error) {},
		Skipped: func(s Skip) { t.Errorf("skipped %+v below a proc root", s) },
	})
	if err != nil && err != context.Canceled {
		t.Fatal(err)
	}
	if len(below) == 0 {
		t.Error("a proc mount named as the root was not entered")
	}
}

// --one-file-system: a tmpfs mounted in the tree is visited, not entered, and skipped as another
// file system; without it, the tmpfs is walked like any directory.
func TestWalkOneFileSystem(t *testing.T) {
	root := fixture.Tree(t, afero.NewOsFs(), `
d 0755 0:0 .
d 0755 0:0 cache
f 0644 0:0 index.html
`)
	cache := filepath.Join(root, "cache")
	mountOn(t, "tmpfs", cache)
	if err := os.WriteFile(filepath.Join(cache, "page.html"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	visited, skips := walkMounts(t, &Walker{Fs: afero.NewOsFs(), Jobs: 2}, root)
	if want := []string{".", "cache", "cache/page.html", "index.html"}; !slices.Equal(visited, want) || len(skips) != 0 {
		t.Errorf("without --one-file-system: visited %q, skipped %+v; want %q and no skip", visited, skips, want)
	}
	visited, skips = walkMounts(t, &Walker{Fs: afero.NewOsFs(), Jobs: 2, OneFileSystem: true}, root)
	if want := []string{".", "cache", "index.html"}; !slices.Equal(visited, want) {
		t.Errorf("--one-file-system: visited %q, want %q", visited, want)
	}
	if want := []Skip{{Path: cache, FsType: "tmpfs", Reason: SkipOtherFs}}; !slices.Equal(skips, want) {
		t.Errorf("--one-file-system: skipped %+v, want %+v", skips, want)
	}
}

// The audit checks a skipped mount point as an entry, lists it in the report, and no finding lies
// below it; a subtree that holds it is never shown as one finding, since it was not read whole.
func TestAuditReportsSkippedMounts(t *testing.T) {
	root := fixture.Tree(t, afero.NewOsFs(), `
d 0755 0:0 .
d 0777 0:0 open
d 0777 0:0 open/cache
f 0666 0:0 open/a.txt
f 0666 0:0 open/b.txt
`)
	cache := filepath.Join(root, "open", "cache")
	mountOn(t, "tmpfs", cache)
	if err := os.WriteFile(filepath.Join(cache, "page.html"), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	a := &Auditor{Fs: afero.NewOsFs(), Policy: policy.Default(), Accounts: testAccounts(), Jobs: 2, OneFileSystem: true}
	rep, err := a.Run(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Skip{{Path: cache, FsType: "tmpfs", Reason: SkipOtherFs}}; !slices.Equal(rep.Skipped, want) {
		t.Errorf("skipped %+v, want %+v", rep.Skipped, want)
	}
	got := rulesByRel(rep)
	if !slices.Contains(got["open/cache"], string(policy.WorldWritable)) {
		t.Errorf("the skipped mount point itself is not checked: %v", got)
	}
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Entry.Path, cache+"/") {
			t.Errorf("finding below the skipped mount: %s %s", f.Rule, f.Entry.Path)
		}
	}
	for _, s := range rep.Subtrees {
		if Within(cache, s.Path) {
			t.Errorf("subtree %s holds the skipped mount, yet is shown as wholly read", s.Path)
		}
	}
}

// Container runtimes' layer stores are skipped by their system path, wherever --root puts the
// system, without a mount: their entries are containers' files.
func TestWalkSkipsContainerLayers(t *testing.T) {
	if !asRoot {
		t.Skip("statfs of the store needs no root, but the fixture's owners do")
	}
	sys := fixture.Tree(t, afero.NewOsFs(), `
d 0755 0:0 .
d 0755 0:0 var
d 0755 0:0 var/lib
d 0710 0:0 var/lib/docker
d 0710 0:0 var/lib/docker/overlay2
d 0755 0:0 var/lib/docker/overlay2/abc
d 0755 0:0 var/lib/docker/overlay2/abc/diff
f 0644 0:0 var/lib/docker/overlay2/abc/diff/index.php
d 0755 0:0 var/lib/docker/volumes
`)
	visited, skips := walkMounts(t, &Walker{Fs: afero.NewOsFs(), Jobs: 1, SysRoot: sys}, sys)
	if want := []string{".", "var", "var/lib", "var/lib/docker", "var/lib/docker/overlay2", "var/lib/docker/volumes"}; !slices.Equal(visited, want) {
		t.Errorf("visited %q, want %q", visited, want)
	}
	if len(skips) != 1 || skips[0].Path != filepath.Join(sys, "var/lib/docker/overlay2") || skips[0].Reason != SkipContainer || skips[0].FsType == "" {
		t.Errorf("skipped %+v, want only var/lib/docker/overlay2 as container layers, with its file system", skips)
	}
}

// --no-xattrs: a file whose ACL gives the web server read has no ACL in the audit, so
// acl-extends-access cannot fire, and access is judged by its mode bits: 0600 is unreadable to
// www-data. The report says the attributes were not read.
func TestAuditNoXattrs(t *testing.T) {
	if _, err := exec.LookPath("setfacl"); err != nil {
		t.Skip("setfacl is not installed (Debian package acl): cannot write an ACL")
	}
	root := fixture.Tree(t, afero.NewOsFs(), `
d 0755 1000:1000 .
f 0600 1000:1000 index.html
`)
	if !asRoot {
		t.Skip("the tree must belong to deploy (1000) for www-data to need the ACL")
	}
	if out, err := exec.Command("setfacl", "-m", "u:33:r", filepath.Join(root, "index.html")).CombinedOutput(); err != nil {
		t.Skipf("setfacl: %v: %s (no ACL support here)", err, out)
	}
	web := &WebUser{Name: "www-data", UID: 33, GID: 33, Groups: []uint32{33}}
	audit := func(noXattrs bool) *Report {
		a := &Auditor{Fs: afero.NewOsFs(), Policy: policy.Default(), Accounts: testAccounts(), WebUser: web, Jobs: 1, NoXattrs: noXattrs}
		rep, err := a.Run(context.Background(), []string{root})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	with := rulesByRel(audit(false))["index.html"]
	if !slices.Contains(with, string(policy.ACLExtendsAccess)) || slices.Contains(with, string(policy.WebUnreadable)) {
		t.Fatalf("with xattrs, index.html: %v; want acl-extends-access and no web-unreadable (the ACL grants read)", with)
	}
	rep := audit(true)
	if !rep.NoXattrs {
		t.Error("the report does not say the attributes were not read")
	}
	without := rulesByRel(rep)["index.html"]
	if slices.Contains(without, string(policy.ACLExtendsAccess)) || !slices.Contains(without, string(policy.WebUnreadable)) {
		t.Errorf("--no-xattrs, index.html: %v; want web-unreadable by the mode bits and no acl-extends-access", without)
	}
	for _, f := range rep.Findings {
		if f.Entry.ACL != nil {
			t.Errorf("%s: ACL %s read under --no-xattrs", f.Entry.Path, f.Entry.ACL)
		}
		if f.Rule == policy.WebUnreadable && !strings.Contains(f.Message, "(mode bits only: --no-xattrs read no ACL)") {
			t.Errorf("%s: the 403 is claimed without saying the ACL was not read: %s", f.Entry.Path, f.Message)
		}
	}
}
