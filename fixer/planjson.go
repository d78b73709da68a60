package fixer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// PlanSchema names the JSON plan's version. Fields are only ever added to it.
const PlanSchema = "webperm/plan/v1"

type jsonPlan struct {
	Schema  string          `json:"schema"`
	Version string          `json:"version"`
	Created time.Time       `json:"created"`
	Roots   []jsonRoot      `json:"roots"`
	WebUser *access.WebUser `json:"web_user,omitempty"`
	PHPUser *access.WebUser `json:"php_user,omitempty"`
	Policy  string          `json:"policy"`
	Actions []jsonAction    `json:"actions"`
	Manual  []jsonManual    `json:"manual"`
	// Unread are the paths the audit could not read; absent from plans that read everything.
	Unread []jsonUnread `json:"unread,omitempty"`
	// What the audit held the roots to, for judging edited targets; absent from older plans.
	PolicyFile       string       `json:"policy_file,omitempty"`
	PolicyFileBase64 string       `json:"policy_file_base64,omitempty"`
	Presets          []jsonPreset `json:"presets,omitempty"`
	SysRoot          string       `json:"sysroot,omitempty"`
	SysRootBase64    string       `json:"sysroot_base64,omitempty"`
	SiteOwner        *uint32      `json:"site_owner,omitempty"`
	Writable         []string     `json:"writable,omitempty"`
}

type jsonPreset struct {
	Root       string `json:"root"`
	RootBase64 string `json:"root_base64,omitempty"`
	Preset     string `json:"preset"`
}

type jsonUnread struct {
	Path       string `json:"path"`
	PathBase64 string `json:"path_base64,omitempty"`
}

type jsonRoot struct {
	Path       string `json:"path"`
	PathBase64 string `json:"path_base64,omitempty"`
	Dev        uint64 `json:"dev"`
	Ino        uint64 `json:"ino"`
}

type jsonAction struct {
	Path       string          `json:"path"`
	PathBase64 string          `json:"path_base64,omitempty"`
	Root       string          `json:"root"`
	RootBase64 string          `json:"root_base64,omitempty"`
	Ancestor   bool            `json:"ancestor"`
	Type       walk.Type       `json:"type"`
	Dev        uint64          `json:"dev"`
	Ino        uint64          `json:"ino"`
	Current    jsonState       `json:"current"`
	Target     jsonState       `json:"target"`
	Chown      bool            `json:"chown"`
	Chmod      bool            `json:"chmod"`
	Rules      []policy.RuleID `json:"rules"`
}

type jsonManual struct {
	Path       string              `json:"path"`
	PathBase64 string              `json:"path_base64,omitempty"`
	Type       walk.Type           `json:"type"`
	Reason     string              `json:"reason"`
	Findings   []jsonManualFinding `json:"findings"`
}

type jsonManualFinding struct {
	Rule     policy.RuleID   `json:"rule"`
	Severity policy.Severity `json:"severity"`
	Message  string          `json:"message"`
}

var (
	idShape = &shape{[]shapeField{
		{name: "name"}, {name: "uid"}, {name: "gid"}, {name: "groups"}, {name: "source"}, {name: "evidence", optional: true},
	}}
	actionShape = &shape{[]shapeField{
		{name: "path"}, {name: "path_base64", optional: true}, {name: "root"}, {name: "root_base64", optional: true},
		{name: "ancestor"}, {name: "type"}, {name: "dev"}, {name: "ino"},
		{name: "current", sub: stateShape}, {name: "target", sub: stateShape},
		{name: "chown"}, {name: "chmod"}, {name: "rules"},
	}}
	manualShape = &shape{[]shapeField{
		{name: "path"}, {name: "path_base64", optional: true}, {name: "type"}, {name: "reason"},
		{name: "findings", sub: &shape{[]shapeField{{name: "rule"}, {name: "severity"}, {name: "message"}}}},
	}}
	planShape = &shape{[]shapeField{
		{name: "schema"}, {name: "version"}, {name: "created"}, {name: "roots", sub: rootShape},
		{name: "web_user", optional: true, sub: idShape}, {name: "php_user", optional: true, sub: idShape},
		{name: "policy"}, {name: "actions", sub: actionShape}, {name: "manual", sub: manualShape},
		{name: "unread", optional: true, sub: &shape{[]shapeField{{name: "path"}, {name: "path_base64", optional: true}}}},
		{name: "policy_file", optional: true}, {name: "policy_file_base64", optional: true},
		{name: "presets", optional: true, sub: &shape{[]shapeField{{name: "root"}, {name: "root_base64", optional: true}, {name: "preset"}}}},
		{name: "sysroot", optional: true}, {name: "sysroot_base64", optional: true}, {name: "site_owner", optional: true}, {name: "writable", optional: true},
	}}
)

