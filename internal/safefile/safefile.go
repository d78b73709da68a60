// Package safefile is how webperm, often run as root over directories that hostile users own,
// reads and writes files of its own and of the host: the policy, plans, journals, reports, the
// audited system's /etc/passwd and /etc/group, server configuration.
//
// Reading looks before it opens: the path is opened with O_PATH, which opens no device and waits
// on no FIFO, its inode is checked with fstat to be a regular file no larger than the reader's
// cap, and only that inode is then opened for reading, through /proc/self/fd. A FIFO, device,
// socket or directory is refused unopened, and so is a file of the kernel's (/proc, /sys).
//
// Writing never writes through a symlink and never keeps a mode someone else chose: a regular
// file is replaced atomically by a new one of the running user's with the caller's mode, set with
// fchmod whatever the umask. A character device or FIFO at the path (/dev/null, a named pipe) is
// written through and left in place; the standard streams' names write to the inherited
// descriptors. As root, a directory another user could change is refused as a place to write.
//
// Errors carry the reason only, not the path: callers name the path as their user gave it.
package safefile

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/policy"
)

// The most webperm reads of each kind of file. A real file of the kind is far smaller; a larger
// one is refused rather than read into memory.
const (
	// PolicyLimit caps a policy file: real ones are a few KiB.
	PolicyLimit = 4 << 20
	// AccountsLimit caps etc/passwd and etc/group: 64 MiB is some 700,000 users.
	AccountsLimit = 64 << 20
	// ConfigLimit caps one server configuration file read to detect the web user.
	ConfigLimit = 1 << 20
	// PlanLimit caps a plan or a journal: 1 GiB holds millions of changes.
	PlanLimit = 1 << 30
)

// Modes of the files webperm writes: reports and policies may be read by all, plans and journals
// only by their owner, since whoever could read one learns the tree's weak points and what
// changed. Neither is ever writable by group or others.
const (
	ReportMode  fs.FileMode = 0o644
	PrivateMode fs.FileMode = 0o600
)

var (
	// ErrEmptyPath is the error for "" as a path: it names no file, and never the current directory.
	ErrEmptyPath = errors.New("empty path")
	// ErrNotRegular is what every refusal of a FIFO, device, socket, directory or symlink wraps.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is what a refusal of a file over a reader's cap wraps.
	ErrTooLarge = errors.New("too large")
	// ErrNoReader is the error for a named pipe that no process reads.
	ErrNoReader = errors.New("no process reads the named pipe: webperm writes to a FIFO only while something reads it")
	// ErrSymlink is the error for a symlink at a path webperm is to write, and what the refusal
	// of one to read without following wraps.
	ErrSymlink = errors.New("a symlink: webperm never writes through one, nor replaces it")
)

// typeError refuses a file by its type.
type typeError struct {
	mode fs.FileMode
	what string // why the type is refused
}

func (e *typeError) Error() string { return describe(e.mode) + ", " + e.what }
func (e *typeError) Is(err error) bool {
	return err == ErrNotRegular || err == ErrSymlink && e.mode&fs.ModeSymlink != 0
}

// describe names the type of a file of mode, as messages say it: "a named pipe (FIFO)".
func describe(mode fs.FileMode) string {
	switch mode.Type() {
	case 0:
		return "a regular file"
	case fs.ModeDir:
		return "a directory"
	case fs.ModeSymlink:
		return "a symlink"
	case fs.ModeNamedPipe:
		return "a named pipe (FIFO)"
	case fs.ModeSocket:
		return "a socket"
	case fs.ModeDevice | fs.ModeCharDevice:
		return "a character device"
	case fs.ModeDevice:
		return "a block device"
	}
	return "not a regular file"
}

// tooLargeError refuses a file over a reader's cap.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return "larger than " + byteSize(e.limit) + ", the most webperm reads of it"
}
func (e *tooLargeError) Is(err error) bool { return err == ErrTooLarge }

func tooLarge(limit int64) error { return &tooLargeError{limit: limit} }

// byteSize writes n bytes as people read a size: 4 MiB, 1 GiB, 1000 bytes.
func byteSize(n int64) string {
	for _, u := range []struct {
		shift int
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// fileMode turns a stat(2) mode into an fs.FileMode.
func fileMode(st *unix.Stat_t) fs.FileMode {
	m := policy.FromUnix(st.Mode)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	}
	return m
}

// Descriptor says which inherited descriptor path names, if it names one: "-" and /dev/stdout
// are 1, /dev/stderr 2, /dev/fd/N and /proc/self/fd/N are N. Writing to them writes to what the
// caller's shell opened, as a redirection would.
func Descriptor(path string) (fd int, ok bool) {
	switch path {
	case "-", "/dev/stdout":
		return 1, true
	case "/dev/stderr":
		return 2, true
	}
	for _, prefix := range []string{"/dev/fd/", "/proc/self/fd/"} {
		if rest, ok := strings.CutPrefix(path, prefix); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			n, err := strconv.Atoi(rest)
			return n, err == nil
		}
	}
	return 0, false
}

// procSelfFD is where the kernel lists the process's descriptors; a test sets it elsewhere to
// take the way a system without /proc goes.
var procSelfFD = "/proc/self/fd/"

// procFD names the magic link through which descriptor fd's inode is opened again.
func procFD(fd int) string { return procSelfFD + strconv.Itoa(fd) }

// openPath opens path with O_PATH: no device is opened, no FIFO waited on.
func openPath(path string, follow bool) (int, *unix.Stat_t, error) {
	if path == "" {
		return -1, nil, ErrEmptyPath
	}
	flags := unix.O_PATH | unix.O_CLOEXEC
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := retry(func() (int, error) { return unix.Open(path, flags, 0) })
	if err != nil {
		return -1, nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, nil, err
	}
	return fd, &st, nil
}

// reopen opens the inode pathfd refers to with flags, through /proc/self/fd, so that what is
// opened is what was looked at. Without /proc (a bare chroot) it opens path again, never blocking
// on a FIFO, and refuses a different inode.
func reopen(pathfd int, path string, flags int, want *unix.Stat_t) (int, error) {
	fd, err := retry(func() (int, error) { return unix.Open(procFD(pathfd), flags|unix.O_CLOEXEC, 0) })
	if !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	fd, err = retry(func() (int, error) {
		return unix.Open(path, flags|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	})
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Dev != want.Dev || st.Ino != want.Ino {
		unix.Close(fd)
		return -1, errors.New("it was replaced while webperm opened it")
	}
	if flags&unix.O_NONBLOCK == 0 {
		if err := setBlocking(fd); err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	return fd, nil
}

func setBlocking(fd int) error {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
	}
	return err
}

// retry calls a system call again when a signal interrupted it.
func retry(call func() (int, error)) (int, error) {
	for {
		fd, err := call()
		if !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
}
