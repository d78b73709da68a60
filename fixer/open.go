package fixer

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/safefile"
	"github.com/webperm/webperm/policy"
)

// How apply and undo reach an inode. Everything they change is opened with openat2 as an O_PATH
// descriptor that no symlink, magic link or ".." led to, checked with fstat to be the inode the
// audit saw, and changed through that descriptor; no path is looked up twice. webperm runs as
// root: a fixer that followed one symlink would hand whoever planted it /etc/shadow.

// The system calls, in variables so that a test can force the fallback kernels before 6.6 need
// and make a call fail.
var (
	sysOpenat2     = unix.Openat2
	sysFstat       = unix.Fstat
	sysFchownat    = unix.Fchownat
	sysFchmodat    = unix.Fchmodat
	sysChmod       = unix.Chmod
	sysGetxattr    = unix.Getxattr
	sysSetxattr    = unix.Setxattr
	sysRemovexattr = unix.Removexattr
)

// crashPoint names a moment at which a crash leaves the disk in a state undo must handle.
type crashPoint uint8

const (
	crashJournaled crashPoint = iota // an entry is in the journal, its change not yet made
	crashChowned                     // the owner is changed, the mode not yet
	crashChanged                     // the change is made, not yet marked done
	crashDone                        // the change is marked done in the journal
)

// crashHook is set only by tests, which make the process kill itself at one of these moments.
var crashHook func(crashPoint)

func reachCrashPoint(p crashPoint) {
	if crashHook != nil {
		crashHook(p)
	}
}

// Reasons shared by apply and undo.
const (
	reasonSymlinkOnWay = "a symlink now stands on its way or in its place: webperm never changes anything through a symlink"
	reasonIsSymlink    = "is a symlink now: webperm never changes anything through a symlink"
)

// refusal says why an entry was left as it is, or only half changed: Skipped when the disk is not
// as the plan or journal expects, so nothing was touched; Failed when webperm could not do what
// it should, or was asked for something it never does.
type refusal struct {
	status Status
	reason string
}

func skipBecause(format string, args ...any) *refusal {
	return &refusal{Skipped, fmt.Sprintf(format, args...)}
}

func failBecause(format string, args ...any) *refusal {
	return &refusal{Failed, fmt.Sprintf(format, args...)}
}

// target names the inode one action or journal entry is about, as the audit saw it.
type target struct {
	path, root string
	ancestor   bool
	typ        walk.Type
	dev, ino   uint64
}

// inode is what fstat says of an open descriptor, in webperm's terms.
type inode struct {
	typ             walk.Type
	dev, ino, nlink uint64
	state           State
	ctime, mtime    time.Time // in UTC
}

func fstatInode(fd int) (inode, error) {
	var st unix.Stat_t
	if err := sysFstat(fd, &st); err != nil {
		return inode{}, err
	}
	// Dev and Nlink are narrower on some architectures, hence the conversions.
	return inode{
		typ:   unixType(st.Mode),
		dev:   uint64(st.Dev),
		ino:   st.Ino,
		nlink: uint64(st.Nlink),
		state: State{Mode: policy.FromUnix(st.Mode & 0o7777), UID: st.Uid, GID: st.Gid},
		ctime: time.Unix(st.Ctim.Unix()).UTC(),
		mtime: time.Unix(st.Mtim.Unix()).UTC(),
	}, nil
}

func unixType(m uint32) walk.Type {
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		return walk.TypeFile
	case unix.S_IFDIR:
		return walk.TypeDir
	case unix.S_IFLNK:
		return walk.TypeSymlink
	case unix.S_IFIFO:
		return walk.TypeFIFO
	case unix.S_IFSOCK:
		return walk.TypeSocket
	case unix.S_IFCHR:
		return walk.TypeCharDevice
	case unix.S_IFBLK:
		return walk.TypeBlockDevice
	}
	return walk.TypeOther
}

// kindNames name the types webperm never changes, as a reason says them.
var kindNames = map[walk.Type]string{
	walk.TypeFIFO:        "a fifo",
	walk.TypeSocket:      "a socket",
	walk.TypeCharDevice:  "a character device",
	walk.TypeBlockDevice: "a block device",
	walk.TypeOther:       "an unknown kind of file",
}

// typeWord names a file or a directory in a sentence.
func typeWord(t walk.Type) string {
	if t == walk.TypeDir {
		return "directory"
	}
	return typeName(t)
}

