package audit

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/safefile"
	"github.com/webperm/webperm/policy"
)

// A report's findings stay in memory (Report.Findings) unless its audit spools them
// (Auditor.Spool): then all but the last few thousand go, in walk order, to a temp file with no
// name, and the writers read them back with Report.EachFinding, as often as they need. An audit's
// memory then grows with neither the entries nor the findings: a tree where every entry is
// world-writable costs the same as a clean one, and the file is gone when webperm exits, whatever
// ends it.
//
// The file holds one record per finding: its length (uvarint), its severity (one byte, so that a
// pass for one severity skips the others unread), then the finding's fields in a fixed order.
// The file is webperm's own, written and read by one process, but a record that does not decode
// is an error, never a panic.

// ErrSpool is a spool for findings that could not be made, written or read back.
var ErrSpool = errors.New("spooling the findings to a temp file")

// spoolWindow is how many findings an audit that spools keeps in memory before it writes them
// out: some megabytes. A variable for tests, which spool every finding.
var spoolWindow = 4096

// spool is the temp file a report's findings go to.
type spool struct {
	f   *os.File
	w   *bufio.Writer
	n   int    // findings written
	buf []byte // one record, reused
	err error  // the first write that failed: the audit fails with it
}

// newSpool opens an unnamed file in TMPDIR, or a named one removed at once where the file system
// has no O_TMPFILE. Only root reads either: it holds the paths of every finding. As root, TMPDIR
// must be a directory no other user controls (safefile.CheckDir), as -o's is: the report trusts
// what it reads back, and a TMPDIR inherited from a user (su without -, sudo -E) may be theirs,
// where the named file could be kept past webperm's end, or a mount they serve read and rewritten.
func newSpool() (*spool, error) {
	dir := os.TempDir()
	if os.Geteuid() == 0 {
		if err := safefile.CheckDir(dir); err != nil {
			return nil, fmt.Errorf("%w in %s: %v", ErrSpool, dir, err)
		}
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	var f *os.File
	if err == nil {
		f = os.NewFile(uintptr(fd), dir+"/(webperm spool)")
	} else {
		if f, err = os.CreateTemp(dir, "webperm-spool-*"); err != nil {
			return nil, fmt.Errorf("%w in %s: %v", ErrSpool, dir, walk.UnwrapPath(err))
		}
		os.Remove(f.Name())
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

// put appends f to the spool; a failure is kept for the audit to return.
func (s *spool) put(f *Finding) {
	if s.err != nil {
		return
	}
	e := encoder{b: s.buf[:0]}
	e.finding(f)
	s.buf = e.b
	var head [binary.MaxVarintLen64 + 1]byte
	n := binary.PutUvarint(head[:], uint64(len(e.b)))
	head[n] = byte(f.Severity)
	if _, err := s.w.Write(head[:n+1]); err != nil {
		s.err = err
		return
	}
	if _, err := s.w.Write(e.b); err != nil {
		s.err = err
		return
	}
	s.n++
}

// flushed ends writing for now: what was put is on file. It returns the first error of any put.
func (s *spool) flushed() error {
	if s.err == nil {
		s.err = s.w.Flush()
	}
	if s.err != nil {
		return fmt.Errorf("%w in %s: %v", ErrSpool, os.TempDir(), walk.UnwrapPath(s.err))
	}
	return nil
}

// each calls fn with every finding of the spool that want wants, in order, with its index; the
// others are skipped unread.
func (s *spool) each(want func(i int, sev policy.Severity) (bool, error), fn func(i int, f *Finding) error) error {
	if err := s.flushed(); err != nil {
		return err
	}
	r := bufio.NewReaderSize(io.NewSectionReader(s.f, 0, 1<<62), 256<<10)
	var rec []byte
	for i := range s.n {
		size, err := binary.ReadUvarint(r)
		if err != nil {
			return s.corrupt(i, err)
		}
		sev, err := r.ReadByte()
		if err != nil {
			return s.corrupt(i, err)
		}
		ok, err := want(i, policy.Severity(sev))
		if err != nil {
			return err
		}
		if !ok {
			if _, err := r.Discard(int(size)); err != nil {
				return s.corrupt(i, err)
			}
			continue
		}
		if size > 1<<30 {
			return s.corrupt(i, errors.New("record too long"))
		}
		if uint64(cap(rec)) < size {
			rec = make([]byte, size)
		}
		rec = rec[:size]
		if _, err := io.ReadFull(r, rec); err != nil {
			return s.corrupt(i, err)
		}
		var f Finding
		if err := decodeFinding(rec, &f); err != nil {
			return s.corrupt(i, err)
		}
		if err := fn(i, &f); err != nil {
			return err
		}
	}
	return nil
}

func (s *spool) corrupt(i int, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w in %s: finding %d: %v", ErrSpool, os.TempDir(), i, err)
}

func (s *spool) close() error { return s.f.Close() }

// NumFindings is how many findings the report holds, spooled or not.
func (r *Report) NumFindings() int { return r.spooled() + len(r.Findings) }

func (r *Report) spooled() int {
	if r.spool == nil {
		return 0
	}
	return r.spool.n
}

// EachFinding calls fn with every finding in walk order and its index, as Report.Findings would
// hold them all, stopping at the first error fn returns. The finding is fn's only for the call.
func (r *Report) EachFinding(fn func(i int, f *Finding) error) error {
	return r.scan(func(int, policy.Severity) bool { return true }, fn)
}

// EachFindingOf is EachFinding for the findings of one severity: the others are not even read.
func (r *Report) EachFindingOf(sev policy.Severity, fn func(i int, f *Finding) error) error {
	return r.scan(func(_ int, s policy.Severity) bool { return s == sev }, fn)
}

// CountBySeverity counts the findings of each severity, reading no more of them than that.
func (r *Report) CountBySeverity() (map[policy.Severity]int, error) {
	counts := make(map[policy.Severity]int)
	err := r.scan(func(_ int, s policy.Severity) bool {
		counts[s]++
		return false
	}, nil)
	return counts, err
}

// scan calls fn with every finding, and its index, whose severity want wants.
func (r *Report) scan(want func(i int, sev policy.Severity) bool, fn func(i int, f *Finding) error) error {
	if r.spool != nil {
		err := r.spool.each(func(i int, sev policy.Severity) (bool, error) {
			p, ok := r.patched[i]
			if !ok {
				return want(i, sev), nil
			}
			// Changed since it was spooled: the change is what counts.
			if want(i, p.Severity) {
				return false, fn(i, &p)
			}
			return false, nil
		}, fn)
		if err != nil {
			return err
		}
	}
	base := r.spooled()
	for i := range r.Findings {
		if want(base+i, r.Findings[i].Severity) {
			if err := fn(base+i, &r.Findings[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close lets go of the report's spool, if it has one. The findings it held are then gone.
func (r *Report) Close() error {
	if r.spool == nil {
		return nil
	}
	err := r.spool.close()
	r.spool = nil
	return err
}

// spoolAll writes the findings in memory to the spool, keeping none.
func (r *Report) spoolAll() {
	for i := range r.Findings {
		r.spool.put(&r.Findings[i])
	}
	clear(r.Findings)
	r.Findings = r.Findings[:0]
}

// setFinding replaces the finding at index i, spooled or not.
func (r *Report) setFinding(i int, f Finding) {
	if base := r.spooled(); i >= base {
		r.Findings[i-base] = f
		return
	}
	if r.patched == nil {
		r.patched = make(map[int]Finding)
	}
	r.patched[i] = f
}

// encoder writes a finding's fields, in the order decodeFinding reads them.
type encoder struct{ b []byte }

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }

func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) strs(ss []string) {
	e.uint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *encoder) finding(f *Finding) {
	e.str(string(f.Rule))
	e.uint(uint64(f.Severity))
	e.entry(&f.Entry)
	e.str(f.Message)
	e.bool(f.Fix != nil)
	if x := f.Fix; x != nil {
		e.uint(uint64(x.Mode))
		e.bool(x.Chown)
		e.uint(uint64(x.UID))
		e.uint(uint64(x.GID))
	}
	e.bool(f.ExpiredWaiver != nil)
	if w := f.ExpiredWaiver; w != nil {
		e.str(string(w.Rule))
		e.strs(w.Paths)
		e.str(w.Reason)
		e.str(w.Expires)
		e.str(w.Origin)
	}
	e.str(f.Package)
	e.uint(uint64(f.Entries))
	e.str(f.PackageManager)
}

func (e *encoder) entry(x *walk.Entry) {
	e.str(x.Path)
	e.str(x.Rel)
	e.uint(uint64(x.Type))
	e.uint(uint64(x.Mode))
	e.uint(uint64(x.UID))
	e.uint(uint64(x.GID))
	e.bool(x.OwnerKnown)
	e.uint(x.Dev)
	e.uint(x.Ino)
	e.uint(x.Nlink)
	e.str(x.LinkTarget)
	e.uint(uint64(x.Target))
	e.bool(x.Dest != nil)
	if d := x.Dest; d != nil {
		e.str(d.Path)
		e.entry(&d.Entry)
		e.uint(uint64(len(d.Dirs)))
		for i := range d.Dirs {
			e.entry(&d.Dirs[i])
		}
	}
	e.bool(x.ACL != nil)
	if a := x.ACL; a != nil {
		e.uint(uint64(len(a.Entries)))
		for _, ae := range a.Entries {
			e.uint(uint64(ae.Tag))
			e.uint(uint64(ae.ID))
			e.uint(uint64(ae.Perm))
		}
	}
	e.str(x.Label)
	c := &x.Capabilities
	e.uint(uint64(c.Version))
	e.uint(c.Permitted)
	e.uint(c.Inheritable)
	e.bool(c.Effective)
	e.uint(uint64(c.RootID))
	e.bool(x.XattrsUnread)
	e.uint(uint64(x.Content))
	e.bool(x.Shipped)
}

// decoder reads what encoder wrote; the first field that does not decode stops it. It reads
// from one string, so that every string field of a finding shares its bytes: one allocation per
// record, not one per field.
type decoder struct {
	b   string
	err error
}

var errBadRecord = errors.New("record does not decode")

func (d *decoder) uint(limit uint64) uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	for n := 0; ; n++ {
		if n == len(d.b) || n == binary.MaxVarintLen64 {
			d.err = errBadRecord
			return 0
		}
		c := d.b[n]
		if n == binary.MaxVarintLen64-1 && c > 1 {
			d.err = errBadRecord // past 64 bits
			return 0
		}
		v |= uint64(c&0x7f) << (7 * n)
		if c < 0x80 {
			d.b = d.b[n+1:]
			break
		}
	}
	if v > limit {
		d.err = errBadRecord
		return 0
	}
	return v
}

func (d *decoder) str() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) bool() bool { return d.uint(1) == 1 }

// count reads the length of a string, or of a list whose every element takes at least one byte:
// no more than the bytes left.
func (d *decoder) count() int {
	n := d.uint(1 << 62)
	if n > uint64(len(d.b)) {
		d.err = errBadRecord
		return 0
	}
	return int(n)
}

func (d *decoder) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func decodeFinding(b []byte, f *Finding) error {
	d := decoder{b: string(b)}
	d.finding(f)
	if d.err == nil && len(d.b) > 0 {
		d.err = errBadRecord
	}
	return d.err
}

const (
	max8  = 1<<8 - 1
	max16 = 1<<16 - 1
	max32 = 1<<32 - 1
)

func (d *decoder) finding(f *Finding) {
	f.Rule = policy.RuleID(d.str())
	f.Severity = policy.Severity(d.uint(max8))
	d.entry(&f.Entry, 0)
	f.Message = d.str()
	if d.bool() {
		f.Fix = &Fix{Mode: fs.FileMode(d.uint(max32)), Chown: d.bool(), UID: uint32(d.uint(max32)), GID: uint32(d.uint(max32))}
	}
	if d.bool() {
		f.ExpiredWaiver = &policy.Waiver{Rule: policy.RuleID(d.str()), Paths: d.strs(), Reason: d.str(), Expires: d.str(), Origin: d.str()}
	}
	f.Package = d.str()
	f.Entries = int(d.uint(1 << 62))
	f.PackageManager = d.str()
}

// maxDestDepth bounds the nesting of link destinations a record may hold: the walk records one
// level (a target is never a link).
const maxDestDepth = 2

func (d *decoder) entry(x *walk.Entry, depth int) {
	x.Path = d.str()
	x.Rel = d.str()
	x.Type = walk.Type(d.uint(uint64(walk.TypeOther)))
	x.Mode = fs.FileMode(d.uint(max32))
	x.UID = uint32(d.uint(max32))
	x.GID = uint32(d.uint(max32))
	x.OwnerKnown = d.bool()
	x.Dev = d.uint(1<<64 - 1)
	x.Ino = d.uint(1<<64 - 1)
	x.Nlink = d.uint(1<<64 - 1)
	x.LinkTarget = d.str()
	x.Target = walk.Target(d.uint(uint64(walk.TargetLoop)))
	if d.bool() {
		if depth >= maxDestDepth {
			d.err = errBadRecord
			return
		}
		dest := &walk.LinkDest{Path: d.str()}
		d.entry(&dest.Entry, depth+1)
		if n := d.count(); n > 0 {
			dest.Dirs = make([]walk.Entry, n)
			for i := range dest.Dirs {
				d.entry(&dest.Dirs[i], depth+1)
			}
		}
		x.Dest = dest
	}
	if d.bool() {
		acl := &walk.ACL{}
		if n := d.count(); n > 0 {
			acl.Entries = make([]walk.ACLEntry, n)
			for i := range acl.Entries {
				acl.Entries[i] = walk.ACLEntry{Tag: walk.ACLTag(d.uint(max16)), ID: uint32(d.uint(max32)), Perm: walk.Perm(d.uint(max8))}
			}
		}
		x.ACL = acl
	}
	x.Label = d.str()
	c := &x.Capabilities
	c.Version = uint8(d.uint(max8))
	c.Permitted = d.uint(1<<64 - 1)
	c.Inheritable = d.uint(1<<64 - 1)
	c.Effective = d.bool()
	c.RootID = uint32(d.uint(max32))
	x.XattrsUnread = d.bool()
	x.Content = policy.Content(d.uint(max8))
	x.Shipped = d.bool()
}
