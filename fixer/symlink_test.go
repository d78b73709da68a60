package fixer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A link's owner is changed as the link itself, never its target (outside the root here, and
// another user's), and undo gives it back; a link swapped for another, or one a plan would chmod,
// is refused.
func TestApplyChownsALinkItself(t *testing.T) {
	diskRequireRoot(t)
	base := diskTempDir(t)
	root, outside := filepath.Join(base, "site"), filepath.Join(base, "outside")
	diskMkdir(t, root, mkState(0o755, 1000, 1000))
	diskMkdir(t, outside, mkState(0o755, 0, 0))
	target := filepath.Join(outside, "secret")
	diskWrite(t, target, mkState(0o600, 0, 0))
	link := filepath.Join(root, "current")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, 33, 33); err != nil {
		t.Fatal(err)
	}
	linkState := diskState(t, link)
	want := linkState
	want.UID, want.GID = 1000, 1000
	plan := &Plan{Roots: []Root{diskRoot(t, root)}, Actions: []Action{diskAction(t, root, link, want)}}

	h, entries := diskApply(t, plan, Options{})
	if got := diskState(t, link); got != want {
		t.Errorf("link after apply: %+v, want %+v", got, want)
	}
	if got := diskState(t, target); got != mkState(0o600, 0, 0) {
		t.Errorf("the link's target changed: %+v", got)
	}
	got, report := collectUndo()
	if sum := Undo(h, entries, report); sum.Applied != 1 {
		t.Fatalf("undo: %+v %+v", sum, *got)
	}
	if got := diskState(t, link); got != linkState {
		t.Errorf("link after undo: %+v, want %+v", got, linkState)
	}

	// Swapped for another link: another inode, refused.
	a := diskAction(t, root, link, want)
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/shadow", link); err != nil {
		t.Fatal(err)
	}
	outcomes, collect := collectApply()
	if sum := Apply(&Plan{Roots: plan.Roots, Actions: []Action{a}}, Options{Report: collect}); sum.Skipped != 1 {
		t.Errorf("apply to a swapped link: %+v %+v, want it skipped", sum, *outcomes)
	}
	if st := diskState(t, "/etc/shadow"); st.UID != 0 {
		t.Errorf("/etc/shadow now owned by %d", st.UID)
	}

	// A link has no mode to set: a plan that asks is refused before anything is opened.
	a = diskAction(t, root, link, want)
	a.Target.Mode = 0o644
	if err := (&planChecker{roots: map[string]bool{root: true}}).action(&a); err == nil || !strings.Contains(err.Error(), "no mode of its own") {
		t.Errorf("a link's chmod: %v, want refused", err)
	}
}
