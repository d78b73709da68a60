// Package policy owns what webperm holds a web root against: the rule catalog and severities, the
// Policy type with its ordered, glob-matched rules and waivers, the embedded presets, and reading
// and validating policy files. It never touches a file system; audit asks it, for one path, which
// settings apply.
package policy

import (
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/bmatcuk/doublestar/v4"
)

// Policy is an ordered list of rules. For each path every matching rule is applied in order, so
// the last rule that sets a value wins, as in .gitignore.
type Policy struct {
	// Name says where the policy comes from: a preset's name, or a policy file's path.
	Name string
	// Base is the preset a policy file builds on (preset:): its rules come first. None for a
	// file that stands alone; empty where the file does not say, and --preset decides.
	Base       string
	Identities Identities
	// Rules may be replaced or appended to; a rule's globs must not change once the policy
	// has matched a path, since they are compiled then.
	Rules   []Rule
	Waivers []Waiver
	// Exclude are the paths audits of it leave out (exclude:), in order.
	Exclude []Exclusion

	// compiled is Rules compiled for matching, made by the first For.
	compiled atomic.Pointer[matcher]
}

// Identities are who the web server and PHP run as, and who should own the site's content. Empty
// fields leave the choice to the command line, then to detection.
type Identities struct {
	WebUser, WebGroup, PHPUser string
	// Owner and Group say who the site's owner and group are, which rules call "site" (default:
	// the owner of each audited root, and that owner's primary group).
	Owner, Group []string
}

// Need is the access an identity must have to a path.
type Need uint8

const (
	// NeedNone asks nothing: the identity has no business there.
	NeedNone Need = iota
	// NeedSearch asks it to pass through a directory to what lies below, which is served from
	// there; nothing in the directory itself is (a home above public_html, a project above
	// public/).
	NeedSearch
	// NeedRead asks it to read files and search directories, and to reach them.
	NeedRead
	// NeedWrite asks it to read and also to write: change files, add entries to directories.
	NeedWrite
)

var needNames = [...]string{NeedNone: "none", NeedSearch: "search", NeedRead: "read", NeedWrite: "write"}

func (n Need) String() string {
	if int(n) < len(needNames) {
		return needNames[n]
	}
	return fmt.Sprintf("need(%d)", n)
}

// ParseNeed reads none, search, read or write.
func ParseNeed(s string) (Need, error) {
	for n, name := range needNames {
		if s == name {
			return Need(n), nil
		}
	}
	return 0, fmt.Errorf("unknown access %q (want none, search, read or write)", s)
}

// Rule sets values for the paths its globs match; a nil field leaves the value as earlier rules
// set it.
//
// A glob without a slash matches an entry's name at any depth (*.key); a glob with a slash matches
// the path relative to the root (wp-content/uploads/**); a glob that begins with a slash matches
// the absolute path on the audited system (/home/*/), and so can hold the directories above a
// root too; a trailing slash restricts a glob to directories (.git/). "." is the root itself;
// a glob that begins with ./ matches from the root, as one with a slash does (./data/ is the
// directory data at the top, not every directory named data).
// Globs are doublestar patterns.
type Rule struct {
	Paths     []string // no globs: every path below the root
	FileMax   *fs.FileMode
	DirMax    *fs.FileMode
	Web, PHP  *Need
	Owner     []string // "site", "web", "php", a name or a number; nil leaves it
	Group     []string
	Sensitive *bool
	Writable  *bool
	Severity  map[RuleID]Severity
	// Content, unless ContentUnread, is a condition: the rule applies only to a regular file whose
	// first bytes the audit read and found to hold that (content: sql-schema). Such a rule says
	// what holds where a file does not hold what its name suggests; a file that was not or could
	// not be read keeps the earlier rules' settings.
	Content Content
	// TopLevel restricts the rule to the entries directly in the audited root (top_level: true),
	// where a web root's stray archives and logs lie, not those of the application's own
	// directories.
	TopLevel bool
	// Origin is where the rule was written ("wordpress.yaml:42"), for messages.
	Origin string
}

