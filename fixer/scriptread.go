package fixer

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// IsScript reports whether data, a plan file's content, is meant as a sh plan rather than JSON,
// which never begins with "#".
func IsScript(data []byte) bool { return strings.HasPrefix(string(data), "#") }

const (
	scriptShebang = "#!/bin/sh\n"
	scriptEnd     = "#: end of plan"
)

var planIDForm = regexp.MustCompile(`^[0-9a-f]{32}$`)

// headerData are the data lines of the header, before set -eu; all others follow exit 2.
var headerData = map[string]bool{"plan": true, "web-user": true, "php-user": true, "root": true, "unread": true, "preset": true, "policy-file": true, "sysroot": true, "site-owner": true, "writable": true}

// ReadScript reads a sh plan WriteScript wrote, and perhaps a person then edited, from r, which
// name names in errors (name:LINE: message). It reads the data lines (#:) and the chown and chmod
// below each; other comments are for people and ignored. A reviewer may delete an entry's chown
// or chmod, or the whole entry, and change the owner or mode a line sets; any other line that is
// not a comment, a command not written exactly as WriteScript writes it, a chown or chmod of a
// path other than its entry's, and a plan cut short are refused, and then nothing is applied.
// The plan gets the checks ReadJSON's does, and its ID is the script's plan-id.
func ReadScript(name string, r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	text := string(data)
	if !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("%s: ends before the plan does: the file is empty or cut short", name)
	}
	sr := scriptReader{p: &Plan{}}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if err := sr.read(i+1, line); err != nil {
			var le *lineError
			if errors.As(err, &le) {
				return nil, fmt.Errorf("%s:%d: %w", name, le.line, le.err)
			}
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
	}
	if !sr.ended {
		return nil, fmt.Errorf("%s: ends before the plan does: no %q line, so the file is cut short", name, scriptEnd)
	}
	return sr.p, nil
}

// lineError is an error on an earlier line than the one being read: an entry is judged whole
// once its chown and chmod are read.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }

// The parts of a sh plan, in the order they come.
const (
	partHeader = iota // comments and the header's data lines, up to set -eu
	partNL            // the commands WriteScript writes after set -eu, one by one
	partWebperm
	partExec
	partExit
	partBody // sections, entries, manual entries, the end
)

// scriptReader reads a sh plan line by line.
type scriptReader struct {
	p       *Plan
	pc      planChecker
	part    int
	planned bool // the "#: plan" line is read
	ended   bool
	// The section being read: the root its entries are in, or above.
	root     string
	ancestor bool
	inRoot   bool // a section has begun
	entry    *scriptEntry
	manual   *Manual // the manual entry whose findings are being read, until its why
}

// scriptEntry is an entry being read: its data line, and the commands read so far.
type scriptEntry struct {
	line         int
	action       Action
	chown, chmod int    // the lines of its chown and chmod; 0: none
	mode         string // the chmod's mode as written
}

func (sr *scriptReader) read(n int, line string) error {
	if sr.ended {
		return fmt.Errorf("a line after %q: the plan ends there", scriptEnd)
	}
	if escape(line) != line {
		return fmt.Errorf("%s: a control character or bytes that are not UTF-8: a plan is visible text, each name in it written as webperm writes it", escape(line))
	}
	if n == 1 {
		if line+"\n" != scriptShebang {
			return fmt.Errorf("the first line is %q: a sh plan begins %q", line, strings.TrimSuffix(scriptShebang, "\n"))
		}
		return nil
	}
	if sr.part != partHeader && sr.part != partBody {
		return sr.command(line)
	}
	switch {
	case strings.HasPrefix(line, "#:"):
		rest, ok := strings.CutPrefix(line, "#: ")
		if !ok {
			return fmt.Errorf("%q: a data line begins \"#: \"", line)
		}
		return sr.data(n, rest)
	case line == "" || strings.HasPrefix(line, "#"):
		return nil
	case sr.part == partHeader && line == "set -eu":
		if !sr.planned {
			return errors.New("set -eu before the \"#: plan\" line: the header must give the plan's webperm, time and policy")
		}
		sr.part = partNL
		return nil
	case sr.part == partBody && strings.HasPrefix(line, "chown "):
		return sr.chown(n, line)
	case sr.part == partBody && strings.HasPrefix(line, "chmod "):
		return sr.chmod(n, line)
	}
	return fmt.Errorf("%s: not a line webperm writes: a plan holds comments, #: data lines, and the chown and chmod of each entry", escape(line))
}

