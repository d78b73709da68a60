package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/policy"
	"golang.org/x/sys/unix"
)

// runLock is the lock --lock FILE holds for a whole run: an exclusive flock on FILE, which the
// kernel lets go when the process ends however it ends, so a run that was killed never leaves a
// stale lock behind. The file holds the holder's pid while it runs, for the run it keeps out to
// name; the file itself stays, as lock files must: removing it would let two runs lock two
// different files of one name.
type runLock struct {
	fd int
}

// errLockHeld is the error of a run that found the lock held by another: that run is not over,
// and the monitoring it feeds is its to write.
var errLockHeld = errors.New("the lock is held")

// lockHeldError says who holds the lock, and is errLockHeld.
type lockHeldError struct{ msg string }

func (e *lockHeldError) Error() string        { return e.msg }
func (e *lockHeldError) Is(target error) bool { return target == errLockHeld }

// lockPlaceHint says where a lock of root's belongs: not /var/lock, which is /run/lock, sticky and
// writable by everyone.
const lockPlaceHint = "keep the lock where only root can write, e.g. /run/webperm.lock or /run/webperm/audit.lock"

// maxLockContent is the most a lock file may hold: a pid and a newline, with room to spare. A
// file that holds more is not a lock file, and --lock must never truncate /etc/passwd.
const maxLockContent = 32

// acquireLock takes the lock at path, or says at once who holds it: a cron job that finds the
// previous night's run still going leaves it be, and exits 2. As root, the lock must lie in a
// directory no other user controls, as -o's file must: whoever controls it could swap the file
// and hold the next run off, or have webperm open something else. The file is opened without
// following a symlink, with mode 0600 when it is created; an existing one must be a regular file
// that holds nothing but a pid.
func acquireLock(path string) (*runLock, error) {
	name := report.Escape(path)
	if os.Geteuid() == 0 {
		dir := filepath.Dir(path)
		if err := checkTrustedDir(dir, "--lock "+name+": the directory"); err != nil {
			return nil, withHint(err, lockPlaceHint)
		}
		// A sticky directory is trusted for a file webperm replaces, not for a name it must be
		// the first to give: another user could create the lock first and hold it.
		if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o022 != 0 {
			return nil, withHint(fmt.Errorf("--lock %s: the directory %s is writable by others (mode %s): any user could create the lock before webperm does and hold it, keeping every run out", name, report.Escape(dir), policy.OctalMode(fi.Mode())), lockPlaceHint)
		}
	}
	var before unix.Stat_t
	switch err := unix.Lstat(path, &before); {
	case errors.Is(err, unix.ENOENT):
	case err != nil:
		return nil, withHint(fmt.Errorf("--lock %s: %w", name, err), "name a lock file in a directory webperm can write, e.g. /run/webperm.lock")
	case before.Mode&unix.S_IFMT == unix.S_IFLNK:
		return nil, withHint(fmt.Errorf("--lock %s: a symlink: webperm never opens a lock through one", name), "name the lock file itself, not a link to it")
	case before.Mode&unix.S_IFMT != unix.S_IFREG:
		// Opening a device may do something (a watchdog starts, a tape rewinds): never open one.
		return nil, withHint(fmt.Errorf("--lock %s: not a regular file", name), "name a lock file of webperm's own, e.g. /run/webperm.lock")
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0o600)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, withHint(fmt.Errorf("--lock %s: a symlink: webperm never opens a lock through one", name), "name the lock file itself, not a link to it")
		}
		return nil, withHint(fmt.Errorf("--lock %s: %w", name, err), "name a lock file in a directory webperm can write, e.g. /run/webperm.lock")
	}
	l := &runLock{fd: fd}
	if err := l.take(path, name); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return l, nil
}

// take checks what l's file is (a regular file of the running user's that no one else may open,
// holding nothing but a pid), locks it, and writes the pid into it.
func (l *runLock) take(path, name string) error {
	var st unix.Stat_t
	if err := unix.Fstat(l.fd, &st); err != nil {
		return fmt.Errorf("--lock %s: %w", name, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return withHint(fmt.Errorf("--lock %s: not a regular file", name), "name a lock file of webperm's own, e.g. /run/webperm.lock")
	}
	// What it holds is read before its owner and mode are judged: a file that is no lock file
	// is never the subject of advice to remove or chmod it. A holder truncates it, then writes
	// its pid: either is a lock file's.
	content, ok := l.read()
	if !ok || (content != "" && !isPid(content)) {
		return withHint(fmt.Errorf("--lock %s: holds something other than a pid: not a lock file of webperm's", name), "name a lock file of webperm's own, e.g. /run/webperm.lock; webperm writes its pid there")
	}
	// flock takes no more than a file open for reading: whoever owns the lock, or may read it,
	// could hold it and keep every run out.
	if euid := uint32(os.Geteuid()); st.Uid != euid {
		return withHint(fmt.Errorf("--lock %s: owned by uid %d: its owner could hold it and keep every run out", name, st.Uid), "remove it, or name a lock file of your own: webperm creates it, mode 0600")
	}
	if st.Mode&0o066 != 0 {
		return withHint(fmt.Errorf("--lock %s: others may open it (mode %s) and hold it, keeping every run out", name, policy.OctalMode(fileModeOf(st.Mode))), "chmod 600 %s, or remove it: webperm creates it, mode 0600", name)
	}
	if err := unix.Flock(l.fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("--lock %s: %w", name, err)
		}
		holder := "another webperm"
		if pid, ok := l.pid(); ok {
			holder = fmt.Sprintf("another webperm (pid %d)", pid)
		}
		return withHint(&lockHeldError{fmt.Sprintf("--lock %s: %s holds it: that run is not over", name, holder)},
			"let it finish: the lock is released when it exits, killed or not; a run that must not overlap with it waits for the next one")
	}
	pid := strconv.Itoa(os.Getpid()) + "\n"
	if err := unix.Ftruncate(l.fd, 0); err != nil {
		return fmt.Errorf("--lock %s: %w", name, err)
	}
	if _, err := unix.Pwrite(l.fd, []byte(pid), 0); err != nil {
		return fmt.Errorf("--lock %s: %w", name, err)
	}
	return nil
}

// read returns what the lock file holds, and false where it holds more than a lock file does.
func (l *runLock) read() (string, bool) {
	buf := make([]byte, maxLockContent+1)
	n, err := unix.Pread(l.fd, buf, 0)
	if err != nil || n > maxLockContent {
		return "", false
	}
	return string(buf[:n]), true
}

// pid is the pid the holder wrote, where it has.
func (l *runLock) pid() (int, bool) {
	content, ok := l.read()
	if !ok || !isPid(content) {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(content))
	return pid, err == nil
}

// fileModeOf is the permission bits of a stat's mode, as fs.FileMode.
func fileModeOf(mode uint32) fs.FileMode { return fs.FileMode(mode & 0o777) }

// isPid says whether s is what a holder writes: a number and a newline.
func isPid(s string) bool {
	s, ok := strings.CutSuffix(s, "\n")
	_, err := strconv.ParseUint(s, 10, 31)
	return ok && err == nil
}

// release empties the file and lets the lock go; a nil lock is none.
func (l *runLock) release() {
	if l == nil {
		return
	}
	unix.Ftruncate(l.fd, 0) // no pid of a run that is over
	unix.Close(l.fd)        // the flock goes with the last descriptor
}
