// Package access knows who the web server and PHP run as and what they may do: the accounts of
// the audited system (its own passwd and group), the identities (web user, PHP user, their
// groups), the kernel-exact access decision for one entry (mode bits, ACL, mask: Decide), and
// explain's chain from / to a path, link by link. It reads the tree only through audit/walk and
// judges nothing against a policy.
package access

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// words names the rights p for a sentence: "nothing", "read", "read and search".
func words(p walk.Perm, dir bool) string {
	var w []string
	if p&walk.PermRead != 0 {
		w = append(w, "read")
	}
	if p&walk.PermWrite != 0 {
		w = append(w, "write")
	}
	if p&walk.PermExec != 0 {
		if dir {
			w = append(w, "search")
		} else {
			w = append(w, "execute")
		}
	}
	if len(w) == 0 {
		return "nothing"
	}
	return JoinAnd(w)
}

// Identity is a process's credentials as permission checks see them.
type Identity struct {
	UID, GID uint32
	Groups   []uint32 // supplementary groups; GID need not be repeated here
}

func (id *Identity) inGroup(gid uint32) bool {
	return id.GID == gid || slices.Contains(id.Groups, gid)
}

// Class is the part of an entry's permissions that decides an identity's access.
type Class uint8

// Permission classes, in the order the kernel tries them.
const (
	ClassUnknown   Class = iota // the entry's owner is unknown: nothing can be decided
	ClassRoot                   // uid 0 bypasses read, write and search checks
	ClassOwner                  // the owner bits, or the ACL's user:: entry
	ClassNamedUser              // an ACL user:UID entry, limited by the mask
	ClassGroup                  // the group bits, or the ACL's group entries limited by the mask
	ClassOther                  // the other bits
)

// Verdict is an identity's access to one entry and the reason for it.
type Verdict struct {
	Class Class
	Perm  walk.Perm // what the identity may do
	// Granted is what the deciding entries give before the ACL mask; Perm differs from it only
	// where a mask took rights away.
	Granted walk.Perm
	ID      uint32 // the named ACL user, or the first matching group, for explanations
}

// Can reports whether the verdict allows every right in want. For several rights at once in the
// group class of an ACL, use Allows: one group entry must grant them all.
func (v Verdict) Can(want walk.Perm) bool { return v.Class != ClassUnknown && v.Perm&want == want }

// Allows reports whether id may do everything in want to e at once. It differs from
// Decide(id, e).Can(want) only in an ACL's group class, where the kernel needs a single matching
// group entry that grants every right asked for.
func Allows(id *Identity, e *walk.Entry, want walk.Perm) bool {
	v := Decide(id, e)
	if v.Class != ClassGroup || !aclApplies(e) {
		return v.Can(want)
	}
	mask := e.ACL.EffectiveMask()
	for _, ae := range e.ACL.Entries {
		gid := ae.ID
		switch ae.Tag {
		case walk.ACLGroupObj:
			gid = e.GID
		case walk.ACLGroup:
		default:
			continue
		}
		if id.inGroup(gid) && ae.Perm&mask&want == want {
			return true
		}
	}
	return false
}

// Decide decides what id may do to e, as Linux does (fs/namei.c, fs/posix_acl.c): root bypasses;
// the owner class applies whenever the uid owns the entry, even if it grants less than the
// others; then an ACL's named user; then the group class, when the primary or a supplementary
// group matches the owning group or an ACL named group, limited by the ACL mask; else other.
//
// An identity in the group class is denied whatever no matching group entry grants: it never
// falls through to the other bits. The kernel checks a request's rights together against each
// group entry; webperm asks for one right at a time, for which the union below is the same.
func Decide(id *Identity, e *walk.Entry) Verdict {
	switch {
	case !e.OwnerKnown:
		return Verdict{Class: ClassUnknown}
	case id.UID == 0:
		return rootVerdict(e)
	case id.UID == e.UID:
		p := modePerm(e.Mode, 6)
		return Verdict{Class: ClassOwner, Perm: p, Granted: p}
	}
	if !aclApplies(e) {
		if id.inGroup(e.GID) {
			p := modePerm(e.Mode, 3)
			return Verdict{Class: ClassGroup, Perm: p, Granted: p, ID: e.GID}
		}
		p := modePerm(e.Mode, 0)
		return Verdict{Class: ClassOther, Perm: p, Granted: p}
	}
	return aclVerdict(id, e)
}

