package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// oldJSONReport is jsonReport as it was before the findings were streamed (5887a43^): the list
// encoded with the rest by one json.Encoder.
type oldJSONReport struct {
	Schema      string          `json:"schema"`
	Roots       []string        `json:"roots"`
	RootsBase64 []string        `json:"roots_base64,omitempty"` // added since, where a root is not UTF-8
	Given       []string        `json:"given,omitempty"`
	RootNotes   []jsonRootNote  `json:"root_notes,omitempty"`
	WebUser     *access.WebUser `json:"web_user"`
	PHPUser     *access.WebUser `json:"php_user,omitempty"`
	Policy      string          `json:"policy"`
	Presets     []jsonPreset    `json:"presets,omitempty"`
	SiteOwners  []jsonSiteOwner `json:"site_owners,omitempty"`
	Waivers     []jsonWaiver    `json:"waivers,omitempty"`
	Complete    bool            `json:"complete"`
	NoXattrs    bool            `json:"no_xattrs,omitempty"`
	Summary     jsonSummary     `json:"summary"`
	Findings    []jsonFinding   `json:"findings"`
	Errors      []jsonError     `json:"errors"`
	Skipped     []jsonSkip      `json:"skipped,omitempty"`
}

// oldJSON is JSON as it was before the findings were streamed: the oracle the streamed
// document must equal byte for byte.
func oldJSON(w io.Writer, r *audit.Report) error {
	out := oldJSONReport{
		Schema: Schema, Roots: r.Roots, WebUser: r.WebUser, PHPUser: r.PHPUser, Policy: r.Policy,
		Complete: r.Complete(), NoXattrs: r.NoXattrs,
		Findings: make([]jsonFinding, 0, len(r.Findings)),
		Errors:   make([]jsonError, 0, len(r.Errors)),
	}
	for i, root := range r.Roots {
		if !utf8.ValidString(root) {
			if out.RootsBase64 == nil {
				out.RootsBase64 = make([]string, len(r.Roots))
			}
			out.RootsBase64[i] = base64.StdEncoding.EncodeToString([]byte(root))
		}
	}
	out.Given, out.RootNotes = jsonOrigins(r)
	out.Summary = jsonSummary{Entries: r.Entries, Findings: len(r.Findings), Waived: r.Waived(), Errors: len(r.Errors)}
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
	for i := range r.Findings {
		f := &r.Findings[i]
		out.Summary.BySeverity.add(f.Severity, 1)
		out.Findings = append(out.Findings, newJSONFinding(f, r))
	}
	for _, e := range r.Errors {
		out.Errors = append(out.Errors, jsonError{Path: e.Path, PathBase64: RawBytes(e.Path), Error: e.Err.Error()})
	}
	for _, s := range r.Skipped {
		out.Skipped = append(out.Skipped, jsonSkip{Path: s.Path, PathBase64: RawBytes(s.Path), FsType: s.FsType, Reason: s.Reason})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// hostile is text a hostile name may hold: the mark the findings replace, on a line of its own
// as the document has it, newlines, invalid UTF-8, characters JSON escapes or HTML would.
var hostile = []string{
	"/srv/site",
	"/srv/\"findings\": null",
	"/srv/a\n  \"findings\": null\n",
	"/srv/\xff\xfe/x",
	"/srv/\u2028\u2029<&>\t\x1b[31m",
	"/srv/é/\x00",
	"",
}

// hostileReport is a report every string of which is one of hostile, with n findings.
func hostileReport(n int, pick func() string) *audit.Report {
	a := access.NewAccounts([]access.User{{Name: "deploy", UID: 1000, GID: 1000}, {Name: pick(), UID: 33, GID: 33}}, []access.Group{{Name: "deploy", GID: 1000}})
	r := &audit.Report{
		Roots:      []string{pick(), pick()},
		Origins:    []audit.Origin{{Given: pick(), Note: pick()}, {Given: pick()}},
		Policy:     pick(),
		Accounts:   a,
		Entries:    n + 3,
		WebUser:    &access.WebUser{Name: pick(), UID: 33, GID: 33, Groups: []uint32{33}, Source: "flag", Evidence: pick()},
		Presets:    []audit.RootPreset{{Root: pick(), Preset: "default", Evidence: []string{pick()}}},
		SiteOwners: []audit.SiteOwner{{Root: pick(), UID: 1000, Source: "parent", Parent: pick()}},
		Waivers:    []*audit.WaiverUse{{Waiver: policy.Waiver{Rule: policy.WorldWritable, Paths: []string{pick()}, Reason: pick(), Expires: "2001-01-01", Origin: pick()}, Expired: true, Findings: 1}},
		Errors:     []audit.WalkError{{Path: pick(), Err: errors.New(pick())}},
		Skipped:    []walk.Skip{{Path: pick(), FsType: pick(), Reason: pick()}},
	}
	for i := range n {
		f := audit.Finding{Rule: policy.WorldWritable, Severity: policy.Severities()[i%5], Message: pick(),
			Entry: walk.Entry{Path: pick(), Type: walk.TypeSymlink, LinkTarget: pick(), Label: pick(), Mode: 0o666, UID: 33, GID: 1000, OwnerKnown: i%2 == 0}, Package: pick(), Entries: i}
		if i%3 == 0 {
			f.Fix = &audit.Fix{Mode: 0o644, Chown: true, UID: 1000, GID: 33}
			f.ExpiredWaiver = &r.Waivers[0].Waiver
			f.Entry.Type = walk.TypeFile
			f.Entry.ACL = &walk.ACL{Entries: []walk.ACLEntry{{Tag: walk.ACLTag(2), ID: 33, Perm: 6}}}
		}
		r.Findings = append(r.Findings, f)
	}
	return r
}

// The streamed JSON report is the document json.Encoder made of the whole report before, byte
// for byte, whatever names, messages and errors hold: with no finding, one, or many.
func TestJSONAsBefore(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 40} {
		for k := range hostile {
			j := k // names from the k-th on
			pick := func() string { j = (j + 1) % len(hostile); return hostile[j] }
			jsonAsBefore(t, hostileReport(n, pick))
		}
	}
}

func FuzzJSONAsBefore(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, s, 3)
	}
	f.Fuzz(func(t *testing.T, a, b string, n int) {
		n = n & 15
		i := 0
		r := hostileReport(n, func() string {
			i++
			if i%2 == 0 {
				return a
			}
			return b
		})
		jsonAsBefore(t, r)
	})
}

// jsonAsBefore fails t unless JSON writes r as oldJSON does.
func jsonAsBefore(t *testing.T, r *audit.Report) {
	t.Helper()
	var got, want bytes.Buffer
	if err := JSON(&got, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := oldJSON(&want, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("%d findings: the streamed document differs:\n%q\nwant\n%q", len(r.Findings), got.String(), want.String())
	}
}
