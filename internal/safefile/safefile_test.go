package safefile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
	"golang.org/x/sys/unix"
)

// within fails t if call has not returned after a second: a read or write that blocks on a FIFO
// must fail the test, not hang it.
func within[T any](t *testing.T, call func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- call() }()
	select {
	case v := <-done:
		return v
	case <-time.After(time.Second):
		t.Fatal("still blocked after a second")
		panic("unreachable")
	}
}

type result struct {
	data []byte
	err  error
}

func (r result) values() ([]byte, error) { return r.data, r.err }

func mkfifo(t *testing.T, path string) string {
	t.Helper()
	if err := unix.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: " + why)
	}
}

// withoutProc makes reopen take the way of a system without /proc.
func withoutProc(t *testing.T) {
	old := procSelfFD
	procSelfFD = filepath.Join(t.TempDir(), "no-proc") + "/"
	t.Cleanup(func() { procSelfFD = old })
}

func TestReadRegularRefusesWhatIsNoRegularFile(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(regular, []byte("rules: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, bytes.Repeat([]byte("#\n"), 5<<19), 0o644); err != nil { // 5 MiB
		t.Fatal(err)
	}
	fifo := mkfifo(t, filepath.Join(dir, "fifo"))
	for _, proc := range []string{"with /proc", "without /proc"} {
		t.Run(proc, func(t *testing.T) {
			if proc == "without /proc" {
				withoutProc(t)
			}
			for _, tc := range []struct {
				path string
				want error
				text string
			}{
				{regular, nil, ""},
				{link, nil, ""},
				{fifo, ErrNotRegular, "a named pipe (FIFO), not a regular file: webperm reads only regular files"},
				{"/dev/zero", ErrNotRegular, "a character device, not a regular file"},
				// Regular by its type, but the kernel's: /proc/kmsg blocks, and consumes what it reads.
				{"/proc/self/status", ErrNotRegular, "a file of the kernel's proc file system, not a file on disk"},
				{dir, ErrNotRegular, "a directory, not a regular file"},
				{huge, ErrTooLarge, "larger than 4 MiB, the most webperm reads of it"},
				{"", ErrEmptyPath, "empty path"},
				{filepath.Join(dir, "missing"), fs.ErrNotExist, "no such file or directory"},
			} {
				got, err := within(t, func() result { b, err := ReadRegular(tc.path, PolicyLimit); return result{b, err} }).values()
				switch {
				case tc.want == nil && (err != nil || string(got) != "rules: []\n"):
					t.Errorf("%s: %q, %v", tc.path, got, err)
				case tc.want != nil && (!errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), tc.text)):
					t.Errorf("%s: error %v, want %q", tc.path, err, tc.text)
				}
			}
		})
	}
}