// Settings are the values in force for one path once every matching rule has been applied.
type Settings struct {
	// FileMax and DirMax are the widest modes allowed: permission bits plus the special bits
	// (setuid, setgid, sticky) the policy permits.
	FileMax, DirMax fs.FileMode
	// Web and PHP are the access the web server's user and PHP's user need here. Where PHP runs
	// as the web user, the web user needs both.
	Web, PHP Need
	// Owner and Group are who may own the path: "site" (the root's owner, or for a group that
	// owner's primary group), "web", "php", names or numbers.
	Owner, Group []string
	// Sensitive paths hold secrets or code history; others must never read them.
	Sensitive bool
	// Writable paths are where the web server or PHP may write (uploads, caches): there the web
	// or PHP user may own and change content, and its group may write.
	Writable bool
	// Matched is set when some rule matched the path; a directory above the root is held to the
	// policy only where an absolute glob names it.
	Matched bool
	// Sniff names the readers the audit must run on the file's first bytes, since a rule with a
	// content condition matches its path: For's settings hold until the audit knows what the
	// file holds and asks ForContent.
	Sniff    Sniff
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

// DefaultOwner is what a path's owner and group are expected to be where no rule says: the owner
// of the audited root.
const DefaultOwner = "site"

// For returns the settings that apply to rel, a slash-separated path relative to the audited root
// ("." for the root itself). abs is the same path on the audited system, for absolute globs; ""
// matches none.
func (p *Policy) For(rel, abs string, isDir bool) Settings {
	return p.ForContent(rel, abs, isDir, ContentUnread)
}

// ForContent is For for a file whose first bytes show it holds content: the rules with that
// content condition apply too.
func (p *Policy) ForContent(rel, abs string, isDir bool, content Content) Settings {
	s := p.base()
	subj := newSubject(rel, abs, isDir)
	p.matcher().each(p.Rules, &subj, func(i int) { s.take(&p.Rules[i], isDir, content) })
	return s
}

// take applies r, a rule that matched, unless its content condition holds it back: a rule with
// one never applies to a directory, and applies to a file only once it shows that content, but
// asks for the file to be read.
func (s *Settings) take(r *Rule, isDir bool, content Content) {
	if r.Content != ContentUnread {
		if isDir {
			return
		}
		s.Sniff |= sniffFor(r.Content)
		if r.Content != content {
			return
		}
	}
	s.apply(r)
}

// ForAncestor returns the settings of a directory above the audited root, abs on the audited
// system. It starts from the root's settings with the web server and PHP needing only to search
// it, on their way down; then rules with absolute globs apply, and Matched says whether one did.
func (p *Policy) ForAncestor(abs string) Settings {
	s := p.For(".", "", true)
	s.Web, s.PHP, s.Matched = NeedSearch, NeedSearch, false
	m, subj := p.matcher(), newSubject("", abs, true)
	for i := range p.Rules {
		r, c := &p.Rules[i], &m.rules[i]
		if r.TopLevel || r.Content != ContentUnread {
			continue
		}
		for _, j := range c.abs {
			if c.globs[j].match(&subj) {
				s.apply(r)
				break
			}
		}
	}
	return s
}

// With returns a copy of p with rules held after its own (the command line's --writable).
func (p *Policy) With(rules ...Rule) *Policy {
	return &Policy{Name: p.Name, Base: p.Base, Identities: p.Identities, Rules: append(slices.Clone(p.Rules), rules...), Waivers: p.Waivers, Exclude: p.Exclude}
}

// siteOnly is the expectation where nothing else is said, shared so that For allocates nothing.
var siteOnly = []string{DefaultOwner}

// base is what holds where no rule says: no limit on modes, no access needed, the site's owner.
func (p *Policy) base() Settings {
	return Settings{FileMax: ModeBits, DirMax: ModeBits, Owner: siteOnly, Group: siteOnly}
}

func (s *Settings) apply(r *Rule) {
	s.Matched = true
	if r.FileMax != nil {
		s.FileMax = *r.FileMax
	}
	if r.DirMax != nil {
		s.DirMax = *r.DirMax
	}
	if r.Web != nil {
		s.Web = *r.Web
	}
	if r.PHP != nil {
		s.PHP = *r.PHP
	}
	if r.Owner != nil {
		s.Owner = r.Owner
	}
	if r.Group != nil {
		s.Group = r.Group
	}
	if r.Sensitive != nil {
		s.Sensitive = *r.Sensitive
	}
	if r.Writable != nil {
		s.Writable = *r.Writable
	}
	switch {
	case len(r.Severity) == 0:
	case s.severity == nil:
		s.severity = r.Severity // shared, never written: most paths meet one rule with severities
	default:
		merged := make(map[RuleID]Severity, len(s.severity)+len(r.Severity))
		maps.Copy(merged, s.severity)
		maps.Copy(merged, r.Severity)
		s.severity = merged
	}
}

// Matches reports whether the rule applies to rel (abs on the audited system).
func (r *Rule) Matches(rel, abs string, isDir bool) bool {
	if r.TopLevel && (rel == "" || rel == "." || strings.Contains(rel, "/")) {
		return false
	}
	if len(r.Paths) == 0 {
		return true
	}
	return matchAny(r.Paths, rel, abs, isDir)
}

func matchAny(globs []string, rel, abs string, isDir bool) bool {
	for _, g := range globs {
		if matchGlob(g, rel, abs, isDir) {
			return true
		}
	}
	return false
}

func matchGlob(glob, rel, abs string, isDir bool) bool {
	if strings.HasSuffix(glob, "/") && glob != "/" {
		if !isDir {
			return false
		}
		glob = strings.TrimSuffix(glob, "/")
	}
	name := rel
	switch {
	case strings.HasPrefix(glob, "/"):
		name = abs
	case rel == "":
		return false
	case strings.HasPrefix(glob, "./"):
		// ./data names the path from the root, as data/x would: the entry data at the top, not
		// every entry named data.
		glob = strings.TrimPrefix(glob, "./")
	case rel == "." && !strings.Contains(glob, "/"):
		// The root has no name: only "." and the match-alls name it, never .* or *.key.
		return glob == "." || strings.Trim(glob, "*") == ""
	case !strings.Contains(glob, "/"):
		name = path.Base(rel)
	}
	if name == "" {
		return false
	}
	ok, err := doublestar.Match(glob, name)
	return ok && err == nil
}

// validGlob reports whether glob is a doublestar pattern webperm can match: paths are clean, so
// a glob with an empty, "." or ".." part (uploads/./x, a//b) would never match anything. A
// leading ./ is the one "." allowed: it anchors the glob at the root.
func validGlob(glob string) bool {
	if glob == "" {
		return false
	}
	if glob != "/" {
		glob = strings.TrimSuffix(glob, "/")
	}
	if rest, ok := strings.CutPrefix(glob, "./"); ok && rest != "" {
		glob = rest // ./data: data at the top of the root
	}
	if glob != "." && glob != "/" {
		for i, part := range strings.Split(glob, "/") {
			if (part == "" && i > 0) || part == "." || part == ".." {
				return false
			}
		}
	}
	return doublestar.ValidatePattern(glob)
}

// Validate checks that every glob of the policy is well formed.
func (p *Policy) Validate() error {
	for i, r := range p.Rules {
		for _, g := range r.Paths {
			if !validGlob(g) {
				return fmt.Errorf("rule %d: invalid glob %q", i+1, g)
			}
		}
	}
	return nil
}
