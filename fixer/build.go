package fixer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// New turns an audit into a plan. The audit should be made with audit.Auditor.AsFixed, so that
// what lies behind a blocking directory is in it too. Each entry with a fix becomes one action;
// each finding without one (and each fix webperm will not make) is left to a person, with the
// reason. The report's findings are read once, in walk order, one entry's at a time: an audit
// that spooled them (audit.Auditor.Spool) is never held whole. The error is the spool's.
func New(rep *audit.Report, version string, created time.Time) (*Plan, error) {
	p := &Plan{
		Version: version, Created: created, Policy: rep.Policy,
		WebUser: rep.WebUser, PHPUser: rep.PHPUser, Accounts: rep.Accounts,
	}
	for _, r := range rep.Roots {
		root := Root{Path: r}
		if e, ok := rep.RootEntries[r]; ok {
			root.Dev, root.Ino = e.Dev, e.Ino
		}
		p.Roots = append(p.Roots, root)
	}
	for _, rp := range rep.Presets {
		p.Settings.Presets = append(p.Settings.Presets, audit.RootPreset{Root: rp.Root, Preset: rp.Preset})
	}
	for _, e := range rep.Errors {
		p.Unread = append(p.Unread, e.Path)
	}
	p.Skipped = rep.Skipped
	left := map[string]int{}
	trees := map[string]audit.Finding{} // each root's web-user-owns-tree finding
	var entry []planned                 // the findings of one entry
	take := func() {
		if len(entry) == 0 {
			return
		}
		root := rootOf(entry[0].Entry.Path, rep.Roots)
		if !p.add(entry, root) {
			left[root]++
		}
		clear(entry)
		entry = entry[:0]
	}
	err := eachPlanned(rep, func(f planned) {
		if _, seen := trees[f.Entry.Path]; !seen && !f.folded && f.Rule == policy.WebUserOwnsTree && slices.Contains(rep.Roots, f.Entry.Path) {
			trees[f.Entry.Path] = f.Finding
		}
		if len(entry) > 0 && entry[0].Entry.Path != f.Entry.Path {
			take()
		}
		entry = append(entry, f)
	})
	if err != nil {
		return nil, err
	}
	take()
	p.leaveFolded(left, rep.Roots, trees)
	return p, nil
}

// planned is a finding as the plan takes it: folded is set for one a web-user-owns-tree finding
// stands for (Report.Folded).
type planned struct {
	audit.Finding
	folded bool
}

