package fixer

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// Capabilities as setcap writes them: cap_net_bind_service=ep in a v2 vfs_cap_data, and
// cap_net_raw=ep in a v3 one for the initial namespace's root, which the kernel stores as v2.
var (
	capNetBind = walk.Capabilities{Version: 2, Permitted: 1 << 10, Effective: true}.Bytes()
	capNetRaw  = walk.Capabilities{Version: 3, Permitted: 1 << 13, Effective: true}.Bytes()
)

// setIDTree is a root with three files a fix takes a set-id bit or capabilities from:
//   - su, setuid root, whose setuid bit the fix takes away (the audit's setuid-setgid fix);
//   - ping, setuid root with capabilities, which the fix gives the web server's group: the
//     chown clears its setuid bit, which the chmod puts back, and its capabilities, which only
//     the journal keeps;
//   - raw, with capabilities alone, which the fix gives the web server's group.
type setIDTree struct {
	root, su, ping, raw string
	plan                *Plan
}

// The files' states before and after the fix.
var (
	setIDSuBefore   = mkState(fs.ModeSetuid|0o755, 0, 0)
	setIDSuFixed    = mkState(0o755, 0, 0)
	setIDPingBefore = mkState(fs.ModeSetuid|0o755, 0, 0)
	setIDPingFixed  = mkState(fs.ModeSetuid|0o750, 0, 33)
	setIDRawBefore  = mkState(0o755, 0, 0)
	setIDRawFixed   = mkState(0o750, 0, 33)
)

