package rpmdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// This file reads the one SQLite database file rpm's sqlite backend writes, rpmdb.sqlite, as far
// as webperm needs it: the schema table on page 1 to find a table's root page, then the table's
// b-tree, its rows' records and the overflow pages of rows larger than a page. It follows
// https://www.sqlite.org/fileformat2.html and nothing more: no index b-trees, no WAL file, no
// writing. Everything the file says is checked before it is used, since the file belongs to the
// audited system, which may be an image someone else made: page numbers in range, every page
// visited once (a cycle is corruption), depth and counts capped.

// ErrCorrupt is what any malformed database, or one past this reader's limits, fails with.
var ErrCorrupt = errors.New("malformed or unsupported sqlite database")

const (
	sqliteMagic = "SQLite format 3\x00"
	// maxDepth caps a b-tree's depth: SQLite's own trees stay far below it (a 1 TB file of
	// 512-byte pages needs some 20 levels).
	maxDepth = 40
	// maxPayload caps one row: rpm refuses headers of more than 256 MB; the largest real ones
	// (texlive, kernel-core) run to a few MB.
	maxPayload = 64 << 20
	// maxRows caps the rows of one table: a system holds some thousands of packages.
	maxRows = 1 << 20
)

// corrupt wraps ErrCorrupt with what was wrong.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// sqliteDB is an open database file.
type sqliteDB struct {
	r        io.ReaderAt
	pageSize int
	usable   int    // the page size less the bytes reserved at each page's end
	pages    uint32 // the pages the file holds whole: a page number past it is corruption
}

