// Package walk is webperm's one stat boundary: it walks a tree on an afero.Fs, never following a
// symlink, and turns each path into an Entry (type, mode, owner, link target and where it leads,
// ACL, SELinux label, file capabilities). On the operating system's file system it reads
// directories by descriptor (getdents64, fstatat, listxattrat); on every other, through afero;
// both give the same entries. It judges nothing and changes nothing.
package walk

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"path"
	"syscall"

	"github.com/webperm/webperm/policy"
)

// Type is what kind of file system object an entry is.
type Type uint8

// Entry types. Their names are part of the JSON report.
const (
	TypeFile Type = iota
	TypeDir
	TypeSymlink
	TypeFIFO
	TypeSocket
	TypeCharDevice
	TypeBlockDevice
	TypeOther
)

var typeNames = [...]string{
	TypeFile: "file", TypeDir: "dir", TypeSymlink: "symlink", TypeFIFO: "fifo", TypeSocket: "socket",
	TypeCharDevice: "char-device", TypeBlockDevice: "block-device", TypeOther: "other",
}

func (t Type) String() string { return typeNames[t] }

// MarshalText writes the type's name.
func (t Type) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads a type's name, as MarshalText writes it.
func (t *Type) UnmarshalText(b []byte) error {
	for i, name := range typeNames {
		if name == string(b) {
			*t = Type(i)
			return nil
		}
	}
	return fmt.Errorf("unknown type %q: want file, dir, symlink, fifo, socket, char-device, block-device or other", b)
}

// TypeOf classifies a file mode.
func TypeOf(m fs.FileMode) Type {
	switch {
	case m.IsRegular():
		return TypeFile
	case m&fs.ModeDir != 0:
		return TypeDir
	case m&fs.ModeSymlink != 0:
		return TypeSymlink
	case m&fs.ModeNamedPipe != 0:
		return TypeFIFO
	case m&fs.ModeSocket != 0:
		return TypeSocket
	case m&fs.ModeCharDevice != 0:
		return TypeCharDevice
	case m&fs.ModeDevice != 0:
		return TypeBlockDevice
	}
	return TypeOther
}

// Target says what became of a symlink's target when the walker looked it up.
type Target uint8

// Symlink target states. TargetUnchecked is the state of every entry that is not a symlink.
const (
	TargetUnchecked Target = iota // not a symlink, or the lookup failed for another reason
	TargetExists
	TargetMissing
	TargetLoop
)

// Entry is one visited path, normalised once at the stat boundary; everything after the walker
// works on Entries and never on fs.FileInfo.
type Entry struct {
	Path string // as the user reaches it: absolute for file system audits
	// Rel is slash-separated, relative to the audited root; "." is the root, and "" a directory
	// above it.
	Rel  string
	Type Type
	// Mode holds the permission bits and the setuid, setgid and sticky bits, nothing else.
	Mode fs.FileMode
	// UID and GID are meaningful only when OwnerKnown: a backend without ownership yields
	// OwnerKnown false, never uid 0.
	UID, GID   uint32
	OwnerKnown bool
	// Dev and Ino name the inode, and Nlink counts its names, where the backend says (the
	// operating system's file system); zero elsewhere. A fix changes nothing that is not still
	// the inode the audit saw.
	Dev, Ino, Nlink uint64
	LinkTarget      string // the symlink's target as written in the link
	Target          Target
	// Dest is what a symlink leads to, where the walker could follow it; nil for every other
	// entry. Checks judge a link by it: what it serves is its target.
	Dest *LinkDest
	// ACL is the entry's POSIX access ACL, nil when it has none or the file system cannot say.
	ACL *ACL
	// Label is the entry's SELinux context, empty where there is none.
	Label string
	// Capabilities are a file's capabilities (setcap), which count as a set-id bit.
	Capabilities Capabilities
	// XattrsUnread says ACL, Label and Capabilities were not read (--no-xattrs), on a file
	// system that has them: their being empty says nothing.
	XattrsUnread bool
	// Content is what a regular file's first bytes showed it holds, where the policy has a rule
	// with a content condition for its name (a *.sql schema, a config that only includes others),
	// and of every .htaccess (whether it only denies): the audit reads them and sets it;
	// ContentUnread for every other entry, and for a file that could not be read.
	Content policy.Content
	// Shipped is set on a file the policy takes for a secret that is exactly as its
	// distribution package ships it: public in the archive, so no secret of the site's.
	Shipped bool
}

// Ownership is implemented by the Sys() value of a file system that carries owners but is neither
// the operating system nor a tar archive, such as webperm's in-memory test file system.
type Ownership interface {
	Owner() (uid, gid uint32)
}

// NewEntry is the stat boundary: it turns an fs.FileInfo from any afero backend into an Entry.
func NewEntry(path, rel string, fi fs.FileInfo) Entry {
	e := Entry{
		Path: path,
		Rel:  rel,
		Type: TypeOf(fi.Mode()),
		Mode: fi.Mode() & policy.ModeBits,
	}
	e.UID, e.GID, e.OwnerKnown = ownerOf(fi.Sys())
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		e.Dev, e.Ino, e.Nlink = uint64(st.Dev), st.Ino, uint64(st.Nlink)
	}
	return e
}

// ownerOf reads ownership from the backend-specific stat data. An unknown backend means "owner
// unknown", never root.
func ownerOf(sys any) (uid, gid uint32, ok bool) {
	switch st := sys.(type) {
	case *syscall.Stat_t:
		return st.Uid, st.Gid, true
	case *tar.Header:
		if st.Uid < 0 || st.Gid < 0 || int64(st.Uid) > int64(^uint32(0)) || int64(st.Gid) > int64(^uint32(0)) {
			return 0, 0, false
		}
		return uint32(st.Uid), uint32(st.Gid), true
	case Ownership:
		uid, gid := st.Owner()
		return uid, gid, true
	}
	return 0, 0, false
}

// Name is the entry's base name.
func (e *Entry) Name() string { return path.Base(e.Path) }
