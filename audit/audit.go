package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/policy"
)

// Report is the outcome of one audit: what was audited, against what, and what was found.
type Report struct {
	Roots    []string
	Policy   string
	WebUser  *WebUser // who the web server runs as
	PHPUser  *WebUser // nil unless PHP runs as a user of its own
	Accounts *Accounts
	Entries  int       // entries examined, roots included
	Findings []Finding // in walk order, root by root, each root's ancestors first
	Errors   []WalkError
}

// WalkError is a path the walk could not read; the audit went on without it.
type WalkError struct {
	Path string
	Err  error
}

// Complete reports whether every entry below every root was examined.
func (r *Report) Complete() bool { return len(r.Errors) == 0 }

// Auditor holds a set of roots against a policy.
type Auditor struct {
	Fs       afero.Fs
	Policy   *policy.Policy
	Accounts *Accounts
	WebUser  *WebUser // nil: nothing about the web server's access is checked
	PHPUser  *WebUser // nil: the web user reads scripts too, as under mod_php
	Jobs     int
	// SysRoot is the audited system's root, absolute ("" or "/": the host's). Directories above
	// it belong to the host, not to the system the web server runs on, so they are not on its way.
	SysRoot string
}

// Run audits every root in turn. Every root is checked to be a walkable directory before any is
// walked, so a mistyped path audits nothing; Run then returns that error.
//
// On the operating system's file system, the directories above each root are examined too: the
// web server must search every one of them from / down. Roots should be given with symlinks
// resolved, since the kernel checks the directories a path really goes through.
func (a *Auditor) Run(ctx context.Context, roots []string) (*Report, error) {
	for _, root := range roots {
		fi, err := lstat(a.Fs, root)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("%s: %w", root, ErrNotDir)
		}
	}
	rep := &Report{Roots: roots, Policy: a.Policy.Name, WebUser: a.WebUser, PHPUser: a.PHPUser, Accounts: a.Accounts}
	reported := make(map[string]bool) // ancestors already reported, for roots that share them
	for _, root := range roots {
		if err := a.auditRoot(ctx, root, rep, reported); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// auditRoot audits the way down to root, then root and everything below it.
func (a *Auditor) auditRoot(ctx context.Context, root string, rep *Report, reported map[string]bool) error {
	env := &Env{Root: root, Accounts: a.Accounts}
	rootSettings := a.Policy.For(".", true)
	t := &tracer{a: a, env: env, rep: rep}
	way := a.ancestors(root, t, &rootSettings, reported)
	t.stack = []dirState{way}
	t.rootAt = len(rep.Findings)
	err := (&Walker{Fs: a.Fs, Jobs: a.Jobs}).Walk(ctx, root, Visitor{
		Entry: t.visit,
		Error: func(path string, err error) {
			rep.Errors = append(rep.Errors, WalkError{Path: path, Err: err})
		},
	})
	if err != nil {
		return err
	}
	t.finish()
	return nil
}

// ancestors checks the directories from / down to root's parent and returns the state of the way
// through them. They are examined only on the operating system's file system: other backends
// have no path up to /.
func (a *Auditor) ancestors(root string, t *tracer, s *policy.Settings, reported map[string]bool) dirState {
	way := dirState{web: step{way: true}, php: step{way: true}}
	if _, ok := a.Fs.(*afero.OsFs); !ok || root == "/" {
		return way
	}
	sysroot := "/"
	if a.SysRoot != "" {
		sysroot = filepath.Clean(a.SysRoot)
	}
	for _, dir := range pathTo(filepath.Dir(root)) {
		if !within(dir, sysroot) {
			continue
		}
		e, err := examineAll(a.Fs, dir)
		if err != nil {
			t.rep.Errors = append(t.rep.Errors, WalkError{Path: dir, Err: err})
			continue
		}
		c := t.caseOf(&e, s, way)
		if !reported[dir] {
			n := len(t.rep.Findings)
			t.rep.Findings = CheckAncestor(&c, t.rep.Findings)
			reported[dir] = len(t.rep.Findings) > n
		}
		way = descend(&c, way)
	}
	return way
}

// pathTo lists every directory from / down to dir, both included.
func pathTo(dir string) []string {
	dirs := []string{"/"}
	p := "/"
	for _, part := range strings.Split(strings.Trim(dir, "/"), "/") {
		if part == "" {
			continue
		}
		p = filepath.Join(p, part)
		dirs = append(dirs, p)
	}
	return dirs
}

// step is one identity's way down to a directory.
type step struct {
	way      bool // it can search every directory from / down to this one, this one included
	writable bool // it can add, replace and delete entries here
}

// dirState is the way down to one directory, for each identity.
type dirState struct {
	web, php step
	private  bool // this directory or one above it is sensitive
}

// tracer follows the walk down the tree, keeping the state of the directories above the entry
// being visited: one per level, so its memory grows with the depth of the tree only.
type tracer struct {
	a      *Auditor
	env    *Env
	rep    *Report
	stack  []dirState // stack[d] is the directory at depth d-1; stack[0] the way to the root
	rootAt int        // where the root's findings begin in rep.Findings
	root   *Case      // the root, kept for the checks made after the walk
	index  bool       // the root holds an index file

	// The entry being visited and its case, reused from one entry to the next: a finding copies
	// what it keeps.
	entry    Entry
	settings policy.Settings
	cur      Case
}

func (t *tracer) visit(e Entry) {
	t.rep.Entries++
	depth := 0
	if e.Rel != "." {
		depth = strings.Count(e.Rel, "/") + 1
	}
	t.entry, t.settings = e, t.a.Policy.For(e.Rel, e.Type == TypeDir)
	t.cur = t.caseOf(&t.entry, &t.settings, t.stack[depth])
	c := &t.cur
	t.rep.Findings = Check(c, t.rep.Findings)
	if depth == 0 {
		root, s := e, t.settings
		rc := *c
		rc.Entry, rc.Settings = &root, &s
		t.root = &rc
	}
	if depth == 1 && isIndex(e.name()) && (e.Type == TypeFile || e.Type == TypeSymlink) {
		t.index = true
	}
	if e.Type == TypeDir {
		t.stack = append(t.stack[:depth+1], descend(c, t.stack[depth]))
	}
}

// finish makes the checks that need the whole root seen, placing their findings with the root's.
func (t *tracer) finish() {
	if t.root == nil {
		return
	}
	if msg, fix, ok := checkMissingIndex(t.root, t.index); ok {
		t.rep.Findings = slices.Insert(t.rep.Findings, t.rootAt, newFinding(t.root, policy.MissingIndex, msg, fix))
	}
}

// caseOf builds the case of entry e, whose parent directory has state parent.
func (t *tracer) caseOf(e *Entry, s *policy.Settings, parent dirState) Case {
	return Case{
		Entry: e, Settings: s, Env: t.env, Private: parent.private,
		Web: reach(t.a.WebUser, e, parent.web),
		PHP: reach(t.a.PHPUser, e, parent.php),
	}
}

func reach(w *WebUser, e *Entry, parent step) Reach {
	if w == nil {
		return Reach{}
	}
	id := w.Identity()
	return Reach{Who: w, Way: parent.way, ParentWritable: parent.way && parent.writable, Access: Access(&id, e)}
}

// descend returns the state of the way into c's entry, a directory, from its parent's.
func descend(c *Case, parent dirState) dirState {
	next := func(r *Reach, p step) step {
		if r.Who == nil {
			return step{}
		}
		id := r.Who.Identity()
		return step{
			way:      p.way && r.Access.Can(PermExec),
			writable: Allows(&id, c.Entry, PermWrite|PermExec),
		}
	}
	return dirState{
		web:     next(&c.Web, parent.web),
		php:     next(&c.PHP, parent.php),
		private: parent.private || c.Settings.Sensitive,
	}
}