// openSQLite reads the header of the database file r, size bytes long.
func openSQLite(r io.ReaderAt, size int64) (*sqliteDB, error) {
	var h [100]byte
	if size < int64(len(h)) {
		return nil, corrupt("file of %d bytes", size)
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("reading the sqlite header: %w", err)
	}
	if string(h[:16]) != sqliteMagic {
		return nil, corrupt("no sqlite header")
	}
	pageSize := int(binary.BigEndian.Uint16(h[16:]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return nil, corrupt("page size %d", pageSize)
	}
	usable := pageSize - int(h[20])
	if usable < 480 {
		return nil, corrupt("usable page size %d", usable)
	}
	// The text encoding: names in the schema are compared as UTF-8 bytes.
	if enc := binary.BigEndian.Uint32(h[56:]); enc != 1 {
		return nil, corrupt("text encoding %d, not UTF-8", enc)
	}
	n := size / int64(pageSize)
	if n < 1 || n > 1<<31 {
		return nil, corrupt("file of %d bytes with pages of %d", size, pageSize)
	}
	return &sqliteDB{r: r, pageSize: pageSize, usable: usable, pages: uint32(n)}, nil
}

// page reads page number n (1 is the first) into buf, a new buffer where buf is nil.
func (db *sqliteDB) page(n uint32, buf []byte) ([]byte, error) {
	if n < 1 || n > db.pages {
		return nil, corrupt("page %d of %d", n, db.pages)
	}
	if buf == nil {
		buf = make([]byte, db.pageSize)
	}
	if _, err := db.r.ReadAt(buf, int64(n-1)*int64(db.pageSize)); err != nil {
		return nil, fmt.Errorf("reading page %d: %w", n, err)
	}
	return buf, nil
}

// visits records the pages one scan has read: a page reached twice, by the b-tree or an
// overflow chain, makes a cycle or a shared page, both corruption.
type visits map[uint32]bool

func (v visits) visit(n uint32) error {
	if v[n] {
		return corrupt("page %d reached twice", n)
	}
	v[n] = true
	return nil
}

// tableRoot returns the root page of the table called name, from the schema table on page 1.
func (db *sqliteDB) tableRoot(name string) (uint32, error) {
	var root uint32
	found := false
	err := db.scanTable(1, func(rec []byte) error {
		cols, err := columns(rec, 4)
		if err != nil {
			return err
		}
		if !cols[0].isText("table") || !cols[1].isText(name) {
			return nil
		}
		n, ok := cols[3].integer()
		if !ok || n < 1 || n > int64(db.pages) {
			return corrupt("table %s's root page %d", name, n)
		}
		root, found = uint32(n), true
		return errStop
	})
	if err != nil && err != errStop {
		return 0, err
	}
	if !found {
		return 0, corrupt("no table %s", name)
	}
	return root, nil
}

// errStop ends a scan early, without error.
var errStop = errors.New("stop")

// scanTable calls fn with the record of every row of the table b-tree whose root is page root,
// in rowid order; the record is fn's only until it returns, its buffer then used again. An error
// of fn's ends the scan and is returned.
func (db *sqliteDB) scanTable(root uint32, fn func(rec []byte) error) error {
	s := &scan{db: db, seen: visits{}, fn: fn}
	return s.tree(root, 0)
}

type scan struct {
	db       *sqliteDB
	seen     visits
	rows     int
	fn       func(rec []byte) error
	overflow []byte // the buffer each overflow page is read into, its content then copied out
	record   []byte // the buffer a row larger than its page is put together in
}

// tree walks the b-tree page n, depth levels below the root.
func (s *scan) tree(n uint32, depth int) error {
	if depth > maxDepth {
		return corrupt("b-tree deeper than %d", maxDepth)
	}
	if err := s.seen.visit(n); err != nil {
		return err
	}
	p, err := s.db.page(n, nil)
	if err != nil {
		return err
	}
	hdr := 0
	if n == 1 {
		hdr = 100 // page 1 begins with the file's header
	}
	if len(p) < hdr+12 {
		return corrupt("page %d too short", n)
	}
	kind := p[hdr]
	cells := int(binary.BigEndian.Uint16(p[hdr+3:]))
	ptrs := hdr + 8
	switch kind {
	case 0x05:
		ptrs = hdr + 12
	case 0x0d:
	default:
		return corrupt("page %d of type %#x in a table b-tree", n, kind)
	}
	if ptrs+2*cells > s.db.usable {
		return corrupt("page %d: %d cells", n, cells)
	}
	for i := range cells {
		off := int(binary.BigEndian.Uint16(p[ptrs+2*i:]))
		if off < ptrs+2*cells || off >= s.db.usable {
			return corrupt("page %d: cell %d at %d", n, i, off)
		}
		cell := p[off:s.db.usable]
		if kind == 0x05 { // a table interior's cell: the child page of the keys up to its own
			if len(cell) < 4 {
				return corrupt("page %d: cell %d short", n, i)
			}
			if err := s.tree(binary.BigEndian.Uint32(cell), depth+1); err != nil {
				return err
			}
			continue
		}
		// A table leaf's cell: a row.
		rec, err := s.payload(n, cell)
		if err != nil {
			return err
		}
		if s.rows++; s.rows > maxRows {
			return corrupt("more than %d rows", maxRows)
		}
		if err := s.fn(rec); err != nil {
			return err
		}
	}
	if kind == 0x05 {
		return s.tree(binary.BigEndian.Uint32(p[hdr+8:]), depth+1)
	}
	return nil
}

// payload returns the whole record of the table leaf cell, which lies on page n, reading its
// overflow pages.
func (s *scan) payload(n uint32, cell []byte) ([]byte, error) {
	size, k := uvarint(cell)
	if k == 0 {
		return nil, corrupt("page %d: cell's payload size", n)
	}
	if size > maxPayload {
		return nil, corrupt("page %d: a row of %d bytes", n, size)
	}
	_, k2 := uvarint(cell[k:])
	if k2 == 0 {
		return nil, corrupt("page %d: cell's rowid", n)
	}
	cell = cell[k+k2:]
	total := int(size)
	local := s.db.localPayload(total)
	if local > len(cell) {
		return nil, corrupt("page %d: cell of %d bytes past the page", n, local)
	}
	if local == total {
		return cell[:total:total], nil
	}
	// The rest is on overflow pages, each holding a page less its link: a size the file cannot
	// hold is refused before anything is made to its measure.
	if (total-local)/(s.db.usable-4) >= int(s.db.pages) {
		return nil, corrupt("page %d: a row of %d bytes in a file of %d pages", n, total, s.db.pages)
	}
	if len(cell) < local+4 {
		return nil, corrupt("page %d: cell's overflow page number past the page", n)
	}
	rec := append(s.record[:0], cell[:local]...)
	next := binary.BigEndian.Uint32(cell[local:])
	for len(rec) < total {
		if err := s.seen.visit(next); err != nil {
			return nil, err
		}
		p, err := s.db.page(next, s.overflow)
		if err != nil {
			return nil, err
		}
		s.overflow = p
		chunk := p[4:s.db.usable]
		if rest := total - len(rec); len(chunk) > rest {
			chunk = chunk[:rest]
		}
		rec = append(rec, chunk...)
		next = binary.BigEndian.Uint32(p)
	}
	s.record = rec
	return rec, nil
}

// localPayload is how much of a table leaf cell's payload of total bytes is on the cell's own
// page, the rest on overflow pages, as SQLite's file format fixes it.
func (db *sqliteDB) localPayload(total int) int {
	u := db.usable
	x := u - 35
	if total <= x {
		return total
	}
	m := (u-12)*32/255 - 23
	if k := m + (total-m)%(u-4); k <= x {
		return k
	}
	return m
}

// uvarint decodes SQLite's variable-length integer at the start of b: big-endian groups of seven
// bits, the high bit set on all but the last, and a ninth byte that counts all eight. It returns
// the value and its length, 0 where b ends before it.
func uvarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 9; i++ {
		if i >= len(b) {
			return 0, 0
		}
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0 // unreachable
}

// value is one column of a record: its serial type and its bytes.
type value struct {
	serial uint64
	data   []byte
}

// columns splits the record rec into its first n columns (fewer where it has fewer; a missing
// column reads as NULL, as SQLite reads a row written before a column was added).
func columns(rec []byte, n int) ([]value, error) {
	hlen, k := uvarint(rec)
	if k == 0 || hlen < uint64(k) || hlen > uint64(len(rec)) {
		return nil, corrupt("record header of %d bytes in %d", hlen, len(rec))
	}
	hdr, body := rec[k:hlen], rec[hlen:]
	cols := make([]value, n)
	for i := 0; i < n && len(hdr) > 0; i++ {
		st, k := uvarint(hdr)
		if k == 0 {
			return nil, corrupt("record's serial type")
		}
		hdr = hdr[k:]
		size, ok := serialSize(st)
		if !ok || size > uint64(len(body)) {
			return nil, corrupt("record column of serial type %d", st)
		}
		cols[i] = value{serial: st, data: body[:size]}
		body = body[size:]
	}
	return cols, nil
}

// serialSize is the size of a column of serial type st.
func serialSize(st uint64) (uint64, bool) {
	switch {
	case st <= 4:
		return []uint64{0, 1, 2, 3, 4}[st], true
	case st == 5:
		return 6, true
	case st == 6, st == 7:
		return 8, true
	case st == 8, st == 9:
		return 0, true
	case st >= 12:
		return (st - 12) / 2, true
	}
	return 0, false // 10 and 11 are reserved
}

// isText reports whether v is the text s.
func (v value) isText(s string) bool {
	return v.serial >= 13 && v.serial%2 == 1 && string(v.data) == s
}

// blob returns v's bytes if it is a blob.
func (v value) blob() ([]byte, bool) {
	return v.data, v.serial >= 12 && v.serial%2 == 0
}

// integer returns v's value if it is an integer.
func (v value) integer() (int64, bool) {
	switch {
	case v.serial == 8:
		return 0, true
	case v.serial == 9:
		return 1, true
	case v.serial >= 1 && v.serial <= 6:
		// Big-endian two's complement of 1 to 8 bytes.
		var n int64
		if v.data[0]&0x80 != 0 {
			n = -1
		}
		for _, b := range v.data {
			n = n<<8 | int64(b)
		}
		return n, true
	}
	return 0, false
}
