package access

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/walk"
)

// Step is one directory or file on the way from / to an explained path, and what an identity
// needs of it and gets.
type Step struct {
	Entry   walk.Entry
	Need    walk.Perm // search on a directory on the way, read on the file
	Verdict Verdict   // the identity's access to it
	Reached bool      // every step before this one allowed what it needed
}

// OK reports whether the step was reached and allows what it needs.
func (s *Step) OK() bool { return s.Reached && s.Verdict.Can(s.Need) }

// Trail is one identity's way to an explained path.
type Trail struct {
	Who   *WebUser
	Steps []Step
	// Htaccess is the first .htaccess on the way that exists and the identity cannot read: where
	// Apache's AllowOverride lets it read .htaccess files, it answers 403 for everything below.
	Htaccess *Step
}

// Blocker returns the first step that denies what it needs, or nil if the identity gets through.
func (t *Trail) Blocker() *Step {
	for i := range t.Steps {
		if !t.Steps[i].OK() {
			return &t.Steps[i]
		}
	}
	return nil
}

// Explanation is why the web server can or cannot answer with one path.
type Explanation struct {
	Path   string  // the path explained, symlinks resolved
	Trails []Trail // the web user's, then PHP's for a script when PHP runs as its own user
	// Links are the symlinks the explained path leads through, as namei -l shows them, one per
	// hop: the way to the link, then where it leads. Empty where the path names no symlink.
	Links []LinkHop
	// End says how the chain of links ends: at an entry (Path, with Trails), nowhere, or in a loop.
	End LinkEnd
}

// LinkEnd is how a chain of symlinks ends.
type LinkEnd uint8

const (
	LinkResolved LinkEnd = iota // at an entry that exists
	LinkDangling                // at a path that does not exist (the server answers 404)
	LinkLoop                    // the links loop, or more than MaxSymlinks follow each other
)

// LinkHop is one symlink on the way to an explained path.
type LinkHop struct {
	Trails []Trail // each identity's way to the link: search on its directories
	// Leads is where the link leads: its target resolved from the link's directory, below Root
	// for an absolute target or a .. that would climb above it, as the audited system resolves
	// it. Its directories' links are resolved; its last component may be a link again.
	Leads string
	// Root is the root the link was resolved in: --root's directory, or /.
	Root string
	// Clamped is set where a .. of the target would climb above Root and stayed at it.
	Clamped bool
}

// Link returns the link the hop follows: the last step of its trails.
func (h *LinkHop) Link() *walk.Entry { return &h.Trails[0].Steps[len(h.Trails[0].Steps)-1].Entry }

// Allowed reports whether every identity gets through: the server answers with the path.
func (x *Explanation) Allowed() bool {
	if x.End != LinkResolved {
		return false
	}
	for i := range x.Links {
		for j := range x.Links[i].Trails {
			if x.Links[i].Trails[j].Blocker() != nil {
				return false
			}
		}
	}
	for i := range x.Trails {
		if x.Trails[i].Blocker() != nil {
			return false
		}
	}
	return true
}

// Explain examines every directory from / down to path, and path itself, for the web user and,
// when path is a script and PHP runs as a user of its own, for PHP's user. The web server needs
// search on every directory and read on the file; on a directory, search, to reach its index.
// For a script that PHP runs, the web server only needs to reach it.
func Explain(fsys afero.Fs, path string, web, php *WebUser) (*Explanation, error) {
	return ExplainIn(fsys, "/", path, web, php)
}

