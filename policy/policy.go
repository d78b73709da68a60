// Package policy owns what webperm holds a web root against: the rule catalog and severities, the
// Policy type with its ordered, glob-matched rules, and the embedded default. It never touches a
// file system; audit asks it, for one path, which settings apply.
package policy

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Policy is an ordered list of rules. For each path every matching rule is applied in order, so
// the last rule that sets a value wins, as in .gitignore.
type Policy struct {
	Name  string
	Rules []Rule
}

// Rule sets values for the paths its globs match; a nil field leaves the value as earlier rules
// set it.
//
// A glob without a slash matches an entry's name at any depth (*.key); a glob with a slash matches
// the path relative to the root (wp-content/uploads/**); a trailing slash restricts a glob to
// directories (.git/). Globs are doublestar patterns.
type Rule struct {
	Paths     []string // no globs: every path
	FileMax   *fs.FileMode
	DirMax    *fs.FileMode
	Sensitive *bool
	Writable  *bool
	Severity  map[RuleID]Severity
}

// Settings are the values in force for one path once every matching rule has been applied.
type Settings struct {
	// FileMax and DirMax are the widest modes allowed: permission bits plus the special bits
	// (setuid, setgid, sticky) the policy permits.
	FileMax, DirMax fs.FileMode
	// Sensitive paths hold secrets or code history; others must never read them.
	Sensitive bool
	// Writable paths are where the web server or PHP may write (uploads, caches): there the web
	// user may own and change content.
	Writable bool
	severity map[RuleID]Severity
}

// Max returns the widest mode allowed for a directory or for anything else.
func (s *Settings) Max(isDir bool) fs.FileMode {
	if isDir {
		return s.DirMax
	}
	return s.FileMax
}

// Severity returns the severity of rule id for this path: the policy's override, else the
// catalog's default.
func (s *Settings) Severity(id RuleID) Severity {
	if sev, ok := s.severity[id]; ok {
		return sev
	}
	info, _ := Lookup(id)
	return info.Severity
}

// For returns the settings that apply to rel, a slash-separated path relative to the audited root
// ("." for the root itself).
func (p *Policy) For(rel string, isDir bool) Settings {
	var s Settings
	for i := range p.Rules {
		r := &p.Rules[i]
		if !r.Matches(rel, isDir) {
			continue
		}
		if r.FileMax != nil {
			s.FileMax = *r.FileMax
		}
		if r.DirMax != nil {
			s.DirMax = *r.DirMax
		}
		if r.Sensitive != nil {
			s.Sensitive = *r.Sensitive
		}
		if r.Writable != nil {
			s.Writable = *r.Writable
		}
		for id, sev := range r.Severity {
			if s.severity == nil {
				s.severity = make(map[RuleID]Severity)
			}
			s.severity[id] = sev
		}
	}
	return s
}

// Matches reports whether the rule applies to rel.
func (r *Rule) Matches(rel string, isDir bool) bool {
	if len(r.Paths) == 0 {
		return true
	}
	for _, g := range r.Paths {
		if matchGlob(g, rel, isDir) {
			return true
		}
	}
	return false
}

func matchGlob(glob, rel string, isDir bool) bool {
	if strings.HasSuffix(glob, "/") {
		if !isDir {
			return false
		}
		glob = strings.TrimSuffix(glob, "/")
	}
	name := rel
	if !strings.Contains(glob, "/") {
		name = path.Base(rel)
	}
	ok, err := doublestar.Match(glob, name)
	return ok && err == nil
}

// Validate checks that every glob of the policy is well formed.
func (p *Policy) Validate() error {
	for i, r := range p.Rules {
		for _, g := range r.Paths {
			if !doublestar.ValidatePattern(strings.TrimSuffix(g, "/")) {
				return fmt.Errorf("rule %d: invalid glob %q", i+1, g)
			}
		}
	}
	return nil
}
