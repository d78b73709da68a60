package walk

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/afero"
)

// LinkDest is what a symlink leads to, looked up read-only at the stat boundary: every link on
// the way resolved as the kernel would, inside the audited system's root.
type LinkDest struct {
	Path  string  // the target's real path, every link resolved
	Entry Entry   // the target itself, never a link
	Dirs  []Entry // the directories from the system's root down to the target's parent, in order
}

// MaxSymlinks is the kernel's limit on the links one lookup follows (MAXSYMLINKS): past it, a
// path is ELOOP. Every resolution webperm makes itself stops there too.
const MaxSymlinks = 40

// linkDirs keeps the directories links go through, examined once for every link that goes
// through them.
type linkDirs interface {
	get(dir string) (Entry, bool)
	put(dir string, e Entry)
}

// DirCache keeps the directories a few links go through, for one goroutine: what a caller
// following links on its own (explain, Follow) gives.
type DirCache map[string]Entry

func (c DirCache) get(dir string) (Entry, bool) { e, ok := c[dir]; return e, ok }
func (c DirCache) put(dir string, e Entry)      { c[dir] = e }

// maxSharedDirs bounds a walk's sharedDirs: past it, they are forgotten and examined again.
const maxSharedDirs = 4096

// sharedDirs keeps the directories every link of one walk goes through, for all of its readers:
// a tree's links mostly lead to the same few places, whose every directory up from / would
// otherwise be examined again for each directory holding links.
type sharedDirs struct {
	mu   sync.Mutex
	dirs map[string]Entry
}

func (c *sharedDirs) get(dir string) (Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.dirs[dir]
	return e, ok
}

func (c *sharedDirs) put(dir string, e Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirs == nil || len(c.dirs) >= maxSharedDirs {
		c.dirs = map[string]Entry{}
	}
	c.dirs[dir] = e
}

// followLink looks up where the symlink at link (whose own directory is a real path) leads,
// without changing anything: absolute targets and ".." stay inside sysroot ("" or "/": the
// host's root), as they would for a server chrooted there. It returns nil where the target cannot
// be reached (missing, a loop, unreadable on the way) or the backend has no symlinks, and what
// became of the target. Extended attributes are read only where xattrs is set.
func followLink(fsys afero.Fs, link, sysroot string, cache linkDirs, xattrs bool) (*LinkDest, Target) {
	lr, ok := fsys.(afero.LinkReader)
	if !ok {
		return nil, TargetUnchecked
	}
	root := "/"
	if sysroot != "" {
		root = filepath.Clean(sysroot)
	}
	cur, t := ResolveWithin(fsys, lr, root, filepath.Dir(link), []string{filepath.Base(link)}, nil)
	if t != TargetExists {
		return nil, t
	}
	e, _, err := examine(fsys, cur, "", nil, xattrs, nil)
	if err != nil || e.Type == TypeSymlink {
		return nil, TargetUnchecked
	}
	d := &LinkDest{Path: cur, Entry: e}
	for _, dir := range PathTo(filepath.Dir(cur)) {
		if !Within(dir, root) {
			continue
		}
		de, ok := cache.get(dir)
		if !ok {
			if de, _, err = examine(fsys, dir, "", nil, xattrs, nil); err != nil {
				return nil, TargetExists
			}
			cache.put(dir, de)
		}
		d.Dirs = append(d.Dirs, de)
	}
	return d, TargetExists
}

// ResolveWithin looks up the path made of rest's names, from the real directory cur on, as the
// kernel would for a process chrooted at root: every link followed, absolute targets and ".."
// kept inside root. A link is followed only where linkDir, unless nil, takes the real directory
// it is in. It returns the real path, or what stopped it.
func ResolveWithin(fsys afero.Fs, lr afero.LinkReader, root, cur string, rest []string, linkDir func(dir string) bool) (string, Target) {
	for hops := 0; len(rest) > 0; {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			if cur != root {
				cur = filepath.Dir(cur)
			}
			continue
		}
		next := filepath.Join(cur, name)
		fi, err := Lstat(fsys, next)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", TargetMissing
		case err != nil:
			return "", TargetUnchecked
		}
		switch t := TypeOf(fi.Mode()); {
		case t == TypeSymlink:
			if hops++; hops > MaxSymlinks {
				return "", TargetLoop
			}
			if linkDir != nil && !linkDir(cur) {
				return "", TargetUnchecked
			}
			target, err := lr.ReadlinkIfPossible(next)
			if err != nil || target == "" {
				return "", TargetUnchecked
			}
			if filepath.IsAbs(target) {
				cur = root
			}
			rest = append(strings.Split(target, "/"), rest...)
		case len(rest) > 0 && t != TypeDir:
			return "", TargetMissing // a file in the middle of the path: ENOTDIR
		default:
			cur = next
		}
	}
	if !Within(cur, root) {
		return "", TargetUnchecked
	}
	return cur, TargetExists
}