// ExplainIn is Explain on the system whose root is sysroot: where path names a symlink (its
// last component), the way to the link is explained, then the way to its target, hop by hop as
// namei -l shows them, each target resolved from its link's directory as the audited system
// resolves it: below sysroot when path lies below it (an absolute target, or a .. that would
// climb above sysroot, stays in it), below / otherwise. Symlinks among a path's directories are
// resolved without a hop of their own. A link that leads nowhere or loops ends the explanation.
func ExplainIn(fsys afero.Fs, sysroot, path string, web, php *WebUser) (*Explanation, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	root, err := filepath.Abs(sysroot)
	if err != nil || sysroot == "" || !walk.Within(abs, root) {
		root = "/"
	}
	x := &Explanation{}
	// The first hop is the path itself, as given below root.
	start, rest := root, strings.TrimPrefix(strings.TrimPrefix(abs, root), "/")
	seen := make(map[string]bool)
	var hops []LinkHop
	for {
		dir, base, clamped, err := resolveParent(fsys, root, start, rest)
		p := filepath.Join(dir, base)
		if len(hops) > 0 {
			hops[len(hops)-1].Leads, hops[len(hops)-1].Clamped = p, clamped
		}
		switch {
		case err != nil && len(hops) > 0 && errors.Is(err, fs.ErrNotExist):
			x.Path, x.End = p, LinkDangling
		case err != nil && len(hops) > 0 && errors.Is(err, syscall.ELOOP):
			x.Path, x.End = p, LinkLoop
		case err != nil:
			return nil, err
		}
		if x.End != LinkResolved {
			break
		}
		e, err := walk.Examine(fsys, p)
		switch {
		case err != nil && len(hops) > 0 && errors.Is(err, fs.ErrNotExist):
			x.Path, x.End = p, LinkDangling
		case err != nil:
			return nil, &fs.PathError{Op: "explain", Path: p, Err: err}
		case e.Type == walk.TypeSymlink && (seen[p] || len(hops) == walk.MaxSymlinks):
			x.Path, x.End = p, LinkLoop
		case e.Type == walk.TypeSymlink:
			seen[p] = true
			entries, err := way(fsys, dir)
			if err != nil {
				return nil, err
			}
			hops = append(hops, LinkHop{Trails: []Trail{{Steps: stepsOf(append(entries, e))}}, Root: root})
			start, rest = dir, e.LinkTarget
			if filepath.IsAbs(rest) {
				start = root
			}
			continue
		}
		if x.End != LinkResolved {
			break
		}
		x.Path = p
		entries, err := way(fsys, dir)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
		script := e.Type == walk.TypeFile && IsScript(e.Name())
		x.Trails = append(x.Trails, trail(fsys, web, entries, e.Type == walk.TypeFile && !(script && php != nil)))
		if script && php != nil {
			x.Trails = append(x.Trails, trail(fsys, php, entries, true))
		}
		break
	}
	// Each identity the target is explained for must also get to every link on the way.
	ids := []*WebUser{web}
	if len(x.Trails) > 1 {
		ids = append(ids, php)
	}
	for i := range hops {
		entries := make([]walk.Entry, len(hops[i].Trails[0].Steps))
		for k, s := range hops[i].Trails[0].Steps {
			entries[k] = s.Entry
		}
		hops[i].Trails = hops[i].Trails[:0]
		for _, id := range ids {
			hops[i].Trails = append(hops[i].Trails, trail(fsys, id, entries, false))
		}
	}
	x.Links = hops
	return x, nil
}

// stepsOf holds entries as steps, before they are held against an identity.
func stepsOf(entries []walk.Entry) []Step {
	steps := make([]Step, len(entries))
	for i := range entries {
		steps[i].Entry = entries[i]
	}
	return steps
}

