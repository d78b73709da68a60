package safefile

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Openat2Func opens path from dirfd with openat2's flags and resolve flags: unix.Openat2, or a
// caller's wrapper of it (retries, a test's stub).
type Openat2Func func(dirfd int, path string, flags int, resolve uint64) (int, error)

// Openat2 is openat2(2), retried where the kernel asks to: EAGAIN when a rename raced the lookup,
// EINTR.
func Openat2(dirfd int, path string, flags int, resolve uint64) (int, error) {
	return Openat2Using(unix.Openat2)(dirfd, path, flags, resolve)
}

// Openat2Using is Openat2 making its calls through sys (a test's stub of unix.Openat2).
func Openat2Using(sys func(dirfd int, path string, how *unix.OpenHow) (int, error)) Openat2Func {
	return func(dirfd int, path string, flags int, resolve uint64) (int, error) {
		how := &unix.OpenHow{Flags: uint64(flags), Resolve: resolve}
		var err error
		for range 4 {
			var fd int
			fd, err = sys(dirfd, path, how)
			if err == nil {
				return fd, nil
			}
			if err != unix.EAGAIN && err != unix.EINTR {
				break
			}
		}
		return -1, err
	}
}

// PathChunk is the longest path OpenBeneath hands the kernel in one openat2: below PATH_MAX
// (4,096 bytes with its NUL), which a path in a deep tree passes at some 450 levels of
// eight-letter names.
const PathChunk = 3072

// BeneathResolve is how OpenBeneath resolves each run of a path: beneath the directory it starts
// from, through no symlink and no magic link.
const BeneathResolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// OpenBeneath opens rel, a clean relative path, from rootfd with flags (which should hold
// O_NOFOLLOW and O_CLOEXEC), never following a symlink and never leaving rootfd's directory. A
// path longer than PathChunk, which the kernel may refuse whole (PATH_MAX), is opened a run of
// components at a time, each directory as an O_PATH descriptor from the one before, each run
// beneath it: two descriptors at most are open at once, the root's and the last directory's,
// whatever the depth. open is the openat2 to use; nil means Openat2.
func OpenBeneath(rootfd int, rel string, flags int, open Openat2Func) (int, error) {
	if open == nil {
		open = Openat2
	}
	dirfd := rootfd
	for len(rel) > PathChunk {
		cut := strings.LastIndexByte(rel[:PathChunk], '/')
		if cut <= 0 {
			// A single name longer than PathChunk: NAME_MAX (255) makes it impossible; the kernel
			// says so.
			break
		}
		next, err := open(dirfd, rel[:cut], unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, BeneathResolve)
		if dirfd != rootfd {
			unix.Close(dirfd)
		}
		if err != nil {
			return -1, err
		}
		dirfd, rel = next, rel[cut+1:]
	}
	fd, err := open(dirfd, rel, flags, BeneathResolve)
	if dirfd != rootfd {
		unix.Close(dirfd)
	}
	return fd, err
}
