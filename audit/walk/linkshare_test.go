package walk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/internal/fixture"
)

// Links in many directories, read by several workers at once that share the directories they go
// through, lead where a lookup of each on its own says: the same Dest, directories included.
func TestWalkSharesLinkDirs(t *testing.T) {
	root := filepath.Join(fixture.TempDir(t), "site")
	shared := filepath.Join(root, "shared", "config")
	if err := os.MkdirAll(shared, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shared, "app.php"), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		dir := filepath.Join(root, "releases", fmt.Sprint(i), "conf")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for link, target := range map[string]string{"app.php": "../../../shared/config/app.php", "config": "/" + shared[1:], "gone": "nowhere"} {
			if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
				t.Fatal(err)
			}
		}
	}
	links := 0
	w := &Walker{Fs: afero.NewOsFs(), Jobs: 4}
	err := w.Walk(context.Background(), root, Visitor{
		Entry: func(e Entry) {
			if e.Type != TypeSymlink {
				return
			}
			links++
			want, _ := followLink(afero.NewOsFs(), e.Path, "", DirCache{}, true)
			steadyAbove(e.Dest, root)
			steadyAbove(want, root)
			if !reflect.DeepEqual(e.Dest, want) {
				t.Errorf("%s leads to %+v, want %+v", e.Rel, e.Dest, want)
			}
			if gone := filepath.Base(e.Rel) == "gone"; gone != (e.Dest == nil) || !gone && len(e.Dest.Dirs) < 4 {
				t.Errorf("%s leads to %+v, want its target and every directory above it, or nowhere for gone", e.Rel, e.Dest)
			}
		},
		Error: func(p string, err error) { t.Errorf("%s: %v", p, err) },
	})
	if err != nil || links != 120 {
		t.Fatalf("walk: %v, %d links seen, want 120", err, links)
	}
}

// steadyAbove forgets the link counts of d's directories above root: other tests make and remove
// directories in the temp directory while this one runs, and a walk-wide cache sees a directory
// once where a lookup of its own sees it later.
func steadyAbove(d *LinkDest, root string) {
	if d == nil {
		return
	}
	for i := range d.Dirs {
		if !Within(d.Dirs[i].Path, root) {
			d.Dirs[i].Nlink = 0
		}
	}
}

// A walk's shared directories stay bounded however many a tree's links go through.
func TestSharedDirsBounded(t *testing.T) {
	var c sharedDirs
	for i := range 3 * maxSharedDirs {
		c.put(fmt.Sprintf("/d/%d", i), Entry{Path: fmt.Sprintf("/d/%d", i)})
		if len(c.dirs) > maxSharedDirs {
			t.Fatalf("%d directories kept, past %d", len(c.dirs), maxSharedDirs)
		}
	}
	last := fmt.Sprintf("/d/%d", 3*maxSharedDirs-1)
	if e, ok := c.get(last); !ok || e.Path != last {
		t.Errorf("the last directory put is not kept: %+v, %v", e, ok)
	}
}