// typeName is t's name, without the panic walk.Type.String has for a type it does not know.
func typeName(t walk.Type) string {
	if t > walk.TypeOther {
		return fmt.Sprintf("type %d", uint8(t))
	}
	return t.String()
}

// openat2 retries where the kernel asks to: EAGAIN when a rename raced the lookup, EINTR.
func openat2(dirfd int, path string, flags int, resolve uint64) (int, error) {
	return safefile.Openat2Using(sysOpenat2)(dirfd, path, flags, resolve)
}

// openBeneath opens rel, a clean relative path, from rootfd as an O_PATH descriptor, never
// following a symlink and never leaving rootfd's directory, a run of components at a time where
// the path is long (safefile.OpenBeneath).
func openBeneath(rootfd int, rel string) (int, error) {
	return safefile.OpenBeneath(rootfd, rel, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, openat2)
}

// openRefusal turns what openat2 said into a reason; errors that mean the tree is no longer as
// it was skip the entry, anything else fails it.
func openRefusal(err error) *refusal {
	switch {
	case errors.Is(err, unix.ELOOP):
		return skipBecause(reasonSymlinkOnWay)
	case errors.Is(err, unix.EXDEV):
		return skipBecause("its path now leads out of its root: webperm never changes anything outside the root")
	case errors.Is(err, unix.ENOENT):
		return skipBecause("it no longer exists, or a directory on its way does not")
	case errors.Is(err, unix.ENOTDIR):
		return skipBecause("a directory on its way is no longer a directory")
	case errors.Is(err, unix.ENOSYS):
		return failBecause("cannot open it: this kernel lacks openat2 (Linux 5.6 or later), without which webperm cannot change anything safely")
	}
	return failBecause("cannot open it: %v", err)
}

// cleanAbs reports whether p is an absolute path in its shortest form, so that it holds no ".."
// and names exactly one place.
func cleanAbs(p string) bool { return checkPath("path", p) == nil }

// relBeneath returns p relative to root: "." for the root itself. ok is false unless p is root or
// below it; both are clean absolute paths.
func relBeneath(root, p string) (rel string, ok bool) {
	switch {
	case !walk.Within(p, root):
		return "", false
	case p == root:
		return ".", true
	}
	return strings.TrimPrefix(p[len(root):], "/"), true
}

// properAncestor reports whether dir lies above root; both are clean absolute paths.
func properAncestor(dir, root string) bool { return dir != root && walk.Within(root, dir) }

// rootSet opens each root once, on first use, and keeps it open for the run: the descriptor holds
// the directory the audit saw even if its name is moved meanwhile, and everything below the root
// is looked up beneath it.
type rootSet struct {
	roots  map[string]Root
	listed string // where roots come from, for messages: "plan" or "journal"
	since  string // what a mismatch happened since: "audit" or "the fix"
	open   map[string]openedRoot
}

type openedRoot struct {
	fd  int
	why *refusal // when the root cannot be used; fd is then -1
}

func newRootSet(roots []Root, listed, since string) *rootSet {
	rs := &rootSet{roots: map[string]Root{}, listed: listed, since: since, open: map[string]openedRoot{}}
	for _, r := range roots {
		if prev, ok := rs.roots[r.Path]; ok && prev != r {
			rs.open[r.Path] = openedRoot{-1, failBecause("the root %s is listed twice in the %s, as two directories", r.Path, listed)}
		}
		rs.roots[r.Path] = r
	}
	return rs
}

func (rs *rootSet) close() {
	for _, o := range rs.open {
		if o.fd >= 0 {
			unix.Close(o.fd)
		}
	}
}

func (rs *rootSet) root(path string) (int, *refusal) {
	if o, ok := rs.open[path]; ok {
		return o.fd, o.why
	}
	var o openedRoot
	if r, ok := rs.roots[path]; ok {
		o = openRoot(r)
	} else {
		o = openedRoot{-1, failBecause("its root %s is not among the %s's roots", path, rs.listed)}
	}
	rs.open[path] = o
	return o.fd, o.why
}

