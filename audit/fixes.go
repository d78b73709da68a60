package audit

import (
	"io/fs"

	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// An entry's findings are fixed together: each check proposes the change that resolves its own
// finding, and settleFixes merges them into one state for the entry and proves it by checking
// the entry as it would be. A fix that leaves a finding it claims, or opens one that was not
// there (tightening wp-config.php to 0640 locks PHP out), is mended once more from the checks'
// own proposals, or dropped: a person must then decide.

// maxSettleRounds bounds the mending: two proposals that undo each other never settle.
const maxSettleRounds = 4

// after returns e as the fix would leave it.
func (f *Fix) after(e *walk.Entry) walk.Entry {
	t := *e
	t.Mode = f.Mode
	if t.ACL != nil && f.Mode.Perm() != e.Mode.Perm() {
		t.ACL = t.ACL.Chmodded(f.Mode) // the chmod rewrites the mask: a named grant may go with it
	}
	if f.Chown {
		t.UID, t.GID = f.UID, f.GID
	}
	return t
}

// combine merges the fixes proposed for e into one: the mode loses every bit any fix removes and
// gains every bit any fix adds (a bit removed was set, a bit added was not, so they never
// collide), and the owner and group take the one change proposed for each. It returns nil where
// no fix is proposed or two propose different owners or groups.
func combine(e *walk.Entry, fixes []*Fix) *Fix {
	var removed, added fs.FileMode
	out := &Fix{Mode: e.Mode, UID: e.UID, GID: e.GID}
	proposed := false
	for _, f := range fixes {
		if f == nil {
			continue
		}
		proposed = true
		removed |= e.Mode &^ f.Mode
		added |= f.Mode &^ e.Mode
		if !f.Chown {
			continue
		}
		for _, id := range []struct{ cur, want, out *uint32 }{{&e.UID, &f.UID, &out.UID}, {&e.GID, &f.GID, &out.GID}} {
			if *id.want == *id.cur {
				continue
			}
			if *id.out != *id.cur && *id.out != *id.want {
				return nil
			}
			*id.out = *id.want
		}
	}
	if !proposed {
		return nil
	}
	out.Mode = e.Mode&^removed | added
	return normalise(out, e)
}

// normalise completes fix, whose UID and GID are absolute, as a fix of e: Chown says whether they
// change, and a Fix names ids only where it does. A regular file whose owner changes loses its
// setuid bit, and whose group changes its setgid bit, as the kernel's chown clears them: kept,
// they would make what the old owner wrote run as the new one.
func normalise(fix *Fix, e *walk.Entry) *Fix {
	if e.Type == walk.TypeFile {
		if fix.UID != e.UID {
			fix.Mode &^= fs.ModeSetuid
		}
		if fix.GID != e.GID {
			fix.Mode &^= fs.ModeSetgid
		}
	}
	if fix.Chown = fix.UID != e.UID || fix.GID != e.GID; !fix.Chown {
		fix.UID, fix.GID = 0, 0
	}
	return fix
}

// settleFixes gives found, the findings of c's entry that table's checks made, one fix between
// them: the state that resolves every finding that proposed a fix, and takes no access the
// policy requires. Findings without a proposal keep none; where no state settles, none keeps
// one.
func settleFixes(table []ruleCheck, c *Case, found []Finding) {
	if len(found) == 0 {
		return // most entries: nothing to settle, and nothing allocated for it
	}
	fix, settled := firstFix(c.Entry, found), false
	for round := 1; fix != nil; round++ {
		var more []*Fix
		if settled, more = recheck(table, c, fix, found); settled {
			break
		}
		if round == maxSettleRounds || hasNil(more) {
			break
		}
		e := fix.after(c.Entry)
		fix = rebase(combine(&e, more), &e, c.Entry)
	}
	for i := range found {
		if found[i].Fix != nil {
			found[i].Fix = nil
			if settled {
				found[i].Fix = fix
			}
		}
	}
}

// firstFix merges the fixes found propose. Where two ask for different owners or groups, the
// owner-mismatch and group-mismatch proposals (the site's own) give way to the others, which
// name an owner or group the policy also allows and which some access needs (PHP's group on
// wp-config.php); the recheck then proves the mismatch settled too.
func firstFix(e *walk.Entry, found []Finding) *Fix {
	var all, needed []*Fix
	for i := range found {
		f := &found[i]
		all = append(all, f.Fix)
		if f.Rule != policy.OwnerMismatch && f.Rule != policy.GroupMismatch {
			needed = append(needed, f.Fix)
		}
	}
	if fix := combine(e, all); fix != nil {
		return fix
	}
	return combine(e, needed)
}

// rebase makes fix, proposed for now (orig as an earlier round's fix left it), a fix of orig:
// the owner and group that round changed stay changed.
func rebase(fix *Fix, now, orig *walk.Entry) *Fix {
	if fix == nil {
		return nil
	}
	out := *fix
	if !out.Chown {
		out.UID, out.GID = now.UID, now.GID
	}
	return normalise(&out, orig)
}

// recheck runs table's checks on c's entry as fix leaves it. It settles where every finding left
// is one of found that proposed no fix, or is waived; otherwise it returns what the findings left
// propose.
func recheck(table []ruleCheck, c *Case, fix *Fix, found []Finding) (settled bool, more []*Fix) {
	e := fix.after(c.Entry)
	sim := c.as(&e)
	settled = true
	for _, rc := range table {
		_, f, ok := rc.fn(&sim)
		if !ok || unfixed(found, rc.rule) || c.Env.waivers.holds(rc.rule, c) {
			continue
		}
		settled = false
		more = append(more, f)
	}
	return settled, more
}

// unfixed reports whether rule is among found without a proposed fix: a fault a person must
// settle, which the fix leaves as it was.
func unfixed(found []Finding, rule policy.RuleID) bool {
	for i := range found {
		if found[i].Rule == rule && found[i].Fix == nil {
			return true
		}
	}
	return false
}

func hasNil(fixes []*Fix) bool {
	for _, f := range fixes {
		if f == nil {
			return true
		}
	}
	return false
}

// fixOf returns the fix an entry's findings share, nil where none has one.
func fixOf(found []Finding) *Fix {
	for i := range found {
		if found[i].Fix != nil {
			return found[i].Fix
		}
	}
	return nil
}

// as returns c for e, the same path in another state: the way to it is unchanged, the access
// to it is e's.
func (c *Case) as(e *walk.Entry) Case {
	t := *c
	t.Entry = e
	t.Web.Access, t.PHP.Access = accessOf(&c.Web, e), accessOf(&c.PHP, e)
	return t
}

// accessOf is r's access to e, or nothing where r's identity is unknown.
func accessOf(r *Reach, e *walk.Entry) access.Verdict {
	if r.Who == nil {
		return r.Access
	}
	id := r.Who.Identity()
	return access.Decide(&id, e)
}