// aclApplies reports whether the kernel consults e's ACL below the owner class: only while the
// mode's group bits, which show its mask, grant something (acl_permission_check). Under a mask of
// --- everyone but the owner gets the mode's bits.
func aclApplies(e *walk.Entry) bool { return e.ACL != nil && e.Mode&0o070 != 0 }

// aclVerdict decides below the owner class for an entry that has an access ACL.
func aclVerdict(id *Identity, e *walk.Entry) Verdict {
	mask := e.ACL.EffectiveMask()
	for _, ae := range e.ACL.Entries {
		if ae.Tag == walk.ACLUser && ae.ID == id.UID {
			return Verdict{Class: ClassNamedUser, Perm: ae.Perm & mask, Granted: ae.Perm, ID: ae.ID}
		}
	}
	v := Verdict{Class: ClassOther}
	for _, ae := range e.ACL.Entries {
		var gid uint32
		switch ae.Tag {
		case walk.ACLGroupObj:
			gid = e.GID
		case walk.ACLGroup:
			gid = ae.ID
		default:
			continue
		}
		if !id.inGroup(gid) {
			continue
		}
		if v.Class != ClassGroup {
			v = Verdict{Class: ClassGroup, ID: gid}
		}
		v.Granted |= ae.Perm
		v.Perm |= ae.Perm & mask
	}
	if v.Class == ClassGroup {
		return v
	}
	p := e.ACL.Perm(walk.ACLOther)
	return Verdict{Class: ClassOther, Perm: p, Granted: p}
}

// rootVerdict is root's access: everything, except executing a file no one may execute.
func rootVerdict(e *walk.Entry) Verdict {
	p := walk.PermRead | walk.PermWrite | walk.PermExec
	if e.Type != walk.TypeDir && e.Mode&0o111 == 0 {
		p &^= walk.PermExec
	}
	return Verdict{Class: ClassRoot, Perm: p, Granted: p}
}

func modePerm(m fs.FileMode, shift uint) walk.Perm { return walk.Perm(m>>shift) & walk.PermAll }

// Reason explains a verdict for a person, naming ids through a (nil names nothing):
// "owner class applies: 0044 gives the owner nothing".
func (v Verdict) Reason(e *walk.Entry, a *Accounts) string {
	dir := e.Type == walk.TypeDir
	mode := policy.OctalMode(e.Mode)
	switch v.Class {
	case ClassUnknown:
		return "the owner is unknown, so access cannot be decided"
	case ClassRoot:
		return "root bypasses permission checks"
	case ClassOwner:
		return fmt.Sprintf("owner class applies: %s gives the owner %s", mode, words(v.Perm, dir))
	case ClassNamedUser:
		return fmt.Sprintf("ACL entry user:%s applies: it gives %s%s", a.UserLabel(v.ID), words(v.Granted, dir), maskNote(v, dir))
	case ClassGroup:
		if aclApplies(e) {
			return fmt.Sprintf("group class applies (group %s): the ACL's group entries give %s%s", a.GroupLabel(v.ID), words(v.Granted, dir), maskNote(v, dir))
		}
		return fmt.Sprintf("group class applies (group %s): %s gives the group %s%s", a.GroupLabel(v.ID), mode, words(v.Perm, dir), unreadNote(e))
	}
	return fmt.Sprintf("others class applies: %s gives others %s%s", mode, words(v.Perm, dir), unreadNote(e))
}

// unreadNote qualifies a verdict of the group or others class where e's ACL was not read: an
// entry of it may name the user or a group of its, and decide otherwise.
func unreadNote(e *walk.Entry) string {
	if e.XattrsUnread {
		return " (mode bits only: --no-xattrs read no ACL)"
	}
	return ""
}

func maskNote(v Verdict, dir bool) string {
	if v.Perm == v.Granted {
		return ""
	}
	return fmt.Sprintf(", the mask leaves %s", words(v.Perm, dir))
}

// DescribeACLGrants names what an ACL's named entries grant once the mask applies, for instance
// "user:www-data r-x; group:deploy rw-"; empty when they grant nothing.
func DescribeACLGrants(acl *walk.ACL, a *Accounts) string {
	mask := acl.EffectiveMask()
	var parts []string
	for _, e := range acl.Named() {
		p := e.Perm & mask
		if p == 0 {
			continue
		}
		if e.Tag == walk.ACLUser {
			parts = append(parts, "user:"+a.UserLabel(e.ID)+" "+p.String())
		} else {
			parts = append(parts, "group:"+a.GroupLabel(e.ID)+" "+p.String())
		}
	}
	return strings.Join(parts, "; ")
}

// JoinAnd joins words as a sentence does: "a", "a and b", "a, b and c".
func JoinAnd(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
