package walk

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"
)

// labelXattr holds an entry's SELinux context.
const labelXattr = "security.selinux"

// attrScratch is the size of the buffer attribute names are listed into: enough for the ACL and
// SELinux attributes of an ordinary file.
const attrScratch = 256

// readAttrs fills in e's ACL, SELinux label and file capabilities from its extended attributes.
// Only the operating system's file system has them; every other backend leaves them empty.
// Attributes are read with the l-variants of the calls, which never follow a symlink. A file
// system without extended attributes has none of them: the mode bits are the whole truth there.
// scratch, which may be nil, is a buffer the caller reuses from entry to entry.
func readAttrs(fsys afero.Fs, e *Entry, scratch []byte) error {
	if _, ok := fsys.(*afero.OsFs); !ok {
		return nil
	}
	return readAttrsFrom(attrSource{path: e.Path}, e, scratch)
}

// attrSource names the file whose extended attributes are read: by its path, or by its name in
// a directory open as dirfd (see dirat.go), without looking up the path again.
type attrSource struct {
	path  string
	at    bool
	dirfd int
	name  string
	cname *byte // name, NUL-terminated
}

func (s attrSource) list(buf []byte) (int, error) {
	if s.at {
		return listAttrsAt(s, buf)
	}
	return unix.Llistxattr(s.path, buf)
}

func (s attrSource) get(attr string, buf []byte) (int, error) {
	if s.at {
		return getAttrAt(s, attr, buf)
	}
	return unix.Lgetxattr(s.path, attr, buf)
}

// readAttrsFrom is readAttrs for the operating system's file system, the entry's attributes read
// from src.
func readAttrsFrom(src attrSource, e *Entry, scratch []byte) error {
	names, err := listAttrs(src, scratch)
	if err != nil {
		return err
	}
	for name := range bytes.SplitSeq(names, []byte{0}) {
		switch string(name) {
		case ACLXattr:
			v, err := getAttr(src, ACLXattr)
			if err != nil {
				return err
			}
			if v == nil {
				continue
			}
			if e.ACL, err = ParseACL(v); err != nil {
				return err
			}
		case labelXattr:
			v, err := getAttr(src, labelXattr)
			if err != nil {
				return err
			}
			e.Label = string(bytes.TrimRight(v, "\x00"))
		case CapabilityXattr:
			if e.Capabilities, err = readCapabilities(src); err != nil {
				return err
			}
		}
	}
	return nil
}

// listAttrs returns the NUL-separated names of src's extended attributes, in buf if they fit:
// one system call for the common entry that has none.
func listAttrs(src attrSource, buf []byte) ([]byte, error) {
	if len(buf) == 0 {
		buf = make([]byte, attrScratch)
	}
	b, err := readSized(buf, func(b []byte) (int, error) { return src.list(b) }, unix.ENOTSUP)
	if err != nil {
		return nil, fmt.Errorf("listing extended attributes: %w", err)
	}
	return b, nil
}

// getAttr reads one extended attribute; nil if it vanished since it was listed.
func getAttr(src attrSource, name string) ([]byte, error) {
	b, err := readSized(make([]byte, attrScratch), func(b []byte) (int, error) { return src.get(name, b) }, unix.ENODATA, unix.ENOTSUP)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, nil
}

// readSized calls read, an xattr call that fills buf, growing buf to the size the kernel reports
// for as long as the value outgrows it (it may change between calls). An absent error means there
// is nothing to read: nil, and no error.
func readSized(buf []byte, read func([]byte) (int, error), absent ...unix.Errno) ([]byte, error) {
	for {
		n, err := read(buf)
		switch {
		case err == nil:
			return buf[:n], nil
		case isErrno(err, absent):
			return nil, nil
		case errors.Is(err, unix.ERANGE):
			size, err := read(nil)
			if err != nil {
				return nil, err
			}
			buf = make([]byte, max(size, 1)) // a zero-length buffer would ask for the size again
		default:
			return nil, err
		}
	}
}

func isErrno(err error, errnos []unix.Errno) bool {
	for _, e := range errnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// readCapabilities reads and decodes src's file capabilities into a buffer of the largest valid
// size, which stays on the stack: the walker allocates nothing for them per entry.
func readCapabilities(src attrSource) (Capabilities, error) {
	var buf [CapabilityMaxSize]byte
	n, err := src.get(CapabilityXattr, buf[:])
	switch {
	case err == nil:
		return ParseCapabilities(buf[:n])
	case isErrno(err, []unix.Errno{unix.ENODATA, unix.ENOTSUP}):
		return Capabilities{}, nil
	case errors.Is(err, unix.ERANGE):
		return Capabilities{}, errCapabilityTooLarge
	}
	return Capabilities{}, fmt.Errorf("reading %s: %w", CapabilityXattr, err)
}
