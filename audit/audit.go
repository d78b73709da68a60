// Package audit holds what the walk (audit/walk) gives against a policy: the accounts that name
// owners, who the web server and PHP run as, the kernel-exact access model, the checks, the
// fixes they propose, waivers, and the Report they produce. Auditor.Run is the flow, in this
// file. It never changes anything on disk.
package audit

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// Report is the outcome of one audit: what was audited, against what, and what was found.
type Report struct {
	Roots    []string
	Policy   string          // the policy file's path, or the preset's name
	Presets  []RootPreset    // the preset each root was held to, and why
	Waivers  []*WaiverUse    // every waiver of the policy, with what it did
	WebUser  *access.WebUser // who the web server runs as
	PHPUser  *access.WebUser // nil unless PHP runs as a user of its own
	Accounts *access.Accounts
	// RootEntries are the roots as the walk saw them, by path; a root it could not read is
	// missing.
	RootEntries map[string]walk.Entry
	Entries     int // entries examined, roots included
	// Findings are in walk order, root by root, each root's ancestors first. Where the audit
	// spools them (Auditor.Spool), only the latest are here: EachFinding reads them all.
	Findings []Finding
	Errors   []WalkError
	// Judged holds, for each path of Auditor.Judge the audit reached, the findings its entry would
	// have in the state judged that it has not now, or that a change of mode or owner would
	// settle: what a plan's target must not leave. An empty list where there is none.
	Judged map[string][]Finding
	// Origins say, in Roots' order, what path each root was given as and what was followed to
	// reach it; nil where the roots came resolved.
	Origins []Origin
	// SiteOwners say whose each root's site is, where that is not simply the root's owner.
	SiteOwners []SiteOwner
	// Folded are the findings a web-user-owns-tree finding stands for, in walk order, each kept
	// for the plan (its fix) and explain, never listed in a report: one fault of the tree, one
	// finding. Only an audit for a plan (Auditor.AsFixed) and Auditor.Findings keep them.
	Folded []Folded
	// Subtrees are the directories every entry below which has at least one finding, in the order
	// their walks ended: what a writer needs to say that a whole subtree shares a finding without
	// keeping every path. There is at most one per entry with findings.
	Subtrees []Subtree
	// Skipped are the directories the walk examined but did not enter, in walk order: mounts of
	// pseudo file systems, of other devices under --one-file-system, container layers.
	Skipped []walk.Skip
	// NoXattrs says no ACL, SELinux label or file capabilities were read (--no-xattrs).
	NoXattrs bool
	// Exclude are the exclusions the audit was given (Auditor.Exclude), and Excluded counts the
	// entries they left out: each excluded entry once, not what lies below an excluded
	// directory, which was never read.
	Exclude  []policy.Exclusion
	Excluded int

	// spool holds the findings before those in Findings, where the audit spools them
	// (Auditor.Spool); patched are the spooled findings changed since, by index.
	spool   *spool
	patched map[int]Finding
}

// Folded is a finding folded into the web-user-owns-tree finding of its root, and its place in
// the walk: it comes just before Report.Findings[At] (with the findings of its own entry, which
// end there).
type Folded struct {
	At int
	Finding
}

// Subtree is a directory of the walk, every entry below which (the directory not counted) has at
// least one finding, and the place of those findings in Report.Findings.
type Subtree struct {
	Path    string
	Entries int // entries below the directory, at any depth
	// Findings[First:End] are the findings of the entries below the directory, in walk order;
	// the directory's own findings come just before First.
	First, End int
}

// Origin is the path a root was given as, and what of note was followed to reach it.
type Origin struct {
	Given string // as given
	Note  string // for a person, e.g. "followed a symlink alice controls (...)"; empty: nothing
}

// SiteOwner is who one root's site belongs to, as owner expectations ("site") and fixes take it,
// and how webperm decided.
type SiteOwner struct {
	Root string
	UID  uint32
	GID  uint32 // the owner's primary group, else the group of the directory that told
	// Source is "flag" (--site-owner), "root" (the root's owner), "parent" (the owner of the
	// home the root lies in, where the web server owns the root), or "unknown": the web server
	// owns the root and nothing says whose the site is, so UID is the web server's and no fix
	// can give the site back.
	Source string
	Parent string // for "parent": the home directory
}

