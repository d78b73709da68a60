package report

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/policy"
)

// SARIF's version, and the schema a SARIF report names: the OASIS standard with its errata.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)

// informationURI is webperm's home page, which SARIF's tool and rule descriptors point to.
const informationURI = "https://github.com/webperm/webperm"

// The bases SARIF artifact locations are relative to: each audited root is "ROOT" followed by
// its index in Report.Roots, and a path no root holds (an ancestor of the roots, whose search
// bit a web server needs too) is relative to the file system's root.
const (
	sarifRootBase       = "ROOT"
	sarifFileSystemBase = "FILESYSTEM"
)

// sarifSecurity is the security-severity GitHub code scanning reads from a rule (0.1-3.9 low,
// 4.0-6.9 medium, 7.0-8.9 high, 9.0 and over critical), for each default severity but info,
// which is no security severity: such a rule has none, and code scanning shows its level.
var sarifSecurity = map[policy.Severity]string{
	policy.Critical: "9.5",
	policy.High:     "8.0",
	policy.Medium:   "5.5",
	policy.Low:      "3.0",
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	// OriginalURIBaseIDs say where each uriBaseId lies on the audited machine.
	OriginalURIBaseIDs map[string]sarifArtifactLocation `json:"originalUriBaseIds"`
	// Results stand in for the list that SARIF streams in their place, as the JSON report's
	// findings do.
	Results    json.RawMessage    `json:"results"`
	Properties sarifRunProperties `json:"properties"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

// sarifRule is a rule descriptor: one per rule of the catalog, in its order.
type sarifRule struct {
	ID                   string              `json:"id"`
	Name                 string              `json:"name"`
	ShortDescription     sarifText           `json:"shortDescription"`
	FullDescription      sarifText           `json:"fullDescription"`
	Help                 sarifText           `json:"help"`
	HelpURI              string              `json:"helpUri"`
	DefaultConfiguration sarifConfiguration  `json:"defaultConfiguration"`
	Properties           sarifRuleProperties `json:"properties"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifRuleProperties struct {
	SecuritySeverity string   `json:"security-severity,omitempty"`
	Tags             []string `json:"tags"`
	// Precision is how often a finding is a real fault, as code scanning reads it: webperm's
	// checks are facts of the file system, not guesses.
	Precision string `json:"precision"`
	// Severity is the rule's default severity as webperm names it: SARIF's levels have three.
	Severity policy.Severity `json:"severity"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifInvocation struct {
	// ExecutionSuccessful is false where part of the tree could not be read.
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

// sarifNotification is a path the audit could not read (level error) or did not enter (note),
// with the JSON report's record of it as its properties.
type sarifNotification struct {
	Level      string          `json:"level"`
	Message    sarifText       `json:"message"`
	Locations  []sarifLocation `json:"locations"`
	Properties any             `json:"properties"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           *int              `json:"ruleIndex,omitempty"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints sarifFingerprints `json:"partialFingerprints"`
	// BaselineState is what the result is against a baseline (--baseline), as SARIF names it
	// (§3.27.24): new, unchanged (known), or absent (resolved: the baseline's, gone since).
	BaselineState string `json:"baselineState,omitempty"`
	// Properties are the JSON report's finding, every field of it.
	Properties jsonFinding `json:"properties"`
}

// sarifFingerprints hold audit.Report.Fingerprint, under a key whose version follows the
// fingerprint's own.
type sarifFingerprints struct {
	V1 string `json:"webpermFingerprint/v1"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
}

type sarifArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

// sarifRunProperties say whom the audit judged access for and by what policy, as the JSON
// report's header does.
type sarifRunProperties struct {
	Roots   []string        `json:"roots"`
	WebUser *access.WebUser `json:"web_user"`
	PHPUser *access.WebUser `json:"php_user,omitempty"`
	Policy  string          `json:"policy"`
	Entries int             `json:"entries"`
	Waived  int             `json:"waived"`
	// Baseline counts the results against the baseline, as the JSON report does.
	Baseline *jsonBaseline `json:"baseline,omitempty"`
}

// sarifBaselineStates are SARIF's names of a finding's state against a baseline.
var sarifBaselineStates = map[string]string{"new": "new", "known": "unchanged", stateResolved: "absent"}

// SARIF writes the report as a SARIF 2.1.0 log of one run, for code scanning and the other CI
// systems that read it: a rule descriptor per rule of the catalog, a result per finding located
// by a percent-encoded URI relative to its root (uriBaseId ROOT0, ROOT1, ...) or, above every
// root, to the file system's (FILESYSTEM), and the paths that could not be read as the
// invocation's notifications. The results are written as the report gives them, so its memory is
// the same for ten findings or ten million.
//
// Against a baseline (opt.Baseline) each result has SARIF's baselineState, "new" or "unchanged"
// (known), and the baseline's findings the audit no longer has follow as results of their own,
// as the baseline recorded them, "absent"; the run's properties carry the counts. A fingerprint
// names the facts a rule judges, so a known finding is never "updated".
func SARIF(w io.Writer, r *audit.Report, opt Options) error {
	bases := make([]string, len(r.Roots))
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: "webperm", Version: opt.ToolVersion, InformationURI: informationURI, Rules: sarifRules(),
		}},
		Invocations:        []sarifInvocation{{ExecutionSuccessful: r.Complete()}},
		OriginalURIBaseIDs: map[string]sarifArtifactLocation{sarifFileSystemBase: {URI: "file:///"}},
		Results:            json.RawMessage(streamMark),
		Properties: sarifRunProperties{
			Roots: r.Roots, WebUser: r.WebUser, PHPUser: r.PHPUser, Policy: r.Policy,
			Entries: r.Entries, Waived: r.Waived(), Baseline: newJSONBaseline(opt.Baseline),
		},
	}
	for i, root := range r.Roots {
		bases[i] = sarifRootBase + strconv.Itoa(i)
		dir := strings.TrimSuffix(root, "/") + "/"
		if !strings.HasPrefix(dir, "/") {
			dir = "/" + dir
		}
		run.OriginalURIBaseIDs[bases[i]] = sarifArtifactLocation{URI: "file://" + uriPath(dir)}
	}
	inv := &run.Invocations[0]
	for _, e := range r.Errors {
		inv.Notifications = append(inv.Notifications, sarifNotification{
			Level:      "error",
			Message:    sarifText{"not read: " + e.Err.Error()},
			Locations:  sarifLocations(e.Path, r.Roots, bases),
			Properties: newJSONError(&e),
		})
	}
	for _, s := range r.Skipped {
		inv.Notifications = append(inv.Notifications, sarifNotification{
			Level:      "note",
			Message:    sarifText{"not entered: " + fsName(s) + ", " + s.Reason},
			Locations:  sarifLocations(s.Path, r.Roots, bases),
			Properties: newJSONSkip(&s),
		})
	}
	doc := sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}
	index := make(map[policy.RuleID]int, len(policy.Catalog))
	for i, info := range policy.Catalog {
		index[info.ID] = i
	}
	result := func(f *audit.Finding, jf jsonFinding) sarifResult {
		res := sarifResult{
			RuleID:              string(f.Rule),
			Level:               sarifLevel(f.Severity),
			Message:             sarifText{f.Message},
			Locations:           sarifLocations(f.Entry.Path, r.Roots, bases),
			PartialFingerprints: sarifFingerprints{jf.Fingerprint},
			BaselineState:       sarifBaselineStates[jf.Baseline],
			Properties:          jf,
		}
		// A rule the catalog lacks has no descriptor to point at; its id still names it.
		if i, ok := index[f.Rule]; ok {
			res.RuleIndex = &i
		}
		return res
	}
	return streamDocument(w, doc, 3, streamList{"results", func(add func(any) error) error {
		err := r.EachFinding(func(i int, f *audit.Finding) error {
			jf := newJSONFinding(f, r)
			jf.Baseline = opt.Baseline.State(i)
			return add(result(f, jf))
		})
		if err != nil {
			return err
		}
		return opt.Baseline.eachResolvedJSON(r, func(f *audit.Finding, jf jsonFinding) error {
			return add(result(f, jf))
		})
	}})
}

