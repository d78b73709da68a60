package fixer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/safefile"
	"github.com/webperm/webperm/policy"
)

// The journal is what undo works from: JSON lines, a header first, then one entry per change,
// each written and fsync'd before the change is made, and after it a done line, written and
// fsync'd once the change is made, with the inode's change and modification times as the change
// left them. A crash therefore leaves at worst one entry whose change was never made, or was half
// made, or was made but not marked done, and undo recognises all three. The done line is what lets
// undo give a set-id bit or capabilities back: only to a file nobody wrote or changed since.

// JournalSchema names the journal format webperm writes, in its header line. Fields are never
// added to a schema: a reader refuses every field it does not know, so that an older webperm
// meets a journal it cannot read in full with a clear "schema" refusal, never an unknown field.
const JournalSchema = "webperm/journal/v3"

// journalSchemaV1 is the journal of webperm before done lines, still read and undone: it records
// no file's times after the fix, so undo gives none of its files a set-id bit back.
const journalSchemaV1 = "webperm/journal/v1"

// journalSchemaV2 is the journal of webperm before it kept access ACLs (acl_base64), still read
// and undone as it is: its entries hold none.
const journalSchemaV2 = "webperm/journal/v2"

// JournalHeader is a journal's first line.
type JournalHeader struct {
	// Schema is the schema the journal was read with; CreateJournal writes JournalSchema whatever
	// it holds.
	Schema  string
	Version string // webperm's, that wrote the journal
	Created time.Time
	Roots   []Root // as the audit saw them: undo opens nothing below a root that is not still it
}

// JournalEntry is one change as the journal records it.
type JournalEntry struct {
	Path, Root string
	Ancestor   bool
	Type       walk.Type
	Dev, Ino   uint64
	Old, New   State
	// Capability is a regular file's security.capability before a change that chowns it, which
	// clears it; nil where the change chowns nothing, or the file had none.
	Capability []byte
	// ACL is a file's or directory's extended access ACL (system.posix_acl_access) before a
	// change that chmods it, which rewrites the ACL's mask; nil where the change chmods nothing,
	// or the entry had none.
	ACL []byte
	// Done is how the change left the inode, from the line apply writes once the change is made;
	// nil where there is none: a webperm/journal/v1 journal, or a change a crash or a failure
	// left unconfirmed.
	Done *Done
	Line int // its line in the file, for messages; 0 for an entry not read from one
}

// Done is what fstat said of an inode right after apply changed it, through the descriptor it
// changed it by. Any later write changes its modification and change times, and any chmod,
// chown or change of its attributes its change time.
type Done struct {
	Dev, Ino     uint64
	Ctime, Mtime time.Time
}

// Journal records changes as they are made. It is not safe for concurrent use.
type Journal struct {
	f     *os.File
	name  string
	roots map[string]Root
	lines int // lines written
	// pending is the line of the entry last recorded, until its change is marked done; 0: none.
	pending int
	// err is the first write that failed. Nothing is written after it: a half-written line can
	// then only be the last, which a reader recognises as a crash's.
	err error
}

type journalHeaderJSON struct {
	Schema  string            `json:"schema"`
	Version string            `json:"version"`
	Created string            `json:"created"`
	Roots   []journalRootJSON `json:"roots"`
}

type journalRootJSON struct {
	Path       string `json:"path"`
	PathBase64 string `json:"path_base64,omitempty"`
	Dev        uint64 `json:"dev"`
	Ino        uint64 `json:"ino"`
}

type journalEntryJSON struct {
	Path       string    `json:"path"`
	PathBase64 string    `json:"path_base64,omitempty"`
	Root       string    `json:"root"`
	RootBase64 string    `json:"root_base64,omitempty"`
	Ancestor   bool      `json:"ancestor"`
	Type       string    `json:"type"`
	Dev        uint64    `json:"dev"`
	Ino        uint64    `json:"ino"`
	Old        jsonState `json:"old"`
	New        jsonState `json:"new"`
	// CapabilityBase64 is the exact bytes of Capability, a binary vfs_cap_data.
	CapabilityBase64 string `json:"capability_base64,omitempty"`
	// ACLBase64 is the exact bytes of ACL, as system.posix_acl_access holds them.
	ACLBase64 string `json:"acl_base64,omitempty"`
}