// RootPreset is the preset one root was held to.
type RootPreset struct {
	Root     string
	Preset   string   // one preset, or several joined with +
	Evidence []string // for auto: the marker paths that chose it
}

// WalkError is a path the walk could not read; the audit went on without it.
type WalkError struct {
	Path string
	Err  error
}

// Waived counts the findings waivers accepted; they are not in Findings.
func (r *Report) Waived() int {
	n := 0
	for _, w := range r.Waivers {
		if !w.Expired {
			n += w.Findings
		}
	}
	return n
}

// Complete reports whether every entry below every root was examined.
func (r *Report) Complete() bool { return len(r.Errors) == 0 }

// Auditor holds a set of roots against a policy.
type Auditor struct {
	Fs afero.Fs
	// Policy is held against every root. Where it is nil, each root gets Preset's rules (for
	// auto, the presets its marker files choose) followed by File's.
	Policy   *policy.Policy
	Preset   string
	File     *policy.Policy
	Today    time.Time // the day waivers are judged on; zero: today
	Accounts *access.Accounts
	WebUser  *access.WebUser // nil: nothing about the web server's access is checked
	PHPUser  *access.WebUser // nil: the web user reads scripts too, as under mod_php
	Jobs     int
	// AsFixed judges everything below a directory as if the directory's fix had been made: a
	// file behind a 0700 directory is then checked too, as a plan must, since fixing the
	// directory lets the web server reach it. A report for people leaves it unset: it shows the
	// tree as it is, each 403 once, at the directory that blocks it.
	AsFixed bool
	// SysRoot is the audited system's root, absolute ("" or "/": the host's). Directories above
	// it belong to the host, not to the system the web server runs on, so they are not on its way.
	SysRoot string
	// Judge names entries to judge in another state, by path: the targets of an edited plan. The
	// report's Judged says what each would break that it does not break now.
	Judge map[string]Fix
	// SiteOwner, where set, is whose every root's site is (--site-owner), whoever owns the root.
	SiteOwner *uint32
	// Extra are rules held after every root's policy: the command line's (--writable).
	Extra []policy.Rule
	// OneFileSystem walks no directory on another device than its root's (--one-file-system):
	// each such mount is in the report's Skipped.
	OneFileSystem bool
	// NoXattrs reads no ACL, SELinux label or file capabilities (--no-xattrs): access is judged
	// by mode bits alone, and no check that needs them can fire.
	NoXattrs bool
	// Spool keeps all but the latest findings in a temp file (TMPDIR) instead of memory: the
	// report's Findings then hold only those, EachFinding reads them all, and Close lets the file
	// go. For a report that is written out, not searched.
	Spool bool
	// Exclude leaves out the entries below each root that its globs name (--exclude, a policy
	// file's exclude:): they are not examined, nor reported, and an excluded directory is not
	// entered. A root is never excluded. The report counts them (Report.Excluded).
	Exclude []policy.Exclusion
	// Progress, where set, is kept up to date as the walk goes, for another goroutine to read.
	Progress *Progress
}

// examine returns the Entry of path, without following it, with its extended attributes unless
// the audit reads none.
func (a *Auditor) examine(path string) (walk.Entry, error) {
	return walk.ExamineWith(a.Fs, path, !a.NoXattrs)
}

// Run audits every root in turn. Every root is checked to be a walkable directory before any is
// walked, so a mistyped path audits nothing; Run then returns that error.
//
// On the operating system's file system, the directories above each root are examined too: the
// web server must search every one of them from / down. Roots should be given with symlinks
// resolved, since the kernel checks the directories a path really goes through.
func (a *Auditor) Run(ctx context.Context, roots []string) (*Report, error) {
	rep := &Report{Roots: roots, WebUser: a.WebUser, PHPUser: a.PHPUser, Accounts: a.Accounts, RootEntries: map[string]walk.Entry{}, Judged: map[string][]Finding{}, NoXattrs: a.NoXattrs, Exclude: a.Exclude}
	plans := make([]rootPlan, len(roots))
	for i, root := range roots {
		if err := a.plan(root, &plans[i], rep); err != nil {
			return nil, err
		}
	}
	rep.Policy = a.policyName(rep)
	if a.Spool {
		var err error
		if rep.spool, err = newSpool(); err != nil {
			return nil, err
		}
	}
	if err := a.walkRoots(ctx, plans, rep); err != nil {
		rep.Close()
		return nil, err
	}
	return rep, nil
}

