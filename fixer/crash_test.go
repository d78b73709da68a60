package fixer

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The crash test runs apply in a child process, a copy of this test binary running
// TestCrashHelper, which kills itself with SIGKILL at a chosen moment: no deferred call, no
// buffered write, nothing but what reached the disk survives, as in a power cut short of the
// page cache. The parent then reads the journal from disk and undoes it.
const (
	crashEnvDir   = "WEBPERM_CRASH_DIR"   // the directory the tree and journal are in
	crashEnvPoint = "WEBPERM_CRASH_POINT" // journaled, chowned, changed or done
	crashEnvAt    = "WEBPERM_CRASH_AT"    // the how manieth time the point is reached
	crashEnvForm  = "WEBPERM_CRASH_FORM"  // one of planForms: how the plan reaches apply
)

// crashPlanned is the crash test's tree below root: each entry, its state before and its
// target, in plan order. It holds every kind of change: chmod of a directory, chown and chmod of
// a setuid file (the chown clears the bit, the chmod must put it back), chmod of
// a file, chown alone, and a last change that no crash reaches.
var crashPlanned = []struct {
	name     string
	dir      bool
	from, to State
}{
	{"uploads", true, mkState(0o777, 1000, 1000), mkState(0o755, 1000, 1000)},
	{"bin", false, mkState(fs.ModeSetuid|0o755, 0, 0), mkState(fs.ModeSetuid|0o750, 0, 33)},
	{"index.php", false, mkState(0o666, 1000, 1000), mkState(0o644, 1000, 1000)},
	{"config.php", false, mkState(0o640, 1000, 1000), mkState(0o640, 0, 33)},
	{"robots.txt", false, mkState(0o666, 1000, 1000), mkState(0o644, 1000, 1000)},
}

// crashTree makes the tree in dir and returns the root.
func crashTree(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "site")
	diskMkdir(t, root, mkState(0o755, 1000, 1000))
	for _, e := range crashPlanned {
		if e.dir {
			diskMkdir(t, filepath.Join(root, e.name), e.from)
		} else {
			diskWrite(t, filepath.Join(root, e.name), e.from)
		}
	}
	return root
}

// crashPlan plans the tree from what is on disk, as the audit would.
func crashPlan(t *testing.T, root string) *Plan {
	t.Helper()
	p := &Plan{Roots: []Root{diskRoot(t, root)}}
	for _, e := range crashPlanned {
		p.Actions = append(p.Actions, diskAction(t, root, filepath.Join(root, e.name), e.to))
	}
	return p
}

// TestCrashHelper is the child of TestCrash, and does nothing on its own.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashEnvDir)
	if dir == "" {
		t.Skip("run by TestCrash, as a child process it kills")
	}
	points := map[string]crashPoint{"journaled": crashJournaled, "chowned": crashChowned, "changed": crashChanged, "done": crashDone}
	point, ok := points[os.Getenv(crashEnvPoint)]
	at, err := strconv.Atoi(os.Getenv(crashEnvAt))
	if !ok || err != nil {
		t.Fatalf("%s=%q %s=%q: want a crash point and a count", crashEnvPoint, os.Getenv(crashEnvPoint), crashEnvAt, os.Getenv(crashEnvAt))
	}
	plan := inForm(t, os.Getenv(crashEnvForm), crashPlan(t, filepath.Join(dir, "site")))
	j, err := CreateJournal(filepath.Join(dir, "journal"), JournalHeader{Version: "test", Created: time.Now(), Roots: plan.Roots})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	crashHook = func(p crashPoint) {
		if p == point {
			if n++; n == at {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // SIGKILL is delivered before this returns; never go on past the point
			}
		}
	}
	Apply(plan, Options{Journal: j})
	t.Fatalf("apply finished without reaching %s %d times", os.Getenv(crashEnvPoint), at)
}

