package report

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// Schema names the JSON report's version. Fields are only ever added to it.
const Schema = "webperm/report/v1"

type jsonReport struct {
	jsonHead
	Summary jsonSummary `json:"summary"`
	// Findings stand in for the list that JSON streams in their place: a report may hold more
	// findings than memory.
	Findings json.RawMessage `json:"findings"`
	// Baseline says what the findings were compared with (--baseline), and Resolved, streamed
	// as Findings are, lists the baseline's findings this audit no longer has.
	Baseline *jsonBaseline   `json:"baseline,omitempty"`
	Resolved json.RawMessage `json:"resolved,omitempty"`
	Errors   []jsonError     `json:"errors"`
	// Skipped are the directories the walk examined but did not enter: mounts of pseudo file
	// systems, of other devices under --one-file-system, container layers.
	Skipped []jsonSkip `json:"skipped,omitempty"`
	// Exclude are the globs the audit left out (--exclude, the policy file's exclude:), each
	// with where it was given; summary.excluded counts what they left out.
	Exclude []jsonExclusion `json:"exclude,omitempty"`
}

// jsonExclusion is one exclusion: its glob, and "--exclude" or the policy file's "FILE:LINE".
type jsonExclusion struct {
	Glob string `json:"glob"`
	From string `json:"from"`
}

// jsonHead is what a JSON report says before its summary: what was audited, as whom, and
// against what. The JSON lines report's header record says the same.
type jsonHead struct {
	Schema string   `json:"schema"`
	Roots  []string `json:"roots"`
	// RootsBase64 carry, in roots' order, the exact bytes of each root that is not valid UTF-8
	// ("" for the others), where any is not: a baseline must know its roots.
	RootsBase64 []string `json:"roots_base64,omitempty"`
	// Given are the paths the roots were given as, in roots' order, where one differs from its
	// root; RootNotes say what of note was followed on the way to a root.
	Given     []string       `json:"given,omitempty"`
	RootNotes []jsonRootNote `json:"root_notes,omitempty"`
	// Whom the web server and PHP run as, and what the roots were held to.
	WebUser *access.WebUser `json:"web_user"`
	PHPUser *access.WebUser `json:"php_user,omitempty"`
	Policy  string          `json:"policy"`
	Presets []jsonPreset    `json:"presets,omitempty"`
	// SiteOwners say whose a root's site is where that is not simply the root's owner.
	SiteOwners []jsonSiteOwner `json:"site_owners,omitempty"`
	Waivers    []jsonWaiver    `json:"waivers,omitempty"`
	Complete   bool            `json:"complete"`
	// NoXattrs says no ACL, SELinux label or file capabilities were read (--no-xattrs).
	NoXattrs bool `json:"no_xattrs,omitempty"`
}

// jsonBaseline counts the findings against the baseline: new ones, known ones (in the
// baseline), and the baseline's resolved ones.
type jsonBaseline struct {
	File     string `json:"file"`
	New      int    `json:"new"`
	Known    int    `json:"known"`
	Resolved int    `json:"resolved"`
}

// jsonSkip is a directory the walk did not enter: its path, its file system's type, and why.
type jsonSkip struct {
	Path       string `json:"path"`
	PathBase64 string `json:"path_base64,omitempty"`
	FsType     string `json:"fstype"`
	Reason     string `json:"reason"`
}

// jsonSiteOwner is whose one root's site is, and how webperm decided: flag, parent or unknown.
type jsonSiteOwner struct {
	Root   string `json:"root"`
	UID    uint32 `json:"uid"`
	Owner  string `json:"owner,omitempty"`
	Source string `json:"source"`
	Parent string `json:"parent,omitempty"`
}

// jsonRootNote says what was followed on the way from a given path to its root.
type jsonRootNote struct {
	Root  string `json:"root"`
	Given string `json:"given"`
	Note  string `json:"note"`
}

// jsonPreset is the preset one root was held to; evidence lists the marker files auto found.
type jsonPreset struct {
	Root     string   `json:"root"`
	Preset   string   `json:"preset"`
	Evidence []string `json:"evidence,omitempty"`
}

// jsonWaiverRef names a waiver of the policy.
type jsonWaiverRef struct {
	Rule    policy.RuleID `json:"rule"`
	Paths   []string      `json:"paths"`
	Reason  string        `json:"reason"`
	Expires string        `json:"expires"`
	Origin  string        `json:"origin"`
}