// command reads the header's commands after set -eu, each exactly as WriteScript writes it.
func (sr *scriptReader) command(line string) error {
	switch sr.part {
	case partNL:
		if line != nlDefinition {
			return fmt.Errorf("%s: want %s", escape(line), nlDefinition)
		}
	case partWebperm:
		rest, ok := strings.CutPrefix(line, "webperm=${WEBPERM:-")
		if !ok {
			return fmt.Errorf("%s: want %s", escape(line), fmt.Sprintf(scriptWebpermVar, "'/path/to/webperm'"))
		}
		path, rest, err := readShellWord(rest)
		if err != nil {
			return err
		}
		if rest != "}" || path == "" {
			return fmt.Errorf("%s: want the path of webperm, then }", escape(line))
		}
		sr.p.Webperm = path
	case partExec:
		before, after, _ := strings.Cut(scriptExec, "%s")
		id, ok := strings.CutPrefix(line, before)
		if ok {
			id, ok = strings.CutSuffix(id, after)
		}
		if !ok || !planIDForm.MatchString(id) {
			return fmt.Errorf("%s: want %s, with the plan-id in 32 hex digits", escape(line), fmt.Sprintf(scriptExec, "ID"))
		}
		sr.p.ID = id
	case partExit:
		if line != "exit 2" {
			return fmt.Errorf("%s: want exit 2", escape(line))
		}
	}
	sr.part++
	return nil
}

// data reads a data line, rest being what follows "#: ".
func (sr *scriptReader) data(n int, rest string) error {
	f := fields{rest}
	kw, err := f.token()
	if err != nil {
		return err
	}
	if headerData[kw] != (sr.part == partHeader) {
		if sr.part == partHeader {
			return fmt.Errorf("#: %s before the end of the header (exit 2)", kw)
		}
		return fmt.Errorf("#: %s belongs in the header, before set -eu", kw)
	}
	if kw != "finding" && kw != "why" && sr.manual != nil {
		return fmt.Errorf("the manual entry for %s ends without its \"#: why\" line", escape(sr.manual.Path))
	}
	if headerData[kw] {
		return sr.headerData(kw, &f)
	}
	if err := sr.endEntry(); err != nil {
		return err
	}
	switch kw {
	case "in", "above":
		return sr.section(kw == "above", &f)
	case "manual":
		return sr.manualEntry(&f)
	case "finding", "why":
		return sr.manualLine(kw, &f)
	case "end":
		if rest != scriptEnd[len("#: "):] {
			return fmt.Errorf("#: %s: want %q", rest, scriptEnd)
		}
		sr.ended = true
		return nil
	}
	var typ walk.Type
	if typ.UnmarshalText([]byte(kw)) != nil {
		return fmt.Errorf("#: %s: not a data line webperm writes", kw)
	}
	return sr.newEntry(n, typ, &f)
}

