package report

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/safefile"
	"github.com/webperm/webperm/policy"
)

// ErrBaseline is a baseline that cannot be compared with: unreadable, not a webperm JSON report,
// or made for other roots.
var ErrBaseline = errors.New("baseline")

// Baseline is an audit compared with an earlier JSON report of the same roots, the baseline:
// each finding of the audit is known (the baseline has a finding of the same fingerprint) or
// new, and each finding of the baseline the audit no longer has is resolved.
//
// Both reports list their findings in walk order, so the two lists are merged as they are read,
// one path at a time: what is kept is a bit per finding on each side, never the findings.
type Baseline struct {
	File                 string // as given
	New, Known, Resolved int
	NewBySeverity        map[policy.Severity]int
	f                    *os.File
	// Roots are the baseline's roots: this audit's, or where a root was given as a symlink that
	// leads elsewhere now (a deploy's current release), the directory it led to then.
	Roots []string
	// given are the paths the baseline's roots were given as, where one differed from its root;
	// noXattrs says the baseline's audit read no ACL or label.
	given    []string
	noXattrs bool
	known    bitset // by the audit's finding index
	matched  bitset // by the baseline's finding index
}

// bitset is a set of small non-negative integers.
type bitset []uint64

func (s *bitset) add(i int) {
	for i/64 >= len(*s) {
		*s = append(*s, 0)
	}
	(*s)[i/64] |= 1 << (i % 64)
}

func (s bitset) has(i int) bool { return i/64 < len(s) && s[i/64]&(1<<(i%64)) != 0 }

// OpenBaseline reads the JSON report in file and compares r with it. The caller closes it. An
// error wraps ErrBaseline and names the file, and the line where the file is at fault.
func OpenBaseline(file string, r *audit.Report) (*Baseline, error) {
	f, err := openBaselineFile(file)
	if err != nil {
		return nil, err
	}
	b := &Baseline{File: file, f: f, NewBySeverity: map[policy.Severity]int{}}
	if err := b.compare(r); err != nil {
		f.Close()
		return nil, err
	}
	return b, nil
}

// CheckBaseline reads the head of the JSON report in file, up to its findings, as OpenBaseline
// does: a baseline that cannot be read, or is no JSON report of webperm, is known before an
// audit that may take hours. An error is OpenBaseline's.
func CheckBaseline(file string) error {
	f, err := openBaselineFile(file)
	if err != nil {
		return err
	}
	defer f.Close()
	b := &Baseline{File: file, f: f}
	_, err = b.open()
	return err
}

// openBaselineFile opens a baseline, looked at before it is opened: a FIFO or device is refused,
// never waited on. The error names the file on one line: wrapping both ErrBaseline and the
// cause, it would be two errors, which webperm prints one a line, the file with neither.
func openBaselineFile(file string) (*os.File, error) {
	f, err := safefile.OpenRegular(file, math.MaxInt64, true)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %s", ErrBaseline, file, err)
	}
	return f, nil
}

// Close lets go of the baseline's file.
func (b *Baseline) Close() error {
	if b == nil {
		return nil
	}
	return b.f.Close()
}

// IsKnown says whether the audit's finding i is in the baseline; never without one (b nil).
func (b *Baseline) IsKnown(i int) bool { return b != nil && b.known.has(i) }

