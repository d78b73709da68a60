package fixer

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// diskApply applies plan with a journal, as webperm fix does, and returns the journal read back
// from disk, as webperm undo does.
func diskApply(t *testing.T, plan *Plan, opt Options) (JournalHeader, []JournalEntry) {
	t.Helper()
	path := filepath.Join(diskTempDir(t), "journal")
	j, err := CreateJournal(path, JournalHeader{Version: "test", Created: time.Now(), Roots: plan.Roots})
	if err != nil {
		t.Fatal(err)
	}
	opt.Journal = j
	if sum := Apply(plan, opt); sum.Failed != 0 || sum.Skipped != 0 {
		t.Fatalf("apply: %+v", sum)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return diskReadJournal(t, path)
}

func collectUndo() (*[]UndoOutcome, func(UndoOutcome)) {
	var out []UndoOutcome
	return &out, func(o UndoOutcome) { out = append(out, o) }
}

// Undo after apply leaves every entry as it was, setuid bits included, ancestors without a flag,
// and reports entries last first.
func TestUndo(t *testing.T) {
	diskRequireRoot(t)
	at := newAttackTree(t)
	bin := filepath.Join(at.root, "bin")
	// Its owner stays: undo gives a setuid bit back only to a file whose owner the fix kept.
	diskWrite(t, bin, mkState(fs.ModeSetuid|0o755, 0, 0))
	plan := at.plan(t)
	plan.Actions = append(plan.Actions,
		diskAction(t, at.root, bin, mkState(fs.ModeSetuid|0o750, 0, 33)),
		diskAction(t, at.root, at.root, mkState(0o750, 1000, 33)))
	before := diskTree(t, at.base)
	h, entries := diskApply(t, plan, Options{IncludeAncestors: true})
	if len(entries) != len(plan.Actions) {
		t.Fatalf("journal holds %d entries, want %d", len(entries), len(plan.Actions))
	}
	got, report := collectUndo()
	sum := Undo(h, entries, report)

	if sum != (Summary{Applied: len(entries)}) {
		t.Errorf("summary %+v, want all %d applied", sum, len(entries))
	}
	for i, o := range *got {
		if want := &entries[len(entries)-1-i]; o.Entry != want {
			t.Errorf("outcome %d is for %s, want %s: undo goes last first", i, o.Entry.Path, want.Path)
		}
		if o.Status != Applied || o.Reason != "" {
			t.Errorf("%s: %s %q, want applied", o.Entry.Path, o.Status, o.Reason)
		}
	}
	if diffs := diskTreeDiff(before, diskTree(t, at.base), nil); diffs != nil {
		t.Errorf("disk after undo:\n%s", strings.Join(diffs, "\n"))
	}
	// A second undo finds everything as before and changes nothing.
	got, report = collectUndo()
	Undo(h, entries, report)
	for _, o := range *got {
		if o.Status != Applied || o.Reason != noteAlreadyBefore {
			t.Errorf("second undo, %s: %s %q, want applied %q", o.Entry.Path, o.Status, o.Reason, noteAlreadyBefore)
		}
	}
	if diffs := diskTreeDiff(before, diskTree(t, at.base), nil); diffs != nil {
		t.Errorf("disk after the second undo:\n%s", strings.Join(diffs, "\n"))
	}
}

// The state an entry is in decides what undo does with it, and whether the journal marks its
// change done, with the times the entry still has, whether a set-id bit goes back.
func TestUndoStates(t *testing.T) {
	diskRequireRoot(t)
	const (
		suid = fs.ModeSetuid
		sgid = fs.ModeSetgid
	)
	// How the journal marks the change done: not at all, as a crash leaves it; with the times
	// the entry has now, as a fix left it that nobody touched since; with earlier times, as a
	// fix left it that someone (or undo's own chown) touched since; with the times it has now,
	// modified as it was changed, as a file written in the very clock tick of the fix is.
	const (
		notDone = iota
		doneAsNow
		doneEarlier
		doneSameTick
	)
	tests := []struct {
		name     string
		dir      bool
		old, new State
		now      State // the entry's state when undo runs
		done     int
		want     outcomeWant
	}{
		{"as the fix left it", false, mkState(suid|0o755, 0, 0), mkState(0o750, 0, 33), mkState(0o750, 0, 33), doneAsNow, wantApplied},
		{"as the fix left it, not marked done", false, mkState(suid|0o755, 0, 0), mkState(0o750, 0, 33), mkState(0o750, 0, 33), notDone,
			outcomeWant{Failed, "put back as mode 0755, owner 0:0 but without its setuid bit: its journal does not mark the change done"}},
		{"as the fix left it, written in the tick of the fix", false, mkState(suid|0o755, 0, 0), mkState(0o750, 0, 33), mkState(0o750, 0, 33), doneSameTick,
			outcomeWant{Failed, "put back as mode 0755, owner 0:0 but without its setuid bit: it was written at the moment of the fix"}},
		{"as the fix left it, touched since", false, mkState(suid|0o755, 0, 0), mkState(0o750, 0, 33), mkState(0o750, 0, 33), doneEarlier,
			outcomeWant{Failed, "put back as mode 0755, owner 0:0 but without its setuid bit: it was written to or changed since the fix"}},
		{"as before: a crash came before the change", false, mkState(suid|0o755, 0, 0), mkState(0o750, 0, 33), mkState(suid|0o755, 0, 0), notDone, outcomeWant{Applied, noteAlreadyBefore}},
		{"apply stopped after the chown: setuid cleared", false, mkState(suid|0o755, 0, 0), mkState(0o750, 0, 33), mkState(0o755, 0, 33), notDone,
			outcomeWant{Failed, "put back as mode 0755, owner 0:0 but without its setuid bit: its journal does not mark the change done"}},
		{"apply stopped after the chown: setuid and setgid cleared", false, mkState(suid|sgid|0o755, 0, 0), mkState(0o750, 0, 33), mkState(0o755, 0, 33), notDone,
			outcomeWant{Failed, "put back as mode 0755, owner 0:0 but without its setuid and setgid bits: its journal does not mark the change done"}},
		{"apply stopped after the chown of a plain file", false, mkState(0o666, 1000, 1000), mkState(0o644, 0, 33), mkState(0o666, 0, 33), notDone, outcomeWant{Applied, noteHalfChanged}},
		// Its own chown changed the times the journal holds: undo cannot tell it from another's.
		{"undo stopped after its chown", false, mkState(suid|0o755, 0, 0), mkState(suid|0o750, 0, 33), mkState(0o750, 0, 0), doneEarlier,
			outcomeWant{Failed, "put back as mode 0755, owner 0:0 but without its setuid bit: it was written to or changed since the fix"}},
		{"a plain file, half changed by undo", false, mkState(0o666, 1000, 1000), mkState(0o644, 0, 33), mkState(0o644, 1000, 1000), doneEarlier, outcomeWant{Applied, noteHalfChanged}},
		// What the fix's owner wrote must not run as root: the setuid bit stays off.
		{"a setuid bit the interim owner could have earned", false, mkState(suid|0o755, 0, 0), mkState(0o750, 1000, 33), mkState(0o750, 1000, 33), doneAsNow,
			outcomeWant{Failed, "put back as mode 0755, owner 0:0 but without its setuid bit: while the fix gave it another owner or group, they could rewrite it"}},
		{"a setgid bit the interim group could have earned", false, mkState(suid|sgid|0o755, 0, 0), mkState(suid|0o750, 0, 33), mkState(suid|0o750, 0, 33), doneAsNow,
			outcomeWant{Failed, "put back as mode 4755, owner 0:0 but without its setgid bit: while the fix gave it another owner or group"}},
		{"a setuid bit withheld by an earlier undo", false, mkState(suid|0o755, 0, 0), mkState(0o750, 1000, 33), mkState(0o755, 0, 0), doneEarlier,
			outcomeWant{Failed, "put back as mode 0755, owner 0:0 but without its setuid bit"}},
		{"changed since the fix", false, mkState(suid|sgid|0o755, 0, 0), mkState(0o750, 1000, 33), mkState(0o700, 1000, 33), doneAsNow,
			outcomeWant{Skipped, "changed since the fix: it has mode 0700, owner 1000:33, neither the mode 0750, owner 1000:33 the fix left nor the mode 6755, owner 0:0 it had before"}},
		{"a chmod-only fix changed since", false, mkState(0o666, 0, 0), mkState(0o644, 0, 0), mkState(0o666, 0, 33), doneAsNow,
			outcomeWant{Skipped, "changed since the fix: it has mode 0666, owner 0:33"}},
		// A directory's setgid bit hands out its group, not a process's rights: it goes back.
		{"a directory as the fix left it", true, mkState(sgid|0o777, 1000, 1000), mkState(sgid|0o755, 0, 33), mkState(sgid|0o755, 0, 33), notDone, wantApplied},
		// A chown keeps a directory's setgid bit, so no half state of a directory lacks it.
		{"a directory without the setgid bit a chown keeps", true, mkState(sgid|0o777, 1000, 1000), mkState(sgid|0o755, 0, 33), mkState(0o777, 0, 33), notDone,
			outcomeWant{Skipped, "changed since the fix: it has mode 0777, owner 0:33"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := diskTempDir(t)
			root := filepath.Join(base, "site")
			diskMkdir(t, root, mkState(0o755, 0, 0))
			p := filepath.Join(root, "entry")
			typ := walk.TypeFile
			if tt.dir {
				diskMkdir(t, p, tt.now)
				typ = walk.TypeDir
			} else {
				diskWrite(t, p, tt.now)
			}
			// Written long before the fix, as most files are.
			if err := os.Chtimes(p, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			s := diskStat(t, p)
			h := JournalHeader{Schema: JournalSchema, Roots: []Root{diskRoot(t, root)}}
			entries := []JournalEntry{{Path: p, Root: root, Type: typ, Dev: s.Dev, Ino: s.Ino, Old: tt.old, New: tt.new, Line: 2}}
			switch tt.done {
			case doneAsNow:
				entries[0].Done = &Done{Dev: s.Dev, Ino: s.Ino, Ctime: time.Unix(s.Ctim.Unix()).UTC(), Mtime: time.Unix(s.Mtim.Unix()).UTC()}
			case doneSameTick:
				ctime := time.Unix(s.Ctim.Unix()).UTC()
				entries[0].Done = &Done{Dev: s.Dev, Ino: s.Ino, Ctime: ctime, Mtime: ctime}
			case doneEarlier:
				entries[0].Done = &Done{Dev: s.Dev, Ino: s.Ino, Ctime: time.Unix(s.Ctim.Unix()).Add(-time.Second), Mtime: time.Unix(s.Mtim.Unix()).Add(-time.Hour)}
			}
			before := diskTree(t, base)
			got, report := collectUndo()
			Undo(h, entries, report)

			if len(*got) != 1 {
				t.Fatalf("%d outcomes for one entry", len(*got))
			}
			if o := (*got)[0]; o.Status != tt.want.status || !strings.HasPrefix(o.Reason, tt.want.reason) || (tt.want.reason == "") != (o.Reason == "") {
				t.Errorf("%s %q, want %s %q", o.Status, o.Reason, tt.want.status, tt.want.reason)
			}
			changed := map[string]State{}
			switch tt.want.status {
			case Applied:
				changed[p] = tt.old
			case Failed: // put back, less the set-id bits webperm withholds: as the reason says
				var mode string
				var back State
				if _, err := fmt.Sscanf(tt.want.reason, "put back as mode %4s, owner %d:%d", &mode, &back.UID, &back.GID); err != nil {
					t.Fatalf("reason %q does not say how the entry is put back: %v", tt.want.reason, err)
				}
				var err error
				if back.Mode, err = policy.ParseOctalMode(mode); err != nil {
					t.Fatal(err)
				}
				changed[p] = back
			}
			if diffs := diskTreeDiff(before, diskTree(t, base), changed); diffs != nil {
				t.Errorf("disk after undo:\n%s", strings.Join(diffs, "\n"))
			}
		})
	}
}

// Between apply and undo an attacker swaps what was changed for symlinks and other files. Undo
// must change nothing outside the root and nothing that is not the inode the journal names, say
// why it skipped each, and still restore the rest.
func TestUndoAttacks(t *testing.T) {
	diskRequireRoot(t)
	rootSkipped := func(why string) map[string]outcomeWant {
		return map[string]outcomeWant{
			"home": {Skipped, "the root ROOT is not the directory audited: " + why}, "index.php": {Skipped, why},
			"uploads": {Skipped, why}, "config.php": {Skipped, why},
		}
	}
	tests := []struct {
		name        string
		attack      func(t *testing.T, at *attackTree)
		editEntries func(at *attackTree, entries []JournalEntry)
		want        map[string]outcomeWant // by base name; every other entry is restored
	}{
		{
			name: "file replaced by a symlink to a file outside",
			attack: func(t *testing.T, at *attackTree) {
				diskRemove(t, at.file)
				diskSymlink(t, at.secret, at.file)
			},
			want: map[string]outcomeWant{"index.php": {Skipped, "is a symlink now: webperm never changes anything through a symlink"}},
		},
		{
			name: "directory replaced by a symlink to a directory outside",
			attack: func(t *testing.T, at *attackTree) {
				diskRemove(t, at.dir)
				diskSymlink(t, at.secretDir, at.dir)
			},
			want: map[string]outcomeWant{"uploads": {Skipped, "is a symlink now"}},
		},
		{
			name: "symlink on the way",
			attack: func(t *testing.T, at *attackTree) {
				diskRemove(t, at.sub)
				diskSymlink(t, at.outside, at.sub)
			},
			want: map[string]outcomeWant{"config.php": {Skipped, reasonSymlinkOnWay}},
		},
		{
			name: "file replaced by another regular file in the fixed state",
			attack: func(t *testing.T, at *attackTree) {
				diskWrite(t, at.file+".new", attackFileTarget)
				diskRename(t, at.file+".new", at.file)
			},
			want: map[string]outcomeWant{"index.php": {Skipped, "changed since the fix: another file now has this name"}},
		},
		{
			name: "hard link from outside",
			attack: func(t *testing.T, at *attackTree) {
				if err := os.Link(at.file, filepath.Join(at.outside, "link")); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]outcomeWant{"index.php": {Skipped, "has 2 hard links"}},
		},
		{
			name: "file replaced by a fifo",
			attack: func(t *testing.T, at *attackTree) {
				diskRemove(t, at.file)
				if err := unix.Mkfifo(at.file, 0o640); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]outcomeWant{"index.php": {Skipped, "is a fifo now"}},
		},
		{
			name: "mode changed since the fix",
			attack: func(t *testing.T, at *attackTree) {
				diskSet(t, at.subFile, mkState(0o600, 1000, 33))
			},
			want: map[string]outcomeWant{"config.php": {Skipped, "changed since the fix: it has mode 0600, owner 1000:33"}},
		},
		{
			name: "root replaced by a symlink to outside",
			attack: func(t *testing.T, at *attackTree) {
				diskRename(t, at.root, at.root+".old")
				diskSymlink(t, at.outside, at.root)
			},
			want: rootSkipped("it is a symlink now"),
		},
		{
			name: "ancestor replaced by a symlink",
			attack: func(t *testing.T, at *attackTree) {
				diskRename(t, at.home, filepath.Join(at.base, "real-home"))
				diskSymlink(t, "real-home", at.home)
			},
			want: rootSkipped(reasonSymlinkOnWay),
		},
		{
			name: "entries edited to name what lies outside",
			editEntries: func(at *attackTree, entries []JournalEntry) {
				entries[0].Path = at.secretDir // the ancestor
				entries[1].Path = at.secret
				entries[2].Path = at.root + "/../../outside/ssh"
			},
			want: map[string]outcomeWant{
				"home":      {Failed, "is marked an ancestor but does not lie above its root ROOT: refused, and never opened"},
				"index.php": {Failed, "lies outside its root ROOT: refused, and never opened"},
				"uploads":   {Failed, "is not a clean absolute path: refused, and never opened"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := newAttackTree(t)
			plan := at.plan(t)
			orig := diskTree(t, at.base)
			h, entries := diskApply(t, plan, Options{IncludeAncestors: true})
			var names []string
			for _, e := range entries {
				names = append(names, filepath.Base(e.Path))
			}
			if tt.attack != nil {
				tt.attack(t, at)
			}
			if tt.editEntries != nil {
				tt.editEntries(at, entries)
			}
			attacked := diskTree(t, at.base)
			got, report := collectUndo()
			Undo(h, entries, report)

			restored := map[string]State{}
			for i, o := range *got {
				k := len(entries) - 1 - i
				want, ok := tt.want[names[k]]
				if !ok {
					want = wantApplied
				}
				want.reason = strings.ReplaceAll(want.reason, "ROOT", at.root)
				if o.Status != want.status || !strings.Contains(o.Reason, want.reason) || (want.status == Applied) != (o.Reason == "") {
					t.Errorf("%s: %s %q, want %s %q", names[k], o.Status, o.Reason, want.status, want.reason)
				}
				if o.Status == Applied {
					restored[o.Entry.Path] = orig[o.Entry.Path].State
				}
			}
			// Outside, and whatever was skipped, is as the attack left it; the rest as before apply.
			if diffs := diskTreeDiff(attacked, diskTree(t, at.base), restored); diffs != nil {
				t.Errorf("disk after undo:\n%s", strings.Join(diffs, "\n"))
			}
		})
	}
}

// Names that break careless tools survive apply, the journal on disk and undo: each real file is
// changed and put back, and nothing else is touched.
func TestUndoHostileNames(t *testing.T) {
	diskRequireRoot(t)
	base := diskTempDir(t)
	root := filepath.Join(base, "site\n\"-\xff")
	diskMkdir(t, root, mkState(0o755, 1000, 1000))
	plan := &Plan{Roots: []Root{diskRoot(t, root)}}
	for _, name := range journalHostileNames {
		p := filepath.Join(root, name)
		diskWrite(t, p, mkState(0o666, 1000, 1000))
		plan.Actions = append(plan.Actions, diskAction(t, root, p, mkState(0o640, 0, 33)))
	}
	d := filepath.Join(root, "-d\n\"\xfe")
	diskMkdir(t, d, mkState(0o777, 1000, 1000))
	plan.Actions = append(plan.Actions, diskAction(t, root, d, mkState(0o750, 0, 33)))

	before := diskTree(t, base)
	h, entries := diskApply(t, plan, Options{})
	changed := map[string]State{}
	for i, e := range entries {
		if a := plan.Actions[i]; e.Path != a.Path || e.Root != root {
			t.Errorf("journal entry %d names %q in %q, want %q in %q", i, e.Path, e.Root, a.Path, root)
		}
		changed[e.Path] = e.New
	}
	if diffs := diskTreeDiff(before, diskTree(t, base), changed); diffs != nil {
		t.Errorf("disk after apply:\n%s", strings.Join(diffs, "\n"))
	}
	if sum := Undo(h, entries, nil); sum != (Summary{Applied: len(entries)}) {
		t.Errorf("undo: %+v, want all %d applied", sum, len(entries))
	}
	if diffs := diskTreeDiff(before, diskTree(t, base), nil); diffs != nil {
		t.Errorf("disk after undo:\n%s", strings.Join(diffs, "\n"))
	}
}
