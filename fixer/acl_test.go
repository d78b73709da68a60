package fixer

import (
	"bytes"
	"errors"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webperm/webperm/audit/walk"
	"golang.org/x/sys/unix"
)

// aclTree is a root with a page and a directory, each with an access ACL that grants www-data by
// name, which a fix chmods: the page 0664 to 0644, the directory 0775 to 0755.
type aclTree struct {
	root, page, dir string
	plan            *Plan
}

var (
	aclPageBefore = mkState(0o664, 0, 0)
	aclPageFixed  = mkState(0o644, 0, 0)
	aclDirBefore  = mkState(0o775, 0, 0)
	aclDirFixed   = mkState(0o755, 0, 0)
)

// diskRequireACLTools skips t unless it runs as root with setfacl and getfacl (Debian's package
// acl) and a www-data user to grant.
func diskRequireACLTools(t *testing.T) {
	t.Helper()
	diskRequireRoot(t)
	for _, tool := range []string{"setfacl", "getfacl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s, from the package acl: %v", tool, err)
		}
	}
	if _, err := user.Lookup("www-data"); err != nil {
		t.Skipf("needs a www-data user to grant in an ACL: %v", err)
	}
}

// setfacl runs setfacl with args; it skips t where the temp dir's file system keeps no ACLs.
func setfacl(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("setfacl", args...).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "Operation not supported") {
			t.Skipf("the temp dir's file system keeps no ACLs: %s", out)
		}
		t.Fatalf("setfacl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// getfacl is what getfacl -cp shows of p: its ACL, without the header.
func getfacl(t *testing.T, p string) string {
	t.Helper()
	out, err := exec.Command("getfacl", "-cp", p).CombinedOutput()
	if err != nil {
		t.Fatalf("getfacl -cp %s: %v\n%s", p, err, out)
	}
	return string(out)
}

// diskACL is p's system.posix_acl_access, exactly; nil where it has none.
func diskACL(t *testing.T, p string) []byte {
	t.Helper()
	return diskXattr(t, p, walk.ACLXattr)
}

// diskXattr is p's extended attribute name, a symlink's own; nil where it has none.
func diskXattr(t *testing.T, p, name string) []byte {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := unix.Lgetxattr(p, name, buf)
	if errors.Is(err, unix.ENODATA) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

func newACLTree(t *testing.T) *aclTree {
	t.Helper()
	diskRequireACLTools(t)
	at := &aclTree{root: filepath.Join(diskTempDir(t), "site")}
	diskMkdir(t, at.root, mkState(0o755, 0, 0))
	at.page, at.dir = filepath.Join(at.root, "index.php"), filepath.Join(at.root, "uploads")
	diskWrite(t, at.page, aclPageBefore)
	diskMkdir(t, at.dir, aclDirBefore)
	setfacl(t, "-m", "u:www-data:r--,g::rw-", at.page)
	setfacl(t, "-m", "u:www-data:r-x", at.dir)
	// setfacl computes the mask from the group class, which is the group bits already.
	if got := diskState(t, at.page); got != aclPageBefore {
		t.Fatalf("setfacl left the page %s", describeState(got))
	}
	if got := diskState(t, at.dir); got != aclDirBefore {
		t.Fatalf("setfacl left the directory %s", describeState(got))
	}
	at.plan = &Plan{Roots: []Root{diskRoot(t, at.root)}, Actions: []Action{
		diskAction(t, at.root, at.page, aclPageFixed),
		diskAction(t, at.root, at.dir, aclDirFixed),
	}}
	return at
}

// aclSeen is an entry's ACL as getfacl shows it and as its attribute holds it.
type aclSeen struct {
	text string
	raw  []byte
}

func diskACLSeen(t *testing.T, p string) aclSeen {
	t.Helper()
	return aclSeen{getfacl(t, p), diskACL(t, p)}
}

// requireACL fails t unless p has state s and the ACL want.
func requireACL(t *testing.T, p string, s State, want aclSeen) {
	t.Helper()
	if got := diskState(t, p); got != s {
		t.Errorf("%s is %s, want %s", filepath.Base(p), describeState(got), describeState(s))
	}
	if got := diskACLSeen(t, p); got.text != want.text || !bytes.Equal(got.raw, want.raw) {
		t.Errorf("%s has the ACL\n%s(%x)\nwant\n%s(%x)", filepath.Base(p), got.text, got.raw, want.text, want.raw)
	}
}

// A chmod keeps the named entries of an ACL and narrows its mask; the journal keeps the ACL as
// it was, and undo gives exactly that back.
func TestApplyUndoKeepsAccessACL(t *testing.T) {
	at := newACLTree(t)
	before := map[string]aclSeen{at.page: diskACLSeen(t, at.page), at.dir: diskACLSeen(t, at.dir)}
	h, entries := diskApply(t, at.plan, Options{})

	for _, e := range entries {
		if want := before[e.Path].raw; want == nil || !bytes.Equal(e.ACL, want) {
			t.Errorf("%s: the journal keeps the ACL %x, want %x", filepath.Base(e.Path), e.ACL, want)
		}
	}
	for p, want := range map[string][]string{
		at.page: {"user:www-data:r--\n", "group::rw-\t#effective:r--\n", "mask::r--\n"},
		at.dir:  {"user:www-data:r-x\n", "mask::r-x\n"},
	} {
		got := getfacl(t, p)
		for _, line := range want {
			if !strings.Contains(got, line) {
				t.Errorf("%s after the fix: getfacl shows\n%swithout %q", filepath.Base(p), got, line)
			}
		}
	}
	if got := diskState(t, at.page); got != aclPageFixed {
		t.Errorf("page after the fix: %s, want %s", describeState(got), describeState(aclPageFixed))
	}

	got, report := collectUndo()
	if sum := Undo(h, entries, report); sum != (Summary{Applied: 2}) {
		t.Errorf("undo: %+v, want 2 applied; %+v", sum, *got)
	}
	requireACL(t, at.page, aclPageBefore, before[at.page])
	requireACL(t, at.dir, aclDirBefore, before[at.dir])

	// A second undo finds both as before and changes nothing.
	got, report = collectUndo()
	Undo(h, entries, report)
	for _, o := range *got {
		if o.Status != Applied || o.Reason != noteAlreadyBefore {
			t.Errorf("second undo, %s: %s %q, want applied %q", filepath.Base(o.Entry.Path), o.Status, o.Reason, noteAlreadyBefore)
		}
	}
	requireACL(t, at.page, aclPageBefore, before[at.page])
}

// An entry without an extended ACL, or whose change is a chown alone, has none in the journal.
func TestApplyJournalsNoMinimalACL(t *testing.T) {
	at := newACLTree(t)
	plain, chowned := filepath.Join(at.root, "plain.php"), filepath.Join(at.root, "chowned.php")
	diskWrite(t, plain, mkState(0o664, 0, 0))
	setfacl(t, "-m", "g::rw-", plain) // as the mode has it: the kernel stores no ACL
	diskWrite(t, chowned, mkState(0o644, 0, 0))
	setfacl(t, "-m", "u:www-data:r--", chowned)
	plan := &Plan{Roots: at.plan.Roots, Actions: []Action{
		diskAction(t, at.root, plain, mkState(0o644, 0, 0)),
		diskAction(t, at.root, chowned, mkState(0o644, 0, 33)),
	}}
	_, entries := diskApply(t, plan, Options{})
	for _, e := range entries {
		if e.ACL != nil {
			t.Errorf("%s: the journal keeps the ACL %x, want none", filepath.Base(e.Path), e.ACL)
		}
	}
}

// Undo leaves an entry whose ACL someone changed since the fix as they left it, as it does one
// whose mode or owner they changed: the old ACL back would undo their change too, and give back
// a grant they may have taken away. A mask is the group bits, so setting it is a chmod.
func TestUndoLeavesAnACLChangedSinceTheFix(t *testing.T) {
	tests := []struct {
		name   string
		change []string // setfacl's arguments, the page's name last
		want   string   // the reason undo skips the page
	}{{
		name:   "mask set",
		change: []string{"-m", "m::---"},
		want:   "changed since the fix: it has mode 0604, owner 0:0, neither the mode 0644, owner 0:0 the fix left nor the mode 0664, owner 0:0 it had before",
	}, {
		name:   "named grant taken away, mask kept",
		change: []string{"-n", "-x", "u:www-data"},
		want:   "changed since the fix: its access ACL is now user::rw-,group::rw-,mask::r--,other::r--, not user::rw-,user:33:r--,group::rw-,mask::r--,other::r--",
	}, {
		name:   "named grant added, mask kept",
		change: []string{"-n", "-m", "u:nobody:rwx"},
		want:   "changed since the fix: its access ACL is now user::rw-,user:33:r--,user:65534:rwx,group::rw-,mask::r--,other::r--, not user::rw-,user:33:r--,group::rw-,mask::r--,other::r--",
	}, {
		// setfacl -x computes the mask afresh from what is left, group::rw-: the old group bits.
		name:   "named grant taken away, mode as before",
		change: []string{"-x", "u:www-data"},
		want:   "changed since the fix: its access ACL is now user::rw-,group::rw-,mask::rw-,other::r--, not user::rw-,user:33:r--,group::rw-,mask::rw-,other::r--",
	}, {
		name:   "ACL removed",
		change: []string{"-b"},
		want:   "changed since the fix: its access ACL is now none beyond its mode, not user::rw-,user:33:r--,group::rw-,mask::r--,other::r--",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := newACLTree(t)
			if tt.name == "named grant added, mask kept" {
				if _, err := user.Lookup("nobody"); err != nil {
					t.Skipf("needs a user nobody: %v", err)
				}
			}
			dirBefore := diskACLSeen(t, at.dir)
			h, entries := diskApply(t, at.plan, Options{})
			setfacl(t, append(tt.change, at.page)...)
			changed, changedACL := diskState(t, at.page), diskACLSeen(t, at.page)

			got, report := collectUndo()
			sum := Undo(h, entries, report)
			if sum != (Summary{Applied: 1, Skipped: 1}) {
				t.Errorf("undo: %+v, want 1 applied, 1 skipped", sum)
			}
			for _, o := range *got {
				switch {
				case o.Entry.Path == at.page && (o.Status != Skipped || o.Reason != tt.want):
					t.Errorf("page: %s %q, want skipped %q", o.Status, o.Reason, tt.want)
				case o.Entry.Path == at.dir && (o.Status != Applied || o.Reason != ""):
					t.Errorf("directory: %s %q, want applied", o.Status, o.Reason)
				}
			}
			requireACL(t, at.page, changed, changedACL)
			requireACL(t, at.dir, aclDirBefore, dirBefore)
		})
	}
}

// The chmod back gives the ACL its mask back; an ACL someone changes while undo runs, between its
// check and its chmod, is set back whole, and fstat finds the old mode; where that fails, undo says
// so and how to do it by hand.
func TestUndoSetsBackAnACLChangedWhileItRuns(t *testing.T) {
	for _, tt := range []struct {
		name     string
		setFails bool
		want     Status
		reason   string
	}{
		{name: "set back", want: Applied},
		{name: "cannot set it back", setFails: true, want: Failed,
			reason: "put back as mode 0664, owner 0:0, but cannot give it its access ACL user::rw-,user:33:r--,group::rw-,mask::rw-,other::r-- again: input/output error; setfacl --set 'user::rw-,user:33:r--,group::rw-,mask::rw-,other::r--' it by hand"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			at := newACLTree(t)
			before := diskACLSeen(t, at.page)
			at.plan.Actions = at.plan.Actions[:1]
			h, entries := diskApply(t, at.plan, Options{})
			// Whoever races undo takes the ACL away as undo chmods the page, either way.
			realFchmodat, realChmod := sysFchmodat, sysChmod
			diskStub(t, &sysFchmodat, func(fd int, path string, mode uint32, flags int) error {
				err := realFchmodat(fd, path, mode, flags)
				if err == nil {
					err = unix.Removexattr(procFD(fd), walk.ACLXattr)
				}
				return err
			})
			diskStub(t, &sysChmod, func(path string, mode uint32) error {
				err := realChmod(path, mode)
				if err == nil {
					err = unix.Removexattr(path, walk.ACLXattr)
				}
				return err
			})
			if tt.setFails {
				diskStub(t, &sysSetxattr, func(string, string, []byte, int) error { return unix.EIO })
			}
			got, report := collectUndo()
			Undo(h, entries, report)
			if o := (*got)[0]; o.Status != tt.want || o.Reason != tt.reason {
				t.Errorf("undo: %s %q, want %s %q", o.Status, o.Reason, tt.want, tt.reason)
			}
			if tt.setFails {
				requireACL(t, at.page, aclPageBefore, aclSeen{text: "user::rw-\ngroup::rw-\nother::r--\n\n"})
				return
			}
			requireACL(t, at.page, aclPageBefore, before)
		})
	}
}

// Apply changes nothing it cannot journal: an ACL it cannot read fails the action.
func TestApplyCannotReadACL(t *testing.T) {
	at := newACLTree(t)
	diskStub(t, &sysGetxattr, func(string, string, []byte) (int, error) { return 0, unix.EIO })
	j, err := CreateJournal(filepath.Join(diskTempDir(t), "journal"), JournalHeader{Version: "test", Roots: at.plan.Roots})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	got, report := collectApply()
	Apply(at.plan, Options{Journal: j, Report: report})
	const want = "cannot read its access ACL, whose mask the chmod would rewrite: input/output error; nothing was changed"
	for _, o := range *got {
		if o.Status != Failed || o.Reason != want {
			t.Errorf("%s: %s %q, want failed %q", filepath.Base(o.Action.Path), o.Status, o.Reason, want)
		}
	}
	if s := diskState(t, at.page); s != aclPageBefore {
		t.Errorf("page: %s, want it unchanged", describeState(s))
	}
}
