package access

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
)

// acl builds an access ACL from entries; a mask of -1 leaves the mask out.
func acl(owner, group, other walk.Perm, mask int, named ...walk.ACLEntry) *walk.ACL {
	a := &walk.ACL{Entries: []walk.ACLEntry{{Tag: walk.ACLUserObj, Perm: owner}}}
	for _, n := range named {
		if n.Tag == walk.ACLUser {
			a.Entries = append(a.Entries, n)
		}
	}
	a.Entries = append(a.Entries, walk.ACLEntry{Tag: walk.ACLGroupObj, Perm: group})
	for _, n := range named {
		if n.Tag == walk.ACLGroup {
			a.Entries = append(a.Entries, n)
		}
	}
	if mask >= 0 {
		a.Entries = append(a.Entries, walk.ACLEntry{Tag: walk.ACLMask, Perm: walk.Perm(mask)})
	}
	a.Entries = append(a.Entries, walk.ACLEntry{Tag: walk.ACLOther, Perm: other})
	return a
}

func TestAccess(t *testing.T) {
	web := Identity{UID: 33, GID: 33, Groups: []uint32{33, 2001}}
	owned := func(mode fs.FileMode, uid, gid uint32) walk.Entry {
		return walk.Entry{Path: "/srv/site/f", Type: walk.TypeFile, Mode: mode, UID: uid, GID: gid, OwnerKnown: true}
	}
	withACL := func(e walk.Entry, a *walk.ACL) walk.Entry { e.ACL = a; return e }
	tests := []struct {
		name   string
		id     Identity
		entry  walk.Entry
		class  Class
		perm   walk.Perm
		reason string
	}{
		{"root reads a 0000 file", Identity{}, owned(0, 1000, 1000), ClassRoot, walk.PermRead | walk.PermWrite, "root bypasses"},
		{"root searches a 0000 directory", Identity{}, func() walk.Entry { e := owned(0, 1000, 1000); e.Type = walk.TypeDir; return e }(), ClassRoot, walk.PermAll, "root bypasses"},
		{"root executes only what someone may", Identity{}, owned(0o100, 1000, 1000), ClassRoot, walk.PermAll, ""},
		{"owner class first: 0044 owned by the web user", web, owned(0o044, 33, 33), ClassOwner, 0, "owner class applies: 0044 gives the owner nothing"},
		{"owner class", web, owned(0o640, 33, 1000), ClassOwner, walk.PermRead | walk.PermWrite, ""},
		{"primary group", web, owned(0o640, 1000, 33), ClassGroup, walk.PermRead, "group class applies (group 33): 0640 gives the group read"},
		{"supplementary group", web, owned(0o640, 1000, 2001), ClassGroup, walk.PermRead, "group 2001"},
		{"group class does not fall through to other", web, owned(0o604, 1000, 2001), ClassGroup, 0, "gives the group nothing"},
		{"other", web, owned(0o640, 1000, 1000), ClassOther, 0, "others class applies: 0640 gives others nothing"},
		{"other reads 0644", web, owned(0o644, 1000, 1000), ClassOther, walk.PermRead, ""},
		{"acl named user grants", web, withACL(owned(0o640, 0, 0), acl(6, 0, 0, 4, walk.ACLEntry{Tag: walk.ACLUser, ID: 33, Perm: walk.PermRead})),
			ClassNamedUser, walk.PermRead, "ACL entry user:33 applies: it gives read"},
		{"acl mask denies the named user", web, withACL(owned(0o610, 0, 0), acl(6, 0, 0, 1, walk.ACLEntry{Tag: walk.ACLUser, ID: 33, Perm: walk.PermRead})),
			ClassNamedUser, 0, "the mask leaves nothing"},
		{"acl named user beats the group", web, withACL(owned(0o650, 0, 33), acl(6, 5, 0, 5, walk.ACLEntry{Tag: walk.ACLUser, ID: 33, Perm: 0})),
			ClassNamedUser, 0, ""},
		{"acl owner ignores the mask", web, withACL(owned(0o610, 33, 0), acl(6, 0, 0, 1, walk.ACLEntry{Tag: walk.ACLUser, ID: 33, Perm: walk.PermAll})),
			ClassOwner, walk.PermRead | walk.PermWrite, ""},
		{"acl named group", web, withACL(owned(0o650, 0, 0), acl(6, 0, 0, 5, walk.ACLEntry{Tag: walk.ACLGroup, ID: 2001, Perm: walk.PermRead | walk.PermExec})),
			ClassGroup, walk.PermRead | walk.PermExec, "the ACL's group entries give read and execute"},
		{"acl named group limited by the mask", web, withACL(owned(0o640, 0, 0), acl(6, 0, 0, 4, walk.ACLEntry{Tag: walk.ACLGroup, ID: 2001, Perm: walk.PermAll})),
			ClassGroup, walk.PermRead, "the mask leaves read"},
		{"acl matching group denies, other not consulted", web, withACL(owned(0o614, 0, 33), acl(6, 0, 4, 1)),
			ClassGroup, 0, ""},
		{"acl other", web, withACL(owned(0o644, 0, 0), acl(6, 4, 4, 4, walk.ACLEntry{Tag: walk.ACLUser, ID: 1000, Perm: walk.PermAll})), ClassOther, walk.PermRead, ""},
		{"mask --- leaves the named user the other bits", web, withACL(owned(0o604, 0, 0), acl(6, 0, 4, 0, walk.ACLEntry{Tag: walk.ACLUser, ID: 33, Perm: walk.PermAll})),
			ClassOther, walk.PermRead, "others class applies: 0604 gives others read"},
		{"mask --- leaves the owning group its bits", web, withACL(owned(0o604, 0, 33), acl(6, 4, 4, 0)),
			ClassGroup, 0, "0604 gives the group nothing"},
		{"a mask that is not --- denies", web, withACL(owned(0o614, 0, 0), acl(6, 0, 4, 1, walk.ACLEntry{Tag: walk.ACLUser, ID: 33, Perm: walk.PermRead})),
			ClassNamedUser, 0, "the mask leaves nothing"},
		{"unknown owner decides nothing", web, walk.Entry{Type: walk.TypeFile, Mode: 0o644}, ClassUnknown, 0, "cannot be decided"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Decide(&tt.id, &tt.entry)
			if v.Class != tt.class || v.Perm != tt.perm {
				t.Errorf("class %d perm %s, want class %d perm %s", v.Class, v.Perm, tt.class, tt.perm)
			}
			if got := v.Reason(&tt.entry, nil); tt.reason != "" && !strings.Contains(got, tt.reason) {
				t.Errorf("reason %q does not contain %q", got, tt.reason)
			}
			if v.Can(walk.PermRead) != (tt.perm&walk.PermRead != 0) {
				t.Errorf("Can(read) = %v with perm %s", v.Can(walk.PermRead), v.Perm)
			}
		})
	}
}

