// Package rpmdb reads which files the packages installed on an RPM system (Fedora, RHEL 9,
// Rocky 9 and the like) own, straight from rpm's database, rpmdb.sqlite, without running rpm and
// without an SQLite library: webperm runs as root, also on the tree of a system image, where
// running the image's rpm is no option.
//
// Only the sqlite backend (rpm >= 4.16) is read. The BerkeleyDB "Packages" of older systems
// (RHEL 8, CentOS 7) and the ndb "Packages.db" of openSUSE are formats of their own, each as large
// as this one again; a system with them has, to webperm, no rpm packages, which costs an audit
// its knowledge of what is packaged there and nothing else.
package rpmdb

import (
	"bytes"
	"encoding/binary"
	"io"
)

// Digest algorithms, as FILEDIGESTALGO numbers them (PGP's hash algorithm ids).
const (
	DigestMD5    = 1 // the default: a package that names none has MD5 digests
	DigestSHA256 = 8
)

// Package is one installed package as rpm's database records it.
type Package struct {
	Name       string
	DigestAlgo uint32 // the algorithm of its files' digests
	Files      []File
}

// File is one path a package owns.
type File struct {
	Path   string // absolute, as rpm installed it, not cleaned
	Digest string // the content's digest in hex, as rpm stores it; "" for what is no regular file
}

// Header tags and types, as rpm's header format numbers them.
const (
	tagName           = 1000
	tagFileDigests    = 1035
	tagDirIndexes     = 1116
	tagBasenames      = 1117
	tagDirnames       = 1118
	tagFileDigestAlgo = 5011

	typeInt32       = 4
	typeString      = 6
	typeStringArray = 8
)

// rpm's own limits on a header: no more tags than these, no larger data store.
const (
	maxTags = 0xffff
	maxData = 256 << 20
)

// Read calls fn with each package of the database file r, size bytes long (rpmdb.sqlite, its
// Packages table), and those of its files whose directory (as rpm writes it, "/usr/share/app/")
// keep wants; with keep nil, all. A system's database lists some 300,000 files, of which an audit
// wants few: the others are never made into strings. Read fails on the first malformed page or
// header; fn has then been called for the packages before it.
func Read(r io.ReaderAt, size int64, keep func(dir string) bool, fn func(Package)) error {
	db, err := openSQLite(r, size)
	if err != nil {
		return err
	}
	root, err := db.tableRoot("Packages")
	if err != nil {
		return err
	}
	return db.scanTable(root, func(rec []byte) error {
		// CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL):
		// hnum is the rowid, so the record holds NULL for it, then the header.
		cols, err := columns(rec, 2)
		if err != nil {
			return err
		}
		blob, ok := cols[1].blob()
		if !ok {
			return corrupt("a Packages row without a header")
		}
		pkg, err := ParseHeader(blob, keep)
		if err != nil {
			return err
		}
		fn(pkg)
		return nil
	})
}

// header is an rpm header as the database stores it: no magic, the index's length and the data
// store's, the index of 16-byte entries (tag, type, offset into the store, count), the store.
type header struct {
	index []byte
	data  []byte
}

