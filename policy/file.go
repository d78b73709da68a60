package policy

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Version is the policy file format's version, the document's `version:`.
const Version = 1

// Error is one fault in a policy file, where it lies and, where one helps, what to write instead.
type Error struct {
	File         string
	Line, Column int    // 1-based; Column 0 when the YAML parser gives only the line
	Key          string // where in the document: rules[2].file_mode
	Msg          string
	Hint         string
}

func (e *Error) Error() string {
	pos := fmt.Sprintf("%s:%d", e.File, e.Line)
	if e.Column > 0 {
		pos += fmt.Sprintf(":%d", e.Column)
	}
	if e.Key == "" {
		return pos + ": " + e.Msg
	}
	return pos + ": " + e.Key + ": " + e.Msg
}

// HintText is advice for the user, printed on its own line.
func (e *Error) HintText() string { return e.Hint }

// ParseError is every fault found in one policy file, in document order.
type ParseError struct {
	Errs []*Error
}

func (e *ParseError) Error() string {
	lines := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each fault.
func (e *ParseError) Unwrap() []error {
	errs := make([]error, len(e.Errs))
	for i, err := range e.Errs {
		errs[i] = err
	}
	return errs
}

// Parse reads a policy file. name is how errors name the file. The result keeps the file's base
// preset in Base; Resolve combines the two.
func Parse(name string, data []byte) (*Policy, error) {
	d := &decoder{file: name}
	p := d.document(data)
	if len(d.errs) > 0 {
		// A waiver's missing fields are found after the faults inside it, at its first line.
		slices.SortStableFunc(d.errs, func(a, b *Error) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, &ParseError{Errs: d.errs}
	}
	return p, nil
}

type decoder struct {
	file string
	errs []*Error
}

func (d *decoder) fail(n *yaml.Node, key, hint, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Column: n.Column, Key: key, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// yamlLine finds the line number in the YAML library's error messages ("yaml: line 3: ...").
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlParserProblem matches the problems of the YAML library's parser, as opposed to its scanner:
// for these its "line N" counts from 0.
var yamlParserProblem = regexp.MustCompile(`^(did not find expected (<document start>|<stream-start>|key|node content|'-' indicator|',' or '[\]}]')|found (duplicate %(TAG|YAML) directive|incompatible YAML document|undefined tag handle))`)

// yamlUnknownAnchor matches the YAML library's message for an alias, *name, with no anchor; it
// gives no line.
var yamlUnknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// syntaxError turns the YAML library's error for data into a fault on the line it concerns.
func (d *decoder) syntaxError(data []byte, err error) *Error {
	e := &Error{File: d.file, Line: 1, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = strings.TrimPrefix(err.Error(), m[0])
		if yamlParserProblem.MatchString(e.Msg) {
			e.Line++
		}
	} else if m := yamlUnknownAnchor.FindStringSubmatch(e.Msg); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			e.Line = bytes.Count(data[:i], []byte("\n")) + 1
		}
	}
	e.Msg = "not valid YAML: " + e.Msg
	if strings.Contains(e.Msg, "anchor") || strings.Contains(e.Msg, "alias") || strings.Contains(e.Msg, "alphabetic or numeric") {
		e.Hint = `quote a glob that begins with *: paths: "*.key"`
	}
	return e
}

func (d *decoder) document(data []byte) *Policy {
	var doc, next yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&doc)
	if err == nil {
		// yaml.Unmarshal would drop a second document, and the rules in it, without a word.
		err = dec.Decode(&next)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		d.errs = append(d.errs, d.syntaxError(data, err))
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		d.errs = append(d.errs, &Error{File: d.file, Line: 1, Column: 1, Msg: "the policy file is empty", Hint: "start from 'webperm policy init', which writes a commented policy"})
		return nil
	}
	if next.Kind != 0 {
		d.fail(&next, "", "keep the whole policy in one document: remove the ---", "a second YAML document: a policy file holds one")
	}
	root := doc.Content[0]
	p := &Policy{Name: d.file}
	version := false
	d.mapping(root, "", []string{"version", "preset", "identities", "rules", "waivers", "exclude"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "version":
			version = true
			if s, ok := d.scalar(v, key); ok && s != strconv.Itoa(Version) {
				d.fail(v, key, "", "unsupported version %q: this webperm reads version %d", s, Version)
			}
		case "preset":
			if s, ok := d.scalar(v, key); ok {
				if s != Auto && !IsPreset(s) {
					d.fail(v, key, "", "unknown preset %q (want %s)", s, strings.Join(PresetChoices(), ", "))
				}
				p.Base = s
			}
		case "identities":
			p.Identities = d.identities(v)
		case "rules":
			d.sequence(v, key, func(i int, item *yaml.Node) {
				p.Rules = append(p.Rules, d.rule(item, fmt.Sprintf("rules[%d]", i)))
			})
		case "waivers":
			d.sequence(v, key, func(i int, item *yaml.Node) {
				p.Waivers = append(p.Waivers, d.waiver(item, fmt.Sprintf("waivers[%d]", i)))
			})
		case "exclude":
			d.strings(v, key, func(n *yaml.Node, at, s string) {
				if err := CheckExclude(s); err != nil {
					d.fail(n, at, "exclude: lists globs relative to each root, such as exclude: [cache/, ./tmp, \"*.log\"]", "%s", strings.TrimPrefix(err.Error(), "exclude "))
					return
				}
				p.Exclude = append(p.Exclude, Exclusion{Glob: s, Origin: fmt.Sprintf("%s:%d", d.file, n.Line)})
			})
		}
	})
	if root.Kind == yaml.MappingNode && !version {
		d.fail(root, "", fmt.Sprintf("add 'version: %d' at the top", Version), "missing version: the policy file format's version")
	}
	return p
}