// Apply killed at any moment leaves a journal that undo reads and brings every entry back from,
// the entries it never reached included; but a set-id bit goes back only to a file whose change
// the journal marks done: of any other, nothing tells whether it was rewritten since.
func TestCrash(t *testing.T) {
	diskRequireRoot(t)
	tests := []struct {
		name  string
		point string
		at    int
		// notes are the reasons undo gives, by entry, in journal order: entries past the crash
		// are not in the journal.
		notes []string
		// unconfirmed: bin, the setuid file, is changed but not marked done, so undo restores it
		// without its setuid bit, and says so.
		unconfirmed bool
	}{
		{"after the 2nd change is marked done", "done", 2, []string{"", ""}, false},
		{"after the 2nd change, before it is marked done", "changed", 2, []string{"", reasonUnconfirmed}, true},
		{"after writing the 3rd entry, before its change", "journaled", 3, []string{"", "", noteAlreadyBefore}, false},
		{"after writing the 1st entry, before its change", "journaled", 1, []string{noteAlreadyBefore}, false},
		// bin's chown is the first: it has cleared setuid and setgid, and the mode is not set yet.
		{"between the chown and the chmod of the setuid file", "chowned", 1, []string{"", reasonUnconfirmed}, true},
		{"after the last change", "done", len(crashPlanned), []string{"", "", "", "", ""}, false},
	}
	for _, form := range planForms {
		for _, tt := range tests {
			t.Run(form+"/"+tt.name, func(t *testing.T) { testCrash(t, form, tt.point, tt.at, tt.notes, tt.unconfirmed) })
		}
	}
}

// testCrash kills apply of the plan, in form, when it reaches point for the at-th time, and
// holds undo's notes, by entry in journal order, to notes; unconfirmed: bin, the setuid file, is
// changed but not marked done, so undo restores it without its setuid bit.
func testCrash(t *testing.T, form, point string, at int, notes []string, unconfirmed bool) {
	dir := diskTempDir(t)
	root := crashTree(t, dir)
	before := diskTree(t, root)

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), crashEnvDir+"="+dir, crashEnvPoint+"="+point, crashEnvAt+"="+strconv.Itoa(at), crashEnvForm+"="+form)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !exit.Sys().(syscall.WaitStatus).Signaled() || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed at the crash point: %v\n%s", err, out)
	}

	journal := filepath.Join(dir, "journal")
	h, entries := diskReadJournal(t, journal)
	if len(entries) != len(notes) {
		t.Fatalf("journal holds %d entries, want %d", len(entries), len(notes))
	}
	// The crash left the disk part fixed, or else the test proves little.
	changed := false
	for _, n := range notes {
		changed = changed || n != noteAlreadyBefore
	}
	if diffs := diskTreeDiff(before, diskTree(t, root), nil); (len(diffs) != 0) != changed {
		t.Fatalf("after the crash, changed: %q; want changes: %v", diffs, changed)
	}
	if point == "chowned" {
		// The kernel cleared setuid with the chown, as undo must expect.
		if s, want := diskState(t, filepath.Join(root, "bin")), mkState(0o755, 0, 33); s != want {
			t.Fatalf("bin is %s after the crash, want %s", describeState(s), describeState(want))
		}
	}
	got, report := collectUndo()
	sum := Undo(h, entries, report)

	want := Summary{Applied: len(entries)}
	bin := crashPlanned[1].from
	undone := map[string]State{} // the entries not as before apply
	if unconfirmed {
		want = Summary{Applied: len(entries) - 1, Failed: 1}
		bin.Mode &^= fs.ModeSetuid
		undone[filepath.Join(root, "bin")] = bin
	}
	if sum != want {
		t.Errorf("undo: %+v, want %+v", sum, want)
	}
	for i, o := range *got {
		k := len(entries) - 1 - i
		status := Applied
		if notes[k] == reasonUnconfirmed {
			status = Failed
		}
		if o.Status != status || !strings.Contains(o.Reason, notes[k]) || (notes[k] == "") != (o.Reason == "") {
			t.Errorf("%s: %s %q, want %s %q", o.Entry.Path, o.Status, o.Reason, status, notes[k])
		}
	}
	if diffs := diskTreeDiff(before, diskTree(t, root), undone); diffs != nil {
		t.Errorf("disk after undo, not as before apply:\n%s", strings.Join(diffs, "\n"))
	}
	if s := diskState(t, filepath.Join(root, "bin")); s != bin {
		t.Errorf("bin is %s after undo, want %s", describeState(s), describeState(bin))
	}
	if t.Failed() {
		data, _ := os.ReadFile(journal)
		t.Logf("journal:\n%s\nchild:\n%s", data, out)
	}
}

// reasonUnconfirmed is the heart of the reason undo gives for a set-id bit it leaves off a file
// whose change the journal does not mark done.
const reasonUnconfirmed = "without its setuid bit: its journal does not mark the change done"