// jsonWaiver is a waiver and what it did.
type jsonWaiver struct {
	jsonWaiverRef
	Expired bool `json:"expired"`
	// Findings counts the findings it covered: waived while it holds, reported once expired.
	Findings int `json:"findings"`
}

type jsonSummary struct {
	Entries  int `json:"entries"`
	Findings int `json:"findings"`
	Waived   int `json:"waived"`
	Errors   int `json:"errors"`
	// Excluded counts the entries exclusions left out, each once: what lies below an excluded
	// directory was never read, so is not counted.
	Excluded   int            `json:"excluded"`
	BySeverity jsonBySeverity `json:"by_severity"`
}

// jsonBySeverity lists every severity, most severe first, even at zero.
type jsonBySeverity struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

type jsonFinding struct {
	Rule     policy.RuleID   `json:"rule"`
	Severity policy.Severity `json:"severity"`
	Path     string          `json:"path"`
	// PathBase64 carries the exact bytes of a path that is not valid UTF-8, which JSON strings
	// cannot hold: encoding/json replaces such bytes with U+FFFD in Path.
	PathBase64 string  `json:"path_base64,omitempty"`
	Type       string  `json:"type"`
	Mode       string  `json:"mode"`
	UID        *uint32 `json:"uid,omitempty"`
	GID        *uint32 `json:"gid,omitempty"`
	Owner      string  `json:"owner,omitempty"`
	Group      string  `json:"group,omitempty"`
	LinkTarget string  `json:"link_target,omitempty"`
	// LinkTargetBase64 carries a link target that is not valid UTF-8, as PathBase64 a path: a
	// baseline fingerprints the symlink rules' findings with the target's exact bytes.
	LinkTargetBase64 string   `json:"link_target_base64,omitempty"`
	ACL              string   `json:"acl,omitempty"`     // getfacl's short form, where the entry has an access ACL
	SELinux          string   `json:"selinux,omitempty"` // the SELinux context, where the entry has one
	Message          string   `json:"message"`
	Fix              *jsonFix `json:"fix,omitempty"`
	// ExpiredWaiver is the waiver that accepted this finding until its last day passed.
	ExpiredWaiver *jsonWaiverRef `json:"expired_waiver,omitempty"`
	// Capabilities are a file's capabilities in getcap's form ("cap_net_bind_service=ep"),
	// where it has any.
	Capabilities string `json:"capabilities,omitempty"`
	// Package is the distribution package that installed the entry, where one did.
	Package string `json:"package,omitempty"`
	// Entries is how many entries a finding that stands for a tree covers (web-user-owns-tree).
	Entries int `json:"entries,omitempty"`
	// Fingerprint names the finding across runs (audit.Report.Fingerprint), for baselines.
	Fingerprint string `json:"fingerprint"`
	// Baseline is "new" or "known" where the audit was compared with a baseline.
	Baseline string `json:"baseline,omitempty"`
}

// jsonFix is a finding's target state: the mode, and the owner and group where they change.
type jsonFix struct {
	Mode  string  `json:"mode,omitempty"`
	UID   *uint32 `json:"uid,omitempty"`
	GID   *uint32 `json:"gid,omitempty"`
	Owner string  `json:"owner,omitempty"`
	Group string  `json:"group,omitempty"`
}

type jsonError struct {
	Path       string `json:"path"`
	PathBase64 string `json:"path_base64,omitempty"`
	Error      string `json:"error"`
}