// headerData reads one of the header's data lines.
func (sr *scriptReader) headerData(kw string, f *fields) error {
	p := sr.p
	switch kw {
	case "plan":
		if sr.planned {
			return errors.New("a second \"#: plan\" line")
		}
		sr.planned = true
		var created string
		var err error
		if p.Version, err = f.word(); err != nil {
			return err
		}
		if created, err = f.token(); err != nil {
			return err
		}
		if p.Created, err = time.Parse(time.RFC3339, created); err != nil || p.Created.UTC().Format(time.RFC3339) != created {
			return fmt.Errorf("time %q: want one in UTC, such as 2026-11-21T10:00:00Z", created)
		}
		if p.Policy, err = f.word(); err != nil {
			return err
		}
	case "web-user", "php-user":
		who := &p.WebUser
		if kw == "php-user" {
			who = &p.PHPUser
		}
		if *who != nil {
			return fmt.Errorf("a second \"#: %s\" line", kw)
		}
		u, err := f.webUser()
		if err != nil {
			return err
		}
		*who = u
	case "root":
		path, err := f.word()
		if err != nil {
			return err
		}
		dev, ino, err := f.pair(64)
		if err != nil {
			return err
		}
		if err := sr.pc.root(path); err != nil {
			return fmt.Errorf("root %w", err)
		}
		p.Roots = append(p.Roots, Root{Path: path, Dev: dev, Ino: ino})
	case "unread":
		path, err := f.word()
		if err != nil {
			return err
		}
		p.Unread = append(p.Unread, path)
	case "preset":
		var rp audit.RootPreset
		var err error
		if rp.Root, err = f.word(); err != nil {
			return err
		}
		if rp.Preset, err = f.word(); err != nil {
			return err
		}
		if err := sr.pc.preset(&p.Settings, rp); err != nil {
			return err
		}
	case "writable":
		g, err := f.word()
		if err != nil {
			return err
		}
		if _, err := policy.WritableRules([]string{g}); err != nil {
			return err
		}
		p.Settings.Writable = append(p.Settings.Writable, g)
	case "site-owner":
		if p.Settings.SiteOwner != nil {
			return errors.New("a second \"#: site-owner\" line")
		}
		tok, err := f.token()
		if err != nil {
			return err
		}
		uid, err := strconv.ParseUint(tok, 10, 32)
		if err != nil || strconv.FormatUint(uid, 10) != tok {
			return fmt.Errorf("site-owner %q: want a uid", tok)
		}
		id := uint32(uid)
		p.Settings.SiteOwner = &id
	case "policy-file", "sysroot":
		out := &p.Settings.PolicyFile
		if kw == "sysroot" {
			out = &p.Settings.SysRoot
		}
		path, err := f.word()
		if err != nil {
			return err
		}
		if *out != "" {
			return fmt.Errorf("a second \"#: %s\" line", kw)
		}
		if err := checkPath(kw, path); err != nil {
			return err
		}
		*out = path
	}
	return f.end()
}

func (sr *scriptReader) section(ancestor bool, f *fields) error {
	root, err := f.word()
	if err != nil {
		return err
	}
	if !sr.pc.roots[root] {
		return fmt.Errorf("root %s is not among the plan's roots (its \"#: root\" lines)", escape(root))
	}
	sr.root, sr.ancestor, sr.inRoot = root, ancestor, true
	return f.end()
}

// newEntry reads an entry's data line: TYPE PATH DEV:INO MODE UID:GID RULES.
func (sr *scriptReader) newEntry(n int, typ walk.Type, f *fields) error {
	if !sr.inRoot {
		return errors.New("an entry before the first \"#: in\" or \"#: above\" line, which names its root")
	}
	a := Action{Root: sr.root, Ancestor: sr.ancestor, Type: typ}
	var err error
	if a.Path, err = f.word(); err != nil {
		return err
	}
	if a.Dev, a.Ino, err = f.pair(64); err != nil {
		return err
	}
	mode, err := f.token()
	if err != nil {
		return err
	}
	uid, gid, err := f.pair(32)
	if err != nil {
		return err
	}
	if a.Current, err = (jsonState{Mode: mode, UID: uint32(uid), GID: uint32(gid)}).state(); err != nil {
		return err
	}
	rules, err := f.token()
	if err != nil {
		return err
	}
	if rules != "-" {
		for _, r := range strings.Split(rules, ",") {
			a.Rules = append(a.Rules, policy.RuleID(r))
		}
	}
	a.Target = a.Current
	sr.entry = &scriptEntry{line: n, action: a}
	return f.end()
}

// endEntry judges the entry read last, if any, whole: an entry whose chown and chmod were both
// deleted is no action.
func (sr *scriptReader) endEntry() error {
	e := sr.entry
	sr.entry = nil
	if e == nil || (e.chown == 0 && e.chmod == 0) {
		return nil
	}
	a := &e.action
	err := sr.pc.action(a)
	switch {
	case err != nil:
	case e.chown != 0 && !a.Chown():
		err = &lineError{e.chown, fmt.Errorf("the chown gives the owner and group %d:%d the entry has: delete the line", a.Target.UID, a.Target.GID)}
	case e.chmod != 0 && !a.Chmod():
		err = &lineError{e.chmod, fmt.Errorf("the chmod gives the mode %s the entry has: delete the line", e.mode)}
	case e.chmod == 0 && a.Chmod():
		err = fmt.Errorf("the chown clears the entry's set-id bits (mode %s): keep a chmod after it, to %s or to a mode without them", policy.OctalMode(a.Current.Mode), policy.OctalMode(a.Current.Mode))
	case e.chmod != 0 && e.mode != chmodMode(a):
		err = &lineError{e.chmod, fmt.Errorf("chmod %s: write %s (GNU chmod clears a directory's setuid and setgid bits only for a mode of five digits)", e.mode, chmodMode(a))}
	}
	if err == nil {
		sr.p.Actions = append(sr.p.Actions, *a)
		return nil
	}
	var le *lineError
	if errors.As(err, &le) {
		return le
	}
	return &lineError{e.line, fmt.Errorf("the entry for %s: %w", escape(a.Path), err)}
}