func (b *Baseline) compare(r *audit.Report) error {
	rd, err := b.open()
	if err != nil {
		return err
	}
	if !b.sameRoots(r) {
		return fmt.Errorf("%w %s was made for the roots %s, and this audit's are %s", ErrBaseline, b.File, quoteAll(b.Roots), quoteAll(r.Roots))
	}
	if b.noXattrs != r.NoXattrs {
		with := map[bool]string{true: "without ACLs, SELinux labels and capabilities (--no-xattrs)", false: "with ACLs, SELinux labels and capabilities"}
		return fmt.Errorf("%w %s was made %s, and this audit is %s: its findings of those would all be new or resolved", ErrBaseline, b.File, with[b.noXattrs], with[r.NoXattrs])
	}
	if err := checkNotNested(r.Roots); err != nil {
		return err
	}
	m := merge{b: b, rd: rd, r: r, base: newSectioner(b.Roots), ours: newSectioner(r.Roots)}
	if err := m.next(); err != nil {
		return err
	}
	var group []ours
	var groupKey orderKey
	err = r.EachFinding(func(i int, f *audit.Finding) error {
		k := m.ours.key(f.Entry.Path)
		if len(group) > 0 && k != groupKey {
			if err := m.settle(groupKey, group); err != nil {
				return err
			}
			group = group[:0]
		}
		groupKey = k
		group = append(group, ours{i: i, sev: f.Severity, fp: r.Fingerprint(f)})
		return nil
	})
	if err != nil {
		return err
	}
	if len(group) > 0 {
		if err := m.settle(groupKey, group); err != nil {
			return err
		}
	}
	for m.have {
		m.resolved(m.at, m.key, m.dir)
		if err := m.next(); err != nil {
			return err
		}
	}
	return rd.end()
}

// sameRoots says whether the baseline is of r's roots: the same directories, or, root by root,
// given as the same path: /var/www/current, a symlink a deploy points at each new release, is
// the same site whichever release it leads to, and its findings are compared by their paths
// below it.
func (b *Baseline) sameRoots(r *audit.Report) bool {
	if len(b.Roots) != len(r.Roots) {
		return false
	}
	for i, root := range r.Roots {
		given := root
		if i < len(r.Origins) {
			given = r.Origins[i].Given
		}
		then := b.Roots[i]
		if i < len(b.given) {
			then = b.given[i]
		}
		if root != b.Roots[i] && given != then {
			return false
		}
	}
	return true
}

// quoteAll lists paths for a message, escaped and quoted.
func quoteAll(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = fmt.Sprintf("%q", p)
	}
	return strings.Join(q, ", ")
}

// ErrNestedRoots is a baseline refused for roots one of which lies in another: however it was
// taken, no baseline can be compared with those roots.
var ErrNestedRoots = errors.New("nested roots")

type nestedRootsError struct{ error }

func (e nestedRootsError) Unwrap() error        { return e.error }
func (e nestedRootsError) Is(target error) bool { return target == ErrNestedRoots }

// checkNotNested refuses roots one of which lies in another: an entry of the inner one is then
// in the walk of both, and the two reports' orders cannot be merged.
func checkNotNested(roots []string) error {
	for i, a := range roots {
		for j, b := range roots {
			if i != j && walk.Within(a, b) {
				return nestedRootsError{fmt.Errorf("%w: the root %q lies in the root %q: a baseline compares roots that do not hold one another", ErrBaseline, a, b)}
			}
		}
	}
	return nil
}

// ours is a finding of the audit, as the merge needs it.
type ours struct {
	i   int
	sev policy.Severity
	fp  string
}

// merge walks the baseline's findings beside the audit's.
type merge struct {
	b          *Baseline
	rd         *baselineReader
	r          *audit.Report
	base, ours sectioner
	// the baseline's next finding, where have is set
	have bool
	at   int
	key  orderKey
	fp   string
	dir  bool // the finding is of a directory
	// notRead are the paths the audit could not read, each true where it lies in a root, so
	// that nothing below it was read either.
	notRead map[string]bool
	// excluder is the audit's exclusions, compiled once a finding of the baseline needs them.
	excluder *policy.Excluder
}

// next reads the baseline's next finding.
func (m *merge) next() error {
	jf, i, ok, err := m.rd.next()
	if err != nil || !ok {
		m.have = false
		return err
	}
	f, err := m.b.finding(&jf, i)
	if err != nil {
		return err
	}
	m.have, m.at, m.dir = true, i, f.Entry.Type == walk.TypeDir
	m.key = m.base.key(f.Entry.Path)
	m.fp = (&audit.Report{Roots: m.b.Roots}).Fingerprint(&f)
	return nil
}