// policyName names what rep's roots were held to: the policy, the policy file, or the presets.
func (a *Auditor) policyName(rep *Report) string {
	switch {
	case a.Policy != nil:
		return a.Policy.Name
	case a.File != nil:
		return a.File.Name
	default:
		// The presets the roots got, as "policy" said "default" before there were others.
		var names []string
		for _, p := range rep.Presets {
			if !slices.Contains(names, p.Preset) {
				names = append(names, p.Preset)
			}
		}
		return strings.Join(names, ", ")
	}
}

// walkRoots audits each root of plans in turn into rep.
func (a *Auditor) walkRoots(ctx context.Context, plans []rootPlan, rep *Report) error {
	packages := a.packages(rep.Roots)
	// Ancestors already reported, for roots that share them, with the fix their findings got.
	reported := make(map[string]*Fix)
	for i := range plans {
		p := &plans[i]
		if err := a.auditRoot(ctx, p, a.env(p, rep, packages), rep, reported); err != nil {
			return err
		}
	}
	if rep.spool != nil {
		return rep.spool.flushed()
	}
	return nil
}

// packages reads what the audited system's distribution packages installed in or above roots.
func (a *Auditor) packages(roots []string) *Packages {
	sysroot := a.SysRoot
	if sysroot == "" {
		sysroot = "/"
	}
	return LoadPackages(a.Fs, sysroot, roots)
}

// env is what the checks know of the audit of p's root beyond each entry, waivers judged today
// (Auditor.Today).
func (a *Auditor) env(p *rootPlan, rep *Report, packages *Packages) *Env {
	today := a.Today
	if today.IsZero() {
		today = time.Now()
	}
	return &Env{Root: p.root, Accounts: a.Accounts, Owners: p.owners, Packages: packages, SysRoot: a.SysRoot, waivers: newWaivers(p.policy, rep, today, a.SysRoot)}
}

// rootPlan is what one root is audited against, settled before any root is walked.
type rootPlan struct {
	root   string
	policy *policy.Policy
	owners *Owners
}

// plan checks that root is a walkable directory and settles its policy and the owners that
// policy expects.
func (a *Auditor) plan(root string, p *rootPlan, rep *Report) error {
	fi, err := walk.Lstat(a.Fs, root)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %w", root, walk.ErrNotDir)
	}
	p.root, p.policy = root, a.Policy
	if p.policy == nil {
		preset, evidence := a.Preset, []string(nil)
		if preset == policy.Auto || preset == "" {
			preset, evidence = DetectPreset(a.Fs, root, a.SysRoot)
		}
		if p.policy, err = policy.Resolve(preset, a.File); err != nil {
			return err
		}
		rep.Presets = append(rep.Presets, RootPreset{Root: root, Preset: preset, Evidence: evidence})
	}
	if len(a.Extra) > 0 {
		p.policy = p.policy.With(a.Extra...)
	}
	e, err := a.examine(root)
	if err != nil || !e.OwnerKnown {
		return nil // nothing to hold owners against; the walk reports an unreadable root
	}
	site := a.siteOwner(root, &e)
	if site.Source != "root" {
		rep.SiteOwners = append(rep.SiteOwners, site)
	}
	p.owners, err = resolveOwners(p.policy, a.Accounts, &site, a.WebUser, a.PHPUser)
	return err
}

// siteOwner decides whose the site at root, whose entry is e, is: --site-owner's user; else the
// root's owner, unless that is the web server's user (a chown -R www-data install), which owns
// nothing of its own by design; then the owner of the home the root lies directly in (a user's
// directory by passwd, or one below /home*), else no one known.
func (a *Auditor) siteOwner(root string, e *walk.Entry) SiteOwner {
	site := a.decideSiteOwner(root, e)
	if u, ok := a.Accounts.UserOf(site.UID); ok {
		site.GID = u.GID
	}
	return site
}