func openRoot(r Root) openedRoot {
	if !cleanAbs(r.Path) {
		return openedRoot{-1, failBecause("the root %q is not a clean absolute path: refused, and never opened", r.Path)}
	}
	notAudited := func(why string) openedRoot {
		return openedRoot{-1, skipBecause("the root %s is not the directory audited: %s", r.Path, why)}
	}
	fd, err := openat2(unix.AT_FDCWD, r.Path, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC,
		unix.RESOLVE_NO_SYMLINKS|unix.RESOLVE_NO_MAGICLINKS)
	if err != nil {
		if errors.Is(err, unix.ENOTDIR) {
			return notAudited(notDirReason(r.Path))
		}
		why := openRefusal(err)
		if why.status == Skipped {
			return notAudited(why.reason)
		}
		return openedRoot{-1, failBecause("cannot open the root %s: %v", r.Path, err)}
	}
	in, err := fstatInode(fd)
	switch {
	case err != nil:
		unix.Close(fd)
		return openedRoot{-1, failBecause("cannot stat the root %s: %v", r.Path, err)}
	case in.typ != walk.TypeDir:
		unix.Close(fd)
		return notAudited("it is no longer a directory")
	case in.dev != r.Dev || in.ino != r.Ino:
		unix.Close(fd)
		return notAudited("another directory now has this name")
	}
	return openedRoot{fd, nil}
}

// notDirReason says why a root opened as a directory is none: O_NOFOLLOW with O_DIRECTORY
// reports a symlink as ENOTDIR, and a symlink deserves to be named. The lstat only words the
// message; nothing is opened or changed through it.
func notDirReason(path string) string {
	var st unix.Stat_t
	if unix.Lstat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return "it " + reasonIsSymlink
	}
	return "it, or a directory on its way, is no longer a directory"
}

// openTarget opens t's inode without following any symlink, beneath its root unless it is an
// ancestor, and checks it is still the file or directory the audit saw, with only one name. The
// caller checks its state, which apply and undo judge differently, and closes the descriptor.
func (rs *rootSet) openTarget(t target) (int, inode, *refusal) {
	if t.typ != walk.TypeFile && t.typ != walk.TypeDir {
		return -1, inode{}, failBecause("the %s asks to change a %s: webperm changes only files and directories", rs.listed, typeName(t.typ))
	}
	if !cleanAbs(t.path) {
		return -1, inode{}, failBecause("%q is not a clean absolute path: refused, and never opened", t.path)
	}
	rootfd, why := rs.root(t.root)
	if why != nil {
		return -1, inode{}, why
	}
	var fd int
	var err error
	if t.ancestor {
		// An ancestor lies above the root by definition, so it cannot be looked up beneath it; the
		// whole path from / must be free of symlinks instead.
		if !properAncestor(t.path, t.root) {
			return -1, inode{}, failBecause("is marked an ancestor but does not lie above its root %s: refused, and never opened", t.root)
		}
		fd, err = openat2(unix.AT_FDCWD, t.path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC,
			unix.RESOLVE_NO_SYMLINKS|unix.RESOLVE_NO_MAGICLINKS)
	} else {
		rel, ok := relBeneath(t.root, t.path)
		if !ok {
			return -1, inode{}, failBecause("lies outside its root %s: refused, and never opened", t.root)
		}
		fd, err = openBeneath(rootfd, rel)
	}
	if err != nil {
		return -1, inode{}, openRefusal(err)
	}
	in, err := fstatInode(fd)
	if err != nil {
		unix.Close(fd)
		return -1, inode{}, failBecause("cannot stat it: %v", err)
	}
	if r := rs.check(t, in); r != nil {
		unix.Close(fd)
		return -1, inode{}, r
	}
	return fd, in, nil
}

// check holds the opened inode against the one the audit saw. With O_PATH|O_NOFOLLOW a symlink in
// the last place opens as itself, so the symlink test here is what refuses it.
func (rs *rootSet) check(t target, in inode) *refusal {
	if in.typ == walk.TypeSymlink {
		return skipBecause(reasonIsSymlink)
	}
	if kind, ok := kindNames[in.typ]; ok {
		return skipBecause("is %s now: webperm changes only files and directories", kind)
	}
	if in.typ != t.typ {
		return skipBecause("changed since %s: a %s now has this name, not a %s", rs.since, typeWord(in.typ), typeWord(t.typ))
	}
	if in.dev != t.dev || in.ino != t.ino {
		return skipBecause("changed since %s: another %s now has this name", rs.since, typeWord(in.typ))
	}
	if in.typ == walk.TypeFile && in.nlink != 1 {
		return skipBecause("has %d hard links: a change would reach every name, some perhaps outside the root", in.nlink)
	}
	return nil
}

