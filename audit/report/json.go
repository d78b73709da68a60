package report

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// Schema names the JSON report's version. Fields are only ever added to it.
const Schema = "webperm/report/v1"

type jsonReport struct {
	Schema string   `json:"schema"`
	Roots  []string `json:"roots"`
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
	NoXattrs bool        `json:"no_xattrs,omitempty"`
	Summary  jsonSummary `json:"summary"`
	// Findings stand in for the list that JSON streams in their place: a report may hold more
	// findings than memory.
	Findings json.RawMessage `json:"findings"`
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
	PathBase64 string   `json:"path_base64,omitempty"`
	Type       string   `json:"type"`
	Mode       string   `json:"mode"`
	UID        *uint32  `json:"uid,omitempty"`
	GID        *uint32  `json:"gid,omitempty"`
	Owner      string   `json:"owner,omitempty"`
	Group      string   `json:"group,omitempty"`
	LinkTarget string   `json:"link_target,omitempty"`
	ACL        string   `json:"acl,omitempty"`     // getfacl's short form, where the entry has an access ACL
	SELinux    string   `json:"selinux,omitempty"` // the SELinux context, where the entry has one
	Message    string   `json:"message"`
	Fix        *jsonFix `json:"fix,omitempty"`
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
func JSON(w io.Writer, r *audit.Report, _ Options) error {
	out := jsonReport{
		Schema:   Schema,
		Roots:    r.Roots,
		WebUser:  r.WebUser,
		PHPUser:  r.PHPUser,
		Policy:   r.Policy,
		Complete: r.Complete(),
		NoXattrs: r.NoXattrs,
		Findings: json.RawMessage(findingsMark),
		Errors:   make([]jsonError, 0, len(r.Errors)),
	}
	out.Given, out.RootNotes = jsonOrigins(r)
	counts, err := r.CountBySeverity()
	if err != nil {
		return err
	}
	out.Summary = jsonSummary{Entries: r.Entries, Findings: r.NumFindings(), Waived: r.Waived(), Errors: len(r.Errors), Excluded: r.Excluded}
	for sev, n := range counts {
		out.Summary.BySeverity.add(sev, n)
	}
	for _, p := range r.Presets {
		out.Presets = append(out.Presets, jsonPreset{Root: p.Root, Preset: p.Preset, Evidence: p.Evidence})
	}
	for _, so := range r.SiteOwners {
		js := jsonSiteOwner{Root: so.Root, UID: so.UID, Source: so.Source, Parent: so.Parent}
		if name, ok := r.Accounts.UserName(so.UID); ok && so.Source != "unknown" {
			js.Owner = name
		}
		out.SiteOwners = append(out.SiteOwners, js)
	}
	for _, w := range r.Waivers {
		out.Waivers = append(out.Waivers, jsonWaiver{jsonWaiverRef: newJSONWaiverRef(&w.Waiver), Expired: w.Expired, Findings: w.Findings})
	}
	for _, e := range r.Errors {
		out.Errors = append(out.Errors, jsonError{Path: e.Path, PathBase64: RawBytes(e.Path), Error: e.Err.Error()})
	}
	for _, s := range r.Skipped {
		out.Skipped = append(out.Skipped, jsonSkip{Path: s.Path, PathBase64: RawBytes(s.Path), FsType: s.FsType, Reason: s.Reason})
	}
	for _, e := range r.Exclude {
		out.Exclude = append(out.Exclude, jsonExclusion{Glob: e.Glob, From: e.Origin})
	}
	var doc bytes.Buffer
	enc := json.NewEncoder(&doc)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	// The findings go where the document has the mark: the one member of the top-level object
	// named findings, on a line of its own, as a raw newline is never in a string.
	head, tail, ok := bytes.Cut(doc.Bytes(), []byte("\n  \"findings\": "+findingsMark))
	if !ok {
		return errors.New("json report: no place for the findings") // encoding/json changed
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head)
	bw.WriteString("\n  \"findings\": ")
	if err := writeJSONFindings(bw, r); err != nil {
		return err
	}
	bw.Write(tail)
	return bw.Flush()
}

// findingsMark holds the findings' place in the JSON document until they are written there.
const findingsMark = "null"

// writeJSONFindings writes r's findings as the list a JSON report holds, indented as a member of
// the top-level object.
func writeJSONFindings(w *bufio.Writer, r *audit.Report) error {
	if r.NumFindings() == 0 {
		_, err := w.WriteString("[]")
		return err
	}
	var one bytes.Buffer
	enc := json.NewEncoder(&one)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ")
	w.WriteByte('[')
	err := r.EachFinding(func(i int, f *audit.Finding) error {
		one.Reset()
		if err := enc.Encode(newJSONFinding(f, r)); err != nil {
			return err
		}
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n    ")
		_, err := w.Write(bytes.TrimSuffix(one.Bytes(), []byte("\n")))
		return err
	})
	if err != nil {
		return err
	}
	_, err = w.WriteString("\n  ]")
	return err
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
		Fingerprint: r.Fingerprint(f),
		Rule:        f.Rule,
		Severity:    f.Severity,
		Path:        e.Path,
		PathBase64:  RawBytes(e.Path),
		Type:        e.Type.String(),
		Mode:        policy.OctalMode(e.Mode),
		LinkTarget:  e.LinkTarget,
		SELinux:     e.Label,
		Message:     f.Message,
		Package:     f.Package,
		Entries:     f.Entries,
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