func newSetIDTree(t *testing.T) *setIDTree {
	t.Helper()
	diskRequireRoot(t)
	st := &setIDTree{root: filepath.Join(diskTempDir(t), "site")}
	diskMkdir(t, st.root, mkState(0o755, 0, 0))
	st.su, st.ping, st.raw = filepath.Join(st.root, "su"), filepath.Join(st.root, "ping"), filepath.Join(st.root, "raw")
	diskWrite(t, st.su, setIDSuBefore)
	diskWrite(t, st.ping, setIDPingBefore)
	diskWrite(t, st.raw, setIDRawBefore)
	for p, caps := range map[string][]byte{st.ping: capNetBind, st.raw: capNetRaw} {
		if err := unix.Setxattr(p, walk.CapabilityXattr, caps, 0); err != nil {
			if errors.Is(err, unix.ENOTSUP) {
				t.Skipf("the temp dir's file system keeps no %s: %v", walk.CapabilityXattr, err)
			}
			t.Fatal(err)
		}
	}
	// Written long before the fix, as most files are; setting the times changes the ctime now.
	for _, p := range []string{st.su, st.ping, st.raw} {
		if err := os.Chtimes(p, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	st.plan = &Plan{Roots: []Root{diskRoot(t, st.root)}, Actions: []Action{
		diskAction(t, st.root, st.su, setIDSuFixed),
		diskAction(t, st.root, st.ping, setIDPingFixed),
		diskAction(t, st.root, st.raw, setIDRawFixed),
	}}
	return st
}

// diskCapability is p's security.capability; nil where it has none.
func diskCapability(t *testing.T, p string) []byte {
	t.Helper()
	return diskXattr(t, p, walk.CapabilityXattr)
}

// requireFile fails t unless p has state s and capabilities caps (nil: none).
func requireFile(t *testing.T, p string, s State, caps []byte) {
	t.Helper()
	if got := diskState(t, p); got != s {
		t.Errorf("%s is %s, want %s", filepath.Base(p), describeState(got), describeState(s))
	}
	if got := diskCapability(t, p); !bytes.Equal(got, caps) {
		t.Errorf("%s has capabilities %x, want %x", filepath.Base(p), got, caps)
	}
}

// The fix clears ping's capabilities with its chown, and the journal keeps them.
func TestApplyJournalsCapabilities(t *testing.T) {
	st := newSetIDTree(t)
	_, entries := diskApply(t, st.plan, Options{})
	requireFile(t, st.su, setIDSuFixed, nil)
	requireFile(t, st.ping, setIDPingFixed, nil)
	requireFile(t, st.raw, setIDRawFixed, nil)
	want := map[string][]byte{st.su: nil, st.ping: capNetBind, st.raw: diskCapabilityAsStored(t, capNetRaw)}
	for _, e := range entries {
		if w := want[e.Path]; !bytes.Equal(e.Capability, w) || (e.Capability == nil) != (w == nil) {
			t.Errorf("%s: journal keeps capabilities %x, want %x", filepath.Base(e.Path), e.Capability, want[e.Path])
		}
		if e.Done == nil {
			t.Errorf("%s: change not marked done", filepath.Base(e.Path))
		}
	}
}

// diskCapabilityAsStored is caps as the kernel stores them: a v3 value for the initial
// namespace's root becomes v2.
func diskCapabilityAsStored(t *testing.T, caps []byte) []byte {
	t.Helper()
	c, err := walk.ParseCapabilities(caps)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version == 3 && c.RootID == 0 {
		c.Version = 2
	}
	return c.Bytes()
}

// Undo gives set-id bits and capabilities back to files nobody wrote or changed since the fix,
// and to no other: those it puts back without them, names, and counts as failed (exit 4); a file
// replaced by another inode it leaves as it is.
func TestUndoSetIDOnlyUntouched(t *testing.T) {
	tests := []struct {
		name   string
		attack func(t *testing.T, st *setIDTree)
		want   Summary
		reason string // of each file's outcome
		// The files after undo: as before the fix, less set-id bits and capabilities, or as
		// the attack left them.
		su, ping, raw State
		withCaps      bool
	}{
		{
			name: "untouched", want: Summary{Applied: 3},
			su: setIDSuBefore, ping: setIDPingBefore, raw: setIDRawBefore, withCaps: true,
		},
		{
			name: "written to",
			attack: func(t *testing.T, st *setIDTree) {
				for _, p := range []string{st.su, st.ping, st.raw} {
					f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := f.WriteString("#!/bin/sh\nexec /bin/sh\n"); err != nil {
						t.Fatal(err)
					}
					f.Close()
				}
			},
			want: Summary{Failed: 3}, reason: "it was written to or changed since the fix",
			su: setIDSuFixed, ping: mkState(0o755, 0, 0), raw: setIDRawBefore,
		},
		{
			name: "chmodded, to the very mode the fix left",
			attack: func(t *testing.T, st *setIDTree) {
				diskSet(t, st.su, setIDSuFixed)
				diskSet(t, st.ping, setIDPingFixed)
				diskSet(t, st.raw, setIDRawFixed)
			},
			want: Summary{Failed: 3}, reason: "it was written to or changed since the fix",
			su: setIDSuFixed, ping: mkState(0o755, 0, 0), raw: setIDRawBefore,
		},
		{
			name: "replaced by another inode",
			attack: func(t *testing.T, st *setIDTree) {
				for p, s := range map[string]State{st.su: setIDSuFixed, st.ping: setIDPingFixed, st.raw: setIDRawFixed} {
					diskWrite(t, p+".new", s)
					diskRename(t, p+".new", p)
				}
			},
			want: Summary{Skipped: 3}, reason: "changed since the fix: another file now has this name",
			su: setIDSuFixed, ping: setIDPingFixed, raw: setIDRawFixed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newSetIDTree(t)
			h, entries := diskApply(t, st.plan, Options{})
			if tt.attack != nil {
				tt.attack(t, st)
			}
			got, report := collectUndo()
			if sum := Undo(h, entries, report); sum != tt.want {
				t.Errorf("undo: %+v, want %+v", sum, tt.want)
			}
			for _, o := range *got {
				if !strings.Contains(o.Reason, tt.reason) {
					t.Errorf("%s: %s %q, want %q", filepath.Base(o.Entry.Path), o.Status, o.Reason, tt.reason)
				}
			}
			pingCaps, rawCaps := []byte(nil), []byte(nil)
			if tt.withCaps {
				pingCaps, rawCaps = capNetBind, diskCapabilityAsStored(t, capNetRaw)
			}
			requireFile(t, st.su, tt.su, nil)
			requireFile(t, st.ping, tt.ping, pingCaps)
			requireFile(t, st.raw, tt.raw, rawCaps)
		})
	}
}

// A journal of the webperm before done lines (webperm/journal/v1) is still read and undone, but
// records no file's times after the fix: undo gives none of its files a set-id bit back, even
// one nobody touched, and says why.
func TestUndoOldJournalGivesNoSetID(t *testing.T) {
	st := newSetIDTree(t)
	_, entries := diskApply(t, st.plan, Options{})
	// The journal as that webperm wrote it: its schema, no done lines, no capabilities.
	var b bytes.Buffer
	header, err := marshalHeader(JournalHeader{Version: "1.2.0", Created: time.Now(), Roots: st.plan.Roots})
	if err != nil {
		t.Fatal(err)
	}
	b.Write(bytes.Replace(header, []byte(JournalSchema), []byte(journalSchemaV1), 1))
	for _, e := range entries {
		e.Done, e.Capability = nil, nil
		line, err := marshalEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
	}
	h, old, err := ReadJournal("old.jsonl", &b)
	if err != nil {
		t.Fatalf("a webperm/journal/v1 journal is refused: %v", err)
	}
	got, report := collectUndo()
	if sum := Undo(h, old, report); sum != (Summary{Applied: 1, Failed: 2}) {
		t.Errorf("undo: %+v, want raw restored, su and ping failed", sum)
	}
	for _, o := range *got {
		if o.Entry.Path == st.raw {
			if o.Status != Applied || o.Reason != "" {
				t.Errorf("raw: %s %q, want applied", o.Status, o.Reason)
			}
			continue
		}
		if want := "its journal, from a webperm that wrote webperm/journal/v1, does not record how the fix left it"; o.Status != Failed || !strings.Contains(o.Reason, want) {
			t.Errorf("%s: %s %q, want failed %q", filepath.Base(o.Entry.Path), o.Status, o.Reason, want)
		}
	}
	requireFile(t, st.su, setIDSuFixed, nil)
	requireFile(t, st.ping, mkState(0o755, 0, 0), nil)
	requireFile(t, st.raw, setIDRawBefore, nil) // that webperm kept no capabilities to give back
}

// A file written to while undo runs, after undo judged it untouched and before its chmod gives
// the setuid bit back, does not keep the bit, nor capabilities.
func TestUndoSetIDWrittenWhileUndoRuns(t *testing.T) {
	st := newSetIDTree(t)
	h, entries := diskApply(t, st.plan, Options{})
	real := sysFchmodat
	diskStub(t, &sysFchmodat, func(fd int, path string, mode uint32, flags int) error {
		if mode&unix.S_ISUID != 0 { // the chmod that gives a setuid bit back: su's or ping's
			if err := os.WriteFile(procFD(fd), []byte("#!/bin/sh\nexec /bin/sh\n"), 0); err != nil {
				t.Error(err)
			}
		}
		return real(fd, path, mode, flags)
	})
	got, report := collectUndo()
	if sum := Undo(h, entries, report); sum != (Summary{Applied: 1, Failed: 2}) {
		t.Errorf("undo: %+v, want raw applied, su and ping failed", sum)
	}
	for _, o := range *got {
		if o.Entry.Path != st.raw && !strings.Contains(o.Reason, "it was written to while undo ran") {
			t.Errorf("%s: %s %q, want failed: written to while undo ran", filepath.Base(o.Entry.Path), o.Status, o.Reason)
		}
	}
	requireFile(t, st.su, setIDSuFixed, nil)
	requireFile(t, st.ping, mkState(0o755, 0, 0), nil)
	requireFile(t, st.raw, setIDRawBefore, diskCapabilityAsStored(t, capNetRaw))
}

// A file its owner writes to while apply changes it, after apply checked it and before the change
// is made, is not vouched for by the journal: undo gives it no set-id bit or capabilities back.
// Alice owns cgi, setgid www-data (she is not in the group, so only root could have set the bit),
// and bind, which root gave a capability; each write of hers clears those, so she cannot change
// the content and keep them. Should a write of hers slip in while apply journals the change, or
// just before its chmod, a done line would record the times her write and the chmod left, and
// undo would put the setgid bit or the capability back onto what she wrote.
func TestApplyVouchesForNoFileWrittenWhileItRuns(t *testing.T) {
	const alice = 1000
	var (
		cgiBefore  = mkState(fs.ModeSetgid|0o755, alice, 33)
		cgiFixed   = mkState(0o755, alice, 33)
		bindBefore = mkState(0o755, alice, alice)
		bindFixed  = mkState(0o750, alice, 33)
	)
	for _, when := range []string{"after the journal line", "just before the chmod"} {
		t.Run(when, func(t *testing.T) {
			diskRequireRoot(t)
			root := filepath.Join(diskTempDir(t), "site")
			diskMkdir(t, root, mkState(0o755, 0, 0))
			cgi, bind := filepath.Join(root, "cgi"), filepath.Join(root, "bind")
			diskWrite(t, cgi, cgiBefore)
			diskWrite(t, bind, bindBefore)
			if err := unix.Setxattr(bind, walk.CapabilityXattr, capNetBind, 0); err != nil {
				if errors.Is(err, unix.ENOTSUP) {
					t.Skipf("the temp dir's file system keeps no %s: %v", walk.CapabilityXattr, err)
				}
				t.Fatal(err)
			}
			for _, p := range []string{cgi, bind} {
				if err := os.Chtimes(p, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			plan := &Plan{Roots: []Root{diskRoot(t, root)}, Actions: []Action{
				diskAction(t, root, cgi, cgiFixed),
				diskAction(t, root, bind, bindFixed),
			}}
			// Alice opened both for writing long before; opening clears nothing.
			files := map[uint64]*os.File{}
			for _, p := range []string{cgi, bind} {
				f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
				files[diskStat(t, p).Ino] = f
			}
			var current uint64 // the inode apply is at
			write := func() {
				if f := files[current]; f != nil {
					writeAs(t, alice, f, "#!/bin/sh\nexec /bin/sh\n")
					delete(files, current)
					// The journal's fsync, or a preemption, lets a clock tick pass before the
					// change: the change then leaves a later change time than her write.
					time.Sleep(20 * time.Millisecond)
				}
			}
			real := sysFstat
			diskStub(t, &sysFstat, func(fd int, st *unix.Stat_t) error {
				err := real(fd, st)
				if st.Mode&unix.S_IFMT == unix.S_IFREG {
					current = st.Ino
				}
				return err
			})
			if when == "after the journal line" {
				crashHook = func(p crashPoint) {
					if p == crashJournaled {
						write()
					}
				}
				t.Cleanup(func() { crashHook = nil })
			} else {
				chmod := sysFchmodat
				diskStub(t, &sysFchmodat, func(fd int, path string, mode uint32, flags int) error {
					write()
					return chmod(fd, path, mode, flags)
				})
			}
			journal := filepath.Join(diskTempDir(t), "journal")
			j, err := CreateJournal(journal, JournalHeader{Version: "test", Created: time.Now(), Roots: plan.Roots})
			if err != nil {
				t.Fatal(err)
			}
			Apply(plan, Options{Journal: j})
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			crashHook = nil
			if len(files) != 0 {
				t.Fatalf("alice wrote to %d of 2 files only", 2-len(files))
			}
			h, entries := diskReadJournal(t, journal)
			for _, e := range entries {
				if e.Done != nil {
					t.Errorf("%s: the journal marks the change done, vouching for what alice wrote while apply ran", filepath.Base(e.Path))
				}
			}
			Undo(h, entries, nil)
			if m := diskState(t, cgi).Mode; m&fs.ModeSetgid != 0 {
				t.Errorf("cgi: undo gave the setgid bit back (mode %s) to what alice wrote while apply ran", policy.OctalMode(m))
			}
			if caps := diskCapability(t, bind); caps != nil {
				t.Errorf("bind: undo gave capabilities %x back to what alice wrote while apply ran", caps)
			}
		})
	}
}

// writeAs writes s to f as uid would: on a thread whose file system uid is uid, which drops
// CAP_FSETID, so the kernel clears set-id bits and capabilities as for any user's write. The
// thread is never given back to the runtime.
func writeAs(t *testing.T, uid int, f *os.File, s string) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // and never unlocked: the thread ends with the goroutine
		err := unix.Setfsuid(uid)
		if err == nil {
			_, err = unix.Write(int(f.Fd()), []byte(s))
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
