package fixer

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// UndoOutcome is what became of one journal entry.
type UndoOutcome struct {
	Entry  *JournalEntry
	Status Status
	// Reason says why the entry was skipped or failed; for one applied it is empty, or notes an
	// entry that was already as before or found half changed.
	Reason string
}

// Notes on entries undo finds in a state a crash leaves.
const (
	noteAlreadyBefore = "already as before: the change was never made"
	noteHalfChanged   = "restored from half changed, as an interrupted run leaves it"
)

// Undo puts back what a journal's changes changed, last first, with apply's care: nothing is
// changed through a symlink, outside its root (ancestors aside, by their absolute path), or unless
// it is still the inode the journal names, with one name for a regular file. The state each entry
// is in now decides: as the change left it, or half changed by a crash, and it is restored; as
// before the change, which a crash before it leaves, and nothing needs doing; anything else, and
// someone changed it since, so it is left alone, as is one whose access ACL is not the journal's
// as its mode leaves it (see changedACL). A set-id bit or capabilities go back only to a
// file nobody can have rewritten since the fix (see restorationOf). entries must come from
// ReadJournal, which holds them to what apply writes. report, which may be nil, is called once per
// entry, in the order undone.
func Undo(h JournalHeader, entries []JournalEntry, report func(UndoOutcome)) Summary {
	rs := newRootSet(h.Roots, "journal", "the fix")
	defer rs.close()
	legacy := h.Schema == journalSchemaV1
	var sum Summary
	for i := len(entries) - 1; i >= 0; i-- {
		e := &entries[i]
		o := UndoOutcome{Entry: e, Status: Applied}
		note, r := undoEntry(rs, e, legacy)
		if r != nil {
			o.Status, o.Reason = r.status, r.reason
		} else {
			o.Reason = note
		}
		sum.add(o.Status)
		if report != nil {
			report(o)
		}
	}
	return sum
}

func undoEntry(rs *rootSet, e *JournalEntry, legacy bool) (note string, r *refusal) {
	if e.Old == e.New {
		return "", failBecause("old and new are the same state: a journal records only changes")
	}
	fd, in, r := rs.openTarget(target{path: e.Path, root: e.Root, ancestor: e.Ancestor, typ: e.Type, dev: e.Dev, ino: e.Ino})
	if r != nil {
		return "", r
	}
	defer unix.Close(fd)
	// Judged on the inode as undo found it, before its own chown and chmod change its times.
	back := restorationOf(e, in, legacy)
	switch cur := in.state; {
	case cur == e.New:
	case cur == e.Old:
		if r := changedACL(fd, e, in); r != nil {
			return "", r
		}
		if back.capsWithheld != nil {
			if caps, err := capabilityOf(fd); err == nil && caps == nil {
				return "", back.refusal() // an earlier undo put it back as far as webperm will
			}
		}
		return noteAlreadyBefore, nil
	case back.withholds() && cur == back.state:
		return "", back.refusal() // an earlier undo put it back as far as webperm will
	case halfChanged(e, cur):
		note = noteHalfChanged
	default:
		return "", skipBecause("changed since the fix: it has %s, neither the %s the fix left nor the %s it had before",
			describeState(in.state), describeState(e.New), describeState(e.Old))
	}
	if r := changedACL(fd, e, in); r != nil {
		return "", r
	}
	if r := change(fd, in, back.state); r != nil {
		return "", r
	}
	if r := restoreACL(fd, e, back.state); r != nil {
		return "", r
	}
	if back.capability != nil {
		if err := setCapability(fd, back.capability); err != nil {
			return "", failBecause("put back as %s, but cannot give it its capabilities %s again: %v", describeState(back.state), capabilityText(back.capability), err)
		}
	}
	if r := takeBackIfWritten(fd, in, &back); r != nil {
		return "", r
	}
	if back.withholds() {
		return "", back.refusal()
	}
	return note, nil
}

