package walk

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// excludeTree has entries each exclusion of TestWalkExcludes covers and others it must not.
const excludeTree = `
d 0755 0:0 .
d 0755 0:0 a
d 0755 0:0 a/b
d 0755 0:0 a/b/cache
f 0666 0:0 a/b/cache/hidden.php
f 0644 0:0 a/cache
f 0644 0:0 a/error.log
d 0755 0:0 a/tmp
f 0644 0:0 a/tmp/kept
d 0755 0:0 cache
d 0755 0:0 cache/deep
f 0666 0:0 cache/deep/world-writable.php
f 0644 0:0 index.php
d 0755 0:0 tmp
f 0644 0:0 tmp/x
`

// walkExcluding walks root with exclusions, and returns what it visited, what it left out, and
// every path Exclude was asked about, in walk order.
func walkExcluding(t *testing.T, fsys afero.Fs, root string, jobs int, globs ...string) (visited, excluded, asked []string) {
	t.Helper()
	var exclusions []policy.Exclusion
	for _, g := range globs {
		exclusions = append(exclusions, policy.Exclusion{Glob: g})
	}
	x := policy.NewExcluder(exclusions)
	var mu sync.Mutex // Exclude is asked from every goroutine that reads
	w := &Walker{Fs: fsys, Jobs: jobs, Exclude: func(rel, path string, isDir bool) bool {
		if filepath.Join(root, rel) != path {
			t.Errorf("Exclude asked about %q as %q", path, rel)
		}
		mu.Lock()
		asked = append(asked, rel)
		mu.Unlock()
		return x.Excludes(rel, path, isDir)
	}}
	err := w.Walk(context.Background(), root, Visitor{
		Entry:    func(e Entry) { visited = append(visited, e.Rel) },
		Error:    func(p string, err error) { t.Errorf("%s: %v", p, err) },
		Excluded: func(p string) { excluded = append(excluded, strings.TrimPrefix(p, root+"/")) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return visited, excluded, asked
}

// An excluded entry is neither visited nor, for a directory, entered: nothing below it is read,
// whichever reader lists the directories.
func TestWalkExcludes(t *testing.T) {
	globs := []string{"cache/", "./tmp", "*.log"}
	wantVisited := []string{".", "a", "a/b", "a/cache", "a/tmp", "a/tmp/kept", "index.php"}
	wantExcluded := []string{"a/b/cache", "a/error.log", "cache", "tmp"}
	osTree := fixture.Tree(t, afero.NewOsFs(), excludeTree)
	memFs := fixture.NewMemFs()
	memTree := fixture.Tree(t, memFs, excludeTree)
	for _, tt := range []struct {
		name string
		fsys afero.Fs
		root string
		fast bool
	}{
		{"descriptors", afero.NewOsFs(), osTree, true},
		{"generic on the OS", afero.NewOsFs(), osTree, false},
		{"BasePathFs", afero.NewBasePathFs(afero.NewOsFs(), filepath.Dir(osTree)), "/site", true},
		{"MemMapFs", memFs, memTree, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func(was bool) { fastDirs = was }(fastDirs)
			fastDirs = tt.fast
			visited, excluded, asked := walkExcluding(t, tt.fsys, tt.root, 1, globs...)
			if !slices.Equal(visited, wantVisited) || !slices.Equal(excluded, wantExcluded) {
				t.Errorf("visited %q and excluded %q, want %q and %q", visited, excluded, wantVisited, wantExcluded)
			}
			for _, rel := range asked {
				if rel == "." || strings.HasPrefix(rel, "cache/") || strings.HasPrefix(rel, "tmp/") || strings.HasPrefix(rel, "a/b/cache/") {
					t.Errorf("Exclude was asked about %q: the root, or below an excluded directory, which must not be read", rel)
				}
			}
			for _, jobs := range []int{2, 8} {
				v, x, _ := walkExcluding(t, tt.fsys, tt.root, jobs, globs...)
				if !slices.Equal(v, visited) || !slices.Equal(x, excluded) {
					t.Errorf("jobs %d visited %q and excluded %q", jobs, v, x)
				}
			}
		})
	}
}

// An entry that cannot be stat'ed is matched as a directory: cache/ leaves out a broken cache
// without an error, and a broken file no glob names is still an error.
func TestWalkExcludesUnstatable(t *testing.T) {
	mem := fixture.NewMemFs()
	root := fixture.Tree(t, mem, "d 0755 0:0 .\nd 0755 0:0 cache\nf 0644 0:0 other\n")
	fsys := &failingFs{Fs: mem, lstatErr: map[string]error{root + "/cache": syscall.EIO, root + "/other": syscall.EIO}}
	x := policy.NewExcluder([]policy.Exclusion{{Glob: "cache/"}})
	var excluded, errs []string
	w := &Walker{Fs: fsys, Jobs: 1, Exclude: x.Excludes}
	err := w.Walk(context.Background(), root, Visitor{
		Entry:    func(Entry) {},
		Error:    func(p string, err error) { errs = append(errs, p) },
		Excluded: func(p string) { excluded = append(excluded, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(excluded, []string{root + "/cache"}) || !slices.Equal(errs, []string{root + "/other"}) {
		t.Errorf("excluded %q and errors %q, want the cache excluded and other an error", excluded, errs)
	}
}