// journalDoneJSON is a done line: Done names the line of the entry it confirms, the line before.
type journalDoneJSON struct {
	Done  int    `json:"done"`
	Dev   uint64 `json:"dev"`
	Ino   uint64 `json:"ino"`
	Ctime string `json:"ctime"`
	Mtime string `json:"mtime"`
}

// doneTime is how a done line writes a time: UTC, to the nanosecond, every digit written.
const doneTime = "2006-01-02T15:04:05.000000000Z07:00"

// CreateJournal creates a new journal at path, never replacing a file or following a symlink
// there, and makes its header line durable before it returns.
func CreateJournal(path string, h JournalHeader) (*Journal, error) {
	roots, err := headerRoots(h.Roots)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %v", path, err)
	}
	line, err := marshalHeader(h)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %v", path, err)
	}
	// Made durable, mode 0600 whatever the umask, never over a file or through a symlink, and
	// as root only where no one else can change it.
	f, err := safefile.CreateNew(path, safefile.PrivateMode)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("journal %s already exists: webperm never writes over a journal, so name a new one", path)
		}
		return nil, fmt.Errorf("cannot create journal %s: %v", path, unwrapPathError(err))
	}
	j := &Journal{f: f, name: path, roots: roots}
	if err := j.write(line); err != nil {
		// The file is new and webperm's, in a directory no one else can change: a journal
		// without its header is no journal, and is not left behind to be mistaken for one.
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return j, nil
}

// unwrapPathError drops the operation and path an *fs.PathError repeats, where the message names
// the path already.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Close closes the journal's file. Every entry is already durable.
func (j *Journal) Close() error {
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	if err != nil {
		return fmt.Errorf("cannot close journal %s: %v", j.name, unwrapPathError(err))
	}
	return nil
}

// record appends e and makes it durable. An entry undo would refuse to read is never written.
func (j *Journal) record(e JournalEntry) error {
	if err := j.writable(); err != nil {
		return err
	}
	if err := checkEntry(e, j.roots); err != nil {
		return fmt.Errorf("cannot record the change in journal %s: %v", j.name, err)
	}
	line, err := marshalEntry(e)
	if err != nil {
		return fmt.Errorf("cannot record the change in journal %s: %v", j.name, err)
	}
	j.pending = 0
	if err := j.write(line); err != nil {
		return err
	}
	j.pending = j.lines
	return nil
}

// done marks the change of the entry last recorded as made, and d as how it left the inode, and
// makes that durable.
func (j *Journal) done(d Done) error {
	if err := j.writable(); err != nil {
		return err
	}
	if j.pending == 0 {
		return fmt.Errorf("journal %s has no change waiting to be marked done", j.name)
	}
	line, err := marshalDone(j.pending, d)
	if err != nil {
		return fmt.Errorf("cannot mark the change done in journal %s: %v", j.name, err)
	}
	j.pending = 0
	return j.write(line)
}

// writable says why nothing more can be written, if so: the journal is closed, or a write failed.
func (j *Journal) writable() error {
	if j.err != nil {
		return j.err
	}
	if j.f == nil {
		return fmt.Errorf("journal %s is closed", j.name)
	}
	return nil
}

// write appends one whole line with a single write, then fsyncs it.
func (j *Journal) write(line []byte) error {
	if _, err := j.f.Write(line); err != nil {
		j.err = fmt.Errorf("cannot write to journal %s: %v", j.name, unwrapPathError(err))
		return j.err
	}
	if err := j.f.Sync(); err != nil {
		j.err = fmt.Errorf("cannot write to journal %s: %v", j.name, unwrapPathError(err))
		return j.err
	}
	j.lines++
	return nil
}