// changedACL skips an entry whose access ACL someone changed since the fix: it is not the ACL the
// journal keeps as the entry's mode now leaves it (a chmod changes only the ACL's user::, mask::
// and other:: entries, which are the mode's bits): the one the fix left, or for an entry with its
// old mode the one it had. Undo then leaves it alone, as it does an entry whose mode or owner
// someone changed: putting the old ACL back would undo their change too, and give back a grant
// they may have taken away.
func changedACL(fd int, e *JournalEntry, in inode) *refusal {
	if e.ACL == nil {
		return nil
	}
	_, cur, err := accessACLOf(fd)
	if err != nil {
		return failBecause("cannot read its access ACL: %v; nothing was changed", err)
	}
	kept, _ := walk.ParseACL(e.ACL) // ReadJournal lets through none it cannot decode
	if want := kept.Chmodded(in.state.Mode); !sameACL(cur, want) {
		return skipBecause("changed since the fix: its access ACL is now %s, not %s", aclText(cur), want)
	}
	return nil
}

// restoreACL gives the entry the access ACL the journal keeps, once change has put its mode back:
// the chmod alone gives the mask back, so this finds the ACL as it was but for a change made
// while undo ran. Setting the ACL sets the mode's permission bits from it, which are the old
// mode's (ReadJournal holds the ACL to them), and fstat checks they are.
func restoreACL(fd int, e *JournalEntry, old State) *refusal {
	if e.ACL == nil {
		return nil
	}
	raw, _, err := accessACLOf(fd)
	if err != nil {
		return failBecause("put back as %s, but cannot read its access ACL to check it: %v", describeState(old), err)
	}
	if bytes.Equal(raw, e.ACL) {
		return nil
	}
	kept, _ := walk.ParseACL(e.ACL)
	if err := setAccessACL(fd, e.ACL); err != nil {
		return failBecause("put back as %s, but cannot give it its access ACL %s again: %v; setfacl --set '%s' it by hand", describeState(old), kept, err, kept)
	}
	after, err := fstatInode(fd)
	if err != nil {
		return failBecause("gave it its access ACL %s again, then cannot stat it to check: %v", kept, err)
	}
	if after.state != old {
		return failBecause("after giving it its access ACL %s again it has %s, not %s", kept, describeState(after.state), describeState(old))
	}
	return nil
}

// takeBackIfWritten takes the set-id bits and capabilities undo just gave b's file back off it
// again, should it have been written to since undo looked at it, in, and judged it untouched: a
// write before undo's chmod would keep them, where one after it has the kernel clear them.
func takeBackIfWritten(fd int, in inode, b *restoration) *refusal {
	setID := b.state.Mode & (fs.ModeSetuid | fs.ModeSetgid)
	if in.typ != walk.TypeFile || (setID == 0 && b.capability == nil) {
		return nil
	}
	if after, err := fstatInode(fd); err == nil && after.mtime.Equal(in.mtime) {
		return nil
	}
	bare := b.state.Mode &^ setID
	err := chmodFD(fd, bare)
	if rerr := removeCapability(fd); err == nil {
		err = rerr
	}
	if err != nil {
		return failBecause("it was written to while undo gave it its set-id bits or capabilities back, and undo cannot take them off again: %v; chmod %s it and setcap -r it by hand now", err, policy.OctalMode(bare))
	}
	return failBecause("put back as %s but without its set-id bits and capabilities: it was written to while undo ran, and webperm gives a set-id bit or capabilities to no content it cannot vouch for; check the file, then chmod %s it by hand",
		describeState(State{Mode: bare, UID: b.state.UID, GID: b.state.GID}), policy.OctalMode(b.old))
}

// restoration is what undo gives an entry back: its old state, less what webperm withholds.
type restoration struct {
	state        State
	withheld     fs.FileMode // set-id bits left off
	capability   []byte      // capabilities to give back after the change; nil: none
	capsWithheld []byte      // capabilities left off; nil: none
	why          string      // why bits or capabilities are left off
	old          fs.FileMode // the mode before the fix, for the way to give the bits back by hand
}

func (b *restoration) withholds() bool { return b.withheld != 0 || b.capsWithheld != nil }

// refusal says what was left off and why, and how to give it back by hand.
func (b *restoration) refusal() *refusal {
	var what, how []string
	if b.withheld != 0 {
		what = append(what, "its "+specialNames(b.withheld))
		how = append(how, "chmod "+policy.OctalMode(b.old)+" it")
	}
	if b.capsWithheld != nil {
		caps := capabilityText(b.capsWithheld)
		what = append(what, "its capabilities "+caps)
		how = append(how, "setcap '"+caps+"' it")
	}
	return failBecause("put back as %s but without %s: %s, and webperm gives a set-id bit or capabilities to no content it cannot vouch for; check the file, then %s by hand",
		describeState(b.state), strings.Join(what, " and "), b.why, strings.Join(how, " and "))
}