// JSON writes the report as one JSON document of the webperm/report/v1 schema. The findings are
// written one at a time as the report gives them, so its memory is the same for ten findings or
// ten million.
func JSON(w io.Writer, r *audit.Report, opt Options) error {
	out := jsonReport{
		jsonHead: newJSONHead(r, Schema),
		Findings: json.RawMessage(streamMark),
		Errors:   make([]jsonError, 0, len(r.Errors)),
	}
	counts, err := r.CountBySeverity()
	if err != nil {
		return err
	}
	out.Summary = newJSONSummary(r, counts)
	for _, e := range r.Errors {
		out.Errors = append(out.Errors, newJSONError(&e))
	}
	for _, s := range r.Skipped {
		out.Skipped = append(out.Skipped, newJSONSkip(&s))
	}
	for _, e := range r.Exclude {
		out.Exclude = append(out.Exclude, jsonExclusion{Glob: e.Glob, From: e.Origin})
	}
	lists := []streamList{{"findings", func(add func(any) error) error {
		return r.EachFinding(func(i int, f *audit.Finding) error {
			jf := newJSONFinding(f, r)
			jf.Baseline = opt.Baseline.State(i)
			return add(jf)
		})
	}}}
	if b := opt.Baseline; b != nil {
		out.Baseline = newJSONBaseline(b)
		out.Resolved = json.RawMessage(streamMark)
		lists = append(lists, streamList{"resolved", func(add func(any) error) error {
			return b.eachResolvedJSON(r, func(_ *audit.Finding, jf jsonFinding) error { return add(jf) })
		}})
	}
	return streamDocument(w, out, 1, lists...)
}

// streamMark holds the place of a streamed list in a document until it is written there.
const streamMark = "null"

// newJSONHead says what was audited, as whom and against what, under the schema named.
func newJSONHead(r *audit.Report, schema string) jsonHead {
	h := jsonHead{
		Schema:   schema,
		Roots:    r.Roots,
		WebUser:  r.WebUser,
		PHPUser:  r.PHPUser,
		Policy:   r.Policy,
		Complete: r.Complete(),
		NoXattrs: r.NoXattrs,
	}
	for i, root := range r.Roots {
		if raw := RawBytes(root); raw != "" {
			if h.RootsBase64 == nil {
				h.RootsBase64 = make([]string, len(r.Roots))
			}
			h.RootsBase64[i] = raw
		}
	}
	h.Given, h.RootNotes = jsonOrigins(r)
	for _, p := range r.Presets {
		h.Presets = append(h.Presets, jsonPreset{Root: p.Root, Preset: p.Preset, Evidence: p.Evidence})
	}
	for _, so := range r.SiteOwners {
		js := jsonSiteOwner{Root: so.Root, UID: so.UID, Source: so.Source, Parent: so.Parent}
		if name, ok := r.Accounts.UserName(so.UID); ok && so.Source != "unknown" {
			js.Owner = name
		}
		h.SiteOwners = append(h.SiteOwners, js)
	}
	for _, w := range r.Waivers {
		h.Waivers = append(h.Waivers, jsonWaiver{jsonWaiverRef: newJSONWaiverRef(&w.Waiver), Expired: w.Expired, Findings: w.Findings})
	}
	return h
}

// newJSONSummary is the report's summary, with counts by severity as CountBySeverity gives them.
func newJSONSummary(r *audit.Report, counts map[policy.Severity]int) jsonSummary {
	s := jsonSummary{Entries: r.Entries, Findings: r.NumFindings(), Waived: r.Waived(), Errors: len(r.Errors), Excluded: r.Excluded}
	for sev, n := range counts {
		s.BySeverity.add(sev, n)
	}
	return s
}

func newJSONError(e *audit.WalkError) jsonError {
	return jsonError{Path: e.Path, PathBase64: RawBytes(e.Path), Error: e.Err.Error()}
}

func newJSONSkip(s *walk.Skip) jsonSkip {
	return jsonSkip{Path: s.Path, PathBase64: RawBytes(s.Path), FsType: s.FsType, Reason: s.Reason}
}

// streamList is a list a document streams: the member it goes in, and what adds its items.
type streamList struct {
	key   string
	items func(add func(v any) error) error
}

