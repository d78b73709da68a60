package walk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// ACLTag says whom one ACL entry is for, with the kernel's values (include/uapi/linux/posix_acl.h).
type ACLTag uint16

// ACL entry tags.
const (
	ACLUserObj  ACLTag = 0x01 // the owner: the mode's owner bits
	ACLUser     ACLTag = 0x02 // a named user
	ACLGroupObj ACLTag = 0x04 // the owning group
	ACLGroup    ACLTag = 0x08 // a named group
	ACLMask     ACLTag = 0x10 // the most any group-class entry grants: the mode's group bits
	ACLOther    ACLTag = 0x20 // everyone else: the mode's other bits
)

// ACLEntry is one entry of a POSIX access ACL.
type ACLEntry struct {
	Tag  ACLTag
	ID   uint32 // the uid or gid of a named entry; meaningless for the others
	Perm Perm
}

// ACL is a POSIX access ACL as Linux stores it in the system.posix_acl_access attribute. A file
// without one has only its mode bits.
type ACL struct {
	Entries []ACLEntry
}

// ACLXattr is the extended attribute the kernel exposes an access ACL as.
const ACLXattr = "system.posix_acl_access"

const (
	aclVersion   = 2
	aclEntrySize = 8
)

// ParseACL decodes the value of system.posix_acl_access: a little-endian version word, 2, then
// 8-byte entries of tag (16 bits), permissions (16 bits) and id (32 bits).
func ParseACL(b []byte) (*ACL, error) {
	if len(b) < 4 {
		return nil, errors.New("acl: shorter than its header")
	}
	if v := binary.LittleEndian.Uint32(b); v != aclVersion {
		return nil, fmt.Errorf("acl: version %d, want %d", v, aclVersion)
	}
	body := b[4:]
	if len(body)%aclEntrySize != 0 {
		return nil, fmt.Errorf("acl: %d bytes of entries is not a whole number of %d-byte entries", len(body), aclEntrySize)
	}
	a := &ACL{Entries: make([]ACLEntry, 0, len(body)/aclEntrySize)}
	for ; len(body) > 0; body = body[aclEntrySize:] {
		perm := binary.LittleEndian.Uint16(body[2:])
		if perm&^uint16(PermAll) != 0 {
			return nil, fmt.Errorf("acl: permission bits %#o out of range", perm)
		}
		e := ACLEntry{
			Tag:  ACLTag(binary.LittleEndian.Uint16(body)),
			Perm: Perm(perm),
			ID:   binary.LittleEndian.Uint32(body[4:]),
		}
		switch e.Tag {
		case ACLUserObj, ACLUser, ACLGroupObj, ACLGroup, ACLMask, ACLOther:
		default:
			return nil, fmt.Errorf("acl: unknown entry tag %#x", uint16(e.Tag))
		}
		a.Entries = append(a.Entries, e)
	}
	return a, nil
}

// Chmodded returns the ACL as a chmod to m leaves it: the kernel writes the owner bits to user::,
// the group bits to mask:: (to group:: where there is no mask) and the other bits to other::, so
// a chmod that narrows the group bits narrows every named entry with them. Named entries keep
// their own bits.
func (a *ACL) Chmodded(m fs.FileMode) *ACL {
	_, hasMask := a.Mask()
	out := &ACL{Entries: slices.Clone(a.Entries)}
	for i := range out.Entries {
		e := &out.Entries[i]
		switch {
		case e.Tag == ACLUserObj:
			e.Perm = Perm(m>>6) & PermAll
		case e.Tag == ACLMask, e.Tag == ACLGroupObj && !hasMask:
			e.Perm = Perm(m>>3) & PermAll
		case e.Tag == ACLOther:
			e.Perm = Perm(m) & PermAll
		}
	}
	return out
}

// Mask returns the ACL's mask entry, if it has one.
func (a *ACL) Mask() (Perm, bool) {
	for _, e := range a.Entries {
		if e.Tag == ACLMask {
			return e.Perm, true
		}
	}
	return 0, false
}

// EffectiveMask is what limits the group class: the mask, or everything where there is none.
func (a *ACL) EffectiveMask() Perm {
	if m, ok := a.Mask(); ok {
		return m
	}
	return PermAll
}

// Perm returns the permissions of the first entry with tag t.
func (a *ACL) Perm(t ACLTag) Perm {
	for _, e := range a.Entries {
		if e.Tag == t {
			return e.Perm
		}
	}
	return 0
}

// Named returns the named user and group entries: the ones the mode bits cannot show.
func (a *ACL) Named() []ACLEntry {
	var named []ACLEntry
	for _, e := range a.Entries {
		if e.Tag == ACLUser || e.Tag == ACLGroup {
			named = append(named, e)
		}
	}
	return named
}

// ParseACLText reads an ACL as String writes it ("user::rw-,user:33:r--,mask::r--,..."), as a
// report records it: a baseline's findings are fingerprinted with the ACL they were found with.
func ParseACLText(s string) (*ACL, error) {
	a := &ACL{}
	for _, part := range strings.Split(s, ",") {
		tag, rest, ok1 := strings.Cut(part, ":")
		id, perm, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || len(perm) != 3 {
			return nil, fmt.Errorf("acl %q: %q is not an entry such as user:33:r-x", s, part)
		}
		var e ACLEntry
		switch tag {
		case "user":
			e.Tag = ACLUserObj
		case "group":
			e.Tag = ACLGroupObj
		case "mask":
			e.Tag = ACLMask
		case "other":
			e.Tag = ACLOther
		default:
			return nil, fmt.Errorf("acl %q: %q is not an entry such as user:33:r-x", s, part)
		}
		if id != "" {
			n, err := strconv.ParseUint(id, 10, 32)
			if err != nil || (e.Tag != ACLUserObj && e.Tag != ACLGroupObj) {
				return nil, fmt.Errorf("acl %q: %q is not an entry such as user:33:r-x", s, part)
			}
			e.ID = uint32(n)
			e.Tag <<= 1 // ACLUser, ACLGroup
		}
		for i, r := range "rwx" {
			switch perm[i] {
			case byte(r):
				e.Perm |= PermRead >> i
			case '-':
			default:
				return nil, fmt.Errorf("acl %q: %q is not an entry such as user:33:r-x", s, part)
			}
		}
		a.Entries = append(a.Entries, e)
	}
	return a, nil
}

// String writes the ACL as getfacl -c does on one line: "user::rw-,user:33:r--,mask::r--,...".
func (a *ACL) String() string {
	parts := make([]string, 0, len(a.Entries))
	for _, e := range a.Entries {
		var who string
		switch e.Tag {
		case ACLUserObj:
			who = "user:"
		case ACLUser:
			who = "user:" + strconv.FormatUint(uint64(e.ID), 10)
		case ACLGroupObj:
			who = "group:"
		case ACLGroup:
			who = "group:" + strconv.FormatUint(uint64(e.ID), 10)
		case ACLMask:
			who = "mask:"
		case ACLOther:
			who = "other:"
		}
		parts = append(parts, who+":"+e.Perm.String())
	}
	return strings.Join(parts, ",")
}
