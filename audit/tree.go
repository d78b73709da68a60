package audit

import (
	"fmt"
	"slices"

	"github.com/webperm/webperm/policy"
)

// ownedTree is a root the web server's (or PHP's) user owns outside the policy's writable paths,
// as `chown -R www-data` leaves a site: one fault, which the root's web-user-owns-tree finding
// stands for. The web-user-owns, web-writable-code, owner-mismatch and group-mismatch findings of
// every entry that user owns below the root, outside the writable paths, fold into it
// (Report.Folded): they stay in the plan, one chown each, and in explain, but a report lists the
// tree once, not once per file. Where the walk finds no such entry below, only the root is the
// web server's: its finding is web-user-owns again.
type ownedTree struct {
	at       int     // the tree finding's index in the report; -1 where a waiver accepts it
	finding  Finding // the tree finding, as closeTree rewrites it
	uid      uint32
	severity policy.Severity
	who      string // the owning identity, as messages name it
	giveBack string // whom the plan gives the tree back to; "" where no one is known
	start    int    // Report.Entries before the root
	members  int    // entries below the root whose findings it folded
	// own is the root's web-user-owns finding as its check made it, for a root that turns out to
	// stand alone.
	own Finding
}

// ownedTree starts the tree of c's entry, the root, whose findings begin at n in Report.Findings:
// where the root has a web-user-owns finding, that finding becomes the tree's.
func (t *tracer) ownedTree(c *Case, n int) *ownedTree {
	i := slices.IndexFunc(t.rep.Findings[n:], func(f Finding) bool { return f.Rule == policy.WebUserOwns })
	r := serverOwner(c)
	if i < 0 || r == nil {
		return nil
	}
	i += n
	f := &t.rep.Findings[i]
	tree := &ownedTree{at: t.rep.spooled() + i, uid: c.Entry.UID, who: r.who(), start: t.rep.Entries - 1, own: *f}
	if f.Fix != nil && f.Fix.Chown {
		tree.giveBack = fmt.Sprintf("uid %d", f.Fix.UID)
		if name, ok := t.env.Accounts.UserName(f.Fix.UID); ok {
			tree.giveBack = name
		}
	}
	f.Rule = policy.WebUserOwnsTree
	f.Severity = c.Settings.Severity(policy.WebUserOwnsTree)
	tree.severity = f.Severity
	f.Message = tree.message(c.Entry.Path, -1)
	if !t.env.waivers.apply(f, c) {
		t.rep.Findings = slices.Delete(t.rep.Findings, i, i+1)
		tree.at = -1
	}
	tree.finding = *f
	return tree
}

// treeRules are the findings the tree's fault makes on an entry its owner owns: the owner is
// the web server's, so the code is the web server's to rewrite, and owner and group are not the
// site's (chown -R www-data:www-data). The plan's chown settles them together.
var treeRules = []policy.RuleID{policy.WebUserOwns, policy.WebWritableCode, policy.OwnerMismatch, policy.GroupMismatch}

// takes reports whether f, a finding of c's entry, is the tree's fault on that entry: the tree's
// owner owns it, outside the writable paths (where an .htaccess the web server owns is a fault of
// its own), and no policy holds the entry's finding graver than the tree's.
func (tree *ownedTree) takes(f *Finding, c *Case) bool {
	return slices.Contains(treeRules, f.Rule) && f.Entry.OwnerKnown && f.Entry.UID == tree.uid &&
		!c.Settings.Writable && f.Severity > policy.Info && f.Severity <= tree.severity
}

// fold moves the findings from n on, of c's entry below the root, that the root's tree stands
// for out of Report.Findings into Report.Folded; where a waiver accepts the tree, they go with
// it.
func (t *tracer) fold(c *Case, n int) {
	tree := t.tree
	if tree == nil {
		return
	}
	// Only a plan (its fixes) and explain (one entry's findings) read what the tree folded: an
	// audit keeps the count alone, so a tree of a million files costs it no memory per file.
	keep := tree.at >= 0 && t.keepFolded
	found := t.rep.Findings[n:]
	kept := found[:0]
	var taken []Finding
	folded := false
	for _, f := range found {
		if !tree.takes(&f, c) {
			kept = append(kept, f)
			continue
		}
		folded = true
		if keep {
			f.Rule, f.Severity = policy.WebUserOwnsTree, tree.severity
			f.Message += "; part of the web-user-owns-tree finding of " + t.env.Root
			taken = append(taken, f)
		}
	}
	if !folded {
		return
	}
	tree.members++
	t.rep.Findings = t.rep.Findings[:n+len(kept)]
	for _, f := range taken {
		t.rep.Folded = append(t.rep.Folded, Folded{At: t.rep.NumFindings(), Finding: f})
	}
}

// closeTree ends the root's tree once its walk is over: its finding says how much of the tree
// it stands for.
func (t *tracer) closeTree() {
	tree := t.tree
	t.tree = nil
	if tree == nil || tree.at < 0 {
		return
	}
	f := tree.finding
	if tree.members == 0 {
		f = tree.own
	} else {
		f.Entries = tree.members + 1
		f.Message = tree.message(f.Entry.Path, t.rep.Entries-tree.start-1)
	}
	// The finding may be spooled by now: the report takes it back in its new state.
	t.rep.setFinding(tree.at, f)
}

// message is the tree finding's text for the root at path, below which the walk saw below
// entries; -1 where it saw only the way to one entry (explain).
func (tree *ownedTree) message(root string, below int) string {
	msg := fmt.Sprintf("%s owns this root, as `chown -R %s` leaves a site", tree.who, tree.who)
	if below >= 0 {
		msg = fmt.Sprintf("%s owns this root and %d entries below it outside the policy's writable paths (of %d below it in all), as `chown -R %s` leaves a site", tree.who, tree.members, below, tree.who)
	}
	msg += ": a break-in through the site can rewrite its code and content. One finding for the tree; webperm explain --in " + root + " PATH shows an entry's own"
	if tree.giveBack == "" {
		return msg + "; name the site's owner with --site-owner for a plan that gives them back"
	}
	return msg + fmt.Sprintf("; the plan gives them back to %s, leaving the writable paths the web server's", tree.giveBack)
}
