package fixer

import (
	"io/fs"

	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/audit"
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
// someone changed it since, so it is left alone. entries must come from ReadJournal, which holds
// them to what apply writes. report, which may be nil, is called once per entry, in the order
// undone.
func Undo(h JournalHeader, entries []JournalEntry, report func(UndoOutcome)) Summary {
	rs := newRootSet(h.Roots, "journal", "the fix")
	defer rs.close()
	var sum Summary
	for i := len(entries) - 1; i >= 0; i-- {
		e := &entries[i]
		o := UndoOutcome{Entry: e, Status: Applied}
		note, r := undoEntry(rs, e)
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

func undoEntry(rs *rootSet, e *JournalEntry) (note string, r *refusal) {
	if e.Old == e.New {
		return "", failBecause("old and new are the same state: a journal records only changes")
	}
	fd, in, r := rs.openTarget(target{path: e.Path, root: e.Root, ancestor: e.Ancestor, typ: e.Type, dev: e.Dev, ino: e.Ino})
	if r != nil {
		return "", r
	}
	defer unix.Close(fd)
	restore, withheld := withoutGrantedSetID(e)
	withholding := func() *refusal {
		return failBecause("put back as %s but without its %s bit: while the fix gave it another owner or group, they could rewrite it, and webperm gives a set-id bit to no content it cannot vouch for; check the file, then chmod %s it by hand",
			describeState(restore), setIDNames(withheld), policy.OctalMode(e.Old.Mode))
	}
	switch cur := in.state; {
	case cur == e.New:
	case cur == e.Old:
		return noteAlreadyBefore, nil
	case withheld != 0 && cur == restore:
		return "", withholding() // an earlier undo put it back as far as webperm will
	case halfChanged(e, cur):
		note = noteHalfChanged
	default:
		return "", skipBecause("changed since the fix: it has %s, neither the %s the fix left nor the %s it had before",
			describeState(in.state), describeState(e.New), describeState(e.Old))
	}
	if r := change(fd, in, restore); r != nil {
		return "", r
	}
	if withheld != 0 {
		return "", withholding()
	}
	return note, nil
}

// withoutGrantedSetID returns the state undo restores e to: its old state, less a setuid bit
// where the fix changed its owner, and a setgid bit where it changed its group, and the bits
// withheld. Restored, they would make what the interim owner or group wrote run as the old one
// (root, say).
func withoutGrantedSetID(e *JournalEntry) (State, fs.FileMode) {
	s := e.Old
	var withheld fs.FileMode
	if e.Type == audit.TypeFile {
		if e.Old.UID != e.New.UID {
			withheld |= s.Mode & fs.ModeSetuid
		}
		if e.Old.GID != e.New.GID {
			withheld |= s.Mode & fs.ModeSetgid
		}
	}
	s.Mode &^= withheld
	return s, withheld
}

func setIDNames(m fs.FileMode) string {
	switch m {
	case fs.ModeSetuid:
		return "setuid"
	case fs.ModeSetgid:
		return "setgid"
	}
	return "setuid and setgid"
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
			if cleared != 0 && e.Type != audit.TypeFile {
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