// resolved judges the baseline's finding at, whose place is k (a directory where dir is set),
// which the audit does not have: resolved, unless the audit did not look where it is: it could
// not read its path or a directory of a root that holds it, or an exclusion of the audit's
// leaves out its path or one of those directories. There the finding may well be still. Such a
// finding is neither resolved nor listed, as the audit cannot say: a SARIF consumer would close
// its alert ("absent"), monitoring would count it fixed.
func (m *merge) resolved(at int, k orderKey, dir bool) {
	if m.unread(k.in(m.r.Roots)) || m.excluded(k, dir) {
		m.b.matched.add(at) // not listed among the resolved
		return
	}
	m.b.Resolved++
}

// excluded says whether the audit's exclusions leave out the entry at k, a directory where dir
// is set, or a directory below its root on the way to it.
func (m *merge) excluded(k orderKey, dir bool) bool {
	if !k.inside || k.path == "" || len(m.r.Exclude) == 0 {
		return false
	}
	if m.excluder == nil {
		m.excluder = policy.NewExcluder(m.r.Exclude)
	}
	abs := k.in(m.r.Roots)
	if m.excluder.Excludes(k.path, abs, dir) {
		return true
	}
	for rel, p := filepath.Dir(k.path), filepath.Dir(abs); rel != "."; rel, p = filepath.Dir(rel), filepath.Dir(p) {
		if m.excluder.Excludes(rel, p, true) {
			return true
		}
	}
	return false
}

// unread says whether the audit could not read p: p itself, or a directory below a root that
// holds it (a directory on the way to a root that could not be examined is only itself unread:
// the root below it was walked). p's directories are looked up one by one among the paths not
// read, which the report holds already.
func (m *merge) unread(p string) bool {
	if len(m.r.Errors) == 0 {
		return false
	}
	if m.notRead == nil {
		m.notRead = make(map[string]bool, len(m.r.Errors))
		for i := range m.r.Errors {
			e := m.r.Errors[i].Path
			m.notRead[e] = m.notRead[e] || m.withinRoot(e)
		}
	}
	if _, ok := m.notRead[p]; ok {
		return true
	}
	for d := p; ; {
		parent := filepath.Dir(d)
		if parent == d {
			return false
		}
		if below, ok := m.notRead[parent]; ok && below {
			return true
		}
		d = parent
	}
}

func (m *merge) withinRoot(p string) bool {
	i, _ := audit.RootOf(p, m.r.Roots)
	return i >= 0
}

// settle judges group, the audit's findings of one path, whose place is key: the baseline's
// findings before it are resolved, those of the same path known where a fingerprint matches.
func (m *merge) settle(key orderKey, group []ours) error {
	for m.have && m.key.less(key) {
		m.resolved(m.at, m.key, m.dir)
		if err := m.next(); err != nil {
			return err
		}
	}
	var same map[string][]int
	sameDir := false // the baseline's entry at key is a directory
	for m.have && m.key == key {
		if same == nil {
			same = map[string][]int{}
		}
		same[m.fp] = append(same[m.fp], m.at)
		sameDir = m.dir
		if err := m.next(); err != nil {
			return err
		}
	}
	for _, o := range group {
		if at := same[o.fp]; len(at) > 0 {
			m.b.known.add(o.i)
			m.b.matched.add(at[0])
			same[o.fp] = at[1:]
			m.b.Known++
			continue
		}
		m.b.New++
		m.b.NewBySeverity[o.sev]++
	}
	for _, at := range same {
		for _, i := range at {
			m.resolved(i, key, sameDir)
		}
	}
	return nil
}

// orderKey places a finding in walk order: the root whose walk reports it, then whether it lies
// in that root, then its path: relative to the root where it does ("" for the root itself), so
// that the same entry has the same key in two reports whose root was given as one symlink that
// led to two releases; absolute for a directory on the way to the root, which the walk reports
// first, from / down.
type orderKey struct {
	root   int
	inside bool
	path   string
}