// sarifRules describes every rule of the catalog, in its order: a result's ruleIndex is the
// place of its rule there.
func sarifRules() []sarifRule {
	rules := make([]sarifRule, len(policy.Catalog))
	for i, info := range policy.Catalog {
		rules[i] = sarifRule{
			ID:                   string(info.ID),
			Name:                 pascalCase(string(info.ID)),
			ShortDescription:     sarifText{info.Title()},
			FullDescription:      sarifText{sentence(info.Summary)},
			Help:                 sarifText{info.Help()},
			HelpURI:              informationURI + "#what-webperm-checks",
			DefaultConfiguration: sarifConfiguration{sarifLevel(info.Severity)},
			Properties: sarifRuleProperties{
				SecuritySeverity: sarifSecurity[info.Severity],
				Tags:             []string{"security"},
				Precision:        "very-high",
				Severity:         info.Severity,
			},
		}
	}
	return rules
}

// sarifLevel is SARIF's level for a severity: critical and high are errors, medium warnings,
// low and info notes.
func sarifLevel(s policy.Severity) string {
	switch {
	case s >= policy.High:
		return "error"
	case s == policy.Medium:
		return "warning"
	}
	return "note"
}

// sarifLocations locates path: relative to the innermost root that holds it ("." for the root
// itself), else, where it is absolute, to the file system's root, else as it is.
func sarifLocations(path string, roots, bases []string) []sarifLocation {
	var loc sarifArtifactLocation
	switch i, rel := audit.RootOf(path, roots); {
	case i >= 0:
		loc = sarifArtifactLocation{URI: uriPath(rel), URIBaseID: bases[i]}
	case path == "/":
		loc = sarifArtifactLocation{URI: ".", URIBaseID: sarifFileSystemBase}
	case strings.HasPrefix(path, "/"):
		loc = sarifArtifactLocation{URI: uriPath(path[1:]), URIBaseID: sarifFileSystemBase}
	default:
		loc = sarifArtifactLocation{URI: uriPath(path)}
	}
	return []sarifLocation{{PhysicalLocation: sarifPhysicalLocation{ArtifactLocation: loc}}}
}

// uriPath percent-encodes p as a URI's path: every byte but RFC 3986's unreserved characters,
// its sub-delimiters and '/' becomes %XX, so any name, whatever its bytes (a space, '%', '#',
// '?', ':', a newline, invalid UTF-8), decodes back to exactly itself, and a relative one is
// never read as a scheme.
func uriPath(p string) string {
	i := 0
	for i < len(p) && uriKeeps(p[i]) {
		i++
	}
	if i == len(p) {
		return p
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p) + 16)
	b.WriteString(p[:i])
	for ; i < len(p); i++ {
		if c := p[i]; uriKeeps(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// uriKeeps reports whether c stands for itself in a URI's path.
func uriKeeps(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=/", c) >= 0
}

// pascalCase is a rule id as SARIF wants a rule's name: "world-writable" is "WorldWritable".
func pascalCase(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// sentence is a catalog summary written as a sentence: capitalised, with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return strings.TrimSuffix(string(r), ".") + "."
}