// eachPlanned calls fn with each of the report's findings, those folded into a tree's finding
// among them, in walk order: each entry's together.
func eachPlanned(rep *audit.Report, fn func(planned)) error {
	folded := rep.Folded
	err := rep.EachFinding(func(i int, f *audit.Finding) error {
		for len(folded) > 0 && folded[0].At <= i {
			fn(planned{folded[0].Finding, true})
			folded = folded[1:]
		}
		fn(planned{*f, false})
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range folded {
		fn(planned{f.Finding, true})
	}
	return nil
}

// leaveFolded tells, with each tree's own finding left to a person, how many of the entries it
// stands for the plan leaves as they are: one line for the tree, as its report has, not one per
// entry. left counts them by root; trees are the roots' web-user-owns-tree findings.
func (p *Plan) leaveFolded(left map[string]int, roots []string, trees map[string]audit.Finding) {
	for _, root := range roots {
		n := left[root]
		f, tree := trees[root]
		if n == 0 || !tree {
			continue
		}
		why := fmt.Sprintf("%d more %s of the tree the web server owns cannot be given back by a plan (no site owner known, a package installed them, or webperm does not change them: hard links); webperm explain --in %s PATH says why for one", n, plural(n, "entry", "entries"), root)
		if f.Package != "" {
			why += "; " + reinstallHint(f.Package, f.PackageManager)
		}
		if i := slices.IndexFunc(p.Manual, func(m Manual) bool { return m.Path == root }); i >= 0 {
			p.Manual[i].Reason += "; " + why
			continue
		}
		p.Manual = append(p.Manual, Manual{Path: root, Type: f.Entry.Type, Reason: why, Findings: []audit.Finding{f}})
	}
}

// reinstallHint says how the package manager puts back the owners and modes of a package's
// files that chown -R changed: dpkg unpacks its files again as the package has them, but leaves
// directories that exist alone (tried: a reinstall after chown -R www-data of acl's
// /usr/share/doc/acl gave back the files, not the directory); rpm resets both from its database.
func reinstallHint(pkg, manager string) string {
	if manager == audit.ManagerRPM {
		return fmt.Sprintf("the package %s installed the tree: rpm --setugids %s && rpm --setperms %s puts its owners and modes back", pkg, pkg, pkg)
	}
	return fmt.Sprintf("the package %s installed the tree: apt-get install --reinstall %s puts its files' owners and modes back (dpkg leaves a directory that exists as it is: give those back by hand)", pkg, pkg)
}

// rootOf returns the root path lies in (the deepest, where roots nest) or, for a directory above
// every root that holds it, the first of them: the audit reports a shared ancestor with the
// first root it leads to.
func rootOf(path string, roots []string) string {
	best := ""
	for _, r := range roots {
		if walk.Within(path, r) && len(r) > len(best) {
			best = r
		}
	}
	if best != "" {
		return best
	}
	for _, r := range roots {
		if walk.Within(r, path) {
			return r
		}
	}
	return ""
}

// add plans one entry's findings, found, which share the entry and its fix. It reports false
// where the entry has only findings a tree's finding stands for and the plan leaves it: the
// tree's finding, not the entry, goes to a person then.
func (p *Plan) add(found []planned, root string) bool {
	e := &found[0].Entry
	var fix *audit.Fix
	var rules []policy.RuleID
	var manual, shown []audit.Finding
	for i := range found {
		f := &found[i]
		switch {
		case f.Fix != nil:
			fix = f.Fix
			if !slices.Contains(rules, f.Rule) {
				rules = append(rules, f.Rule)
			}
		case !f.folded:
			manual = append(manual, f.Finding)
		}
		if !f.folded {
			shown = append(shown, f.Finding)
		}
	}
	var reasons []string
	if fix != nil {
		a := newAction(e, fix, root, rules)
		why := wontFix(e)
		if why == "" && found[0].Package != "" && (a.Chown() || a.Chmod()) {
			why = packagedReason(&a, found[0].Package, found[0].PackageManager, p.Accounts)
		}
		switch {
		case why != "" && len(shown) == 0:
			return false
		case why != "":
			manual, reasons = shown, []string{why}
		case a.Chown() || a.Chmod():
			p.Actions = append(p.Actions, a)
		}
	} else if len(shown) == 0 {
		return false
	}
	// An info finding is a fact to know, not a fault to settle: a person has nothing to decide.
	manual = slices.DeleteFunc(manual, func(f audit.Finding) bool { return f.Severity <= policy.Info })
	if len(manual) == 0 {
		return true
	}
	if reasons == nil {
		for i := range manual {
			if r := manualReason(manual[i].Rule); !slices.Contains(reasons, r) {
				reasons = append(reasons, r)
			}
		}
	}
	p.Manual = append(p.Manual, Manual{Path: e.Path, Type: e.Type, Reason: strings.Join(reasons, "; "), Findings: manual})
	return true
}

func newAction(e *walk.Entry, fix *audit.Fix, root string, rules []policy.RuleID) Action {
	a := Action{
		Path: e.Path, Root: root, Ancestor: !walk.Within(e.Path, root), Type: e.Type, Dev: e.Dev, Ino: e.Ino,
		Current: State{Mode: e.Mode, UID: e.UID, GID: e.GID},
		Rules:   rules,
	}
	a.Target = a.Current
	a.Target.Mode = fix.Mode
	if fix.Chown {
		a.Target.UID, a.Target.GID = fix.UID, fix.GID
	}
	return a
}

// wontFix says why webperm will not make a fix to e itself, or "" where it will.
func wontFix(e *walk.Entry) string {
	switch {
	case e.Type == walk.TypeSymlink:
		return "webperm never changes a symlink; where its owner matters (Apache's SymLinksIfOwnerMatch), chown -h it by hand"
	case e.Type != walk.TypeFile && e.Type != walk.TypeDir:
		return fmt.Sprintf("webperm changes only files and directories, not a %s", e.Type)
	case !e.OwnerKnown:
		return "the file system does not say who owns it"
	case e.Type == walk.TypeFile && e.Nlink > 1:
		return fmt.Sprintf("it has %d hard links: a change would reach every name, some perhaps outside the root; give it a name of its own first (cp, then mv over it)", e.Nlink)
	}
	return ""
}

// packagedReason says why webperm leaves a's change to a path the package pkg, of the package
// manager manager, installed: the package's next upgrade would put its own mode and owner back.
// dpkg-statoverride makes the change one dpkg keeps; rpm keeps none.
func packagedReason(a *Action, pkg, manager string, acc *access.Accounts) string {
	id := func(name string, ok bool, n uint32) string {
		if ok {
			return name
		}
		return fmt.Sprintf("#%d", n)
	}
	user, uok := acc.UserName(a.Target.UID)
	group, gok := acc.GroupName(a.Target.GID)
	if manager == audit.ManagerRPM {
		return fmt.Sprintf("the package %s installed it, and its next update would put the mode and owner back; rpm keeps no override: make it %s:%s %s again after each update of the package, or ask the package's maintainer",
			pkg, id(user, uok, a.Target.UID), id(group, gok, a.Target.GID), policy.OctalMode(a.Target.Mode))
	}
	return fmt.Sprintf("the package %s installed it, and its next upgrade would put the mode and owner back: make the change one dpkg keeps, dpkg-statoverride --update --add %s %s %s %s, or ask the package's maintainer",
		pkg, id(user, uok, a.Target.UID), id(group, gok, a.Target.GID), policy.OctalMode(a.Target.Mode), a.Path)
}

// manualReasons say why a finding without a fix is a person's to settle.
var manualReasons = map[policy.RuleID]string{
	policy.UnknownOwner:       "no account on the system has its uid or gid: decide who should own it",
	policy.SymlinkEscapesRoot: "a link out of the root is a choice: remove it, or make sure the server does not follow it",
	policy.DanglingSymlink:    "remove the link or point it at what it should reach",
	policy.SpecialFile:        "a device, pipe or socket has no place in a web root: move or remove it",
	policy.SELinuxLabel:       "labels change with semanage fcontext and restorecon, not with chmod",
	policy.ACLExtendsAccess:   "webperm leaves ACLs alone: review them with getfacl, remove them with setfacl -b",
	policy.ScriptInWritable:   "decide whether the script belongs there: remove it, or keep code out of directories the server writes",
	policy.MissingIndex:       "add an index file, or leave it where listings are off and a 403 for / is wanted",
	policy.WebUserOwns:        "nothing says whose the site is, so nothing the web server owns can be given back: name the owner with --site-owner and plan again",
	policy.WebUserOwnsTree:    "nothing says whose the site is, so nothing the web server owns can be given back: name the owner with --site-owner and plan again",
	policy.SensitiveExposed:   "the web server reaches it as its owner, through its group or an ACL: give it an owner and group the web server is not, or deny it in the server's configuration",
}

func manualReason(rule policy.RuleID) string {
	if r, ok := manualReasons[rule]; ok {
		return r
	}
	return "webperm found no change of mode or owner, within the policy, that resolves it and keeps the access the policy requires"
}