// OpenRegular without following refuses a symlink, as plans and journals are read.
func TestOpenRegularNoFollow(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(target, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenRegular(link, PlanLimit, false); !errors.Is(err, ErrNotRegular) || !errors.Is(err, ErrSymlink) {
		t.Errorf("a symlink opened without following: %v", err)
	}
	f, err := OpenRegular(target, PlanLimit, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if data, err := ReadAll(f, PlanLimit); err != nil || string(data) != "{}" {
		t.Errorf("read %q, %v", data, err)
	}
	if fl, _ := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0); fl&unix.O_ACCMODE != unix.O_RDONLY {
		t.Errorf("opened with flags %#x, want read only", fl)
	}
}

// ReadAll refuses a stream longer than the cap, however the file's size looked.
func TestReadAllCaps(t *testing.T) {
	if _, err := ReadAll(strings.NewReader("12345"), 4); !errors.Is(err, ErrTooLarge) {
		t.Errorf("5 bytes under a cap of 4: %v", err)
	}
	if data, err := ReadAll(strings.NewReader("1234"), 4); err != nil || string(data) != "1234" {
		t.Errorf("4 bytes under a cap of 4: %q, %v", data, err)
	}
}

// Another backend than the host's is asked with Stat before it is opened.
func TestReadFsMemory(t *testing.T) {
	fsys := afero.NewMemMapFs()
	if err := afero.WriteFile(fsys, "/etc/passwd", []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := afero.WriteFile(fsys, "/etc/group", make([]byte, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFs(fsys, "/etc/passwd", AccountsLimit); err != nil || !strings.HasPrefix(string(data), "root:") {
		t.Errorf("%q, %v", data, err)
	}
	for path, want := range map[string]error{"/etc": ErrNotRegular, "/etc/group": ErrTooLarge, "": ErrEmptyPath, "/nowhere": fs.ErrNotExist} {
		if _, err := ReadFs(fsys, path, 99); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", path, err, want)
		}
	}
	// The host's file system goes the O_PATH way: a FIFO is refused unopened.
	fifo := mkfifo(t, filepath.Join(t.TempDir(), "passwd"))
	if err := within(t, func() error { _, err := ReadFs(afero.NewOsFs(), fifo, AccountsLimit); return err }); !errors.Is(err, ErrNotRegular) {
		t.Errorf("a FIFO through OsFs: %v", err)
	}
}

// A file at the path, whoever's and whatever its mode, gives way to a new one of the running
// user's with the caller's mode, whatever the umask.
func TestWriteFileReplacesWithOwnMode(t *testing.T) {
	dir := t.TempDir() // before the umask, which would make it 0500
	old := unix.Umask(0o277)
	t.Cleanup(func() { unix.Umask(old) })
	path := filepath.Join(dir, "plan.sh")
	if err := WriteFile(path, []byte("one"), PrivateMode); err != nil {
		t.Fatal(err)
	}
	if st := fixture.Lstat(t, path); st.Mode&0o7777 != 0o600 || st.Uid != uint32(os.Geteuid()) {
		t.Errorf("new file: mode %04o uid %d, want 0600 and %d", st.Mode&0o7777, st.Uid, os.Geteuid())
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(path, 1001, 1001); err != nil {
			t.Fatal(err)
		}
	}
	was := fixture.Lstat(t, path).Ino
	if err := WriteFile(path, []byte("two"), ReportMode); err != nil {
		t.Fatal(err)
	}
	st := fixture.Lstat(t, path)
	if st.Mode&0o7777 != 0o644 || st.Uid != uint32(os.Geteuid()) || st.Ino == was {
		t.Errorf("replaced file: mode %04o uid %d ino %d (was %d), want 0644, %d, a new inode", st.Mode&0o7777, st.Uid, st.Ino, was, os.Geteuid())
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Errorf("holds %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Content that fails part way leaves the file that was there, and no temp file beside it: a
// report streamed to -o is whole or not written.
func TestWriteFuncFailingContent(t *testing.T) {
	dir := fixture.TempDir(t)
	path := filepath.Join(dir, "report.json")
	if err := os.WriteFile(path, []byte("yesterday's"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := errors.New("the findings could not be read back")
	err := WriteFunc(path, ReportMode, func(w io.Writer) error {
		w.Write(bytes.Repeat([]byte("x"), 200<<10)) // past any buffer: some of it reached the temp file
		return broken
	})
	if !errors.Is(err, broken) {
		t.Fatalf("WriteFunc: %v, want the content's error", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "yesterday's" {
		t.Errorf("the old file became %d bytes", len(got))
	}
	if names, _ := os.ReadDir(dir); len(names) != 1 {
		t.Errorf("left beside it: %v", names)
	}
	// Whole content replaces it.
	if err := WriteFunc(path, ReportMode, Bytes([]byte("today's"))); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "today's" {
		t.Errorf("got %q", got)
	}
}

func TestWriteFileRefuses(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]error{link: ErrSymlink, dir: ErrNotRegular, "": ErrEmptyPath} {
		if err := WriteFile(path, []byte("report"), ReportMode); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", path, err, want)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the symlink's target now holds %q", b)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced by %v", fi.Mode())
	}
}

// A block device is refused, not opened: its number names no driver, so nothing could be harmed
// even by a write.
func TestWriteFileRefusesBlockDevice(t *testing.T) {
	needRoot(t, "mknod")
	path := filepath.Join(t.TempDir(), "disk")
	if err := unix.Mknod(path, unix.S_IFBLK|0o600, int(unix.Mkdev(4095, 1048575))); err != nil {
		t.Skip("cannot make a block device here: ", err)
	}
	if err := WriteFile(path, []byte("x"), ReportMode); !errors.Is(err, ErrNotRegular) || !strings.HasPrefix(err.Error(), "a block device") {
		t.Errorf("%v", err)
	}
	if st := fixture.Lstat(t, path); st.Mode&unix.S_IFMT != unix.S_IFBLK {
		t.Errorf("the device node was replaced: mode %o", st.Mode)
	}
}

// Character devices are written through and stay devices; /dev/full says why it failed.
func TestWriteFileDevices(t *testing.T) {
	for _, proc := range []string{"with /proc", "without /proc"} {
		t.Run(proc, func(t *testing.T) {
			if proc == "without /proc" {
				withoutProc(t)
			}
			null, full := fixture.NullAndFull(t)
			if err := WriteFile(null, []byte("report"), ReportMode); err != nil {
				t.Errorf("/dev/null: %v", err)
			}
			if err := WriteFile(full, []byte("report"), ReportMode); !errors.Is(err, unix.ENOSPC) {
				t.Errorf("/dev/full: %v, want no space left on device", err)
			}
			for _, dev := range []string{null, full} {
				if st := fixture.Lstat(t, dev); st.Mode&unix.S_IFMT != unix.S_IFCHR {
					t.Errorf("%s is no longer a character device: mode %o", dev, st.Mode)
				}
			}
		})
	}
}

func TestWriteFileFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := mkfifo(t, filepath.Join(dir, "pipe"))
	// No reader: an error, at once.
	if err := within(t, func() error { return WriteFile(fifo, []byte("report"), ReportMode) }); !errors.Is(err, ErrNoReader) {
		t.Errorf("no reader: %v", err)
	}
	// A reader gets the whole report, and the FIFO stays.
	// O_RDWR opens it without waiting for a writer, and keeps reads from ending before one comes.
	r, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data := bytes.Repeat([]byte("x"), 200_000) // more than a pipe holds: the writer waits for the reader
	got := make(chan []byte)
	go func() {
		b := make([]byte, len(data))
		n, _ := io.ReadFull(r, b)
		got <- b[:n]
	}()
	if err := within(t, func() error { return WriteFile(fifo, data, ReportMode) }); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, data) {
		t.Errorf("the reader got %d bytes, want %d", len(b), len(data))
	}
	if st := fixture.Lstat(t, fifo); st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("the FIFO was replaced: mode %o", st.Mode)
	}
	// Another user's FIFO is refused: its reader could hand back anything in the plan's place.
	if os.Geteuid() == 0 {
		if err := os.Chown(fifo, 1001, 1001); err != nil {
			t.Fatal(err)
		}
		if err := within(t, func() error { return WriteFile(fifo, data, PrivateMode) }); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "owned by uid 1001") {
			t.Errorf("another user's FIFO: %v", err)
		}
	}
}

func TestWriteFileSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(c)
		c.Close()
		got <- b
	}()
	if err := within(t, func() error { return WriteFile(path, []byte("report"), ReportMode) }); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "report" {
		t.Errorf("the socket got %q", b)
	}
	if st := fixture.Lstat(t, path); st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		t.Errorf("the socket was replaced: mode %o", st.Mode)
	}
}

// As root, a directory someone else can change is no place to write.
func TestWriteFileDirectoryTrust(t *testing.T) {
	needRoot(t, "directories of another user")
	base := t.TempDir()
	mk := func(name string, mode fs.FileMode, uid int) string {
		d := filepath.Join(base, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, uid, uid); err != nil {
			t.Fatal(err)
		}
		return d
	}
	open := mk("open", 0o777, 0)
	sticky := mk("sticky", 0o777|fs.ModeSticky, 0)
	theirs := mk("theirs", 0o755, 1001)
	below := mk("open/below", 0o755, 0)
	linked := filepath.Join(base, "linked")
	if err := os.Symlink(mk("mine", 0o755, 0), linked); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(linked, 1001, 1001); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, want string }{
		{open, open + " is writable by others (mode 0777)"},
		{theirs, theirs + " is owned by uid 1001"},
		{below, open + " is writable by others (mode 0777)"},
		{linked, linked + " is owned by uid 1001"},
	} {
		err := WriteFile(filepath.Join(tc.dir, "report.txt"), []byte("r"), ReportMode)
		var de *DirError
		if !errors.As(err, &de) || err.Error() != tc.want {
			t.Errorf("%s: %v, want %q", tc.dir, err, tc.want)
		}
		if _, err := os.Lstat(filepath.Join(tc.dir, "report.txt")); err == nil {
			t.Errorf("%s: a report was written in it", tc.dir)
		}
	}
	// A sticky directory is fine: the temporary file is ours, and no one can rename it. A name
	// another user planted there is replaced, not written through.
	planted := filepath.Join(sticky, "report.txt")
	if err := os.Symlink("/etc/passwd", planted); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(planted, 1001, 1001); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(planted, []byte("r"), ReportMode); !errors.Is(err, ErrSymlink) {
		t.Errorf("a planted symlink: %v", err)
	}
	if err := os.Remove(planted); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(planted, []byte("r"), ReportMode); err != nil {
		t.Errorf("a sticky directory: %v", err)
	}
}