// commandEntry returns the entry a chown or chmod on line n of path belongs to.
func (sr *scriptReader) commandEntry(cmd, path string) (*scriptEntry, error) {
	e := sr.entry
	switch {
	case e == nil:
		return nil, fmt.Errorf("a %s with no entry: each chown and chmod follows the \"#:\" line of its entry", cmd)
	case path != e.action.Path:
		return nil, fmt.Errorf("%s of %s under the entry for %s (line %d): a chown or chmod changes its own entry's path alone", cmd, escape(path), escape(e.action.Path), e.line)
	case e.chmod != 0:
		return nil, fmt.Errorf("a %s after the entry's chmod (line %d): an entry has one chown, then one chmod, at most", cmd, e.chmod)
	case cmd == "chown" && e.chown != 0:
		return nil, fmt.Errorf("a second chown for the entry (line %d)", e.chown)
	}
	return e, nil
}

// chown reads chown -h -- 'UID:GID' PATH, perhaps with a comment.
func (sr *scriptReader) chown(n int, line string) error {
	ids, rest, ok := strings.Cut(strings.TrimPrefix(line, "chown -h -- '"), "' ")
	if !ok || !strings.HasPrefix(line, "chown -h -- '") {
		return fmt.Errorf("%s: want chown -h -- 'UID:GID' PATH", escape(line))
	}
	uid, gid, err := (&fields{ids}).pair(32)
	if err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	path, err := commandPath(rest)
	if err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	e, err := sr.commandEntry("chown", path)
	if err != nil {
		return err
	}
	e.chown = n
	e.action.Target.UID, e.action.Target.GID = uint32(uid), uint32(gid)
	return nil
}

// chmod reads chmod -- MODE PATH, perhaps with a comment.
func (sr *scriptReader) chmod(n int, line string) error {
	mode, rest, ok := strings.Cut(strings.TrimPrefix(line, "chmod -- "), " ")
	if !ok || !strings.HasPrefix(line, "chmod -- ") {
		return fmt.Errorf("%s: want chmod -- MODE PATH", escape(line))
	}
	four := mode
	if len(mode) == 5 && mode[0] == '0' {
		four = mode[1:]
	}
	st, err := (jsonState{Mode: four}).state()
	if err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	path, err := commandPath(rest)
	if err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	e, err := sr.commandEntry("chmod", path)
	if err != nil {
		return err
	}
	e.chmod, e.mode = n, mode
	e.action.Target.Mode = st.Mode
	return nil
}

// commandPath reads the path that ends a chown or chmod, and the comment that may follow it.
func commandPath(s string) (string, error) {
	path, rest, err := readShellWord(s)
	if err != nil {
		return "", err
	}
	if rest != "" && !strings.HasPrefix(rest, " #") {
		return "", fmt.Errorf("%s after the path: only a comment (\" # ...\") may follow it", escape(rest))
	}
	return path, nil
}

// manualEntry reads #: manual TYPE PATH.
func (sr *scriptReader) manualEntry(f *fields) error {
	name, err := f.token()
	if err != nil {
		return err
	}
	var m Manual
	if err := m.Type.UnmarshalText([]byte(name)); err != nil {
		return fmt.Errorf("unknown type %q", name)
	}
	if m.Path, err = f.word(); err != nil {
		return err
	}
	sr.p.Manual = append(sr.p.Manual, m)
	sr.manual = &sr.p.Manual[len(sr.p.Manual)-1]
	return f.end()
}