// mapping calls each for every key of n, a mapping, after checking the key is one of keys and
// is not repeated.
func (d *decoder) mapping(n *yaml.Node, at string, keys []string, each func(key string, k, v *yaml.Node)) {
	if !d.plain(n, at) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, at, "", "want a mapping of %s", strings.Join(keys, ", "))
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := join(at, k.Value)
		switch {
		case !d.plain(k, at) || !d.plain(v, key):
			continue
		case k.Kind != yaml.ScalarNode || !slices.Contains(keys, k.Value):
			d.fail(k, at, "", "unknown key %q (want %s)", k.Value, strings.Join(keys, ", "))
		case seen[k.Value]:
			d.fail(k, at, "", "key %q repeated: keep one", k.Value)
		default:
			seen[k.Value] = true
			each(k.Value, k, v)
		}
	}
}

// plain rejects anchors, aliases and merge keys: a policy is read by people, so each value is
// written where it applies.
func (d *decoder) plain(n *yaml.Node, at string) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" || n.Tag == "!!merge" {
		d.fail(n, at, "write the value out where it applies", "anchors, aliases and merge keys are not supported in policy files")
		return false
	}
	return true
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func (d *decoder) sequence(n *yaml.Node, at string, each func(i int, item *yaml.Node)) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, at, "", "want a list (items begin with '- ')")
		return
	}
	for i, item := range n.Content {
		if d.plain(item, fmt.Sprintf("%s[%d]", at, i)) {
			each(i, item)
		}
	}
}

func (d *decoder) scalar(n *yaml.Node, at string) (string, bool) {
	switch {
	case n.Kind != yaml.ScalarNode:
		d.fail(n, at, "", "want a single value")
		return "", false
	case n.Tag == "!!null":
		d.fail(n, at, "", "empty value: give one, or leave the key out")
		return "", false
	}
	return n.Value, true
}

// strings reads a value or a list of values; empty values are errors.
func (d *decoder) strings(n *yaml.Node, at string, check func(n *yaml.Node, at, s string)) []string {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
		if len(items) == 0 {
			d.fail(n, at, "", "empty list: give at least one value")
		}
	}
	var out []string
	for i, item := range items {
		key := at
		if n.Kind == yaml.SequenceNode {
			key = fmt.Sprintf("%s[%d]", at, i)
		}
		s, ok := d.scalar(item, key)
		if !ok || !d.plain(item, key) {
			continue
		}
		if s == "" {
			d.fail(item, key, "", "empty value")
			continue
		}
		check(item, key, s)
		out = append(out, s)
	}
	return out
}