// streamDocument writes doc as indented JSON, with each of lists in place of its member, depth
// objects down, which doc holds as streamMark (a json.RawMessage); lists are in the order of
// their members in the document. Each item is encoded as it is added, so a list of ten million
// takes the memory of one. A member must be the first of its name at that depth: a raw newline
// is never in a JSON string, so the mark cannot be matched inside one.
func streamDocument(w io.Writer, doc any, depth int, lists ...streamList) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	indent := strings.Repeat("  ", depth)
	bw := bufio.NewWriterSize(w, 64<<10)
	var one bytes.Buffer
	item := json.NewEncoder(&one)
	item.SetEscapeHTML(false)
	item.SetIndent(indent+"  ", "  ")
	next, end := "\n"+indent+"  ", "\n"+indent+"]"
	rest := b.Bytes()
	for _, l := range lists {
		member := "\n" + indent + strconv.Quote(l.key) + ": "
		head, tail, ok := bytes.Cut(rest, []byte(member+streamMark))
		if !ok {
			return fmt.Errorf("no place for the %s in the document", l.key) // encoding/json changed
		}
		bw.Write(head)
		bw.WriteString(member)
		n := 0
		err := l.items(func(v any) error {
			one.Reset()
			if err := item.Encode(v); err != nil {
				return err
			}
			if n == 0 {
				bw.WriteByte('[')
			} else {
				bw.WriteByte(',')
			}
			n++
			bw.WriteString(next)
			_, err := bw.Write(bytes.TrimSuffix(one.Bytes(), []byte("\n")))
			return err
		})
		if err != nil {
			return err
		}
		if n == 0 {
			bw.WriteString("[]")
		} else {
			bw.WriteString(end)
		}
		rest = tail
	}
	bw.Write(rest)
	return bw.Flush()
}

// jsonOrigins lists what each root was given as, where one differs from its root, and the notes.
func jsonOrigins(r *audit.Report) (given []string, notes []jsonRootNote) {
	differs := false
	for i, o := range r.Origins {
		differs = differs || o.Given != r.Roots[i]
		if o.Note != "" {
			notes = append(notes, jsonRootNote{Root: r.Roots[i], Given: o.Given, Note: o.Note})
		}
	}
	if differs {
		for _, o := range r.Origins {
			given = append(given, o.Given)
		}
	}
	return given, notes
}

func newJSONFinding(f *audit.Finding, r *audit.Report) jsonFinding {
	e, a := &f.Entry, r.Accounts
	jf := jsonFinding{
		Fingerprint:      r.Fingerprint(f),
		Rule:             f.Rule,
		Severity:         f.Severity,
		Path:             e.Path,
		PathBase64:       RawBytes(e.Path),
		Type:             e.Type.String(),
		Mode:             policy.OctalMode(e.Mode),
		LinkTarget:       e.LinkTarget,
		LinkTargetBase64: RawBytes(e.LinkTarget),
		SELinux:          e.Label,
		Message:          f.Message,
		Package:          f.Package,
		Entries:          f.Entries,
	}
	if e.ACL != nil {
		jf.ACL = e.ACL.String()
	}
	if e.Capabilities.Has() {
		jf.Capabilities = e.Capabilities.String()
	}
	if e.OwnerKnown {
		uid, gid := e.UID, e.GID
		jf.UID, jf.GID = &uid, &gid
		if a != nil {
			jf.Owner, _ = a.UserName(uid)
			jf.Group, _ = a.GroupName(gid)
		}
	}
	if f.Fix != nil {
		jf.Fix = &jsonFix{}
		// A chown alone leaves the mode, and a symlink's mode is never set: chmod would follow it.
		if e.Type != walk.TypeSymlink && (f.Fix.Mode != e.Mode || !f.Fix.Chown) {
			jf.Fix.Mode = policy.OctalMode(f.Fix.Mode)
		}
		if f.Fix.Chown {
			uid, gid := f.Fix.UID, f.Fix.GID
			jf.Fix.UID, jf.Fix.GID = &uid, &gid
			if a != nil {
				jf.Fix.Owner, _ = a.UserName(uid)
				jf.Fix.Group, _ = a.GroupName(gid)
			}
		}
	}
	if w := f.ExpiredWaiver; w != nil {
		ref := newJSONWaiverRef(w)
		jf.ExpiredWaiver = &ref
	}
	return jf
}

func newJSONWaiverRef(w *policy.Waiver) jsonWaiverRef {
	return jsonWaiverRef{Rule: w.Rule, Paths: w.Paths, Reason: w.Reason, Expires: w.Expires, Origin: w.Origin}
}

// RawBytes is the base64 of s when s is not valid UTF-8, and empty otherwise: encoding/json
// would replace such bytes, so a path carries them in a field of its own.
func RawBytes(s string) string {
	if utf8.ValidString(s) {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(s))
}

func (b *jsonBySeverity) add(s policy.Severity, n int) {
	switch s {
	case policy.Critical:
		b.Critical += n
	case policy.High:
		b.High += n
	case policy.Medium:
		b.Medium += n
	case policy.Low:
		b.Low += n
	default:
		b.Info += n
	}
}