// manualLine reads a manual entry's #: finding RULE SEVERITY MESSAGE, or its #: why REASON.
func (sr *scriptReader) manualLine(kw string, f *fields) error {
	m := sr.manual
	if m == nil {
		return fmt.Errorf("#: %s outside a manual entry: it follows \"#: manual\"", kw)
	}
	if kw == "why" {
		reason, err := f.word()
		if err != nil {
			return err
		}
		m.Reason, sr.manual = reason, nil
		return f.end()
	}
	rule, err := f.token()
	if err != nil {
		return err
	}
	if _, ok := policy.Lookup(policy.RuleID(rule)); !ok {
		return fmt.Errorf("unknown rule %q", rule)
	}
	sev, err := f.token()
	if err != nil {
		return err
	}
	fd := audit.Finding{Rule: policy.RuleID(rule), Entry: walk.Entry{Path: m.Path, Type: m.Type}}
	if err := fd.Severity.UnmarshalText([]byte(sev)); err != nil {
		return err
	}
	if fd.Message, err = f.word(); err != nil {
		return err
	}
	m.Findings = append(m.Findings, fd)
	return f.end()
}

// fields reads a data line's fields, each followed by one space or the end of the line.
type fields struct{ s string }

// next ends a field: what follows it must be one space and another field, or nothing.
func (f *fields) next(rest string) error {
	if rest == "" {
		f.s = ""
		return nil
	}
	after, ok := strings.CutPrefix(rest, " ")
	if !ok || after == "" || after[0] == ' ' {
		return fmt.Errorf("%q: fields are separated by one space", rest)
	}
	f.s = after
	return nil
}

// token reads a field that is not quoted: a name, a number, a mode.
func (f *fields) token() (string, error) {
	if f.s == "" {
		return "", errors.New("the line ends before its last field")
	}
	tok, rest := f.s, ""
	if i := strings.IndexByte(f.s, ' '); i >= 0 {
		tok, rest = f.s[:i], f.s[i:]
	}
	if tok == "" || escape(tok) != tok || strings.ContainsAny(tok, `'"\$`) {
		return "", fmt.Errorf("%s: a field that is not a path or text has no quotes, escapes or control characters", escape(tok))
	}
	return tok, f.next(rest)
}

// word reads a field that is a path or text: one sh word, as shellWord writes it.
func (f *fields) word() (string, error) {
	if f.s == "" {
		return "", errors.New("the line ends before its last field")
	}
	w, rest, err := readShellWord(f.s)
	if err != nil {
		return "", err
	}
	return w, f.next(rest)
}

// pair reads two numbers of bits bits joined by a colon: DEV:INO, UID:GID.
func (f *fields) pair(bits int) (uint64, uint64, error) {
	tok, err := f.token()
	if err != nil {
		return 0, 0, err
	}
	a, b, ok := strings.Cut(tok, ":")
	x, errA := number(a, bits)
	y, errB := number(b, bits)
	if !ok || errA != nil || errB != nil {
		return 0, 0, fmt.Errorf("%q: want two numbers joined by a colon, such as 1000:33", tok)
	}
	return x, y, nil
}

// webUser reads NAME UID GID GROUPS SOURCE EVIDENCE.
func (f *fields) webUser() (*access.WebUser, error) {
	u := &access.WebUser{}
	var err error
	if u.Name, err = f.word(); err != nil {
		return nil, err
	}
	for _, id := range []*uint32{&u.UID, &u.GID} {
		tok, err := f.token()
		if err != nil {
			return nil, err
		}
		v, err := number(tok, 32)
		if err != nil {
			return nil, err
		}
		*id = uint32(v)
	}
	groups, err := f.token()
	if err != nil {
		return nil, err
	}
	if groups != "-" {
		for _, g := range strings.Split(groups, ",") {
			v, err := number(g, 32)
			if err != nil {
				return nil, err
			}
			u.Groups = append(u.Groups, uint32(v))
		}
	}
	if u.Source, err = f.word(); err != nil {
		return nil, err
	}
	if u.Evidence, err = f.word(); err != nil {
		return nil, err
	}
	return u, f.end()
}

// end checks that the line has no field left.
func (f *fields) end() error {
	if f.s != "" {
		return fmt.Errorf("%s: more fields than the line has", escape(f.s))
	}
	return nil
}

// number reads a decimal number as webperm writes it: digits alone, no leading zero.
func number(s string, bits int) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, bits)
	if err != nil || strconv.FormatUint(v, 10) != s {
		return 0, fmt.Errorf("%q: want a number below 2^%d, in decimal digits", s, bits)
	}
	return v, nil
}