func (a *Auditor) decideSiteOwner(root string, e *walk.Entry) SiteOwner {
	switch {
	case a.SiteOwner != nil:
		return SiteOwner{Root: root, UID: *a.SiteOwner, GID: e.GID, Source: "flag"}
	case a.WebUser == nil || e.UID != a.WebUser.UID:
		return SiteOwner{Root: root, UID: e.UID, GID: e.GID, Source: "root"}
	}
	parent := filepath.Dir(root)
	if pe, err := a.examine(parent); err == nil && pe.OwnerKnown && pe.Type == walk.TypeDir && a.isHome(parent, pe.UID) {
		return SiteOwner{Root: root, UID: pe.UID, GID: pe.GID, Source: "parent", Parent: parent}
	}
	return SiteOwner{Root: root, UID: e.UID, GID: e.GID, Source: "unknown"}
}

// isHome reports whether dir, owned by uid, is a user's home: not root's nor the web server's,
// and the one passwd gives that user, or a directory right below /home, /home2, ...
func (a *Auditor) isHome(dir string, uid uint32) bool {
	if uid == 0 || uid == a.WebUser.UID || (a.PHPUser != nil && uid == a.PHPUser.UID) {
		return false
	}
	sys := walk.SystemPath(dir, a.SysRoot)
	if u, ok := a.Accounts.UserOf(uid); ok && u.Home != "" && filepath.Clean(u.Home) == sys {
		return true
	}
	top := strings.Split(strings.TrimPrefix(sys, "/"), "/")
	return len(top) == 2 && strings.HasPrefix(top[0], "home")
}

// auditRoot audits the way down to p's root, then the root and everything below it.
func (a *Auditor) auditRoot(ctx context.Context, p *rootPlan, env *Env, rep *Report, reported map[string]*Fix) error {
	root := p.root
	t := &tracer{a: a, policy: p.policy, env: env, rep: rep, keepFolded: a.AsFixed}
	way := a.ancestors(root, t, reported)
	t.stack = []dirState{way}
	w := &walk.Walker{Fs: a.Fs, Jobs: a.Jobs, SysRoot: a.SysRoot, OneFileSystem: a.OneFileSystem, NoXattrs: a.NoXattrs}
	if x := policy.NewExcluder(a.Exclude); x != nil {
		w.Exclude = func(rel, path string, isDir bool) bool {
			return x.Excludes(rel, walk.SystemPath(path, a.SysRoot), isDir)
		}
	}
	err := w.Walk(ctx, root, walk.Visitor{
		Entry: t.visit,
		Error: func(path string, err error) {
			rep.Errors = append(rep.Errors, WalkError{Path: path, Err: err})
			t.unread(path)
		},
		Skipped: func(s walk.Skip) {
			rep.Skipped = append(rep.Skipped, s)
			t.unread(s.Path)
		},
		Excluded: func(path string) {
			rep.Excluded++
			t.unread(path) // no writer may say everything below its directory shares a finding
		},
	})
	if err != nil {
		return err
	}
	t.close(0)
	t.closeTree()
	return nil
}

// ancestors checks the directories from / down to root's parent and returns the state of the way
// through them. They are examined only on the operating system's file system: other backends
// have no path up to /.
func (a *Auditor) ancestors(root string, t *tracer, reported map[string]*Fix) dirState {
	way := dirState{web: step{way: true}, php: step{way: true}}
	if _, ok := a.Fs.(*afero.OsFs); !ok || root == "/" {
		return way
	}
	sysroot := "/"
	if a.SysRoot != "" {
		sysroot = filepath.Clean(a.SysRoot)
	}
	for _, dir := range walk.PathTo(filepath.Dir(root)) {
		if !walk.Within(dir, sysroot) {
			continue
		}
		e, err := a.examine(dir)
		if err != nil {
			t.rep.Errors = append(t.rep.Errors, WalkError{Path: dir, Err: err})
			continue
		}
		s := t.policy.ForAncestor(walk.SystemPath(dir, sysroot))
		c := t.caseOf(&e, &s, way)
		fix, done := reported[dir]
		if !done {
			n := len(t.rep.Findings)
			t.rep.Findings = CheckAncestor(&c, t.rep.Findings)
			if found := t.rep.Findings[n:]; len(found) > 0 {
				fix = fixOf(found)
				reported[dir] = fix
			}
		}
		t.judge(&c, ancestorTable(&c))
		way = t.descend(&c, way, fix)
	}
	return way
}

// step is one identity's way down to a directory.
type step struct {
	way      bool // it can search every directory from / down to this one, this one included
	writable bool // it can add, replace and delete entries here
}

