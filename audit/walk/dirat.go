package walk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/internal/safefile"
	"github.com/webperm/webperm/policy"
)

// The operating system's directories are read here, by descriptor: each directory is opened
// once, its names read with getdents64 in large batches, and each name examined from the
// directory's descriptor (fstatat, readlinkat, listxattrat and getxattrat), never by its full
// path. A directory is opened by name from its parent's descriptor, which the walk holds until
// each of its subdirectories is open (at most maxHeld at once), else by its path. The kernel
// looks up no path per entry nor, mostly, per directory, and a tree deeper than PATH_MAX is read
// to its bottom: a directory whose path is too long for one lookup, where its parent's
// descriptor is not held, is opened a run of components at a time beneath the walk's root
// (safefile.OpenBeneath). What it produces is exactly what readDir produces through afero for
// the same tree.

// fastDirs turns the descriptor reader on; tests turn it off to compare it with the generic one.
var fastDirs = true

// direntBuf is the size of one getdents64 batch: some 1,000 names of ordinary length.
const direntBuf = 32 << 10

var direntPool = sync.Pool{New: func() any { b := make([]byte, direntBuf); return &b }}

// dirLister examines the entries of one open directory: by name from its descriptor on the
// operating system's file system (fd >= 0), by path through afero elsewhere.
type dirLister struct {
	fsys  afero.Fs
	fd    int
	cname []byte // the name being examined, NUL-terminated for the system calls
}

// openListing opens j's directory and reads its entries' paths, each prefix (see childPrefix) and
// a name, in no order: d is nil when it could not be opened, and err says why; otherwise err says
// why reading stopped early, if it did, and d, whose descriptor the caller closes, examines each
// name.
func openListing(fsys afero.Fs, j *dirJob, prefix string) (d *dirLister, paths []string, err error) {
	if _, real := fsys.(*afero.OsFs); !real || !fastDirs {
		names, opened, err := readNames(fsys, j.path)
		if !opened {
			return nil, nil, err
		}
		paths = make([]string, len(names))
		for i, name := range names {
			paths[i] = prefix + name
		}
		return &dirLister{fsys: fsys, fd: -1}, paths, err
	}
	fd, err := openJob(j)
	if err != nil {
		return nil, nil, err
	}
	paths, err = readPathsAt(fd, prefix)
	return &dirLister{fsys: fsys, fd: fd}, paths, err
}

// openJob opens j's directory for reading, never through a symlink: by name from its parent's
// descriptor where the walk holds it, else by its path (openDirAt); not past maxWalkPath.
func openJob(j *dirJob) (int, error) {
	if len(j.path) > maxWalkPath {
		return -1, &tooDeepError{size: len(j.path)}
	}
	if p := j.parent; p != nil && p.fd >= 0 {
		return retryEINTR(func() (int, error) { return unix.Openat(p.fd, j.name, dirFlags, 0) })
	}
	return openDirAt(j.path, j.rel)
}

// childPrefix is what the path of an entry of dir is before its name: filepath.Join(dir, name)
// is childPrefix(dir) + name, for any name a directory holds, without a Clean for each.
func childPrefix(dir string) string {
	switch dir = filepath.Clean(dir); dir {
	case "/":
		return dir
	case ".":
		return ""
	}
	return dir + "/"
}

// examine is examine for name, whose path is path and rel, in d's directory.
func (d *dirLister) examine(name, path, rel string, scratch []byte, xattrs bool, exclude func(rel, path string, isDir bool) bool) (e Entry, attrErr, err error) {
	if d.fd < 0 {
		return examine(d.fsys, path, rel, scratch, xattrs, exclude)
	}
	d.cname = append(append(d.cname[:0], name...), 0)
	return examineAt(d.fd, name, &d.cname[0], path, rel, scratch, xattrs, exclude)
}

// childRel is rel/name, the path relative to the walk's root of p, name in the directory rel
// ("." for the root). It shares p's bytes where p ends with it: a deep tree's walk holds the
// paths of every level at once.
func childRel(p, rel, name string) string {
	if rel == "." {
		return name
	}
	n := len(rel) + 1 + len(name)
	if len(p) >= n {
		r := p[len(p)-n:]
		if r[:len(rel)] == rel && r[len(rel)] == '/' && r[len(rel)+1:] == name {
			return r
		}
	}
	return rel + "/" + name
}

// maxWalkPath is the longest path of a directory the walk enters, eight times PATH_MAX: the walk
// holds the path of every level it is below at once, so a tree as deep as anyone can make one
// (a user who may write anywhere in it) would take memory and time that grow with the square of
// its depth. A directory deeper is reported, not entered. A variable for tests.
var maxWalkPath = 8 * unix.PathMax

// tooDeepError is why a directory past maxWalkPath was not entered.
type tooDeepError struct{ size int }