// ParseHeader reads a package's name and files from its header, blob: the files whose directory
// keep wants, all with keep nil. The header is checked whole, whatever keep wants.
func ParseHeader(blob []byte, keep func(dir string) bool) (Package, error) {
	h, err := parseHeader(blob)
	if err != nil {
		return Package{}, err
	}
	var pkg Package
	name, err := h.strings(tagName, typeString)
	if err != nil {
		return Package{}, err
	}
	if len(name) != 1 || len(name[0]) == 0 {
		return Package{}, corrupt("a header without a name")
	}
	pkg.Name = string(name[0])
	pkg.DigestAlgo = DigestMD5
	if algo, err := h.int32s(tagFileDigestAlgo); err != nil {
		return Package{}, err
	} else if len(algo) > 0 {
		pkg.DigestAlgo = algo[0]
	}
	bases, err := h.strings(tagBasenames, typeStringArray)
	if err != nil || len(bases) == 0 {
		return pkg, err
	}
	dirs, err := h.strings(tagDirnames, typeStringArray)
	if err != nil {
		return Package{}, err
	}
	idx, err := h.int32s(tagDirIndexes)
	if err != nil {
		return Package{}, err
	}
	digests, err := h.strings(tagFileDigests, typeStringArray)
	if err != nil {
		return Package{}, err
	}
	if len(idx) != len(bases) || (digests != nil && len(digests) != len(bases)) {
		return Package{}, corrupt("%s: %d files, %d directory indexes, %d digests", pkg.Name, len(bases), len(idx), len(digests))
	}
	wanted := make([]bool, len(dirs))
	for i, dir := range dirs {
		wanted[i] = keep == nil || keep(string(dir))
	}
	for i, base := range bases {
		if idx[i] >= uint32(len(dirs)) {
			return Package{}, corrupt("%s: directory index %d of %d", pkg.Name, idx[i], len(dirs))
		}
		if !wanted[idx[i]] {
			continue
		}
		f := File{Path: string(dirs[idx[i]]) + string(base)}
		if digests != nil {
			f.Digest = string(digests[i])
		}
		pkg.Files = append(pkg.Files, f)
	}
	return pkg, nil
}

// parseHeader checks blob's intro against its length and splits it.
func parseHeader(blob []byte) (*header, error) {
	if len(blob) < 8 {
		return nil, corrupt("header of %d bytes", len(blob))
	}
	il, dl := binary.BigEndian.Uint32(blob), binary.BigEndian.Uint32(blob[4:])
	if il < 1 || il > maxTags || dl > maxData {
		return nil, corrupt("header of %d tags and %d bytes of data", il, dl)
	}
	if want := 8 + 16*uint64(il) + uint64(dl); uint64(len(blob)) != want {
		return nil, corrupt("header of %d bytes, its intro says %d", len(blob), want)
	}
	return &header{index: blob[8 : 8+16*il], data: blob[8+16*il:]}, nil
}

// find returns the index entry of tag: the last, as a tag added after the package was built
// (rpm's "dribble") replaces the original's.
func (h *header) find(tag uint32) (typ, offset, count uint32, ok bool) {
	for e := h.index; len(e) >= 16; e = e[16:] {
		if binary.BigEndian.Uint32(e) == tag {
			typ, offset, count, ok = binary.BigEndian.Uint32(e[4:]), binary.BigEndian.Uint32(e[8:]), binary.BigEndian.Uint32(e[12:]), true
		}
	}
	return typ, offset, count, ok
}

// strings returns the strings of tag, of type typ (one string or an array), still in the header's
// bytes; nil where the header has no such tag.
func (h *header) strings(tag, typ uint32) ([][]byte, error) {
	t, off, count, ok := h.find(tag)
	if !ok {
		return nil, nil
	}
	if t != typ || off > uint32(len(h.data)) || (typ == typeString && count != 1) {
		return nil, corrupt("tag %d: type %d, offset %d, count %d", tag, t, off, count)
	}
	data := h.data[off:]
	// Each string takes one byte at least, its NUL: a count past that is a lie, and no slice is
	// made to its measure.
	if count > uint32(len(data)) {
		return nil, corrupt("tag %d: %d strings in %d bytes", tag, count, len(data))
	}
	out := make([][]byte, count)
	for i := range out {
		end := bytes.IndexByte(data, 0)
		if end < 0 {
			return nil, corrupt("tag %d: string %d unterminated", tag, i)
		}
		out[i] = data[:end:end]
		data = data[end+1:]
	}
	return out, nil
}

// int32s returns the integers of tag, of type INT32; nil where the header has no such tag.
func (h *header) int32s(tag uint32) ([]uint32, error) {
	t, off, count, ok := h.find(tag)
	if !ok {
		return nil, nil
	}
	if t != typeInt32 || off > uint32(len(h.data)) || uint64(count)*4 > uint64(len(h.data)-int(off)) {
		return nil, corrupt("tag %d: type %d, offset %d, count %d", tag, t, off, count)
	}
	out := make([]uint32, count)
	for i := range out {
		out[i] = binary.BigEndian.Uint32(h.data[int(off)+4*i:])
	}
	return out, nil
}
