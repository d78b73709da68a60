package walk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
)

// walkAll returns the relative paths a walk visits and the errors it reports, in order.
func walkAll(t *testing.T, fsys afero.Fs, root string, jobs int) (visited []string, errs []string) {
	t.Helper()
	w := &Walker{Fs: fsys, Jobs: jobs}
	err := w.Walk(context.Background(), root, Visitor{
		Entry: func(e Entry) { visited = append(visited, e.Rel) },
		Error: func(p string, err error) { errs = append(errs, fmt.Sprintf("%s: %v", p, err)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return visited, errs
}

func TestWalkOrder(t *testing.T) {
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, `
d 0755 0:0 .
d 0755 0:0 b
f 0644 0:0 b/z
d 0755 0:0 a
f 0644 0:0 a-b
d 0755 0:0 a/b
f 0644 0:0 a/b/c
f 0644 0:0 a/a
f 0644 0:0 A
`)
	got, _ := walkAll(t, fsys, root, 1)
	// Depth first, names in byte order: "a" and all below it come before "a-b", although a
	// plain sort of full paths would put "a-b" before "a/a".
	want := []string{".", "A", "a", "a/a", "a/b", "a/b/c", "a-b", "b", "b/z"}
	if !slices.Equal(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
}

// The number of workers changes the speed of a walk, never what it visits or in which order.
func TestWalkSameForAnyJobs(t *testing.T) {
	for _, fsName := range []string{"memfs", "osfs"} {
		t.Run(fsName, func(t *testing.T) {
			var fsys afero.Fs = fixture.NewMemFs()
			root := "/srv/site"
			if fsName == "osfs" {
				fsys, root = afero.NewOsFs(), filepath.Join(t.TempDir(), "site")
			}
			n := fixture.WideTree(t, fsys, root, 4, 3, 5)
			want, _ := walkAll(t, fsys, root, 1)
			if len(want) != n {
				t.Fatalf("one job visited %d entries, the tree has %d", len(want), n)
			}
			for _, jobs := range []int{2, 8, 64} {
				got, _ := walkAll(t, fsys, root, jobs)
				if !slices.Equal(got, want) {
					t.Errorf("--jobs %d visited a different sequence than --jobs 1", jobs)
				}
			}
		})
	}
}

// failingFs makes chosen paths fail, as unreadable directories and vanishing entries do.
type failingFs struct {
	afero.Fs
	openErr  map[string]error
	lstatErr map[string]error
}

func (f *failingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if err := f.openErr[name]; err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return f.Fs.OpenFile(name, flag, perm)
}

func (f *failingFs) LstatIfPossible(name string) (fs.FileInfo, bool, error) {
	if err := f.lstatErr[name]; err != nil {
		return nil, false, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	return f.Fs.(afero.Lstater).LstatIfPossible(name)
}

func TestWalkGoesOnPastErrors(t *testing.T) {
	mem := fixture.NewMemFs()
	root := fixture.Tree(t, mem, `
d 0755 0:0 .
d 0700 0:0 private
f 0644 0:0 private/secret.php
f 0644 0:0 broken.php
f 0644 0:0 gone.php
d 0755 0:0 public
f 0644 0:0 public/index.php
`)
	fsys := &failingFs{Fs: mem,
		openErr: map[string]error{root + "/private": syscall.EACCES},
		lstatErr: map[string]error{
			root + "/broken.php": syscall.EIO,
			root + "/gone.php":   syscall.ENOENT, // removed between readdir and lstat: not an error
		},
	}
	for _, jobs := range []int{1, 4} {
		visited, errs := walkAll(t, fsys, root, jobs)
		wantVisited := []string{".", "private", "public", "public/index.php"}
		wantErrs := []string{root + "/broken.php: input/output error", root + "/private: permission denied"}
		if !slices.Equal(visited, wantVisited) || !slices.Equal(errs, wantErrs) {
			t.Errorf("jobs %d: visited %q errors %q; want %q and %q", jobs, visited, errs, wantVisited, wantErrs)
		}
	}
}

func TestWalkNeverFollowsSymlinks(t *testing.T) {
	tmp := t.TempDir()
	outside := filepath.Join(tmp, "outside")
	if err := os.MkdirAll(filepath.Join(outside, "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "deep", "secret"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(tmp, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "dirlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(".", filepath.Join(root, "self")); err != nil {
		t.Fatal(err)
	}
	visited, errs := walkAll(t, afero.NewOsFs(), root, 4)
	if want := []string{".", "dirlink", "self"}; !slices.Equal(visited, want) || len(errs) != 0 {
		t.Errorf("visited %q errors %q; want %q", visited, errs, want)
	}
}

func TestWalkRootErrors(t *testing.T) {
	tmp := t.TempDir()
	f := filepath.Join(tmp, "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w := &Walker{Fs: afero.NewOsFs()}
	v := Visitor{Entry: func(Entry) { t.Error("visited an entry of a bad root") }, Error: func(string, error) {}}
	if err := w.Walk(context.Background(), filepath.Join(tmp, "missing"), v); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root: %v", err)
	}
	if err := w.Walk(context.Background(), f, v); !errors.Is(err, ErrNotDir) {
		t.Errorf("file root: %v", err)
	}
}

func TestWalkStopsWhenCancelled(t *testing.T) {
	fsys := fixture.NewMemFs()
	fixture.WideTree(t, fsys, "/srv/site", 3, 3, 3)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	w := &Walker{Fs: fsys, Jobs: 4}
	err := w.Walk(ctx, "/srv/site", Visitor{
		Entry: func(Entry) {
			if n++; n == 10 {
				cancel()
			}
		},
		Error: func(string, error) {},
	})
	if !errors.Is(err, context.Canceled) || n > 12 {
		t.Errorf("err %v after %d entries; want context.Canceled soon after the 10th", err, n)
	}
}

// The in-memory file system stands in for the real one in fast tests, so for any tree both can
// hold, both must yield the same entries.
func TestOsFsMatchesMemFs(t *testing.T) {
	manifest := `
d 0755 1000:1000 .
f 0644 1000:1000 index.php
f 0600 1000:33 wp-config.php
d 2775 1000:33 wp-content
d 0777 33:33 wp-content/uploads
f 0666 33:33 wp-content/uploads/a.jpg
f 4755 0:0 wp-content/run.cgi
d 1777 0:0 tmp
d 0711 1000:1000 blind
f 0444 1000:1000 blind/only-by-name.html
`
	if !asRoot {
		manifest = ownedBy(manifest, os.Getuid(), os.Getgid())
	}
	osRoot := fixture.Tree(t, afero.NewOsFs(), manifest)
	mem := fixture.NewMemFs()
	memRoot := fixture.Tree(t, mem, manifest)

	collect := func(fsys afero.Fs, root string) []Entry {
		var out []Entry
		w := &Walker{Fs: fsys, Jobs: 2}
		err := w.Walk(context.Background(), root, Visitor{
			Entry: func(e Entry) {
				e.Path = strings.TrimPrefix(e.Path, root)
				// Only the operating system names inodes: every entry has one there, none elsewhere.
				if _, isOS := fsys.(*afero.OsFs); isOS == (e.Ino == 0 || e.Nlink == 0) {
					t.Errorf("%s: inode %d with %d links on %T", e.Path, e.Ino, e.Nlink, fsys)
				}
				e.Dev, e.Ino, e.Nlink = 0, 0, 0
				out = append(out, e)
			},
			Error: func(p string, err error) { t.Errorf("%s: %v", p, err) },
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	osEntries, memEntries := collect(afero.NewOsFs(), osRoot), collect(mem, memRoot)
	if !slices.Equal(osEntries, memEntries) {
		t.Errorf("entries differ:\nosfs:  %+v\nmemfs: %+v", osEntries, memEntries)
	}
	if len(osEntries) != 10 {
		t.Errorf("%d entries, want 10", len(osEntries))
	}
}

// ownedBy rewrites every UID:GID of a manifest to uid:gid.
func ownedBy(manifest string, uid, gid int) string {
	var b strings.Builder
	for _, line := range strings.Split(manifest, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 {
			f[2] = fmt.Sprintf("%d:%d", uid, gid)
			line = strings.Join(f, " ")
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// A listing's item slice from the pools has room for its items and at most twice that, and
// comes back zeroed from one listing to the next: the pools hold no more than the listings in
// flight, and no entry of an old listing shows through a new one.
func TestItemPools(t *testing.T) {
	for _, n := range []int{0, 1, minItems, minItems + 1, 100, 1000, 4097, minItems << (len(itemPools) - 1), minItems<<(len(itemPools)-1) + 1} {
		items := newItems(n)
		if len(items) != 0 || cap(items) < n || n > minItems && cap(items) > 2*n {
			t.Errorf("newItems(%d): length %d, room for %d", n, len(items), cap(items))
		}
		for i := range n {
			items = append(items, item{entry: Entry{Path: fmt.Sprint(i)}, sub: &dirJob{}})
		}
		freeItems(items)
		again := newItems(n)
		for i, it := range again[:cap(again)] {
			if it != (item{}) {
				t.Fatalf("newItems(%d) after freeItems: item %d is %+v, want zero", n, i, it)
			}
		}
		freeItems(again)
	}
}