// WriteJSON writes p as one JSON document of the webperm/plan/v1 schema: the same plan as the
// script, as data. `webperm fix --apply --plan` applies such a document exactly.
func WriteJSON(w io.Writer, p *Plan) error {
	out := jsonPlan{
		Schema: PlanSchema, Version: p.Version, Created: p.Created.UTC().Truncate(time.Second), WebUser: p.WebUser, PHPUser: p.PHPUser, Policy: p.Policy,
		Roots: make([]jsonRoot, 0, len(p.Roots)), Actions: make([]jsonAction, 0, len(p.Actions)), Manual: make([]jsonManual, 0, len(p.Manual)),
	}
	for _, r := range p.Roots {
		jr := jsonRoot{Dev: r.Dev, Ino: r.Ino}
		jr.Path, jr.PathBase64 = encodePath(r.Path)
		out.Roots = append(out.Roots, jr)
	}
	for i := range p.Actions {
		a := &p.Actions[i]
		ja := jsonAction{
			Ancestor: a.Ancestor, Type: a.Type, Dev: a.Dev, Ino: a.Ino,
			Current: newJSONState(a.Current, p.Accounts), Target: newJSONState(a.Target, p.Accounts),
			Chown: a.Chown(), Chmod: a.Chmod(), Rules: a.Rules,
		}
		ja.Path, ja.PathBase64 = encodePath(a.Path)
		ja.Root, ja.RootBase64 = encodePath(a.Root)
		out.Actions = append(out.Actions, ja)
	}
	for _, m := range p.Manual {
		jm := jsonManual{Type: m.Type, Reason: m.Reason, Findings: make([]jsonManualFinding, 0, len(m.Findings))}
		jm.Path, jm.PathBase64 = encodePath(m.Path)
		for _, f := range m.Findings {
			jm.Findings = append(jm.Findings, jsonManualFinding{Rule: f.Rule, Severity: f.Severity, Message: f.Message})
		}
		out.Manual = append(out.Manual, jm)
	}
	for _, u := range p.Unread {
		var ju jsonUnread
		ju.Path, ju.PathBase64 = encodePath(u)
		out.Unread = append(out.Unread, ju)
	}
	out.PolicyFile, out.PolicyFileBase64 = encodePath(p.Settings.PolicyFile)
	out.SysRoot, out.SysRootBase64 = encodePath(p.Settings.SysRoot)
	out.SiteOwner, out.Writable = p.Settings.SiteOwner, p.Settings.Writable
	for _, rp := range p.Settings.Presets {
		jp := jsonPreset{Preset: rp.Preset}
		jp.Root, jp.RootBase64 = encodePath(rp.Root)
		out.Presets = append(out.Presets, jp)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// ReadJSON reads a plan WriteJSON wrote, and perhaps a person then cut down, from r, which name
// names in errors. It accepts nothing it cannot apply exactly: every fault is an error that names
// the action, and a plan with one is not applied at all.
func ReadJSON(name string, r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var jp jsonPlan
	if err := dec.Decode(&jp); err != nil {
		return nil, jsonError(name, data, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: more than one JSON document: a plan is one", name)
	}
	// encoding/json takes the last of a field given twice, and matches names in any case: a
	// reviewer reads neither as what apply would do.
	if err := checkShape(data, planShape); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if jp.Schema != PlanSchema {
		return nil, fmt.Errorf("%s: schema %q: want %q, as webperm plan --format json writes", name, jp.Schema, PlanSchema)
	}
	p := &Plan{Version: jp.Version, Created: jp.Created, WebUser: jp.WebUser, PHPUser: jp.PHPUser, Policy: jp.Policy}
	var pc planChecker
	for i, jr := range jp.Roots {
		path, err := readPath("path", jr.Path, jr.PathBase64)
		if err == nil {
			err = pc.root(path)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: root %d: %w", name, i+1, err)
		}
		p.Roots = append(p.Roots, Root{Path: path, Dev: jr.Dev, Ino: jr.Ino})
	}
	for i := range jp.Actions {
		a, err := jp.Actions[i].action()
		if err == nil {
			err = pc.action(&a)
		}
		if err == nil && (jp.Actions[i].Chown != a.Chown() || jp.Actions[i].Chmod != a.Chmod()) {
			// They follow from current and target; a reviewer who edits them means something else.
			err = fmt.Errorf("chown %v and chmod %v do not follow from current and target, which say %v and %v: edit the target instead, or delete the action", jp.Actions[i].Chown, jp.Actions[i].Chmod, a.Chown(), a.Chmod())
		}
		if err != nil {
			return nil, fmt.Errorf("%s: action %d (%s): %w", name, i+1, escape(jp.Actions[i].Path), err)
		}
		p.Actions = append(p.Actions, a)
	}
	for _, jm := range jp.Manual {
		path, err := readPath("path", jm.Path, jm.PathBase64)
		if err != nil {
			return nil, fmt.Errorf("%s: manual entry %s: %w", name, escape(jm.Path), err)
		}
		m := Manual{Path: path, Type: jm.Type, Reason: jm.Reason}
		for _, f := range jm.Findings {
			m.Findings = append(m.Findings, audit.Finding{Rule: f.Rule, Severity: f.Severity, Message: f.Message, Entry: walk.Entry{Path: path, Type: jm.Type}})
		}
		p.Manual = append(p.Manual, m)
	}
	for _, ju := range jp.Unread {
		path, err := readPath("path", ju.Path, ju.PathBase64)
		if err != nil {
			return nil, fmt.Errorf("%s: unread path %s: %w", name, escape(ju.Path), err)
		}
		p.Unread = append(p.Unread, path)
	}
	if err := jp.settings(&p.Settings, &pc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// The names a plan gives its ids are for the reviewer: nothing vouches for them, so what
	// applying it prints gives the ids alone (p.Accounts stays nil).
	return p, nil
}

// settings reads what the plan's audit held its roots to into s, with pc's checks.
func (jp *jsonPlan) settings(s *Settings, pc *planChecker) error {
	s.SiteOwner = jp.SiteOwner
	if _, err := policy.WritableRules(jp.Writable); err != nil {
		return err
	}
	s.Writable = jp.Writable
	var err error
	for _, f := range []struct {
		name      string
		text, b64 string
		out       *string
	}{{"policy_file", jp.PolicyFile, jp.PolicyFileBase64, &s.PolicyFile}, {"sysroot", jp.SysRoot, jp.SysRootBase64, &s.SysRoot}} {
		if *f.out, err = readPath(f.name, f.text, f.b64); err != nil {
			return err
		}
		if *f.out != "" {
			if err := checkPath(f.name, *f.out); err != nil {
				return err
			}
		}
	}
	for i, jr := range jp.Presets {
		rp := audit.RootPreset{Preset: jr.Preset}
		if rp.Root, err = readPath("root", jr.Root, jr.RootBase64); err == nil {
			err = pc.preset(s, rp)
		}
		if err != nil {
			return fmt.Errorf("preset %d: %w", i+1, err)
		}
	}
	return nil
}

// action reads one action; planChecker.action checks it.
func (ja *jsonAction) action() (Action, error) {
	var a Action
	var err error
	if a.Path, err = readPath("path", ja.Path, ja.PathBase64); err != nil {
		return a, err
	}
	if a.Root, err = readPath("root", ja.Root, ja.RootBase64); err != nil {
		return a, err
	}
	a.Ancestor, a.Type, a.Dev, a.Ino, a.Rules = ja.Ancestor, ja.Type, ja.Dev, ja.Ino, ja.Rules
	if a.Current, err = ja.Current.state(); err != nil {
		return a, fmt.Errorf("current: %w", err)
	}
	if a.Target, err = ja.Target.state(); err != nil {
		return a, fmt.Errorf("target: %w", err)
	}
	return a, nil
}

// planChecker holds a plan read from a file, JSON or sh, to what webperm could have planned,
// root by root and action by action, in the file's order.
type planChecker struct {
	roots   map[string]bool
	seen    map[string]bool // the actions' paths
	presets map[string]bool // the roots with a preset
}

// root checks a root's path: clean, absolute, and listed once.
func (pc *planChecker) root(path string) error {
	if err := checkPath("path", path); err != nil {
		return err
	}
	if pc.roots[path] {
		return fmt.Errorf("%s is listed twice", escape(path))
	}
	if pc.roots == nil {
		pc.roots = map[string]bool{}
	}
	pc.roots[path] = true
	return nil
}

// action checks an action: in a root of the plan, where checkPlace allows, by known rules, with
// something to change, and the plan's only action for its path.
func (pc *planChecker) action(a *Action) error {
	if !pc.roots[a.Root] {
		return fmt.Errorf("root %s is not among the plan's roots", escape(a.Root))
	}
	if err := checkPlace(a.Path, a.Root, a.Ancestor, a.Type); err != nil {
		return err
	}
	for _, r := range a.Rules {
		if _, ok := policy.Lookup(r); !ok {
			return fmt.Errorf("unknown rule %q", r)
		}
	}
	if !a.Chown() && !a.Chmod() {
		return errors.New("target equals current: nothing to change")
	}
	if pc.seen[a.Path] {
		return errors.New("a second action for this path: a plan changes each entry once")
	}
	if pc.seen == nil {
		pc.seen = map[string]bool{}
	}
	pc.seen[a.Path] = true
	return nil
}

// preset checks rp, the preset the plan's audit held a root to, and adds it to s: a known preset,
// for a root of the plan that has none yet.
func (pc *planChecker) preset(s *Settings, rp audit.RootPreset) error {
	switch {
	case !pc.roots[rp.Root]:
		return fmt.Errorf("root %s is not among the plan's roots", escape(rp.Root))
	case !policy.IsPreset(rp.Preset):
		return fmt.Errorf("%q is no preset webperm knows", rp.Preset)
	case pc.presets[rp.Root]:
		return fmt.Errorf("root %s has a preset already", escape(rp.Root))
	}
	if pc.presets == nil {
		pc.presets = map[string]bool{}
	}
	pc.presets[rp.Root] = true
	s.Presets = append(s.Presets, rp)
	return nil
}

// jsonError names where in data a decoding error lies, as name:line:column.
func jsonError(name string, data []byte, err error) error {
	var offset int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: ends before the plan does: the file is empty or cut short", name)
	}
	if offset < 0 {
		return fmt.Errorf("%s: %w", name, err)
	}
	line, col := lineCol(data, offset)
	return fmt.Errorf("%s:%d:%d: %w", name, line, col, err)
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(data []byte, offset int64) (line, col int) {
	offset = min(offset, int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}