func marshalHeader(h JournalHeader) ([]byte, error) {
	jh := journalHeaderJSON{
		Schema:  JournalSchema,
		Version: h.Version,
		Created: h.Created.Format(time.RFC3339Nano),
		Roots:   make([]journalRootJSON, 0, len(h.Roots)),
	}
	for _, r := range h.Roots {
		jr := journalRootJSON{Dev: r.Dev, Ino: r.Ino}
		jr.Path, jr.PathBase64 = encodePath(r.Path)
		jh.Roots = append(jh.Roots, jr)
	}
	return marshalLine(jh)
}

func marshalEntry(e JournalEntry) ([]byte, error) {
	je := journalEntryJSON{
		Ancestor: e.Ancestor,
		Type:     e.Type.String(),
		Dev:      e.Dev,
		Ino:      e.Ino,
		Old:      newJSONState(e.Old, nil),
		New:      newJSONState(e.New, nil),
	}
	je.Path, je.PathBase64 = encodePath(e.Path)
	je.Root, je.RootBase64 = encodePath(e.Root)
	if e.Capability != nil {
		je.CapabilityBase64 = base64.StdEncoding.EncodeToString(e.Capability)
	}
	if e.ACL != nil {
		je.ACLBase64 = base64.StdEncoding.EncodeToString(e.ACL)
	}
	return marshalLine(je)
}

// marshalDone writes the done line of the entry on line entry.
func marshalDone(entry int, d Done) ([]byte, error) {
	return marshalLine(journalDoneJSON{
		Done:  entry,
		Dev:   d.Dev,
		Ino:   d.Ino,
		Ctime: d.Ctime.UTC().Format(doneTime),
		Mtime: d.Mtime.UTC().Format(doneTime),
	})
}

// marshalLine writes v as one line: encoding/json escapes every newline within a string.
func marshalLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// headerRoots checks a header's roots and indexes them by path.
func headerRoots(roots []Root) (map[string]Root, error) {
	m := make(map[string]Root, len(roots))
	for _, r := range roots {
		if err := checkPath("root", r.Path); err != nil {
			return nil, err
		}
		if _, dup := m[r.Path]; dup {
			return nil, fmt.Errorf("root %q is listed twice", r.Path)
		}
		m[r.Path] = r
	}
	return m, nil
}

// checkPath holds a path from a journal or a plan to what apply writes: absolute and clean, so that it
// names one place and holds no "..".
func checkPath(field, p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%s is empty: want an absolute path", field)
	case strings.ContainsRune(p, 0):
		return fmt.Errorf("%s %q holds a NUL byte, which no path can", field, p)
	case !filepath.IsAbs(p):
		return fmt.Errorf("%s %q is relative: want an absolute path", field, p)
	case filepath.Clean(p) != p:
		return fmt.Errorf("%s %q is not clean: want %q", field, p, filepath.Clean(p))
	}
	return nil
}

// checkPlace holds where a plan's action or a journal's entry says it is to what apply writes:
// a file or directory at a clean absolute path, its root or below it or, marked ancestor, a
// directory above its root. root is already known to be clean.
func checkPlace(path, root string, ancestor bool, typ walk.Type) error {
	if err := checkPath("path", path); err != nil {
		return err
	}
	if typ != walk.TypeFile && typ != walk.TypeDir {
		return fmt.Errorf("type %q: webperm changes only files and directories", typeName(typ))
	}
	if ancestor {
		if !properAncestor(path, root) {
			return fmt.Errorf("ancestor %q does not lie above its root %q", path, root)
		}
		if typ != walk.TypeDir {
			return fmt.Errorf("ancestor %q is a %s: an ancestor is a directory", path, typ)
		}
	} else if _, ok := relBeneath(root, path); !ok {
		return fmt.Errorf("path %q is neither its root %q nor below it, and not marked \"ancestor\"", path, root)
	}
	return nil
}

