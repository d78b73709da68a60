package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/webperm/webperm/internal/fixture"
)

// hostile is a real unprivileged account of the test's own, the site user of a shared host who
// attacks a root run of webperm: it owns a home with a web root in it and acts with its own uid,
// so the kernel, not the test, decides what it may do.
type hostile struct {
	name     string
	uid, gid int
	home     string // 0711, owned by the user, inside a root-owned 0755 directory
	site     string // home/public_html, 0755, owned by the user
}

// newHostile creates a user with a home below a fresh root-owned directory and removes both when
// the test ends. It needs root and useradd, skipping (or failing under WEBPERM_E2E_REQUIRED=1)
// without them.
func newHostile(t *testing.T) *hostile {
	t.Helper()
	if os.Geteuid() != 0 {
		fixture.Unavailable(t, "needs root: creates a user to attack webperm with")
	}
	var tl [2]string
	for i, name := range []string{"useradd", "userdel"} {
		p, err := fixture.FindTool(name)
		if err != nil {
			fixture.Unavailable(t, err.Error())
		}
		tl[i] = p
	}
	base := t.TempDir()
	// The test's temporary directory and its parent are root's 0700: open them to search.
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	requireSearchableAncestors(t, base)
	name := fmt.Sprintf("wpevil%08d", rand.IntN(100_000_000))
	h := &hostile{name: name, home: filepath.Join(base, name)}
	mustRun(t, tl[0], "--no-create-home", "--home-dir", h.home, "--shell", "/bin/sh", "--user-group", name)
	t.Cleanup(func() {
		if out, err := exec.Command(tl[1], name).CombinedOutput(); err != nil {
			t.Errorf("removing the test's user: userdel %s: %v: %s", name, err, out)
		}
	})
	h.uid, h.gid = lookupUID(t, name), lookupGID(t, name)
	h.site = filepath.Join(h.home, "public_html")
	for _, d := range []string{h.home, h.site} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, h.uid, h.gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(h.home, 0o711); err != nil {
		t.Fatal(err)
	}
	return h
}

// command returns prog with args to run as the hostile user: its uid, its gid, no other group.
func (h *hostile) command(prog string, args ...string) *exec.Cmd {
	cmd := exec.Command(prog, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(h.uid), Gid: uint32(h.gid), Groups: []uint32{}}}
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + h.home, "LC_ALL=C"}
	return cmd
}

// run runs a shell command as the hostile user and fails the test if it fails: the attack must be
// one the user is allowed to mount.
func (h *hostile) run(t *testing.T, script string) {
	t.Helper()
	if out, err := h.command("/bin/sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("as %s: sh -c %q: %v\n%s", h.name, script, err, out)
	}
}

// webpermRun is what one run of webperm did.
type webpermRun struct {
	code           int
	stdout, stderr string
}

// runWebperm runs webperm (as root, as the test is) with args and returns its exit status and
// output; a run that could not start fails the test.
func runWebperm(t *testing.T, bin string, args ...string) webpermRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := webpermRun{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("webperm %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// snapshot records the mode, owner and inode of every entry below dir, without following links,
// so that a test can show an attack changed nothing there.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		out[p] = fmt.Sprintf("%v %d:%d ino %d", fi.Mode(), st.Uid, st.Gid, st.Ino)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// requireUnchanged fails t for every entry of before that is no longer as it was.
func requireUnchanged(t *testing.T, before, after map[string]string) {
	t.Helper()
	changed := 0
	for p, was := range before {
		if now := after[p]; now != was {
			changed++
			if changed <= 10 {
				t.Errorf("%s changed: was %s, now %q", p, was, now)
			}
		}
	}
	if changed > 0 {
		t.Errorf("%d of %d entries changed", changed, len(before))
	}
}

// TestHostileUserIsUnprivileged checks the harness itself: the hostile user cannot write what
// root owns, and can write its own site.
func TestHostileUserIsUnprivileged(t *testing.T) {
	h := newHostile(t)
	h.run(t, "touch "+filepath.Join(h.site, "mine"))
	guarded := filepath.Join(filepath.Dir(h.home), "roots")
	if err := os.WriteFile(guarded, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := h.command("/bin/sh", "-c", "echo y >> "+guarded).CombinedOutput(); err == nil {
		t.Fatalf("%s could write a root-owned 0644 file: %s", h.name, out)
	}
}