func TestCreateNew(t *testing.T) {
	dir := t.TempDir() // before the umask, which would make it 0500
	old := unix.Umask(0o277)
	t.Cleanup(func() { unix.Umask(old) })
	path := filepath.Join(dir, "journal.jsonl")
	f, err := CreateNew(path, PrivateMode)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if st := fixture.Lstat(t, path); st.Mode&0o7777 != 0o600 {
		t.Errorf("mode %04o, want 0600 whatever the umask", st.Mode&0o7777)
	}
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), link); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]error{path: fs.ErrExist, link: fs.ErrExist, "": ErrEmptyPath} {
		if _, err := CreateNew(p, PrivateMode); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", p, err, want)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("created through a dangling symlink")
	}
	// As root, a journal goes nowhere another user could swap it.
	if os.Geteuid() == 0 {
		open := filepath.Join(dir, "open")
		if err := os.Mkdir(open, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(open, 0o777); err != nil {
			t.Fatal(err)
		}
		var de *DirError
		if _, err := CreateNew(filepath.Join(open, "journal.jsonl"), PrivateMode); !errors.As(err, &de) || de.Path != open {
			t.Errorf("in a directory all may write: %v", err)
		}
	}
}

func TestDescriptor(t *testing.T) {
	for path, want := range map[string]int{"-": 1, "/dev/stdout": 1, "/dev/stderr": 2, "/dev/fd/7": 7, "/proc/self/fd/12": 12} {
		if fd, ok := Descriptor(path); !ok || fd != want {
			t.Errorf("%s: %d, %v; want %d", path, fd, ok, want)
		}
	}
	for _, path := range []string{"", "/dev/fd/", "/dev/fd/x", "/dev/fd/1/x", "/dev/null", "/proc/1/fd/1", "--", "/dev/fd/99999999999999999999"} {
		if fd, ok := Descriptor(path); ok {
			t.Errorf("%q names descriptor %d", path, fd)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := writeDescriptor(int(w.Fd()), Bytes([]byte("plan"))); err != nil {
		t.Fatal(err)
	}
	w.Close() // the descriptor must still be open for this to close it
	if b, _ := io.ReadAll(r); string(b) != "plan" {
		t.Errorf("read %q", b)
	}
	if err := writeDescriptor(999, Bytes([]byte("x"))); err == nil || err.Error() != "descriptor 999 is not open" {
		t.Errorf("a closed descriptor: %v", err)
	}
}

// Descriptor names a descriptor only for the standard streams' names and /dev/fd/N or
// /proc/self/fd/N, N written in decimal as the kernel lists it.
func FuzzDescriptor(f *testing.F) {
	for _, s := range []string{"-", "/dev/stdout", "/dev/stderr", "/dev/fd/3", "/proc/self/fd/0", "/dev/fd/+1", "/dev/fd/-1", "/dev/fd/00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		fd, ok := Descriptor(path)
		if !ok {
			return
		}
		if fd < 0 {
			t.Fatalf("%q names descriptor %d", path, fd)
		}
		switch path {
		case "-", "/dev/stdout", "/dev/stderr":
			return
		}
		n := strings.TrimPrefix(strings.TrimPrefix(path, "/dev/fd/"), "/proc/self/fd/")
		if n == path || strings.Trim(n, "0123456789") != "" {
			t.Fatalf("%q names descriptor %d", path, fd)
		}
	})
}

func TestReadHead(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	data := bytes.Repeat([]byte("0123456789abcdef"), 1024) // 16 KiB
	if err := os.WriteFile(big, data, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(big, link); err != nil {
		t.Fatal(err)
	}
	fifo := mkfifo(t, filepath.Join(dir, "fifo"))
	mem := afero.NewMemMapFs()
	if err := afero.WriteFile(mem, "/big", data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, fsys := range []afero.Fs{afero.NewOsFs(), mem} {
		name := fmt.Sprintf("%T", fsys)
		path := big
		if fsys == mem {
			path = "/big"
		}
		t.Run(name+"/capped", func(t *testing.T) {
			got, err := ReadHeadFs(fsys, path, 1000)
			if err != nil || !bytes.Equal(got, data[:1000]) {
				t.Fatalf("got %d bytes, %v; want the first 1000", len(got), err)
			}
		})
		t.Run(name+"/whole", func(t *testing.T) {
			got, err := ReadHeadFs(fsys, path, 64<<10)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("got %d bytes, %v; want all %d", len(got), err, len(data))
			}
		})
	}
	t.Run("symlink not followed", func(t *testing.T) {
		if _, err := ReadHead(link, 1000); !errors.Is(err, ErrSymlink) {
			t.Fatalf("err %v, want ErrSymlink", err)
		}
	})
	t.Run("fifo refused unopened", func(t *testing.T) {
		r := within(t, func() result { d, err := ReadHead(fifo, 1000); return result{d, err} })
		if _, err := r.values(); !errors.Is(err, ErrNotRegular) {
			t.Fatalf("err %v, want ErrNotRegular", err)
		}
	})
	t.Run("directory refused", func(t *testing.T) {
		if _, err := ReadHead(dir, 1000); !errors.Is(err, ErrNotRegular) {
			t.Fatalf("err %v, want ErrNotRegular", err)
		}
	})
}

// OpenFs opens a regular file within its cap for ReadAt, on the host's file system and another
// backend alike, and refuses what ReadRegular refuses: a symlink unless followed, a FIFO
// unopened, a file over the cap.
func TestOpenFs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "db")
	if err := os.WriteFile(file, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	fifo := mkfifo(t, filepath.Join(dir, "fifo"))
	mem := afero.NewMemMapFs()
	if err := afero.WriteFile(mem, file, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, fsys := range []afero.Fs{afero.NewOsFs(), mem} {
		f, err := OpenFs(fsys, file, 10, false)
		if err != nil {
			t.Fatalf("%T: %v", fsys, err)
		}
		buf := make([]byte, 3)
		if _, err := f.ReadAt(buf, 4); err != nil || string(buf) != "456" {
			t.Errorf("%T: ReadAt at 4 = %q, %v", fsys, buf, err)
		}
		f.Close()
		if _, err := OpenFs(fsys, file, 9, false); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%T: 10 bytes under a cap of 9: %v", fsys, err)
		}
		if _, err := OpenFs(fsys, "", 9, false); !errors.Is(err, ErrEmptyPath) {
			t.Errorf("%T: an empty path: %v", fsys, err)
		}
	}
	if _, err := OpenFs(afero.NewOsFs(), link, 10, false); !errors.Is(err, ErrSymlink) {
		t.Errorf("a symlink, not followed: %v", err)
	}
	if f, err := OpenFs(afero.NewOsFs(), link, 10, true); err != nil {
		t.Errorf("a symlink, followed: %v", err)
	} else {
		f.Close()
	}
	if err := within(t, func() error { _, err := OpenFs(afero.NewOsFs(), fifo, 10, true); return err }); !errors.Is(err, ErrNotRegular) {
		t.Errorf("a FIFO: %v", err)
	}
}
