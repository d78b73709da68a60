package audit

import (
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/spf13/afero"
)

// Step is one directory or file on the way from / to an explained path, and what an identity
// needs of it and gets.
type Step struct {
	Entry   Entry
	Need    Perm    // search on a directory on the way, read on the file
	Verdict Verdict // the identity's access to it
	Reached bool    // every step before this one allowed what it needed
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
}

// Allowed reports whether every identity gets through: the server answers with the path.
func (x *Explanation) Allowed() bool {
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
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return nil, err
	}
	var entries []Entry
	for _, p := range pathTo(real) {
		e, err := examineAll(fsys, p)
		if err != nil {
			return nil, &fs.PathError{Op: "explain", Path: p, Err: err}
		}
		entries = append(entries, e)
	}
	target := entries[len(entries)-1]
	x := &Explanation{Path: real}
	script := target.Type == TypeFile && isScript(target.name())
	x.Trails = append(x.Trails, trail(fsys, web, entries, target.Type == TypeFile && !(script && php != nil)))
	if script && php != nil {
		x.Trails = append(x.Trails, trail(fsys, php, entries, true))
	}
	return x, nil
}

// trail holds entries against one identity; read says whether the last one must be read.
func trail(fsys afero.Fs, w *WebUser, entries []Entry, read bool) Trail {
	id := w.Identity()
	t := Trail{Who: w, Steps: make([]Step, len(entries))}
	reached := true
	for i := range entries {
		s := Step{Entry: entries[i], Need: PermExec, Reached: reached}
		if i == len(entries)-1 && entries[i].Type != TypeDir {
			s.Need = 0
			if read {
				s.Need = PermRead
			}
		}
		s.Verdict = Access(&id, &s.Entry)
		t.Steps[i] = s
		reached = s.OK()
		if reached && t.Htaccess == nil && s.Entry.Type == TypeDir {
			t.Htaccess = unreadableHtaccess(fsys, &id, s.Entry.Path)
		}
	}
	return t
}

// unreadableHtaccess returns dir's .htaccess when it exists and id cannot read it.
func unreadableHtaccess(fsys afero.Fs, id *Identity, dir string) *Step {
	e, err := examineAll(fsys, filepath.Join(dir, ".htaccess"))
	if err != nil || e.Type != TypeFile {
		return nil
	}
	s := &Step{Entry: e, Need: PermRead, Verdict: Access(id, &e), Reached: true}
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
	case b.Entry.Type != TypeDir:
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
