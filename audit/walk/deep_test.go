package walk

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/internal/fixture"
)

// deepLevels is how deep TestAuditBeyondPathMax's tree goes: its bottom's path is some 30 KB,
// seven times PATH_MAX.
const deepLevels = 5000

// deepTree makes levels directories one inside the other below a new root, each named
// "level", with a 0666 file and a link to it at the bottom, by descriptor (a path to the bottom is too long for
// any call), and returns the root and the path of the file.
func deepTree(t *testing.T, levels int) (root, bottom string) {
	t.Helper()
	root = filepath.Join(fixture.TempDir(t), "site")
	if err := unix.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range levels {
		if err := unix.Mkdirat(fd, "level", 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, "level", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	defer unix.Close(fd)
	file, err := unix.Openat(fd, "bottom.txt", unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(file)
	if err := unix.Fchmod(file, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := unix.Symlinkat("bottom.txt", fd, "link"); err != nil {
		t.Fatal(err)
	}
	return root, root + strings.Repeat("/level", levels) + "/bottom.txt"
}

// TestAuditBeyondPathMax audits a tree 5,000 levels deep to its bottom: every level is examined,
// and the world-writable file at the bottom is reported.
func TestAuditBeyondPathMax(t *testing.T) {
	if !fastDirs {
		t.Skip("the descriptor reader is off")
	}
	root, bottom := deepTree(t, deepLevels)
	if len(bottom) < 7*unix.PathMax {
		t.Fatalf("the bottom's path is only %d bytes", len(bottom))
	}
	start := time.Now()
	rep := Audit(t, root, 2)
	t.Logf("audited %d levels, %d bytes of path, in %v", deepLevels, len(bottom), time.Since(start))
	if want := deepLevels + 3; rep.Entries != want {
		t.Errorf("examined %d entries, want %d (the root, each level, the file, the link)", rep.Entries, want)
	}
	for _, e := range rep.Errors {
		t.Errorf("error at %d bytes of path: %v", len(e.Path), e.Err)
	}
	var found []string
	for _, f := range rep.Findings {
		if f.Path == bottom {
			found = append(found, f.Rule)
		}
	}
	if len(found) == 0 {
		t.Errorf("the 0666 file at the bottom has no finding; findings: %d", len(rep.Findings))
	}
	t.Logf("the bottom file's findings: %v", found)

	// Through afero, by full path, the walk stops where the path outgrows PATH_MAX.
	defer func() { fastDirs = true }()
	fastDirs = false
	if rep := Audit(t, root, 2); len(rep.Errors) == 0 || rep.Entries >= deepLevels {
		t.Errorf("the generic reader went %d entries deep without an error: the tree is not too deep for it", rep.Entries)
	}
}

// TestWalkStopsAtMaxWalkPath: a directory past the longest path the walk enters is reported and
// not entered, and the walk goes on.
func TestWalkStopsAtMaxWalkPath(t *testing.T) {
	defer func(was int) { maxWalkPath = was }(maxWalkPath)
	maxWalkPath = 2 * unix.PathMax
	root, _ := deepTree(t, 2000)
	entries, errs := walkEntries(t, root, true)
	deepest := ""
	for _, e := range entries {
		if len(e.Path) > len(deepest) {
			deepest = e.Path
		}
	}
	if len(deepest) <= maxWalkPath || len(deepest) > maxWalkPath+len("/level") {
		t.Errorf("the deepest entry seen has a path of %d bytes, want the first directory past %d", len(deepest), maxWalkPath)
	}
	want := fmt.Sprintf("%q: not entered: its path is %d bytes, past the 8192 bytes webperm walks", deepest, len(deepest))
	if len(errs) != 1 || errs[0] != want {
		t.Errorf("errors: %.200q, want one: %.200q", errs, want)
	}
}