// dirState is the way down to one directory, for each identity.
type dirState struct {
	web, php step
	private  bool // this directory or one above it is sensitive, and neither server needs anything in it
}

// tracer follows the walk down the tree, keeping the state of the directories above the entry
// being visited: one per level, so its memory grows with the depth of the tree only.
type tracer struct {
	a      *Auditor
	policy *policy.Policy
	env    *Env
	rep    *Report
	stack  []dirState // stack[d] is the directory at depth d-1; stack[0] the way to the root
	open   []openDir  // the directories whose walk goes on, outermost first
	tree   *ownedTree // the root's web-user-owns-tree, while its walk goes on; nil for none
	// keepFolded keeps what the tree folds in Report.Folded, for a plan's fixes or explain.
	keepFolded bool

	// The entry being visited and its case, reused from one entry to the next: a finding copies
	// what it keeps.
	entry    walk.Entry
	settings policy.Settings
	cur      Case
}

// openDir counts the entries below a directory while the walk is in it.
type openDir struct {
	path    string
	depth   int
	first   int  // the index of the first finding below it in rep
	entries int  // entries below it so far
	full    bool // every one of them has a finding, and none could not be read
}

// close ends the walk of every open directory at depth or deeper, adding to rep.Subtrees those
// whose every entry below has a finding, and handing the counts up to the parent.
func (t *tracer) close(depth int) {
	for len(t.open) > 0 && t.open[len(t.open)-1].depth >= depth {
		d := t.open[len(t.open)-1]
		t.open = t.open[:len(t.open)-1]
		if d.full && d.entries > 0 {
			t.rep.Subtrees = append(t.rep.Subtrees, Subtree{Path: d.path, Entries: d.entries, First: d.first, End: t.rep.NumFindings()})
		}
		if len(t.open) > 0 {
			p := &t.open[len(t.open)-1]
			p.entries += d.entries
			p.full = p.full && d.full
		}
	}
}

// unread marks the innermost open directory holding path, or path itself, as not read in full:
// no writer may say that everything below it shares a finding.
func (t *tracer) unread(path string) {
	for i := len(t.open) - 1; i >= 0; i-- {
		if walk.Within(path, t.open[i].path) {
			t.open[i].full = false
			return
		}
	}
}

func (t *tracer) visit(e walk.Entry) {
	t.rep.Entries++
	if p := t.a.Progress; p != nil && (e.Type == walk.TypeDir || t.rep.Entries%progressEvery == 0) {
		p.update(t.rep.Entries, e.Type == walk.TypeDir, e.Path)
	}
	depth := 0
	if e.Rel != "." {
		depth = strings.Count(e.Rel, "/") + 1
	}
	t.close(depth)
	abs := walk.SystemPath(e.Path, t.a.SysRoot)
	t.entry, t.settings = e, t.policy.For(e.Rel, abs, e.Type == walk.TypeDir)
	kinds := t.settings.Sniff
	if e.Name() == ".htaccess" {
		// Every .htaccess is read, a few hundred bytes: one that only denies, in a directory
		// the web server writes anyway, is no fault of its own (web-writable-code).
		kinds |= policy.SniffHtaccess
	}
	if kinds != 0 && e.Type == walk.TypeFile {
		// Otherwise only the files a content condition names are read, and only their first
		// bytes: the rules that condition holds for apply once the file shows it.
		t.entry.Content = sniffContent(t.a.Fs, e.Path, kinds)
		if t.settings.Sniff != 0 && t.entry.Content != policy.ContentUnread {
			t.settings = t.policy.ForContent(e.Rel, abs, false, t.entry.Content)
		}
	}
	// A secret by name that is exactly as its package ships it is public in the distribution's
	// archive (Debian's wp-config.php): it is read whole, for its checksum, only then.
	if t.settings.Sensitive && e.Type == walk.TypeFile {
		t.entry.Shipped = t.env.Packages.Shipped(t.a.Fs, e.Path)
	}
	t.cur = t.caseOf(&t.entry, &t.settings, t.stack[depth])
	c := &t.cur
	if e.Dest != nil {
		c.Link = t.linkCase(c)
	}
	n := len(t.rep.Findings)
	if depth == 0 {
		t.missingIndex(c)
	}
	t.rep.Findings = Check(c, t.rep.Findings)
	// The fix is the entry's, whatever of its findings a tree's finding takes in.
	fix := fixOf(t.rep.Findings[n:])
	if depth == 0 {
		t.tree = t.ownedTree(c, n)
		t.rep.RootEntries[e.Path] = e
	} else {
		t.fold(c, n)
	}
	t.judge(c, checks)
	if len(t.open) > 0 {
		p := &t.open[len(t.open)-1]
		p.entries++
		p.full = p.full && len(t.rep.Findings) > n
	}
	if e.Type == walk.TypeDir {
		t.stack = append(t.stack[:depth+1], t.descend(c, t.stack[depth], fix))
		t.open = append(t.open, openDir{path: e.Path, depth: depth, first: t.rep.NumFindings(), full: true})
	}
	if t.rep.spool != nil && len(t.rep.Findings) >= spoolWindow {
		t.rep.spoolAll()
	}
}

