package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/webperm/webperm/internal/fixture"
	"golang.org/x/sys/unix"
)

// webpermProcess is webperm run as a process of its own: this test binary, as TestMain runs it.
func webpermProcess(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	return cmd
}

// lockHeld says whether a process holds the flock on path.
func lockHeld(t *testing.T, path string) bool {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	return errors.Is(err, unix.EWOULDBLOCK)
}

// Two runs with one --lock never overlap: while one holds it, the next exits 2 at once, naming
// the lock and the holder's pid; once the holder is killed, the kernel has let the lock go and a
// run goes ahead.
func TestLockKeepsASecondRunOut(t *testing.T) {
	// The holder writes a report of some hundred KiB into a pipe nobody reads: it blocks there,
	// lock held, until it is killed.
	site := tree(t, manyFiles(4, 100, "0666"))
	dir := t.TempDir()
	lock := filepath.Join(dir, "webperm.lock")
	fifo := filepath.Join(dir, "report.fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	reader, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	common := []string{"audit", "--root", demoSysroot, "--web-user", "www-data", "--lock", lock, "--format", "json"}
	holder := webpermProcess(append(common, "-o", fifo, site)...)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	held := make(chan error, 1)
	go func() { held <- holder.Wait() }()
	pid := strconv.Itoa(holder.Process.Pid) + "\n"
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(lock); string(b) == pid && lockHeld(t, lock) {
			break
		}
		select {
		case err := <-held:
			t.Fatalf("the holder ended (%v) before the test saw it hold the lock", err)
		default:
		}
		if time.Now().After(deadline) {
			holder.Process.Kill()
			t.Fatal("the holder never took the lock and wrote its pid there")
		}
	}

	second := webpermProcess(append(common, site)...)
	var stdout, stderr bytes.Buffer
	second.Stdout, second.Stderr = &stdout, &stderr
	start := time.Now()
	second.Run()
	want := fmt.Sprintf("webperm: --lock %s: another webperm (pid %d) holds it: that run is not over\nwebperm: hint: let it finish", lock, holder.Process.Pid)
	if code := second.ProcessState.ExitCode(); code != exitError || stdout.Len() != 0 || !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("the second run: exit %d, stdout %d bytes, stderr %q; want exit 2 and %q", code, stdout.Len(), stderr.String(), want)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the second run took %v: it must not wait for the lock", took)
	}

	holder.Process.Kill()
	<-held
	third := webpermProcess(append(common, site)...)
	out, _ := third.Output()
	ww := 0
	for _, f := range decode(t, string(out)).RawFindings {
		if f["rule"] == "world-writable" {
			ww++
		}
	}
	if code := third.ProcessState.ExitCode(); code != exitFindings || ww != 400 {
		t.Errorf("once the holder was killed: exit %d and %d world-writable findings, want 1 and 400", code, ww)
	}
	if b, err := os.ReadFile(lock); err != nil || len(b) != 0 {
		t.Errorf("after a run, the lock file holds %q (%v), want it there and empty", b, err)
	}
	if fi, err := os.Lstat(lock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the lock file: %v, %v; want mode 0600", fi.Mode(), err)
	}
}

func TestLockRefuses(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\n")
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.lock")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	notLock := filepath.Join(dir, "passwd")
	if err := os.WriteFile(notLock, []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, lock, want string
	}{
		{"a symlink", link, "webperm: --lock " + link + ": a symlink: webperm never opens a lock through one\n"},
		{"a file with more than a pid", notLock, "webperm: --lock " + notLock + ": holds something other than a pid"},
		{"a directory", dir, "webperm: --lock " + dir + ": not a regular file\n"},
		{"a device", os.DevNull, "webperm: --lock /dev/null: not a regular file\n"},
	}
	if os.Geteuid() == 0 {
		open := filepath.Join(t.TempDir(), "open")
		if err := os.Mkdir(open, 0o700); err != nil || os.Chmod(open, 0o777) != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct{ name, lock, want string }{"as root, in a directory anyone may write", filepath.Join(open, "webperm.lock"), "webperm: --lock " + filepath.Join(open, "webperm.lock") + ": the directory " + open + " "})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", "--lock", tt.lock, site)
			if code != exitError || out != "" || !strings.HasPrefix(errOut, tt.want) || !strings.Contains(errOut, "webperm: hint: ") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q with a hint", code, out, errOut, tt.want)
			}
		})
	}
	if b, _ := os.ReadFile(target); len(b) != 0 {
		t.Errorf("the symlink's target was written: %q", b)
	}
	if b, _ := os.ReadFile(notLock); string(b) != "root:x:0:0:root:/root:/bin/sh\n" {
		t.Errorf("a file that is not a lock was changed: %q", b)
	}
	if _, err := os.Lstat(filepath.Join(filepath.Dir(link), "open", "webperm.lock")); err == nil {
		t.Error("a lock was created in a directory anyone may write")
	}
}

// plan and fix --apply hold the lock too: a fix must not run while a nightly audit of the same
// tree does, nor two fixes at once.
func TestLockOnPlanAndFix(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\n")
	lock := filepath.Join(t.TempDir(), "webperm.lock")
	fd, err := unix.Open(lock, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"plan"}, {"fix"}, {"fix", "--apply"}} {
		code, _, errOut := webperm(t, append(args, "--root", demoSysroot, "--web-user", "www-data", "--lock", lock, site)...)
		if want := "webperm: --lock " + lock + ": another webperm holds it"; code != exitError || !strings.HasPrefix(errOut, want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", args, code, errOut, want)
		}
	}
}

// flock needs no more than a file open for reading: whoever can open the lock, or give it its
// name first, can hold it and keep every run out, night after night. So the lock is refused in a
// sticky directory anyone may write (/tmp, /run/lock, where /var/lock leads), where another user
// can create it first; and where it is another user's, or a file of root's others may read.
func TestLockNoOneElseCanHold(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the lock's directory and owner are checked as root runs webperm")
	}
	site := tree(t, "d 0755 0:0 .\n")
	sticky := filepath.Join(fixture.TempDir(t), "lock")
	if err := os.Mkdir(sticky, 0o700); err != nil || os.Chmod(sticky, os.ModeSticky|0o777) != nil {
		t.Fatal(err)
	}
	dir := fixture.TempDir(t)
	theirs := filepath.Join(dir, "theirs.lock")
	readable := filepath.Join(dir, "readable.lock")
	for _, name := range []string{theirs, readable} {
		if err := os.WriteFile(name, nil, 0o600); err != nil || os.Chmod(name, 0o644) != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(theirs, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(theirs, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, lock, want string }{
		{"in a sticky directory anyone may write", filepath.Join(sticky, "webperm.lock"), "the directory " + sticky + " is writable by others"},
		{"another user's", theirs, "owned by uid 1000"},
		{"one others may read", readable, "others may open it (mode 0644)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", "--lock", tt.lock, site)
			if code != exitError || out != "" || !strings.HasPrefix(errOut, "webperm: --lock "+tt.lock+": ") || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "webperm: hint: ") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, %q and a hint", code, out, errOut, tt.want)
			}
			if strings.Contains(errOut, "/var/lock") {
				t.Errorf("the hint names /var/lock, which is /run/lock, sticky and anyone's: %s", errOut)
			}
		})
	}
	if _, err := os.Lstat(filepath.Join(sticky, "webperm.lock")); err == nil {
		t.Error("a lock was created in a directory anyone may write")
	}
}
