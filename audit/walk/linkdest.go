package walk

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

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

// DirCache keeps the directories one listing's links go through: links in one directory mostly
// lead to the same few places.
type DirCache map[string]Entry

// followLink looks up where the symlink at link (whose own directory is a real path) leads,
// without changing anything: absolute targets and ".." stay inside sysroot ("" or "/": the
// host's root), as they would for a server chrooted there. It returns nil where the target cannot
// be reached (missing, a loop, unreadable on the way) or the backend has no symlinks, and what
// became of the target. Extended attributes are read only where xattrs is set.
func followLink(fsys afero.Fs, link, sysroot string, cache DirCache, xattrs bool) (*LinkDest, Target) {
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
	e, _, err := examine(fsys, cur, "", nil, xattrs)
	if err != nil || e.Type == TypeSymlink {
		return nil, TargetUnchecked
	}
	d := &LinkDest{Path: cur, Entry: e}
	for _, dir := range PathTo(filepath.Dir(cur)) {
		if !Within(dir, root) {
			continue
		}
		de, ok := cache[dir]
		if !ok {
			if de, _, err = examine(fsys, dir, "", nil, xattrs); err != nil {
				return nil, TargetExists
			}
			cache[dir] = de
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