// judge records in the report what c's entry would break in the state Auditor.Judge gives its
// path, if any, that it does not break now or that a fix would settle: a plan's own target leaves
// only the faults a person must settle, which the entry has already. table is the rules the entry
// is held to.
func (t *tracer) judge(c *Case, table []ruleCheck) {
	fix, ok := t.a.Judge[c.Entry.Path]
	if !ok {
		return
	}
	now := broken(table, c)
	e := fix.after(c.Entry)
	sim := c.as(&e)
	added := []Finding{}
	for _, f := range broken(table, &sim) {
		if f.Fix != nil || !slices.ContainsFunc(now, func(g Finding) bool { return g.Rule == f.Rule }) {
			f.Fix = nil
			added = append(added, f)
		}
	}
	t.rep.Judged[c.Entry.Path] = added
}

// missingIndex checks whether c's entry, the root, holds an index file the web server can answer
// / with, before the first finding of the root: the one check that needs more than an entry and
// the way to it, so that it looks the names up itself instead of waiting for the walk's end.
func (t *tracer) missingIndex(c *Case) {
	if msg, fix, ok := checkMissingIndex(c, t.a.hasIndex(c.Entry.Path)); ok {
		if f := newFinding(c, policy.MissingIndex, msg, fix); t.env.waivers.apply(&f, c) {
			t.rep.Findings = append(t.rep.Findings, f)
		}
	}
}

// hasIndex reports whether root holds a file, or a link, of one of IndexNames.
func (a *Auditor) hasIndex(root string) bool {
	for _, name := range IndexNames {
		if fi, err := walk.Lstat(a.Fs, filepath.Join(root, name)); err == nil && (fi.Mode().IsRegular() || fi.Mode()&fs.ModeSymlink != 0) {
			return true
		}
	}
	return false
}

// caseOf builds the case of entry e, whose parent directory has state parent.
func (t *tracer) caseOf(e *walk.Entry, s *policy.Settings, parent dirState) Case {
	return Case{
		Entry: e, Settings: s, Env: t.env, Private: parent.private,
		Web: reach(t.a.WebUser, e, parent.web),
		PHP: reach(t.a.PHPUser, e, parent.php),
	}
}

// linkCase is what c's entry, a symlink the walker followed, leads to: its target, the
// policy's settings for the target's path, and what the servers' identities can do on the way
// to it (the link's own directory, then every directory of the target's real path).
func (t *tracer) linkCase(c *Case) *LinkCase {
	d := c.Entry.Dest
	l := &LinkCase{Entry: &d.Entry, InRoot: walk.Within(d.Path, t.env.Root), SysPath: walk.SystemPath(d.Path, t.a.SysRoot), Dirs: d.Dirs}
	rel := filepath.Base(d.Path)
	if l.InRoot {
		rel = "."
		if d.Path != t.env.Root {
			rel = filepath.ToSlash(strings.TrimPrefix(d.Path, strings.TrimSuffix(t.env.Root, "/")+"/"))
		}
	}
	l.Settings = t.policy.For(rel, l.SysPath, d.Entry.Type == walk.TypeDir)
	l.Web = destReach(t.a.WebUser, d, c.Web.Way)
	l.PHP = destReach(t.a.PHPUser, d, c.PHP.Way)
	return l
}