func (d *decoder) identities(n *yaml.Node) Identities {
	var ids Identities
	d.mapping(n, "identities", []string{"web_user", "web_group", "php_user", "owner", "group"}, func(key string, _, v *yaml.Node) {
		at := "identities." + key
		switch key {
		case "web_user", "web_group", "php_user":
			s, ok := d.scalar(v, at)
			if !ok {
				return
			}
			d.account(v, at, s)
			switch key {
			case "web_user":
				ids.WebUser = s
			case "web_group":
				ids.WebGroup = s
			default:
				ids.PHPUser = s
			}
		case "owner":
			ids.Owner = d.strings(v, at, d.ownerSpec)
		case "group":
			ids.Group = d.strings(v, at, d.ownerSpec)
		}
	})
	return ids
}

// accountName is what useradd accepts, loosely: a name, never a path or an option.
var accountName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$|^[0-9]{1,10}$`)

func (d *decoder) account(n *yaml.Node, at, s string) {
	if !accountName.MatchString(s) {
		d.fail(n, at, "", "%q is not a user or group name or number", s)
	}
}

// ownerSpec checks an expected owner or group: site, web, php, a name or a number.
func (d *decoder) ownerSpec(n *yaml.Node, at, s string) {
	switch s {
	case OwnerSite, OwnerWeb, OwnerPHP:
		return
	}
	if !accountName.MatchString(s) {
		d.fail(n, at, "", "%q is not an owner: want site, web, php, a name or a number", s)
	}
}

// The owner and group keywords a policy may use besides names and numbers.
const (
	OwnerSite = DefaultOwner // the owner of the audited root (for groups: that owner's primary group)
	OwnerWeb  = "web"        // the web server's user or group
	OwnerPHP  = "php"        // PHP's user or group
)

var ruleKeys = []string{"paths", "file_mode", "dir_mode", "web", "php", "owner", "group", "sensitive", "writable", "severity", "content", "top_level"}

func (d *decoder) rule(n *yaml.Node, at string) Rule {
	r := Rule{Origin: fmt.Sprintf("%s:%d", d.file, n.Line)}
	d.mapping(n, at, ruleKeys, func(key string, _, v *yaml.Node) {
		k := at + "." + key
		switch key {
		case "paths":
			r.Paths = d.strings(v, k, d.glob)
		case "file_mode":
			r.FileMax = d.mode(v, k, key)
		case "dir_mode":
			r.DirMax = d.mode(v, k, key)
		case "web", "php":
			if s, ok := d.scalar(v, k); ok {
				need, err := ParseNeed(s)
				if err != nil {
					d.fail(v, k, "", "%v", err)
				}
				if key == "web" {
					r.Web = &need
				} else {
					r.PHP = &need
				}
			}
		case "owner":
			r.Owner = d.strings(v, k, d.ownerSpec)
		case "group":
			r.Group = d.strings(v, k, d.ownerSpec)
		case "sensitive":
			r.Sensitive = d.boolean(v, k)
		case "writable":
			r.Writable = d.boolean(v, k)
		case "severity":
			r.Severity = d.severities(v, k)
		case "content":
			if s, ok := d.scalar(v, k); ok {
				c, err := ParseCondition(s)
				if err != nil {
					d.fail(v, k, "a content condition names what clears a secret's name: a *.sql file without data, a config that only includes others", "%v", err)
				}
				r.Content = c
			}
		case "top_level":
			if b := d.boolean(v, k); b != nil {
				r.TopLevel = *b
			}
		}
	})
	return r
}

func (d *decoder) glob(n *yaml.Node, at, s string) {
	if !validGlob(s) {
		d.fail(n, at, "globs are doublestar patterns: *, **, ?, [abc], {a,b}", "invalid glob %q", s)
	}
}

func (d *decoder) mode(n *yaml.Node, at, key string) *fs.FileMode {
	s, ok := d.scalar(n, at)
	if !ok {
		return nil
	}
	if n.Tag == "!!int" && n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0 {
		quoted := fmt.Sprintf("%04s", strings.TrimLeft(strings.TrimPrefix(s, "0o"), "0"))
		hint := fmt.Sprintf("write modes as quoted strings: %s: \"%s\"", key, quoted)
		if len(quoted) > 4 || strings.Trim(quoted, "01234567") != "" {
			hint = fmt.Sprintf("write modes as quoted octal strings, such as %s: \"0644\"", key)
		}
		d.fail(n, at, hint, "%s is a bare number, which YAML reads as decimal, not octal", s)
		return nil
	}
	m, err := ParseMode(s)
	if err != nil {
		d.fail(n, at, "", "%v", err)
		return nil
	}
	return &m
}

func (d *decoder) boolean(n *yaml.Node, at string) *bool {
	s, ok := d.scalar(n, at)
	if !ok {
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil || n.Tag != "!!bool" {
		d.fail(n, at, "", "%q: want true or false", s)
		return nil
	}
	return &b
}

func (d *decoder) severities(n *yaml.Node, at string) map[RuleID]Severity {
	out := make(map[RuleID]Severity)
	if !d.plain(n, at) {
		return out
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, at, "", "want a mapping of rule ids to severities, such as mode-too-open: low")
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		id, ok := d.ruleID(k, at)
		if !ok || !d.plain(v, at+"."+k.Value) {
			continue
		}
		if _, dup := out[id]; dup {
			d.fail(k, at, "", "rule %q repeated: keep one", id)
			continue
		}
		s, ok := d.scalar(v, at+"."+k.Value)
		if !ok {
			continue
		}
		sev, err := ParseSeverity(s)
		if err != nil {
			d.fail(v, at+"."+k.Value, "", "%v", err)
			continue
		}
		out[id] = sev
	}
	return out
}

func (d *decoder) ruleID(n *yaml.Node, at string) (RuleID, bool) {
	s, ok := d.scalar(n, at)
	if !ok || !d.plain(n, at) {
		return "", false
	}
	if _, known := Lookup(RuleID(s)); !known {
		hint := "'webperm policy show' lists every rule id"
		if near := nearestRuleID(s); near != "" {
			hint = fmt.Sprintf("did you mean %s?", near)
		}
		d.fail(n, at, hint, "unknown rule id %q", s)
		return "", false
	}
	return RuleID(s), true
}

// nearestRuleID returns the catalog's id closest to s, if a typo away.
func nearestRuleID(s string) RuleID {
	best, bestDist := RuleID(""), 4
	for _, r := range Catalog {
		if dist := editDistance(s, string(r.ID)); dist < bestDist {
			best, bestDist = r.ID, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (d *decoder) waiver(n *yaml.Node, at string) Waiver {
	w := Waiver{Origin: fmt.Sprintf("%s:%d", d.file, n.Line)}
	d.mapping(n, at, []string{"rule", "paths", "reason", "expires"}, func(key string, _, v *yaml.Node) {
		k := at + "." + key
		switch key {
		case "rule":
			w.Rule, _ = d.ruleID(v, k)
		case "paths":
			w.Paths = d.strings(v, k, d.glob)
		case "reason":
			if s, ok := d.scalar(v, k); ok {
				w.Reason = strings.TrimSpace(s)
			}
		case "expires":
			if s, ok := d.scalar(v, k); ok {
				if _, err := time.Parse(DateLayout, s); err != nil {
					d.fail(v, k, "write the last day the waiver holds, such as expires: 2027-03-31", "%q is not a date", s)
				} else {
					w.Expires = s
				}
			}
		}
	})
	if n.Kind == yaml.MappingNode {
		for _, m := range []struct {
			missing bool
			what    string
			hint    string
		}{
			{w.Rule == "" && !d.has(n, "rule"), "rule", "name the rule id the waiver accepts, such as rule: mode-too-open"},
			{len(w.Paths) == 0 && !d.has(n, "paths"), "paths", "name the paths it covers, such as paths: wp-content/cache/**"},
			{w.Reason == "", "reason", "say why the finding is accepted, and who decided"},
			{w.Expires == "" && !d.has(n, "expires"), "expires date", "a waiver ends: give its last day, such as expires: 2027-03-31"},
		} {
			if m.missing {
				d.fail(n, at, m.hint, "waiver has no %s", m.what)
			}
		}
	}
	return w
}

// has reports whether mapping n has key.
func (d *decoder) has(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}