// checkEntry holds an entry to what apply writes. Undo changes only what passes it.
func checkEntry(e JournalEntry, roots map[string]Root) error {
	if err := checkPath("root", e.Root); err != nil {
		return err
	}
	if _, ok := roots[e.Root]; !ok {
		return fmt.Errorf("root %q is not among the roots in the journal's header", e.Root)
	}
	if err := checkPlace(e.Path, e.Root, e.Ancestor, e.Type); err != nil {
		return err
	}
	for _, s := range []struct {
		field string
		m     State
	}{{"old", e.Old}, {"new", e.New}} {
		if s.m.Mode&^policy.ModeBits != 0 {
			return fmt.Errorf("%s: mode %v has bits other than permissions, setuid, setgid and sticky", s.field, s.m.Mode)
		}
	}
	if e.Old == e.New {
		return errors.New("old and new are the same state: a journal records only changes")
	}
	if e.Capability != nil {
		if e.Type != walk.TypeFile || (e.Old.UID == e.New.UID && e.Old.GID == e.New.GID) {
			return errors.New("capability_base64: a journal records capabilities only where a change chowns a regular file, which clears them")
		}
		if _, err := walk.ParseCapabilities(e.Capability); err != nil {
			return fmt.Errorf("capability_base64: %v", err)
		}
	}
	if e.ACL != nil {
		if (e.Type != walk.TypeFile && e.Type != walk.TypeDir) || e.Old.Mode == e.New.Mode {
			return errors.New("acl_base64: a journal records an access ACL only where a change chmods a file or directory, which rewrites its mask")
		}
		if err := checkAccessACL(e.ACL, e.Old.Mode); err != nil {
			return fmt.Errorf("acl_base64: %v", err)
		}
	}
	return nil
}

// ReadJournal reads a whole journal and checks every line; name is the file's name for
// messages, which take the form "name:line: message". It accepts nothing that apply would not
// have written, so that undo, which reads the whole journal before it changes anything, never
// acts on a damaged or edited one.
func ReadJournal(name string, r io.Reader) (JournalHeader, []JournalEntry, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return JournalHeader{}, nil, fmt.Errorf("cannot read journal %s: %v", name, unwrapPathError(err))
	}
	at := func(line int, err error) error { return fmt.Errorf("%s:%d: %v", name, line, err) }
	if len(data) == 0 {
		return JournalHeader{}, nil, at(1, errors.New("the journal is empty: webperm stopped before it wrote the header, so before it changed anything"))
	}
	var (
		h       JournalHeader
		roots   map[string]Root
		entries []JournalEntry
	)
	for n := 1; len(data) > 0; n++ {
		line, rest, complete := bytes.Cut(data, []byte("\n"))
		data = rest
		if !complete {
			// Apply writes each line, newline included, with one write before it changes
			// anything, so a line without its newline is a crash's: its change was never made.
			// A done line is written after its change, which was made.
			switch {
			case n == 1:
				return JournalHeader{}, nil, at(n, errors.New("the header is cut short, as a crash while writing it leaves: webperm changed nothing, so there is nothing to undo"))
			case bytes.HasPrefix(line, []byte(`{"done":`)):
				return JournalHeader{}, nil, at(n, errors.New("the line is cut short, as a crash while writing it leaves: it marks the change on the line before done, which was made, so delete the line and undo again; undo then gives that file no set-id bit or capability back"))
			}
			return JournalHeader{}, nil, at(n, errors.New("the line is cut short, as a crash while writing it leaves: its change was never made, so delete the line and undo again"))
		}
		if n == 1 {
			h, roots, err = parseHeader(line)
			if err != nil {
				return JournalHeader{}, nil, at(n, err)
			}
			continue
		}
		if isDoneLine(line) {
			if err := parseDone(line, n, h.Schema, entries); err != nil {
				return JournalHeader{}, nil, at(n, err)
			}
			continue
		}
		e, err := parseEntry(line, roots, h.Schema)
		if err != nil {
			return JournalHeader{}, nil, at(n, err)
		}
		e.Line = n
		entries = append(entries, e)
	}
	return h, entries, nil
}