// restorationOf returns what undo gives e back: its old state, with the set-id bits and
// capabilities of a regular file only where nobody can have rewritten it since the fix, for what
// they wrote would then run with them (as root, say). It withholds a setuid bit where the fix
// changed the owner, and a setgid bit where it changed the group: the interim owner or group could
// write to it. It withholds all of them unless the journal says how the fix left the inode and
// the inode is still so (see unvouched).
func restorationOf(e *JournalEntry, in inode, legacy bool) restoration {
	b := restoration{state: e.Old, old: e.Old.Mode}
	setID := e.Old.Mode & (fs.ModeSetuid | fs.ModeSetgid)
	if e.Type != walk.TypeFile || (setID == 0 && e.Capability == nil) {
		return b
	}
	if e.Old.UID != e.New.UID {
		b.withheld |= setID & fs.ModeSetuid
	}
	if e.Old.GID != e.New.GID {
		b.withheld |= setID & fs.ModeSetgid
	}
	if b.withheld != 0 {
		b.why = "while the fix gave it another owner or group, they could rewrite it"
	}
	if why := unvouched(e.Done, in, legacy); why != "" {
		if b.withheld != setID || e.Capability != nil {
			b.why = why // what the owner's reason covers not
		}
		b.withheld = setID
		b.capsWithheld = e.Capability
	} else {
		b.capability = e.Capability
	}
	b.state.Mode &^= b.withheld
	return b
}

// unvouched says why the inode undo found, in, may hold what someone wrote since the fix; empty
// when it cannot: it is as the done line says the fix left it. Any write changes a file's
// modification and change times, any chmod, chown or change of an attribute its change time; a
// kernel without fine-grained timestamps gives two changes in one clock tick the same times,
// which the fix's times disclose: a file written in the tick of the fix is not vouched for.
func unvouched(d *Done, in inode, legacy bool) string {
	switch {
	case d == nil && legacy:
		return "its journal, from a webperm that wrote " + journalSchemaV1 + ", does not record how the fix left it, so nothing tells whether it was rewritten since"
	case d == nil:
		return "its journal does not mark the change done (the fix stopped or failed there), so nothing tells whether it was rewritten since"
	case !d.Mtime.Before(d.Ctime):
		return fmt.Sprintf("it was written at the moment of the fix (modified %s, changed %s), so nothing tells whether before or after", d.Mtime.Format(doneTime), d.Ctime.Format(doneTime))
	case !in.ctime.Equal(d.Ctime) || !in.mtime.Equal(d.Mtime):
		return fmt.Sprintf("it was written to or changed since the fix: changed %s and modified %s, where the fix left it changed %s and modified %s",
			in.ctime.Format(doneTime), in.mtime.Format(doneTime), d.Ctime.Format(doneTime), d.Mtime.Format(doneTime))
	}
	return ""
}

// capabilityText writes a vfs_cap_data as setcap takes it; ReadJournal and capabilityOf let
// through none it cannot decode.
func capabilityText(caps []byte) string {
	c, _ := walk.ParseCapabilities(caps)
	return c.String()
}

// halfChanged reports whether cur is a state a crash between the chown and the chmod leaves:
// apply's, with the new owner and the old mode, or undo's own, with the old owner and the new
// mode; for a regular file, either mode less the setuid bit, or the setuid and setgid bits,
// which the chown clears.
func halfChanged(e *JournalEntry, cur State) bool {
	if e.Old.UID == e.New.UID && e.Old.GID == e.New.GID {
		return false // one chmod, which leaves no half
	}
	for _, half := range []State{
		{Mode: e.Old.Mode, UID: e.New.UID, GID: e.New.GID},
		{Mode: e.New.Mode, UID: e.Old.UID, GID: e.Old.GID},
	} {
		for _, cleared := range []fs.FileMode{0, fs.ModeSetuid, fs.ModeSetuid | fs.ModeSetgid} {
			if cleared != 0 && e.Type != walk.TypeFile {
				continue
			}
			h := half
			h.Mode &^= cleared
			if cur == h {
				return true
			}
		}
	}
	return false
}