// way examines every directory from / down to dir, dir included.
func way(fsys afero.Fs, dir string) ([]walk.Entry, error) {
	var entries []walk.Entry
	for _, p := range walk.PathTo(dir) {
		e, err := walk.Examine(fsys, p)
		if err != nil {
			return nil, &fs.PathError{Op: "explain", Path: p, Err: err}
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// resolveParent resolves rest, a slash-separated path, from the directory start below root, as
// the kernel would with root as /: every component but the last is followed through symlinks
// (an absolute link target starts again at root, and .. never climbs above root: clamped says
// one would have). It returns the resolved directory and the last component, which is not
// followed; a path that ends in . or .. is resolved in full and returned as dir and "".
func resolveParent(fsys afero.Fs, root, start, rest string) (dir, base string, clamped bool, err error) {
	parts := splitPath(rest)
	last := ""
	if n := len(parts); n > 0 && parts[n-1] != "." && parts[n-1] != ".." {
		last, parts = parts[n-1], parts[:n-1]
	}
	cur, links := start, 0
	for len(parts) > 0 {
		c := parts[0]
		parts = parts[1:]
		switch c {
		case ".":
			continue
		case "..":
			if cur == root {
				clamped = true
			} else {
				cur = filepath.Dir(cur)
			}
			continue
		}
		next := filepath.Join(cur, c)
		fi, err := walk.Lstat(fsys, next)
		if err != nil {
			return next, "", clamped, &fs.PathError{Op: "explain", Path: next, Err: walk.UnwrapPath(err)}
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > walk.MaxSymlinks {
			return next, "", clamped, &fs.PathError{Op: "explain", Path: next, Err: syscall.ELOOP}
		}
		e, err := walk.Examine(fsys, next)
		if err != nil {
			return next, "", clamped, &fs.PathError{Op: "explain", Path: next, Err: err}
		}
		if filepath.IsAbs(e.LinkTarget) {
			cur = root
		}
		parts = append(splitPath(e.LinkTarget), parts...)
	}
	return cur, last, clamped, nil
}

// splitPath splits a slash-separated path into its components, empty ones left out.
func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// trail holds entries against one identity; read says whether the last one must be read.
func trail(fsys afero.Fs, w *WebUser, entries []walk.Entry, read bool) Trail {
	id := w.Identity()
	t := Trail{Who: w, Steps: make([]Step, len(entries))}
	reached := true
	for i := range entries {
		s := Step{Entry: entries[i], Need: walk.PermExec, Reached: reached}
		if i == len(entries)-1 && entries[i].Type != walk.TypeDir {
			s.Need = 0
			if read {
				s.Need = walk.PermRead
			}
		}
		s.Verdict = Decide(&id, &s.Entry)
		t.Steps[i] = s
		reached = s.OK()
		if reached && t.Htaccess == nil && s.Entry.Type == walk.TypeDir {
			t.Htaccess = unreadableHtaccess(fsys, &id, s.Entry.Path)
		}
	}
	return t
}

// unreadableHtaccess returns dir's .htaccess when it exists and id cannot read it.
func unreadableHtaccess(fsys afero.Fs, id *Identity, dir string) *Step {
	e, err := walk.Examine(fsys, filepath.Join(dir, ".htaccess"))
	if err != nil || e.Type != walk.TypeFile {
		return nil
	}
	s := &Step{Entry: e, Need: walk.PermRead, Verdict: Decide(id, &e), Reached: true}
	if s.OK() {
		return nil
	}
	return s
}

// ServerLogs returns the lines nginx and Apache would write to their error logs for a request
// the trail stops, in the servers' own words; none where that server answers. Apache's depend on
// AllowOverride: where it reads .htaccess files it tries the blocking directory's first and logs
// AH00529, else AH00035. The request's URL is not known to webperm, so Apache's lines show the
// file system path where the URL goes.
func (t *Trail) ServerLogs(target string) (nginx string, apache []string) {
	if h := t.Htaccess; h != nil {
		// Apache reads .htaccess files on its way down, so it stops at this one first.
		return t.nginxLog(target), []string{htaccessLog(filepath.Dir(h.Entry.Path))}
	}
	b := t.Blocker()
	switch {
	case b == nil:
		return "", nil
	case b.Entry.Type != walk.TypeDir:
		return t.nginxLog(target), []string{"(13)Permission denied: AH00132: file permissions deny server access: " + target}
	}
	return t.nginxLog(target), []string{
		fmt.Sprintf("(13)Permission denied: AH00035: access to %s denied (filesystem path '%s') because search permissions are missing on a component of the path", target, target),
		htaccessLog(b.Entry.Path),
	}
}

func (t *Trail) nginxLog(target string) string {
	if t.Blocker() == nil {
		return ""
	}
	return fmt.Sprintf("open() %q failed (13: Permission denied)", target)
}

func htaccessLog(dir string) string {
	return fmt.Sprintf("(13)Permission denied: AH00529: %s pcfg_openfile: unable to check htaccess file, ensure it is readable and that '%s/' is executable", filepath.Join(dir, ".htaccess"), dir)
}

// scriptExts are the extensions web servers hand to an interpreter rather than serve as files.
var scriptExts = []string{
	".php", ".php3", ".php4", ".php5", ".php7", ".php8", ".phtml", ".phar", ".pht",
	".cgi", ".fcgi", ".pl", ".py", ".rb", ".sh",
}

func IsScript(name string) bool {
	return slices.Contains(scriptExts, strings.ToLower(path.Ext(name)))
}
