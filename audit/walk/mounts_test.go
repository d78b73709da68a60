package walk

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
)

// walkMounts walks root as w says and returns the relative paths visited and the skips.
func walkMounts(t *testing.T, w *Walker, root string) (visited []string, skips []Skip) {
	t.Helper()
	err := w.Walk(context.Background(), root, Visitor{
		Entry:   func(e Entry) { visited = append(visited, e.Rel) },
		Error:   func(p string, err error) { t.Errorf("%s: %v", p, err) },
		Skipped: func(s Skip) { skips = append(skips, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return visited, skips
}

// A tree with proc and sysfs mounted in it: each mount point is visited as an entry (its mode
// and owner are checked) and listed as skipped, and nothing below it is visited, whatever the
// number of jobs; a plain directory beside them is walked.
func TestWalkSkipsPseudoFileSystems(t *testing.T) {
	root := fixture.Tree(t, afero.NewOsFs(), `
d 0755 0:0 .
d 0555 0:0 proc
d 0555 0:0 sys
d 0755 0:0 www
f 0644 0:0 www/index.html
`)
	fixture.Mount(t, "proc", filepath.Join(root, "proc"))
	fixture.Mount(t, "sysfs", filepath.Join(root, "sys"))
	for _, jobs := range []int{1, 4} {
		visited, skips := walkMounts(t, &Walker{Fs: afero.NewOsFs(), Jobs: jobs}, root)
		if want := []string{".", "proc", "sys", "www", "www/index.html"}; !slices.Equal(visited, want) {
			t.Errorf("jobs %d: visited %q, want %q", jobs, visited, want)
		}
		want := []Skip{
			{Path: filepath.Join(root, "proc"), FsType: "proc", Reason: SkipPseudo},
			{Path: filepath.Join(root, "sys"), FsType: "sysfs", Reason: SkipPseudo},
		}
		if !slices.Equal(skips, want) {
			t.Errorf("jobs %d: skipped %+v, want %+v", jobs, skips, want)
		}
	}
}

// A pseudo file system named as the root is walked: the user asked for it. The walk is stopped
// after a few entries, since all of /proc is large.
func TestWalkEntersPseudoRoot(t *testing.T) {
	dir := t.TempDir()
	fixture.Mount(t, "proc", dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var below []string
	err := (&Walker{Fs: afero.NewOsFs(), Jobs: 1}).Walk(ctx, dir, Visitor{
		Entry: func(e Entry) {
			if e.Rel != "." {
				below = append(below, e.Rel)
			}
			if len(below) >= 5 {
				cancel()
			}
		},
		Error:   func(string, error) {},
		Skipped: func(s Skip) { t.Errorf("skipped %+v below a proc root", s) },
	})
	if err != nil && err != context.Canceled {
		t.Fatal(err)
	}
	if len(below) == 0 {
		t.Error("a proc mount named as the root was not entered")
	}
}

// --one-file-system: a tmpfs mounted in the tree is visited, not entered, and skipped as another
// file system; without it, the tmpfs is walked like any directory.
func TestWalkOneFileSystem(t *testing.T) {
	root := fixture.Tree(t, afero.NewOsFs(), `
d 0755 0:0 .
d 0755 0:0 cache
f 0644 0:0 index.html
`)
	cache := filepath.Join(root, "cache")
	fixture.Mount(t, "tmpfs", cache)
	if err := os.WriteFile(filepath.Join(cache, "page.html"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	visited, skips := walkMounts(t, &Walker{Fs: afero.NewOsFs(), Jobs: 2}, root)
	if want := []string{".", "cache", "cache/page.html", "index.html"}; !slices.Equal(visited, want) || len(skips) != 0 {
		t.Errorf("without --one-file-system: visited %q, skipped %+v; want %q and no skip", visited, skips, want)
	}
	visited, skips = walkMounts(t, &Walker{Fs: afero.NewOsFs(), Jobs: 2, OneFileSystem: true}, root)
	if want := []string{".", "cache", "index.html"}; !slices.Equal(visited, want) {
		t.Errorf("--one-file-system: visited %q, want %q", visited, want)
	}
	if want := []Skip{{Path: cache, FsType: "tmpfs", Reason: SkipOtherFs}}; !slices.Equal(skips, want) {
		t.Errorf("--one-file-system: skipped %+v, want %+v", skips, want)
	}
}

// Container runtimes' layer stores are skipped by their system path, wherever --root puts the
// system, without a mount: their entries are containers' files.
func TestWalkSkipsContainerLayers(t *testing.T) {
	if !asRoot {
		t.Skip("statfs of the store needs no root, but the fixture's owners do")
	}
	sys := fixture.Tree(t, afero.NewOsFs(), `
d 0755 0:0 .
d 0755 0:0 var
d 0755 0:0 var/lib
d 0710 0:0 var/lib/docker
d 0710 0:0 var/lib/docker/overlay2
d 0755 0:0 var/lib/docker/overlay2/abc
d 0755 0:0 var/lib/docker/overlay2/abc/diff
f 0644 0:0 var/lib/docker/overlay2/abc/diff/index.php
d 0755 0:0 var/lib/docker/volumes
`)
	visited, skips := walkMounts(t, &Walker{Fs: afero.NewOsFs(), Jobs: 1, SysRoot: sys}, sys)
	if want := []string{".", "var", "var/lib", "var/lib/docker", "var/lib/docker/overlay2", "var/lib/docker/volumes"}; !slices.Equal(visited, want) {
		t.Errorf("visited %q, want %q", visited, want)
	}
	if len(skips) != 1 || skips[0].Path != filepath.Join(sys, "var/lib/docker/overlay2") || skips[0].Reason != SkipContainer || skips[0].FsType == "" {
		t.Errorf("skipped %+v, want only var/lib/docker/overlay2 as container layers, with its file system", skips)
	}
}
