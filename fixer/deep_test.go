package fixer

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// deepDirs makes depth directories named dir00001... below root, one in the other, from
// descriptors (their full path is longer than PATH_MAX), and a file 0666 in the last; it returns
// the file's path.
func deepDirs(t *testing.T, root string, depth int) string {
	t.Helper()
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	parts := []string{root}
	for i := range depth {
		name := fmt.Sprintf("dir%05d", i+1)
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
		parts = append(parts, name)
	}
	defer unix.Close(fd)
	dirfd, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dirfd)
	f, err := unix.Openat(dirfd, "index.php", unix.O_CREAT|unix.O_WRONLY|unix.O_EXCL, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(f)
	if err := unix.Fchmodat(dirfd, "index.php", 0o666, 0); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(append(parts, "index.php")...)
}

// deepStat stats p, below root, through a descriptor chain: its path is longer than PATH_MAX.
func deepStat(t *testing.T, root, p string) unix.Stat_t {
	t.Helper()
	rootfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rootfd)
	rel, _ := relBeneath(root, p)
	fd, err := openBeneath(rootfd, rel)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// A fix reaches a file far deeper than PATH_MAX allows a path, opening a run of directories at a
// time, and undo puts it back; a directory on the way swapped for a symlink stops it there.
func TestApplyBeyondPathMax(t *testing.T) {
	diskRequireRoot(t)
	root := filepath.Join(diskTempDir(t), "site")
	diskMkdir(t, root, mkState(0o755, 0, 0))
	file := deepDirs(t, root, 700)
	if len(file) <= unix.PathMax {
		t.Fatalf("the path is %d bytes, not beyond PATH_MAX", len(file))
	}
	st := deepStat(t, root, file)
	a := Action{Path: file, Root: root, Type: walk.TypeFile, Dev: st.Dev, Ino: st.Ino,
		Current: State{Mode: policy.FromUnix(st.Mode & 0o7777), UID: st.Uid, GID: st.Gid}}
	a.Target = a.Current
	a.Target.Mode = 0o644
	plan := &Plan{Roots: []Root{diskRoot(t, root)}, Actions: []Action{a}}
	h, entries := diskApply(t, plan, Options{})
	if got := deepStat(t, root, file).Mode & 0o7777; got != 0o644 {
		t.Errorf("mode after apply %o, want 0644", got)
	}
	got, report := collectUndo()
	if sum := Undo(h, entries, report); sum.Applied != 1 {
		t.Fatalf("undo: %+v %+v", sum, *got)
	}
	if got := deepStat(t, root, file).Mode & 0o7777; got != 0o666 {
		t.Errorf("mode after undo %o, want 0666", got)
	}

	// dir00500 becomes a link to a tree where the same names lead to another file.
	rel, _ := relBeneath(root, file)
	parts := strings.Split(rel, "/")
	rootfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rootfd)
	parent, err := openBeneath(rootfd, strings.Join(parts[:499], "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(parent)
	if err := unix.Renameat(parent, parts[499], parent, "moved"); err != nil {
		t.Fatal(err)
	}
	if err := unix.Symlinkat("moved", parent, parts[499]); err != nil {
		t.Fatal(err)
	}
	outcomes, collect := collectApply()
	if sum := Apply(plan, Options{Report: collect}); sum.Skipped != 1 {
		t.Errorf("apply through a swapped directory: %+v %+v, want it skipped", sum, *outcomes)
	}
}