// less says whether k comes before o in walk order: by root, the root's ancestors before the root,
// then by path a component at a time, as the walk visits names in byte order and a directory's
// whole subtree before its next sibling ("a", "a/b", "a.txt").
func (k orderKey) less(o orderKey) bool {
	switch {
	case k.root != o.root:
		return k.root < o.root
	case k.inside != o.inside:
		return o.inside
	}
	return comparePaths(k.path, o.path) < 0
}

// in is the path of k's entry in the tree of roots.
func (k orderKey) in(roots []string) string {
	switch {
	case !k.inside:
		return k.path
	case k.path == "":
		return roots[k.root]
	}
	return filepath.Join(roots[k.root], k.path)
}

// comparePaths orders paths a component at a time: as bytes, with '/' before every other byte.
func comparePaths(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		switch {
		case ca == '/':
			return -1
		case cb == '/':
			return 1
		case ca < cb:
			return -1
		default:
			return 1
		}
	}
	return len(a) - len(b)
}

// sectioner tells which root's walk reported each of a report's findings, given in walk order:
// the first root, from the last one seen on, that the path lies in or above. Ancestors shared
// by roots are reported with the first of them.
type sectioner struct {
	roots []string
	at    int
}

func newSectioner(roots []string) sectioner { return sectioner{roots: roots} }

func (s *sectioner) key(p string) orderKey {
	for j := s.at; j < len(s.roots); j++ {
		if walk.Within(p, s.roots[j]) || walk.Within(s.roots[j], p) {
			s.at = j
			break
		}
	}
	root := s.roots[s.at]
	switch {
	case !walk.Within(p, root):
		return orderKey{root: s.at, path: p}
	case p == root:
		return orderKey{root: s.at, inside: true}
	case root == "/":
		return orderKey{root: s.at, inside: true, path: p[1:]}
	}
	return orderKey{root: s.at, inside: true, path: p[len(root)+1:]}
}

// finding turns the baseline's finding i into what a fingerprint is made of.
func (b *Baseline) finding(jf *jsonFinding, i int) (audit.Finding, error) {
	p := jf.Path
	if jf.PathBase64 != "" {
		raw, err := base64.StdEncoding.DecodeString(jf.PathBase64)
		if err != nil {
			return audit.Finding{}, b.findingFault(i, "path_base64: %v", err)
		}
		p = string(raw)
	}
	if jf.Rule == "" || p == "" || jf.Type == "" || jf.Mode == "" {
		return audit.Finding{}, b.findingFault(i, "rule, path, type and mode are all needed")
	}
	f := audit.Finding{Rule: jf.Rule, Severity: jf.Severity, Message: jf.Message}
	e := &f.Entry
	e.Path, e.LinkTarget, e.Label = p, jf.LinkTarget, jf.SELinux
	if jf.LinkTargetBase64 != "" {
		raw, err := base64.StdEncoding.DecodeString(jf.LinkTargetBase64)
		if err != nil {
			return audit.Finding{}, b.findingFault(i, "link_target_base64: %v", err)
		}
		e.LinkTarget = string(raw)
	}
	if jf.ACL != "" {
		acl, err := walk.ParseACLText(jf.ACL)
		if err != nil {
			return audit.Finding{}, b.findingFault(i, "%v", err)
		}
		e.ACL = acl
	}
	if err := e.Type.UnmarshalText([]byte(jf.Type)); err != nil {
		return audit.Finding{}, b.findingFault(i, "%v", err)
	}
	mode, err := policy.ParseOctalMode(jf.Mode)
	if err != nil {
		return audit.Finding{}, b.findingFault(i, "%v", err)
	}
	e.Mode = mode
	if jf.UID != nil && jf.GID != nil {
		e.UID, e.GID, e.OwnerKnown = *jf.UID, *jf.GID, true
	}
	return f, nil
}

