package fixer

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// A chmod of an entry with an extended access ACL rewrites the ACL too: the owner bits go to
// user::, the group bits to mask:: and the other bits to other::, and named entries keep theirs,
// limited by the new mask. The journal keeps the ACL as it was, so that undo puts back exactly
// that, and can tell an ACL someone changed since the fix from the one the fix left.

// xattrSizeMax is the largest value an extended attribute can have (XATTR_SIZE_MAX).
const xattrSizeMax = 64 << 10

// accessACLOf returns the access ACL of fd's inode, as its exact bytes and parsed; nil where it
// has none, or a minimal one (no mask: no named entries), which the mode bits hold whole.
func accessACLOf(fd int) ([]byte, *walk.ACL, error) {
	buf := make([]byte, 256)
	for {
		n, err := sysGetxattr(procFD(fd), walk.ACLXattr, buf)
		switch {
		case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP):
			return nil, nil, nil
		case errors.Is(err, unix.ERANGE) && len(buf) < xattrSizeMax:
			buf = make([]byte, xattrSizeMax)
			continue
		case err != nil:
			return nil, nil, err
		}
		acl, err := walk.ParseACL(buf[:n])
		if err != nil {
			return nil, nil, err
		}
		if _, ok := acl.Mask(); !ok {
			return nil, nil, nil
		}
		return bytes.Clone(buf[:n]), acl, nil
	}
}

// setAccessACL gives fd's inode the access ACL acl, as system.posix_acl_access holds it. The
// kernel sets the mode's permission bits from it, and keeps the set-id and sticky bits.
func setAccessACL(fd int, acl []byte) error {
	return sysSetxattr(procFD(fd), walk.ACLXattr, acl, 0)
}

// checkAccessACL holds an access ACL a journal records, as the inode had it with mode m, to
// what apply records: an extended ACL, with one entry each for the owner, the owning group, the
// mask and everyone else, the first, third and fourth of which are m's bits, as the kernel keeps
// them.
func checkAccessACL(b []byte, m fs.FileMode) error {
	acl, err := walk.ParseACL(b)
	if err != nil {
		return err
	}
	count := map[walk.ACLTag]int{}
	for _, e := range acl.Entries {
		count[e.Tag]++
	}
	for _, t := range []walk.ACLTag{walk.ACLUserObj, walk.ACLGroupObj, walk.ACLMask, walk.ACLOther} {
		if count[t] != 1 {
			return fmt.Errorf("%s: an extended access ACL has one entry each for the owner (user::), the owning group (group::), the mask (mask::) and everyone else (other::)", acl)
		}
	}
	if !sameACL(acl, acl.Chmodded(m)) {
		return fmt.Errorf("%s is not the access ACL of an entry with mode %s, whose bits its user::, mask:: and other:: entries hold", acl, policy.OctalMode(m))
	}
	return nil
}

// sameACL reports whether a and b grant the same, entry by entry; nil is no extended ACL.
func sameACL(a, b *walk.ACL) bool {
	if a == nil || b == nil {
		return a == b
	}
	return slices.Equal(a.Entries, b.Entries)
}

// aclText writes an access ACL for a reason, as getfacl -c does on one line, numeric ids.
func aclText(a *walk.ACL) string {
	if a == nil {
		return "none beyond its mode"
	}
	return a.String()
}