func destReach(w *access.WebUser, d *walk.LinkDest, way bool) Reach {
	if w == nil {
		return Reach{}
	}
	id := w.Identity()
	for i := range d.Dirs {
		way = way && access.Decide(&id, &d.Dirs[i]).Can(walk.PermExec)
	}
	return Reach{Who: w, Way: way, Access: access.Decide(&id, &d.Entry)}
}

func reach(w *access.WebUser, e *walk.Entry, parent step) Reach {
	if w == nil {
		return Reach{}
	}
	id := w.Identity()
	return Reach{Who: w, Way: parent.way, ParentWritable: parent.way && parent.writable, Access: access.Decide(&id, e)}
}

// descend returns the state of the way into c's entry, a directory, from its parent's. Where the
// audit is for a plan (Auditor.AsFixed), the directory is taken as fix will leave it, so what
// lies below is judged as the web server will reach it once the plan has run.
func (t *tracer) descend(c *Case, parent dirState, fix *Fix) dirState {
	if !t.a.AsFixed || fix == nil {
		return descend(c, parent)
	}
	e := fix.after(c.Entry)
	fixed := c.as(&e)
	return descend(&fixed, parent)
}

// descend returns the state of the way into c's entry, a directory, from its parent's.
func descend(c *Case, parent dirState) dirState {
	next := func(r *Reach, p step) step {
		if r.Who == nil {
			return step{}
		}
		id := r.Who.Identity()
		return step{
			way: p.way && r.Access.Can(walk.PermExec),
			// A directory its expected owner writes is not a hiding place for scripts, except
			// where the policy has the servers write (uploads).
			writable: access.Allows(&id, c.Entry, walk.PermWrite|walk.PermExec) && (c.Settings.Writable || !expectedOwner(c, r)),
		}
	}
	return dirState{
		web:     next(&c.Web, parent.web),
		php:     next(&c.PHP, parent.php),
		private: parent.private || (c.Settings.Sensitive && c.Settings.Web == policy.NeedNone && c.Settings.PHP == policy.NeedNone),
	}
}

// Findings returns the findings of one entry, path, below root, exactly as Run would report
// them for root, without walking the rest of the tree: the checks of an entry depend only on the
// directories above it, so the audit visits root and each directory down to path, in walk
// order, and path itself. path and root are clean absolute paths; path lies at or below root,
// and no directory between them may be a symlink (the walk never follows one).
func (a *Auditor) Findings(ctx context.Context, root, path string) ([]Finding, error) {
	if !walk.Within(path, root) {
		return nil, fmt.Errorf("%s is not below %s", path, root)
	}
	rep := &Report{Roots: []string{root}, RootEntries: map[string]walk.Entry{}, Judged: map[string][]Finding{}}
	var p rootPlan
	if err := a.plan(root, &p, rep); err != nil {
		return nil, err
	}
	t := &tracer{a: a, policy: p.policy, env: a.env(&p, rep, a.packages([]string{root})), rep: rep, keepFolded: true}
	t.stack = []dirState{a.ancestors(root, t, map[string]*Fix{})}
	rel := "."
	for _, part := range append([]string{""}, splitRel(root, path)...) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := root
		if part != "" {
			if rel == "." {
				rel = part
			} else {
				rel += "/" + part
			}
			p = filepath.Join(root, filepath.FromSlash(rel))
		}
		e, err := a.examine(p)
		if err != nil {
			return nil, &fs.PathError{Op: "audit", Path: p, Err: err}
		}
		if p != path && e.Type != walk.TypeDir {
			return nil, &fs.PathError{Op: "audit", Path: p, Err: fmt.Errorf("is a %s, not a directory: the audit does not go through it", e.Type)}
		}
		if e.Type == walk.TypeSymlink {
			// As the walk does: a link is judged by where it leads.
			e.Follow(a.Fs, a.SysRoot, walk.DirCache{}, !a.NoXattrs)
		}
		e.Rel = rel
		t.visit(e)
	}
	t.close(0)
	var out []Finding
	for _, f := range rep.Findings {
		if f.Entry.Path == path {
			out = append(out, f)
		}
	}
	for _, f := range rep.Folded {
		if f.Entry.Path == path {
			out = append(out, f.Finding)
		}
	}
	return out, nil
}

// splitRel returns the components of path below root.
func splitRel(root, path string) []string {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == "." {
		return nil
	}
	return strings.Split(filepath.ToSlash(rel), "/")
}