func parseHeader(line []byte) (JournalHeader, map[string]Root, error) {
	// The schema first: a line that is no journal header deserves to be told so, not a list of
	// the fields it should not have.
	if err := checkShape(line, nil); err != nil {
		return JournalHeader{}, nil, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(line, &probe); err != nil {
		return JournalHeader{}, nil, jsonProblem(err)
	}
	raw, ok := probe["schema"]
	if !ok {
		return JournalHeader{}, nil, errors.New("not a webperm journal: its first line has no \"schema\"")
	}
	var schema string
	if err := json.Unmarshal(raw, &schema); err != nil {
		return JournalHeader{}, nil, errors.New("not a webperm journal: its \"schema\" is not a string")
	}
	if schema != JournalSchema && schema != journalSchemaV2 && schema != journalSchemaV1 {
		if strings.HasPrefix(schema, "webperm/journal/") {
			return JournalHeader{}, nil, fmt.Errorf("schema %q: this webperm reads only %s, %s and %s, so undo with the webperm that wrote the journal", schema, journalSchemaV1, journalSchemaV2, JournalSchema)
		}
		return JournalHeader{}, nil, fmt.Errorf("not a webperm journal: its schema is %q, not %q", schema, JournalSchema)
	}
	var jh journalHeaderJSON
	if err := decodeLine(line, headerShape, &jh); err != nil {
		return JournalHeader{}, nil, err
	}
	created, err := time.Parse(time.RFC3339, jh.Created)
	if err != nil {
		return JournalHeader{}, nil, fmt.Errorf("created %q: want an RFC 3339 time, such as \"2025-01-02T15:04:05Z\"", jh.Created)
	}
	h := JournalHeader{Schema: schema, Version: jh.Version, Created: created, Roots: make([]Root, 0, len(jh.Roots))}
	for _, jr := range jh.Roots {
		p, err := readPath("roots.path", jr.Path, jr.PathBase64)
		if err != nil {
			return JournalHeader{}, nil, err
		}
		h.Roots = append(h.Roots, Root{Path: p, Dev: jr.Dev, Ino: jr.Ino})
	}
	roots, err := headerRoots(h.Roots)
	if err != nil {
		return JournalHeader{}, nil, err
	}
	return h, roots, nil
}

func parseEntry(line []byte, roots map[string]Root, schema string) (JournalEntry, error) {
	var je journalEntryJSON
	sh := entryShape
	switch schema {
	case journalSchemaV1:
		sh = entryShapeV1
	case journalSchemaV2:
		sh = entryShapeV2
	}
	if err := decodeLine(line, sh, &je); err != nil {
		return JournalEntry{}, err
	}
	var e JournalEntry
	var err error
	if e.Path, err = readPath("path", je.Path, je.PathBase64); err != nil {
		return JournalEntry{}, err
	}
	if e.Root, err = readPath("root", je.Root, je.RootBase64); err != nil {
		return JournalEntry{}, err
	}
	e.Ancestor, e.Dev, e.Ino = je.Ancestor, je.Dev, je.Ino
	switch je.Type {
	case "file":
		e.Type = walk.TypeFile
	case "dir":
		e.Type = walk.TypeDir
	default:
		var t walk.Type
		if t.UnmarshalText([]byte(je.Type)) == nil {
			return JournalEntry{}, fmt.Errorf("type %q: webperm changes only files and directories", je.Type)
		}
		return JournalEntry{}, fmt.Errorf("type %q: want \"file\" or \"dir\"", je.Type)
	}
	if e.Old, err = je.Old.state(); err != nil {
		return JournalEntry{}, fmt.Errorf("old: %v", err)
	}
	if e.New, err = je.New.state(); err != nil {
		return JournalEntry{}, fmt.Errorf("new: %v", err)
	}
	if je.CapabilityBase64 != "" {
		if e.Capability, err = base64.StdEncoding.DecodeString(je.CapabilityBase64); err != nil {
			return JournalEntry{}, fmt.Errorf("capability_base64: %v", err)
		}
	}
	if je.ACLBase64 != "" {
		if e.ACL, err = base64.StdEncoding.DecodeString(je.ACLBase64); err != nil {
			return JournalEntry{}, fmt.Errorf("acl_base64: %v", err)
		}
	}
	if err := checkEntry(e, roots); err != nil {
		return JournalEntry{}, err
	}
	return e, nil
}

// isDoneLine reports whether a whole line is a done line, which alone has a "done" field.
func isDoneLine(line []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(line, &probe) != nil {
		return false
	}
	_, ok := probe["done"]
	return ok
}

// parseDone reads the done line on line n and gives it to the entry it confirms, which must be
// the last of entries, read from the line before.
func parseDone(line []byte, n int, schema string, entries []JournalEntry) error {
	if schema == journalSchemaV1 {
		return fmt.Errorf("a done line, which a %s journal never holds", journalSchemaV1)
	}
	var jd journalDoneJSON
	if err := decodeLine(line, doneShape, &jd); err != nil {
		return err
	}
	if len(entries) == 0 || entries[len(entries)-1].Line != n-1 {
		return fmt.Errorf("a done line follows the entry it marks done, and line %d is none", n-1)
	}
	if jd.Done != n-1 {
		return fmt.Errorf("done %d: a done line names the line of the entry it marks done, %d", jd.Done, n-1)
	}
	e := &entries[len(entries)-1]
	if jd.Dev != e.Dev || jd.Ino != e.Ino {
		return fmt.Errorf("dev %d and ino %d are not those of the entry on line %d, %d and %d: a change never makes another inode", jd.Dev, jd.Ino, e.Line, e.Dev, e.Ino)
	}
	d := Done{Dev: jd.Dev, Ino: jd.Ino}
	for _, t := range []struct {
		field, text string
		out         *time.Time
	}{{"ctime", jd.Ctime, &d.Ctime}, {"mtime", jd.Mtime, &d.Mtime}} {
		v, err := time.Parse(time.RFC3339Nano, t.text)
		if err != nil {
			return fmt.Errorf("%s %q: want an RFC 3339 time to the nanosecond, such as \"2025-01-02T15:04:05.123456789Z\"", t.field, t.text)
		}
		*t.out = v.UTC()
	}
	e.Done = &d
	return nil
}

// readPath reads a path field and its base64 twin, as encodePath writes them. Where both are
// present they must agree, so that what a person reads in the journal is what undo changes.
func readPath(field, text, b64 string) (string, error) {
	p, err := decodePath(text, b64)
	if err != nil {
		return "", fmt.Errorf("%s_base64: %v", field, errors.Unwrap(err))
	}
	if b64 == "" {
		return p, nil
	}
	if utf8.ValidString(p) {
		return "", fmt.Errorf("%s_base64 holds valid UTF-8: such a path is written in %q alone", field, field)
	}
	if text != replaceInvalidUTF8(p) {
		return "", fmt.Errorf("%s %q disagrees with %s_base64, whose path it must show with each invalid byte as U+FFFD", field, text, field)
	}
	return p, nil
}

// replaceInvalidUTF8 replaces each byte of s that is not UTF-8 with U+FFFD, as encoding/json
// does when it writes a string.
func replaceInvalidUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// decodeLine checks line against sh, then decodes it into v.
func decodeLine(line []byte, sh *shape, v any) error {
	if err := checkShape(line, sh); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	return nil
}

// shape lists the fields of a JSON object exactly: encoding/json alone would accept a field
// twice, or spelled in another case, or missing.
type shape struct {
	fields []shapeField
}

type shapeField struct {
	name     string
	optional bool
	sub      *shape // the shape of an object value, or of each object in a list value
}

func (sh *shape) field(name string) (shapeField, bool) {
	for _, f := range sh.fields {
		if f.name == name {
			return f, true
		}
	}
	return shapeField{}, false
}

var (
	stateShape = &shape{[]shapeField{
		{name: "mode"}, {name: "uid"}, {name: "gid"}, {name: "owner", optional: true}, {name: "group", optional: true},
	}}
	rootShape = &shape{[]shapeField{
		{name: "path"}, {name: "path_base64", optional: true}, {name: "dev"}, {name: "ino"},
	}}
	headerShape = &shape{[]shapeField{
		{name: "schema"}, {name: "version"}, {name: "created"}, {name: "roots", sub: rootShape},
	}}
	entryShapeV1 = &shape{[]shapeField{
		{name: "path"}, {name: "path_base64", optional: true}, {name: "root"}, {name: "root_base64", optional: true},
		{name: "ancestor"}, {name: "type"}, {name: "dev"}, {name: "ino"},
		{name: "old", sub: stateShape}, {name: "new", sub: stateShape},
	}}
	entryShapeV2 = &shape{append(entryShapeV1.fields[:len(entryShapeV1.fields):len(entryShapeV1.fields)],
		shapeField{name: "capability_base64", optional: true})}
	entryShape = &shape{append(entryShapeV2.fields[:len(entryShapeV2.fields):len(entryShapeV2.fields)],
		shapeField{name: "acl_base64", optional: true})}
	doneShape = &shape{[]shapeField{
		{name: "done"}, {name: "dev"}, {name: "ino"}, {name: "ctime"}, {name: "mtime"},
	}}
)

// checkShape checks that line is one JSON object, with no field twice and none null, and, where
// sh is not nil, with exactly sh's fields. The types of values are left to the decoder.
func checkShape(line []byte, sh *shape) error {
	if len(bytes.TrimSpace(line)) == 0 {
		return errors.New("empty line: each line holds one JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber() // numbers are only skipped here; a huge one is the decoder's to refuse
	tok, err := dec.Token()
	if err != nil {
		return jsonProblem(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("not a JSON object: each line holds one")
	}
	if err := checkObject(dec, sh, ""); err != nil {
		return err
	}
	switch _, err := dec.Token(); {
	case err == io.EOF:
		return nil
	case err != nil:
		return jsonProblem(err)
	}
	return errors.New("more than one JSON value on the line")
}

// checkObject reads the rest of an object whose '{' was read.
func checkObject(dec *json.Decoder, sh *shape, prefix string) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonProblem(err)
		}
		key, _ := tok.(string)
		name := prefix + key
		if seen[key] {
			return fmt.Errorf("field %q appears twice", name)
		}
		seen[key] = true
		var f shapeField
		if sh != nil {
			var ok bool
			if f, ok = sh.field(key); !ok {
				return fmt.Errorf("unknown field %q", name)
			}
		}
		if err := checkValue(dec, f.sub, name); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return jsonProblem(err)
	}
	if sh != nil {
		for _, f := range sh.fields {
			if !f.optional && !seen[f.name] {
				return fmt.Errorf("missing field %q", prefix+f.name)
			}
		}
	}
	return nil
}

func checkValue(dec *json.Decoder, sh *shape, name string) error {
	tok, err := dec.Token()
	if err != nil {
		return jsonProblem(err)
	}
	switch tok {
	case nil:
		return fmt.Errorf("field %q is null", name)
	case json.Delim('{'):
		return checkObject(dec, sh, name+".")
	case json.Delim('['):
		for dec.More() {
			if err := checkValue(dec, sh, name); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return jsonProblem(err)
		}
	}
	return nil
}

// jsonProblem words what encoding/json said as a sentence without its "json:" prefix.
func jsonProblem(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("not JSON: the object is cut short")
	case errors.As(err, &syn):
		return fmt.Errorf("not JSON: %v", syn)
	case errors.As(err, &typ):
		return fmt.Errorf("field %q: want %s, not %s", typ.Field, jsonKind(typ.Type), typ.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown field %s", name)
	}
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "a whole number"
	case reflect.Uint32:
		return "a whole number from 0 to 4294967295"
	case reflect.Uint64:
		return "a whole number from 0 to 18446744073709551615"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice:
		return "a list"
	}
	return t.String()
}