func (e *tooDeepError) Error() string {
	return fmt.Sprintf("not entered: its path is %d bytes, past the %d bytes webperm walks", e.size, maxWalkPath)
}

func (e *tooDeepError) Unwrap() error { return unix.ENAMETOOLONG }

// dirFlags open a directory for reading its names, never through a symlink at the path's end.
const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC

// openDirAt opens dir for reading, never through a symlink at its end. A path the kernel would
// refuse as too long is opened beneath the walk's root, which dir is rel below, a run of
// components at a time and through no symlink at all.
func openDirAt(dir, rel string) (int, error) {
	if len(dir) < safefile.PathChunk || rel == "." || !strings.HasSuffix(dir, "/"+rel) {
		return retryEINTR(func() (int, error) { return unix.Open(dir, dirFlags, 0) })
	}
	root := strings.TrimSuffix(dir, "/"+rel)
	if root == "" {
		root = "/"
	}
	rootfd, err := retryEINTR(func() (int, error) {
		return unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return -1, err
	}
	defer unix.Close(rootfd)
	return safefile.OpenBeneath(rootfd, rel, dirFlags, nil)
}

// readPathsAt reads every name in the directory open as fd but "." and "..", in the kernel's
// order, and returns each with prefix before it: one string a name. On an error it returns the
// paths read so far.
func readPathsAt(fd int, prefix string) ([]string, error) {
	bp := direntPool.Get().(*[]byte)
	defer direntPool.Put(bp)
	buf := *bp
	var paths []string
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return paths, err
		}
		if n <= 0 {
			return paths, nil
		}
		paths = appendDirents(paths, buf[:n], prefix)
	}
}

// direntName is where a name begins in a struct linux_dirent64: after d_ino, d_off, d_reclen
// and d_type.
const direntName = int(unsafe.Offsetof(unix.Dirent{}.Name))

// appendDirents appends to paths prefix and the name of each entry in buf, what getdents64 read,
// but "." and "..", as unix.ParseDirent reads them.
func appendDirents(paths []string, buf []byte, prefix string) []string {
	for len(buf) > direntName {
		reclen := int(binary.NativeEndian.Uint16(buf[unsafe.Offsetof(unix.Dirent{}.Reclen):]))
		if reclen <= direntName || reclen > len(buf) {
			break
		}
		rec := buf[:reclen]
		buf = buf[reclen:]
		if binary.NativeEndian.Uint64(rec) == 0 {
			continue // no inode: a deleted entry
		}
		name := rec[direntName:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if string(name) == "." || string(name) == ".." {
			continue
		}
		paths = append(paths, prefix+string(name))
	}
	return paths
}

// examineAt is examine for name in the directory open as dirfd, whose path is path; cname is
// name with a NUL after it. xattrs false reads no ACL, label or capabilities (--no-xattrs).
func examineAt(dirfd int, name string, cname *byte, path, rel string, scratch []byte, xattrs bool, exclude func(rel, path string, isDir bool) bool) (e Entry, attrErr, err error) {
	var st unix.Stat_t
	if err := fstatat(dirfd, cname, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return Entry{Path: path, Rel: rel}, nil, err
	}
	e = entryOfStat(path, rel, &st)
	if exclude != nil && exclude(rel, path, e.Type == TypeDir) {
		return e, nil, errExcluded
	}
	if xattrs {
		attrErr = readAttrsFrom(attrSource{path: path, at: true, dirfd: dirfd, name: name, cname: cname}, &e, scratch)
	} else {
		e.XattrsUnread = true
	}
	if e.Type != TypeSymlink {
		return e, attrErr, nil
	}
	if e.LinkTarget, err = readlinkAt(dirfd, name); err != nil {
		return e, attrErr, fmt.Errorf("readlink: %w", err)
	}
	e.Target = targetOf(fstatat(dirfd, cname, &st, 0))
	return e, attrErr, nil
}

// typeOfIFMT maps stat's file type (S_IFMT, shifted down 12 bits) to an entry's type. A type
// Linux does not have is a file, as os.Lstat, which sets no type bit for it, has it.
var typeOfIFMT = [16]Type{
	unix.S_IFIFO >> 12: TypeFIFO, unix.S_IFCHR >> 12: TypeCharDevice, unix.S_IFDIR >> 12: TypeDir,
	unix.S_IFBLK >> 12: TypeBlockDevice, unix.S_IFREG >> 12: TypeFile,
	unix.S_IFLNK >> 12: TypeSymlink, unix.S_IFSOCK >> 12: TypeSocket,
}

// entryOfStat is NewEntry for what fstatat said, as os.Lstat would have made it.
func entryOfStat(path, rel string, st *unix.Stat_t) Entry {
	return Entry{
		Path: path, Rel: rel, Type: typeOfIFMT[st.Mode&unix.S_IFMT>>12],
		Mode: policy.FromUnix(st.Mode) & policy.ModeBits,
		UID:  st.Uid, GID: st.Gid, OwnerKnown: true,
		Dev: st.Dev, Ino: st.Ino, Nlink: st.Nlink,
	}
}

// fstatat is fstatat(2) of cname, a NUL-terminated name: unix.Fstatat would copy the name for
// each call.
func fstatat(dirfd int, cname *byte, st *unix.Stat_t, flags int) error {
	_, err := retryEINTR(func() (int, error) {
		_, _, errno := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(cname)),
			uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
		if errno != 0 {
			return 0, errno
		}
		return 0, nil
	})
	return err
}

