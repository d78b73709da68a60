package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webperm/webperm/fixer"
	"golang.org/x/sys/unix"
)

// audit and plan take --one-file-system, audit --no-xattrs: a tmpfs mounted in the site is
// checked but not entered, the report lists it as skipped and says no extended attributes were
// read, and the plan changes nothing below it. plan refuses --no-xattrs: its changes must weigh
// the ACLs.
func TestOneFileSystemAndNoXattrsFlags(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	root := tree(t, `
d 0755 0:0 .
f 0644 0:0 index.html
d 0755 0:0 cache
`)
	cache := filepath.Join(root, "cache")
	if err := unix.Mount("tmpfs", cache, "tmpfs", 0, "mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(cache, unix.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", cache, err)
		}
	})
	open := filepath.Join(cache, "page.php")
	if err := os.WriteFile(open, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o666); err != nil {
		t.Fatal(err)
	}
	common := []string{"--root", demoSysroot, "--web-user", "www-data", "--one-file-system"}
	code, out, errOut := webperm(t, append(append([]string{"audit", "--color", "never", "--no-xattrs"}, common...), root)...)
	if code != exitClean || errOut != "" {
		t.Fatalf("audit: exit %d, stderr %q; want 0: nothing below the mount is read\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"  entries   3 examined, 0 not read, 1 directory not entered (listed below)\n",
		"  xattrs    not read (--no-xattrs)",
		"\nskipped (1): examined, not entered\n  " + cache + ": tmpfs, another file system (--one-file-system)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	code, plan, errOut := webperm(t, append(append([]string{"plan"}, common...), root)...)
	if code != exitClean || strings.Contains(plan, open) {
		t.Errorf("plan: exit %d, stderr %q; want 0 and nothing below the mount:\n%s", code, errOut, plan)
	}
	if want := "# NOT ENTERED: the audit stayed out of 1 directory, so nothing below it is planned:\n#   " + cache + " (tmpfs: another file system (--one-file-system))\n"; !strings.Contains(plan, want) {
		t.Errorf("the plan does not name the mount it did not enter, %q:\n%s", want, plan)
	}
	if _, err := fixer.ReadScript("plan.sh", strings.NewReader(plan)); err != nil {
		t.Errorf("the plan naming a skipped mount cannot be read back: %v", err)
	}
	if code, _, errOut := webperm(t, "plan", "--no-xattrs", root); code != exitError || !strings.Contains(errOut, "--no-xattrs") {
		t.Errorf("plan --no-xattrs: exit %d, stderr %q; want 2, naming the flag", code, errOut)
	}
	code, out, _ = webperm(t, "audit", "--color", "never", "--root", demoSysroot, "--web-user", "www-data", root)
	if code != exitFindings || !strings.Contains(out, open) {
		t.Errorf("without --one-file-system: exit %d; want 1 and world-writable %s:\n%s", code, open, out)
	}
}
