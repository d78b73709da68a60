package safefile

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"os"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"
)

// OpenRegular opens path for reading if it is a regular file of at most limit bytes, looking
// before it opens: a FIFO, device, socket or directory is refused without being opened, so
// nothing blocks and no device acts on an open. With follow false a symlink at path is refused
// too. The caller reads what it needs with ReadAll.
func OpenRegular(path string, limit int64, follow bool) (*os.File, error) {
	return openRegular(path, limit, follow, "")
}

// openRegular is OpenRegular, taking a file of the kernel's file system kernelFS too ("proc"
// for /proc/<pid>/status; "" for none).
func openRegular(path string, limit int64, follow bool, kernelFS string) (*os.File, error) {
	pfd, st, err := openPath(path, follow)
	if err != nil {
		return nil, reason(err)
	}
	defer unix.Close(pfd)
	if err := checkRegular(fileMode(st), st.Size, limit); err != nil {
		return nil, err
	}
	if err := checkOnDisk(pfd, kernelFS); err != nil {
		return nil, err
	}
	fd, err := reopen(pfd, path, unix.O_RDONLY|unix.O_NOCTTY, st)
	if err != nil {
		return nil, reason(err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// ReadRegular reads the whole of path, following symlinks, if it is a regular file of at most
// limit bytes (OpenRegular).
func ReadRegular(path string, limit int64) ([]byte, error) {
	f, err := OpenRegular(path, limit, true)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, limit)
}

// ReadProcFs reads path from fsys as ReadFs does, but takes a file of /proc too: a process's
// status file, which webperm reads to tell who the web server's workers run as.
func ReadProcFs(fsys afero.Fs, path string, limit int64) ([]byte, error) {
	if _, ok := fsys.(*afero.OsFs); !ok {
		return ReadFs(fsys, path, limit)
	}
	f, err := openRegular(path, limit, true, "proc")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, limit)
}

// ReadFs reads path from fsys as ReadRegular does. The host's file system (afero.OsFs) is read
// with ReadRegular; another backend, such as a test's memory, is asked with Stat and then read.
func ReadFs(fsys afero.Fs, path string, limit int64) ([]byte, error) {
	if _, ok := fsys.(*afero.OsFs); ok {
		return ReadRegular(path, limit)
	}
	f, err := openFs(fsys, path, limit, true)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, limit)
}

// OpenFs opens path on fsys for reading as OpenRegular does, for a caller that reads parts of a
// large file where it needs them (ReadAt) instead of the whole: the host's file system
// (afero.OsFs) is opened with OpenRegular, another backend asked with Stat (Lstat where follow is
// false) and then opened.
func OpenFs(fsys afero.Fs, path string, limit int64, follow bool) (afero.File, error) {
	if _, ok := fsys.(*afero.OsFs); ok {
		f, err := OpenRegular(path, limit, follow)
		if err != nil {
			return nil, err // no typed nil *os.File in the interface
		}
		return f, nil
	}
	return openFs(fsys, path, limit, follow)
}

// openFs opens path on fsys, a backend other than the host's, if it is a regular file of at most
// limit bytes. With follow false a symlink is refused where the backend can tell one.
func openFs(fsys afero.Fs, path string, limit int64, follow bool) (afero.File, error) {
	if path == "" {
		return nil, ErrEmptyPath
	}
	var fi fs.FileInfo
	var err error
	if l, ok := fsys.(afero.Lstater); ok && !follow {
		fi, _, err = l.LstatIfPossible(path)
	} else {
		fi, err = fsys.Stat(path)
	}
	if err != nil {
		return nil, reason(err)
	}
	if err := checkRegular(fi.Mode(), fi.Size(), limit); err != nil {
		return nil, err
	}
	f, err := fsys.Open(path)
	if err != nil {
		return nil, reason(err)
	}
	return f, nil
}

// ReadAll reads r to its end, but no more than limit bytes: a file that grew past it while read
// is refused as too large.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, reason(err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(limit)
	}
	return data, nil
}

// kernelFileSystems are the file systems whose regular files are the kernel's interfaces, not
// data: reading one can block (/proc/kmsg), consume what it reads or act.
var kernelFileSystems = map[int64]string{
	unix.PROC_SUPER_MAGIC: "proc", unix.SYSFS_MAGIC: "sysfs", unix.DEBUGFS_MAGIC: "debugfs",
	unix.TRACEFS_MAGIC: "tracefs", unix.SECURITYFS_MAGIC: "securityfs",
}

// checkOnDisk refuses the file pathfd refers to where it is one of the kernel's
// (kernelFileSystems), unless of the file system named allowed.
func checkOnDisk(pathfd int, allowed string) error {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(pathfd, &sfs); err != nil {
		return err
	}
	if name, ok := kernelFileSystems[int64(sfs.Type)]; ok && name != allowed {
		return &kernelFileError{fs: name}
	}
	return nil
}

// kernelFileError refuses a regular file of the kernel's.
type kernelFileError struct{ fs string }

func (e *kernelFileError) Error() string {
	return "a file of the kernel's " + e.fs + " file system, not a file on disk: webperm reads only regular files on disk"
}
func (e *kernelFileError) Is(err error) bool { return err == ErrNotRegular }

func checkRegular(mode fs.FileMode, size, limit int64) error {
	if !mode.IsRegular() {
		return &typeError{mode: mode, what: "not a regular file: webperm reads only regular files"}
	}
	if size > limit {
		return tooLarge(limit)
	}
	return nil
}

// reason drops the operation and path an *fs.PathError repeats: callers name the path.
func reason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ReadHead reads at most the first limit bytes of path, which must be a regular file; a larger
// file is not refused, only read no further. It never follows a symlink at path and looks before
// it opens, as OpenRegular does: the audit reads what files of the audited tree hold this way,
// and what a hostile user put there must neither block it nor lead it elsewhere.
func ReadHead(path string, limit int64) ([]byte, error) {
	f, err := openRegular(path, math.MaxInt64, false, "")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readHead(f, limit)
}

// ReadHeadFs is ReadHead on fsys: the host's file system (afero.OsFs) is read with ReadHead;
// another backend is asked with Lstat where it can, then read.
func ReadHeadFs(fsys afero.Fs, path string, limit int64) ([]byte, error) {
	if _, ok := fsys.(*afero.OsFs); ok {
		return ReadHead(path, limit)
	}
	f, err := openFs(fsys, path, math.MaxInt64, false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readHead(f, limit)
}

// readHead reads r up to limit bytes.
func readHead(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return nil, reason(err)
	}
	return data, nil
}
