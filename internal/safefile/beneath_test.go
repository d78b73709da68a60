package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOpenBeneathDeep opens a directory 600 levels down, past PATH_MAX, for reading, and refuses
// one with a symlink on its way.
func TestOpenBeneathDeep(t *testing.T) {
	root := t.TempDir()
	rootfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rootfd)
	parts := make([]string, 600)
	fd, _ := unix.Dup(rootfd)
	for i := range parts {
		parts[i] = "level-00"
		if err := unix.Mkdirat(fd, parts[i], 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, parts[i], unix.O_PATH|unix.O_DIRECTORY, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	if err := unix.Mknodat(fd, "fifo", unix.S_IFIFO|0o600, 0); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	rel := strings.Join(parts, "/")
	if len(rel) <= unix.PathMax {
		t.Fatalf("path of %d bytes is not past PATH_MAX", len(rel))
	}
	dfd, err := OpenBeneath(rootfd, rel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, nil)
	if err != nil {
		t.Fatalf("open %d levels down: %v", len(parts), err)
	}
	var st unix.Stat_t
	err = unix.Fstatat(dfd, "fifo", &st, unix.AT_SYMLINK_NOFOLLOW)
	unix.Close(dfd)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Fatalf("the bottom directory holds no fifo: %v, mode %#o", err, st.Mode)
	}

	// A directory on the way, past the first run, swapped for a symlink to it.
	mid := filepath.Join(root, strings.Join(parts[:3], "/"))
	if err := os.Rename(mid, mid+".real"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(mid)+".real", mid); err != nil {
		t.Fatal(err)
	}
	_, err = OpenBeneath(rootfd, rel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, nil)
	if !errors.Is(err, unix.ELOOP) {
		t.Fatalf("open through a symlink: %v, want ELOOP", err)
	}
}
