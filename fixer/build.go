package fixer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/policy"
)

// New turns an audit into a plan. The audit should be made with audit.Auditor.AsFixed, so that
// what lies behind a blocking directory is in it too. Each entry with a fix becomes one action;
// each finding without one (and each fix webperm will not make) is left to a person, with the
// reason.
func New(rep *audit.Report, version string, created time.Time) *Plan {
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
	for found := rep.Findings; len(found) > 0; {
		n := 1
		for n < len(found) && found[n].Entry.Path == found[0].Entry.Path {
			n++
		}
		p.add(found[:n], rootOf(found[0].Entry.Path, rep.Roots))
		found = found[n:]
	}
	return p
}

// rootOf returns the root path lies in (the deepest, where roots nest) or, for a directory above
// every root that holds it, the first of them: the audit reports a shared ancestor with the
// first root it leads to.
func rootOf(path string, roots []string) string {
	best := ""
	for _, r := range roots {
		if audit.Within(path, r) && len(r) > len(best) {
			best = r
		}
	}
	if best != "" {
		return best
	}
	for _, r := range roots {
		if audit.Within(r, path) {
			return r
		}
	}
	return ""
}

// add plans one entry's findings, found, which share the entry and its fix.
func (p *Plan) add(found []audit.Finding, root string) {
	e := &found[0].Entry
	var fix *audit.Fix
	var rules []policy.RuleID
	var manual []audit.Finding
	for i := range found {
		if f := &found[i]; f.Fix != nil {
			fix = f.Fix
			rules = append(rules, f.Rule)
		} else {
			manual = append(manual, *f)
		}
	}
	var reasons []string
	for i := range manual {
		if r := manualReason(manual[i].Rule); !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	if fix != nil {
		a := newAction(e, fix, root, rules)
		why := wontFix(e)
		if why == "" && found[0].Package != "" && (a.Chown() || a.Chmod()) {
			why = packagedReason(&a, found[0].Package, found[0].PackageManager, p.Accounts)
		}
		if why != "" {
			manual = found
			reasons = []string{why}
		} else if a.Chown() || a.Chmod() {
			p.Actions = append(p.Actions, a)
		}
	}
	if len(manual) > 0 {
		p.Manual = append(p.Manual, Manual{Path: e.Path, Type: e.Type, Reason: strings.Join(reasons, "; "), Findings: manual})
	}
}

func newAction(e *audit.Entry, fix *audit.Fix, root string, rules []policy.RuleID) Action {
	a := Action{
		Path: e.Path, Root: root, Ancestor: !audit.Within(e.Path, root), Type: e.Type, Dev: e.Dev, Ino: e.Ino,
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
func wontFix(e *audit.Entry) string {
	switch {
	case e.Type == audit.TypeSymlink:
		return "webperm never changes a symlink; where its owner matters (Apache's SymLinksIfOwnerMatch), chown -h it by hand"
	case e.Type != audit.TypeFile && e.Type != audit.TypeDir:
		return fmt.Sprintf("webperm changes only files and directories, not a %s", e.Type)
	case !e.OwnerKnown:
		return "the file system does not say who owns it"
	case e.Type == audit.TypeFile && e.Nlink > 1:
		return fmt.Sprintf("it has %d hard links: a change would reach every name, some perhaps outside the root; give it a name of its own first (cp, then mv over it)", e.Nlink)
	}
	return ""
}

// packagedReason says why webperm leaves a's change to a path the package pkg, of the package
// manager manager, installed: the package's next upgrade would put its own mode and owner back.
// dpkg-statoverride makes the change one dpkg keeps; rpm keeps none.
func packagedReason(a *Action, pkg, manager string, acc *audit.Accounts) string {
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
	policy.SensitiveExposed:   "the web server reaches it as its owner, through its group or an ACL: give it an owner and group the web server is not, or deny it in the server's configuration",
}

func manualReason(rule policy.RuleID) string {
	if r, ok := manualReasons[rule]; ok {
		return r
	}
	return "webperm found no change of mode or owner, within the policy, that resolves it and keeps the access the policy requires"
}