func retryEINTR(call func() (int, error)) (int, error) {
	for {
		fd, err := call()
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readlinkAt reads the symlink name in dirfd, whatever its length, as os.Readlink does.
func readlinkAt(dirfd int, name string) (string, error) {
	for size := 128; ; size *= 2 {
		b := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, b)
		if err == unix.EINTR {
			size /= 2
			continue
		}
		if err != nil {
			return "", err
		}
		if n < size {
			return string(b[:n]), nil
		}
	}
}

// How extended attributes are read by name in a directory: with listxattrat and getxattrat
// (Linux 6.13), else through the directory's /proc/self/fd link, else by full path.
const (
	xattrAtSyscalls = iota + 1
	xattrAtProc
	xattrAtPath
)

var (
	xattrAtOnce sync.Once
	xattrAtWay  int
)

// xattrAt says how this kernel reads an attribute by name in a directory, asking it once.
func xattrAt() int {
	xattrAtOnce.Do(func() {
		if xattrAtWay != 0 {
			return // set by a test
		}
		xattrAtWay = xattrAtSyscalls
		if _, err := listxattrat(unix.AT_FDCWD, &[]byte("/\x00")[0], nil); err == unix.ENOSYS {
			xattrAtWay = xattrAtProc
			if _, err := unix.Llistxattr(procFd(0), nil); errors.Is(err, fs.ErrNotExist) {
				xattrAtWay = xattrAtPath
			}
		}
	})
	return xattrAtWay
}

func procFd(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// xattrArgs is the kernel's struct xattr_args (include/uapi/linux/xattr.h).
type xattrArgs struct {
	value uint64
	size  uint32
	flags uint32
}

// listAttrsAt is llistxattr for name in the directory dirfd; path names the same file.
func listAttrsAt(s attrSource, buf []byte) (int, error) {
	switch xattrAt() {
	case xattrAtSyscalls:
		return listxattrat(s.dirfd, s.cname, buf)
	case xattrAtProc:
		return unix.Llistxattr(procFd(s.dirfd)+"/"+s.name, buf)
	}
	return unix.Llistxattr(s.path, buf)
}

// getAttrAt is lgetxattr for name in the directory dirfd; path names the same file.
func getAttrAt(s attrSource, attr string, buf []byte) (int, error) {
	switch xattrAt() {
	case xattrAtSyscalls:
		return getxattrat(s.dirfd, s.cname, attr, buf)
	case xattrAtProc:
		return unix.Lgetxattr(procFd(s.dirfd)+"/"+s.name, attr, buf)
	}
	return unix.Lgetxattr(s.path, attr, buf)
}

// listxattrat is listxattrat(2) of cname, a NUL-terminated name, never following a symlink.
func listxattrat(dirfd int, cname *byte, buf []byte) (int, error) {
	var b unsafe.Pointer
	if len(buf) > 0 {
		b = unsafe.Pointer(&buf[0])
	}
	n, _, errno := unix.Syscall6(unix.SYS_LISTXATTRAT, uintptr(dirfd), uintptr(unsafe.Pointer(cname)),
		unix.AT_SYMLINK_NOFOLLOW, uintptr(b), uintptr(len(buf)), 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// getxattrat is getxattrat(2) of cname, a NUL-terminated name, never following a symlink.
func getxattrat(dirfd int, cname *byte, attr string, buf []byte) (int, error) {
	a, err := unix.BytePtrFromString(attr)
	if err != nil {
		return 0, err
	}
	args := xattrArgs{size: uint32(len(buf))}
	if len(buf) > 0 {
		args.value = uint64(uintptr(unsafe.Pointer(&buf[0])))
	}
	n, _, errno := unix.Syscall6(unix.SYS_GETXATTRAT, uintptr(dirfd), uintptr(unsafe.Pointer(cname)),
		unix.AT_SYMLINK_NOFOLLOW, uintptr(unsafe.Pointer(a)), uintptr(unsafe.Pointer(&args)), unsafe.Sizeof(args))
	runtime.KeepAlive(buf)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