// Several rights at once in an ACL's group class need one group entry that grants them all.
func TestAllowsNeedsOneGroupEntry(t *testing.T) {
	id := Identity{UID: 33, GID: 33, Groups: []uint32{2001}}
	e := walk.Entry{Type: walk.TypeDir, Mode: 0o730, GID: 33, OwnerKnown: true,
		ACL: acl(7, walk.PermExec, 0, int(walk.PermWrite|walk.PermExec), walk.ACLEntry{Tag: walk.ACLGroup, ID: 2001, Perm: walk.PermWrite})}
	if v := Decide(&id, &e); !v.Can(walk.PermWrite) || !v.Can(walk.PermExec) {
		t.Fatalf("each right alone: %s, want write and search", v.Perm)
	}
	if Allows(&id, &e, walk.PermWrite|walk.PermExec) {
		t.Error("write and search together allowed, though no one group entry grants both")
	}
	e.ACL.Entries[2].Perm = walk.PermWrite | walk.PermExec
	if !Allows(&id, &e, walk.PermWrite|walk.PermExec) {
		t.Error("write and search together denied, though group:2001 grants both")
	}
}

func FuzzParseACL(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 1, 0, 7, 0, 255, 255, 255, 255})
	f.Add([]byte{2, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := walk.ParseACL(b)
		if err != nil {
			return
		}
		// What decodes must survive being explained.
		_ = a.String()
		_ = DescribeACLGrants(a, NewAccounts(nil, nil))
		id := Identity{UID: 33, GID: 33}
		e := walk.Entry{Type: walk.TypeFile, Mode: 0o640, OwnerKnown: true, ACL: a}
		_ = Decide(&id, &e).Reason(&e, nil)
	})
}

// The walker reads ACLs from the real file system, as setfacl wrote them, and never through a
// symlink.
func TestWalkerReadsACLs(t *testing.T) {
	if _, err := exec.LookPath("setfacl"); err != nil {
		t.Skip("setfacl is not installed (Debian package acl): cannot write ACLs to read back")
	}
	root := filepath.Join(fixture.TempDir(t), "site")
	for _, p := range []string{root, filepath.Join(root, "d")} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"granted", "masked", "plain"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("granted", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	setfacl := func(spec, path string) {
		if out, err := exec.Command("setfacl", "-m", spec, filepath.Join(root, path)).CombinedOutput(); err != nil {
			t.Skipf("setfacl: %v: %s (the temp dir's file system may not support ACLs)", err, out)
		}
	}
	setfacl("u:33:r", "granted")
	setfacl("u:33:r,m::---", "masked")
	setfacl("g:2001:x", "d")
	got := map[string]string{}
	err := (&walk.Walker{Fs: afero.NewOsFs(), Jobs: 2}).Walk(t.Context(), root, walk.Visitor{
		Entry: func(e walk.Entry) {
			if e.ACL != nil {
				got[e.Rel] = e.ACL.String()
			}
		},
		Error: func(p string, err error) { t.Errorf("%s: %v", p, err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"granted": "user::rw-,user:33:r--,group::---,mask::r--,other::---",
		"masked":  "user::rw-,user:33:r--,group::---,mask::---,other::---",
		"d":       "user::rwx,group::r-x,group:2001:--x,mask::r-x,other::r-x",
	}
	for rel, w := range want {
		if got[rel] != w {
			t.Errorf("%s: ACL %q, want %q", rel, got[rel], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("ACLs on %v; the plain file and the symlink have none", got)
	}
	web := Identity{UID: 33, GID: 33}
	for rel, can := range map[string]bool{"granted": true, "masked": false} {
		e, err := walk.Examine(afero.NewOsFs(), filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		if Decide(&web, &e).Can(walk.PermRead) != can {
			t.Errorf("%s: uid 33 can read = %v, want %v", rel, !can, can)
		}
	}
}
