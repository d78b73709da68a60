package fixer

import (
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// Status is what became of one action or journal entry.
type Status uint8

// Statuses. Skipped means nothing was touched because the disk is no longer as the plan or the
// journal expects; Failed means webperm could not do what it should, or was asked for what it
// never does, and the reason says whether anything changed.
const (
	Applied Status = iota
	Skipped
	Failed
)

var statusNames = [...]string{Applied: "applied", Skipped: "skipped", Failed: "failed"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Outcome is what became of one action.
type Outcome struct {
	Action *Action
	Status Status
	Reason string // lower-case: why skipped or failed; empty when applied
}

// Summary counts outcomes.
type Summary struct {
	Applied, Skipped, Failed int
}

func (s *Summary) add(st Status) {
	switch st {
	case Applied:
		s.Applied++
	case Skipped:
		s.Skipped++
	default:
		s.Failed++
	}
}

// Options says how to apply a plan.
type Options struct {
	// IncludeAncestors changes Action.Ancestor entries too; otherwise each is Skipped.
	IncludeAncestors bool
	// Journal is where each change is recorded before it is made, and marked done after; nil:
	// none (tests).
	Journal *Journal
	// Report is called once per action, in plan order; it may be nil.
	Report func(Outcome)
	// Refused says why actions are refused, by path (Refusals): each fails, changing nothing.
	Refused map[string]string
}

// reasonAncestor is why an ancestor is skipped without Options.IncludeAncestors.
const reasonAncestor = "above the root: changed only with --include-ancestors"

// Apply makes the plan's changes, action by action in plan order, and goes on past any that is
// skipped or fails. Nothing is changed through a symlink, outside its root (ancestors aside, by
// their absolute path and only with IncludeAncestors), or unless it is still the inode the audit
// saw, with the mode and owner the audit saw and, for a regular file, one name; each change is in
// the journal before it is made.
func Apply(p *Plan, opt Options) Summary {
	rs := newRootSet(p.Roots, "plan", "audit")
	defer rs.close()
	var sum Summary
	for i := range p.Actions {
		a := &p.Actions[i]
		o := Outcome{Action: a, Status: Applied}
		if r := applyAction(rs, a, opt); r != nil {
			o.Status, o.Reason = r.status, r.reason
		}
		sum.add(o.Status)
		if opt.Report != nil {
			opt.Report(o)
		}
	}
	return sum
}

func applyAction(rs *rootSet, a *Action, opt Options) *refusal {
	if a.Ancestor && !opt.IncludeAncestors {
		return skipBecause(reasonAncestor)
	}
	if !a.Chown() && !a.Chmod() {
		return skipBecause("nothing to change: the plan leaves it as the audit saw it")
	}
	fd, in, r := rs.openTarget(target{path: a.Path, root: a.Root, ancestor: a.Ancestor, typ: a.Type, dev: a.Dev, ino: a.Ino})
	if r != nil {
		return r
	}
	defer unix.Close(fd)
	if in.state != a.Current {
		return skipBecause("changed since audit: %s", stateChange(a.Current, in.state))
	}
	// Judged last: an entry no longer as the plan saw it is skipped as such, whatever its target.
	if why, ok := opt.Refused[a.Path]; ok {
		return failBecause("%s", why)
	}
	vouch := false // whether the done line will vouch for the file's content
	if opt.Journal != nil {
		// The journal names the root by path alone and undo trusts the dev and ino it lists: they
		// must be this root's.
		if jr, ok := opt.Journal.roots[a.Root]; !ok || jr != rs.roots[a.Root] {
			return failBecause("the journal does not list its root %s as the plan does; nothing was changed", a.Root)
		}
		e := JournalEntry{Path: a.Path, Root: a.Root, Ancestor: a.Ancestor, Type: a.Type, Dev: a.Dev, Ino: a.Ino, Old: a.Current, New: a.Target}
		if a.Type == walk.TypeFile && a.Chown() {
			// The chown clears them: only the journal keeps them for undo.
			caps, err := capabilityOf(fd)
			if err != nil {
				return failBecause("cannot read its capabilities, which the chown would clear: %v; nothing was changed", err)
			}
			e.Capability = caps
		}
		if a.Current.Mode != a.Target.Mode && (a.Type == walk.TypeFile || a.Type == walk.TypeDir) {
			// The chmod rewrites its mask: the journal keeps the ACL it had.
			raw, acl, err := accessACLOf(fd)
			if err != nil {
				return failBecause("cannot read its access ACL, whose mask the chmod would rewrite: %v; nothing was changed", err)
			}
			if acl != nil && !sameACL(acl, acl.Chmodded(in.state.Mode)) {
				return skipBecause("changed while webperm read its access ACL %s, which is not that of its mode %s; nothing was changed", acl, policy.OctalMode(in.state.Mode))
			}
			e.ACL = raw
		}
		if err := opt.Journal.record(e); err != nil {
			return failBecause("%v; nothing was changed", err)
		}
		reachCrashPoint(crashJournaled)
		// The journal's sync takes a while, in which the file's owner may write to it.
		if vouch = vouched(e); vouch {
			if r := stillAsChecked(fd, in); r != nil {
				return r
			}
		}
	}
	if r := change(fd, in, a.Target); r != nil {
		return r
	}
	reachCrashPoint(crashChanged)
	if opt.Journal == nil {
		return nil
	}
	return markDone(opt.Journal, fd, in, vouch)
}

// vouched reports whether undo would give e's file a set-id bit or capabilities back on the word
// of its done line: the line must then vouch only for content the fix checked.
func vouched(e JournalEntry) bool {
	return e.Type == walk.TypeFile && (e.Old.Mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 || e.Capability != nil)
}

// stillAsChecked skips a change whose inode someone wrote to or changed since apply checked it,
// in: a write by its owner clears its set-id bits or capabilities, and the change would then hide
// that write from undo.
func stillAsChecked(fd int, in inode) *refusal {
	now, err := fstatInode(fd)
	switch {
	case err != nil:
		return failBecause("cannot stat it again before changing it: %v; nothing was changed", err)
	case now.state != in.state:
		return skipBecause("changed while webperm recorded its change in the journal: %s; nothing was changed", stateChange(in.state, now.state))
	case !now.ctime.Equal(in.ctime) || !now.mtime.Equal(in.mtime):
		return skipBecause("written to or changed while webperm recorded its change in the journal; nothing was changed")
	}
	return nil
}

// markDone writes the done line of the change just made to fd's inode, with the times fstat
// gives through fd. Where the line would vouch for the file's content (vouch), it is written only
// if nobody wrote to the file since apply checked it, in.
func markDone(j *Journal, fd int, in inode, vouch bool) *refusal {
	const undone = "; undo will put it back but give it no set-id bit or capability"
	after, err := fstatInode(fd)
	if err != nil {
		return failBecause("changed it, then cannot stat it to mark the change done: %v%s", err, undone)
	}
	if vouch && !after.mtime.Equal(in.mtime) {
		return failBecause("changed it, but it was written to while webperm changed it, so the journal does not mark the change done%s", undone)
	}
	if err := j.done(Done{Dev: after.dev, Ino: after.ino, Ctime: after.ctime, Mtime: after.mtime}); err != nil {
		return failBecause("changed it, but %v%s", err, undone)
	}
	reachCrashPoint(crashDone)
	return nil
}