// change brings the open inode from its current state to want: the owner first, since a chown
// clears a regular file's setuid and setgid bits, then the mode, which puts them back. It checks
// the result with fstat.
func change(fd int, in inode, want State) *refusal {
	cur := in.state
	chowned := false
	if cur.UID != want.UID || cur.GID != want.GID {
		if err := sysFchownat(fd, "", int(want.UID), int(want.GID), unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return failBecause("cannot change its owner to %d:%d: %v; nothing was changed", want.UID, want.GID, err)
		}
		chowned = true
		reachCrashPoint(crashChowned)
		after, err := fstatInode(fd)
		if err != nil {
			return failBecause("changed its owner to %d:%d, then cannot stat it: %v; its mode is left as it was", want.UID, want.GID, err)
		}
		cur = after.state
	}
	if cur.Mode != want.Mode {
		if err := chmodFD(fd, want.Mode); err != nil {
			if chowned {
				return failBecause("changed its owner to %d:%d but cannot change its mode to %s: %v; it is left half changed",
					want.UID, want.GID, policy.OctalMode(want.Mode), err)
			}
			return failBecause("cannot change its mode to %s: %v; nothing was changed", policy.OctalMode(want.Mode), err)
		}
	}
	after, err := fstatInode(fd)
	if err != nil {
		return failBecause("changed it, then cannot stat it to check: %v", err)
	}
	if after.state != want {
		return failBecause("after the change it has %s, not %s", describeState(after.state), describeState(want))
	}
	return nil
}

// chmodFD sets the mode of the inode fd refers to. fchmodat2 (Linux 6.6) changes an O_PATH
// descriptor directly; older kernels cannot, and the descriptor's /proc/self/fd link, which
// names that very inode and no path, does it instead.
func chmodFD(fd int, m fs.FileMode) error {
	err := sysFchmodat(fd, "", policy.UnixMode(m), unix.AT_EMPTY_PATH)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		err = sysChmod(procFD(fd), policy.UnixMode(m))
		if err != nil {
			err = fmt.Errorf("through /proc/self/fd, as kernels before 6.6 need: %w", err)
		}
	}
	return err
}

// procFD names the inode fd refers to for the calls that take no descriptor, or no O_PATH
// one: the link names that very inode, and no path.
func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// capabilityOf returns the security.capability of fd's inode; nil where it has none, or one the
// kernel would ignore, which grants nothing.
func capabilityOf(fd int) ([]byte, error) {
	var buf [walk.CapabilityMaxSize]byte
	n, err := sysGetxattr(procFD(fd), walk.CapabilityXattr, buf[:])
	switch {
	case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.ERANGE):
		return nil, nil // ERANGE: larger than any valid vfs_cap_data
	case err != nil:
		return nil, err
	}
	if _, err := walk.ParseCapabilities(buf[:n]); err != nil {
		return nil, nil
	}
	return bytes.Clone(buf[:n]), nil
}

// setCapability gives fd's inode the capabilities caps, a vfs_cap_data.
func setCapability(fd int, caps []byte) error {
	return sysSetxattr(procFD(fd), walk.CapabilityXattr, caps, 0)
}

// removeCapability takes fd's inode's capabilities away, if it has any.
func removeCapability(fd int) error {
	err := sysRemovexattr(procFD(fd), walk.CapabilityXattr)
	if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) {
		return nil
	}
	return err
}

// describeState writes s for a reason: "mode 0644, owner 1000:1000".
func describeState(s State) string {
	return fmt.Sprintf("mode %s, owner %d:%d", policy.OctalMode(s.Mode), s.UID, s.GID)
}

// stateChange says how got differs from want: "mode 0644 is now 0600, owner 1000:1000 is now 0:0".
func stateChange(want, got State) string {
	var parts []string
	if want.Mode != got.Mode {
		parts = append(parts, fmt.Sprintf("mode %s is now %s", policy.OctalMode(want.Mode), policy.OctalMode(got.Mode)))
	}
	if want.UID != got.UID || want.GID != got.GID {
		parts = append(parts, fmt.Sprintf("owner %d:%d is now %d:%d", want.UID, want.GID, got.UID, got.GID))
	}
	return strings.Join(parts, ", ")
}