// EachResolved calls fn with each finding of the baseline that the audit no longer has, as the
// baseline recorded it, in its order.
func (b *Baseline) EachResolved(fn func(f *audit.Finding) error) error {
	if b.Resolved == 0 {
		return nil
	}
	if _, err := b.f.Seek(0, io.SeekStart); err != nil {
		return b.fault(0, "%v", err)
	}
	rd, err := b.open()
	if err != nil {
		return err
	}
	for {
		jf, i, ok, err := rd.next()
		if err != nil || !ok {
			return err
		}
		if b.matched.has(i) {
			continue
		}
		f, err := b.finding(&jf, i)
		if err != nil {
			return err
		}
		if err := fn(&f); err != nil {
			return err
		}
	}
}

// fault is an error about the baseline at byte offset off, named by its line.
func (b *Baseline) fault(off int64, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if off > 0 {
		if line, ok := b.lineAt(off); ok {
			return fmt.Errorf("%w %s:%d: %s", ErrBaseline, b.File, line, msg)
		}
	}
	return fmt.Errorf("%w %s: %s", ErrBaseline, b.File, msg)
}

func (b *Baseline) findingFault(i int, format string, args ...any) error {
	return fmt.Errorf("%w %s: finding %d: %s", ErrBaseline, b.File, i+1, fmt.Sprintf(format, args...))
}

// lineAt counts the lines of the baseline's file up to byte off.
func (b *Baseline) lineAt(off int64) (int, bool) {
	if _, err := b.f.Seek(0, io.SeekStart); err != nil {
		return 0, false
	}
	line := 1
	buf := make([]byte, 64<<10)
	for off > 0 {
		n, err := b.f.Read(buf[:min(int64(len(buf)), off)])
		line += bytes.Count(buf[:n], []byte{'\n'})
		off -= int64(n)
		if err != nil {
			break
		}
	}
	return line, true
}

// CountedBySeverity counts the findings that decide an audit's outcome (its exit status, the
// nagios state, --quiet), by severity: every finding, or against a baseline only the new ones.
func CountedBySeverity(r *audit.Report, b *Baseline) (map[policy.Severity]int, error) {
	if b != nil {
		return b.NewBySeverity, nil
	}
	return r.CountBySeverity()
}

// State is what the audit's finding i is against the baseline: "new" or "known"; "" where b is
// nil, as every format writes it.
func (b *Baseline) State(i int) string {
	switch {
	case b == nil:
		return ""
	case b.IsKnown(i):
		return "known"
	}
	return "new"
}

// stateResolved is what a finding of the baseline the audit no longer has is.
const stateResolved = "resolved"

// eachResolved calls fn with each of the baseline's resolved findings and the report it is of:
// r's roots and accounts, so that it is named and fingerprinted as r's findings are.
func (b *Baseline) eachResolved(r *audit.Report, fn func(f *audit.Finding, base *audit.Report) error) error {
	if b == nil {
		return nil
	}
	base := &audit.Report{Roots: r.Roots, Accounts: r.Accounts}
	return b.EachResolved(func(f *audit.Finding) error { return fn(f, base) })
}

// eachResolvedJSON calls fn with each of the baseline's resolved findings and its record as the
// JSON report gives it, "baseline": "resolved".
func (b *Baseline) eachResolvedJSON(r *audit.Report, fn func(f *audit.Finding, jf jsonFinding) error) error {
	return b.eachResolved(r, func(f *audit.Finding, base *audit.Report) error {
		jf := newJSONFinding(f, base)
		jf.Baseline = stateResolved
		return fn(f, jf)
	})
}

// newJSONBaseline counts the findings against b as the JSON reports give it; nil where b is.
func newJSONBaseline(b *Baseline) *jsonBaseline {
	if b == nil {
		return nil
	}
	return &jsonBaseline{File: b.File, New: b.New, Known: b.Known, Resolved: b.Resolved}
}
