package safefile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// WriteFile puts data at path for a reader to find whole:
//
//   - the names of the standard streams and of inherited descriptors (Descriptor) write to the
//     descriptor, as a shell redirection would;
//   - nothing or a regular file at path, whoever owns it and whatever its mode: a new file of the
//     running user's with mode perm takes its place atomically, never keeping the old one's mode;
//   - a character device (/dev/null) is written through and stays in place, and so is a named
//     pipe or socket of the running user's or root's, once something reads it (ErrNoReader
//     otherwise: nothing waits forever);
//   - a symlink, directory, block device, or another user's pipe or socket, whose reader could
//     hand back something else in the file's place, is refused and left alone.
//
// As root, path must also be in a directory no one else controls (CheckDir).
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return WriteFunc(path, perm, Bytes(data))
}

// Content writes a file's content to w as it makes it; its error ends the write.
type Content func(w io.Writer) error

// Bytes is the content data holds.
func Bytes(data []byte) Content {
	return func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}
}

// WriteFunc is WriteFile for content written as it is made, such as a report larger than
// memory: a file at path is still replaced only once the content is whole, so an error part way
// leaves the old one. A socket gets the whole content in one message, as WriteFile sends it.
func WriteFunc(path string, perm fs.FileMode, data Content) error {
	if path == "" {
		return ErrEmptyPath
	}
	if fd, ok := Descriptor(path); ok {
		return writeDescriptor(fd, data)
	}
	if err := checkPlace(path); err != nil {
		return err
	}
	pfd, st, err := openPath(path, false)
	if errors.Is(err, unix.ENOENT) {
		return writeAtomic(path, data, perm)
	}
	if err != nil {
		return reason(err)
	}
	defer unix.Close(pfd)
	mode := fileMode(st)
	switch {
	case mode.IsRegular():
		return writeAtomic(path, data, perm)
	case mode&fs.ModeCharDevice != 0:
	case mode.Type() == fs.ModeNamedPipe || mode.Type() == fs.ModeSocket:
		if st.Uid != 0 && st.Uid != uint32(os.Geteuid()) {
			return &typeError{mode: mode, what: fmt.Sprintf("owned by uid %d: whoever reads it could put something else in the file's place, so webperm writes only to its own", st.Uid)}
		}
	case mode&fs.ModeSymlink != 0:
		return ErrSymlink
	default:
		return &typeError{mode: mode, what: "where webperm writes only a regular file, a character device or a named pipe"}
	}
	if mode.Type() == fs.ModeSocket {
		return writeSocket(pfd, data)
	}
	fd, err := reopen(pfd, path, unix.O_WRONLY|unix.O_NOCTTY|unix.O_NONBLOCK, st)
	if errors.Is(err, unix.ENXIO) {
		return ErrNoReader
	}
	if err != nil {
		return reason(err)
	}
	if err := setBlocking(fd); err != nil {
		unix.Close(fd)
		return err
	}
	return writeClose(os.NewFile(uintptr(fd), path), data)
}

// writeAtomic writes data to a new file of the running user's with mode perm beside path, makes
// it durable, and renames it over path: a reader sees the old file or the new one, never part of
// one, and rename replaces whatever entry is at path, a symlink included, without following it.
// The new file has no name until it is whole (O_TMPFILE, where the file system has it): webperm
// stopped while it writes, which may take as long as the report takes to make, leaves nothing.
func writeAtomic(path string, data Content, perm fs.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmpName := func() string {
		return filepath.Join(dir, "."+base+"."+strconv.FormatUint(uint64(rand.Uint32()), 36)+".tmp")
	}
	var (
		f   *os.File
		tmp string
		err error
	)
	if f, err = createUnnamed(dir, perm); err == nil {
		err = writeBuffered(f, data)
		if err == nil {
			err = f.Sync()
		}
		// Named only now, whole, and only for as long as the rename takes.
		if err == nil {
			for range 100 {
				tmp = tmpName()
				if err = unix.Linkat(unix.AT_FDCWD, procFD(int(f.Fd())), unix.AT_FDCWD, tmp, unix.AT_SYMLINK_FOLLOW); !errors.Is(err, unix.EEXIST) {
					break
				}
			}
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return reason(err)
		}
	} else {
		for range 100 {
			tmp = tmpName()
			if f, err = createNew(tmp, perm); !errors.Is(err, fs.ErrExist) {
				break
			}
		}
		if err != nil {
			return reason(err)
		}
		err = writeClose(f, data)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return reason(err)
	}
	return syncDir(dir)
}

// createUnnamed creates a file of the running user's with mode perm, whatever the umask, in dir,
// with no name (O_TMPFILE): linkat names it. It fails where the file system has no O_TMPFILE.
func createUnnamed(dir string, perm fs.FileMode) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), dir)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// CreateNew creates path, which must not exist (a symlink there counts), as a file of the running
// user's with mode perm, whatever the umask, and makes its name durable. As root, path must be in
// a directory no one else controls (CheckDir).
func CreateNew(path string, perm fs.FileMode) (*os.File, error) {
	if path == "" {
		return nil, ErrEmptyPath
	}
	if err := checkPlace(path); err != nil {
		return nil, err
	}
	f, err := createNew(path, perm)
	if err != nil {
		return nil, reason(err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// createNew creates path with O_EXCL and O_NOFOLLOW and sets perm with fchmod, since the umask
// may have taken bits from it.
func createNew(path string, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return f, nil
}

// checkPlace refuses, as root, a path in a directory someone else controls.
func checkPlace(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	return CheckDir(filepath.Dir(path))
}

// syncDir makes the names in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return reason(err)
	}
	defer d.Close()
	return reason(d.Sync())
}

// writeClose writes data to f, syncs what can be synced, and closes it.
func writeClose(f *os.File, data Content) error {
	err := writeBuffered(f, data)
	// A regular file must reach the disk; a device or pipe may not support fsync, and need not.
	if err == nil {
		if fi, serr := f.Stat(); serr == nil && fi.Mode().IsRegular() {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return reason(err)
}

// writeDescriptor writes data to the inherited descriptor fd, which stays open.
func writeDescriptor(fd int, data Content) error {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EBADF) {
			return fmt.Errorf("descriptor %d is not open", fd)
		}
		return err
	}
	f := os.NewFile(uintptr(dup), "/dev/fd/"+strconv.Itoa(fd))
	err = writeBuffered(f, data)
	f.Close()
	return reason(err)
}

// writeBuffered writes data to w in large writes.
func writeBuffered(w io.Writer, data Content) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := data(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// writeSocket sends data to the listening socket pathfd refers to, connecting through
// /proc/self/fd so that it reaches the socket that was looked at.
func writeSocket(pathfd int, data Content) error {
	// A datagram is one write: the content is made whole first.
	var whole bytes.Buffer
	if err := data(&whole); err != nil {
		return err
	}
	data = Bytes(whole.Bytes())
	var err error
	for _, typ := range []int{unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET} {
		var s int
		if s, err = unix.Socket(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0); err != nil {
			return err
		}
		if err = unix.Connect(s, &unix.SockaddrUnix{Name: procFD(pathfd)}); err == nil {
			return writeClose(os.NewFile(uintptr(s), "socket"), data)
		}
		unix.Close(s)
		if !errors.Is(err, unix.EPROTOTYPE) {
			break
		}
	}
	return err
}
