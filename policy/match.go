package policy

import (
	"math/bits"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
)

// matcher is a policy's rules with their globs compiled, built once for the rules it was made
// from: an audit asks For once per entry, and matching each glob afresh took a quarter of its
// time. A compiled glob answers exactly as matchGlob does (the doublestar pattern it reads);
// TestCompiledGlobsMatchAsDoublestar and FuzzMatcher hold the two together.
type matcher struct {
	// first and n are the rules it was compiled from, so a policy whose rules were replaced or
	// appended to is compiled again.
	first *Rule
	n     int
	rules []compiledRule
	index ruleIndex
}

// ruleIndex says which rules a path may meet, by what every match of some of their globs
// holds: a name (.env), an extension (*.php), or a first part (wp-content/uploads/**, or
// /etc/… for an absolute glob). Most paths meet a handful of a preset's hundred rules; the
// others are never asked.
type ruleIndex struct {
	// all are the rules without globs, which every path below the root meets.
	all []int
	// loose are the rules with globs that have no key, asked about every path.
	loose []int
	// by holds, for each kind of key, the rules with a glob keyed so, in order.
	by [keyKinds]map[string][]int
}

// keyKind is what a glob's key is.
type keyKind uint8

const (
	keyName     keyKind = iota // the name of every entry it matches (.env)
	keyExt                     // the extension of their names, after the last dot (php)
	keyFirst                   // the first part of their paths relative to the root (wp-content)
	keyAbsFirst                // the first part of their absolute paths (etc)
	keyKinds
	keyNone = keyKinds // none: every path must be asked
)

// maxIndexed is how many rules the index handles: one bit each, on the stack.
const maxIndexed = 64 * 8

type compiledRule struct {
	// all is set for a rule without globs: it applies to every path below the root.
	all   bool
	globs []glob
	// abs are the indexes in globs of the absolute ones, those ForAncestor holds.
	abs []int
	// loose are the indexes in globs of those without a key, which the index cannot rule out.
	loose []int
}

func compileRules(rules []Rule) *matcher {
	m := &matcher{n: len(rules), rules: make([]compiledRule, len(rules))}
	if len(rules) > 0 {
		m.first = &rules[0]
	}
	for i := range rules {
		c := &m.rules[i]
		c.all = len(rules[i].Paths) == 0
		c.globs = make([]glob, len(rules[i].Paths))
		for j, g := range rules[i].Paths {
			c.globs[j] = compileGlob(g)
			if c.globs[j].target == targetAbs {
				c.abs = append(c.abs, j)
			}
		}
	}
	m.index = indexRules(m.rules)
	return m
}

func indexRules(rules []compiledRule) ruleIndex {
	var x ruleIndex
	for k := range x.by {
		x.by[k] = map[string][]int{}
	}
	for i := range rules {
		c := &rules[i]
		if c.all {
			x.all = append(x.all, i)
			continue
		}
		for j := range c.globs {
			kind, key := c.globs[j].key()
			if kind == keyNone {
				c.loose = append(c.loose, j)
				continue
			}
			if list := x.by[kind][key]; len(list) == 0 || list[len(list)-1] != i {
				x.by[kind][key] = append(list, i)
			}
		}
		if len(c.loose) > 0 {
			x.loose = append(x.loose, i)
		}
	}
	return x
}

// key returns what every path the glob matches holds, other than the root and the directories
// above it, which For asks every rule about.
func (g *glob) key() (keyKind, string) {
	switch {
	case g.shape == shapeDoublestar || g.shape == shapeAny:
		return keyNone, ""
	case g.target == targetBase && g.shape == shapeLiteral:
		return keyName, g.lit
	case g.target == targetBase:
		// *.php, id_*.pub: a name that ends in a suffix with a dot has that suffix's extension.
		if g.shape == shapeStar {
			if dot := strings.LastIndexByte(g.suf, '.'); dot >= 0 {
				return keyExt, g.suf[dot+1:]
			}
		}
		return keyNone, ""
	}
	// A glob whose first part is a literal followed by a slash, or a literal alone, matches only
	// paths with that first part: a/**, a/b*, a/*/c, a/b, a.
	kind, rest := keyFirst, g.pattern
	if g.target == targetAbs {
		kind, rest = keyAbsFirst, rest[1:]
	}
	first, _, slash := strings.Cut(rest, "/")
	if first == "" || strings.Contains(first, "*") || (!slash && g.shape != shapeLiteral) {
		return keyNone, ""
	}
	return kind, first
}

// ruleSet is a set of rules by their index, one bit each.
type ruleSet [maxIndexed / 64]uint64

func (set *ruleSet) add(i int)      { set[i/64] |= 1 << (i % 64) }
func (set *ruleSet) has(i int) bool { return set[i/64]&(1<<(i%64)) != 0 }

func (set *ruleSet) addAll(list []int) {
	for _, i := range list {
		set.add(i)
	}
}

// each calls fn with the index of every rule of p that s meets, in order.
func (m *matcher) each(rules []Rule, s *subject, fn func(i int)) {
	if s.base == "" || m.n > maxIndexed {
		// The root and the directories above it, which name globs see differently, or more
		// rules than the index takes: every rule is asked.
		for i := range rules {
			if m.rules[i].matches(&rules[i], s) {
				fn(i)
			}
		}
		return
	}
	// The rules s may meet by its keys, asked in full below; and those it meets by a glob
	// without a key, known to match once one does.
	var maybe, met ruleSet
	x := &m.index
	maybe.addAll(x.all)
	maybe.addAll(x.by[keyName][s.base])
	if dot := strings.LastIndexByte(s.base, '.'); dot >= 0 {
		maybe.addAll(x.by[keyExt][s.base[dot+1:]])
	}
	first, _, _ := strings.Cut(s.rel, "/")
	maybe.addAll(x.by[keyFirst][first])
	first, _, _ = strings.Cut(strings.TrimPrefix(s.abs, "/"), "/")
	maybe.addAll(x.by[keyAbsFirst][first])
	for _, i := range x.loose {
		if r, c := &rules[i], &m.rules[i]; !maybe.has(i) && (!r.TopLevel || s.top) {
			for _, j := range c.loose {
				if c.globs[j].match(s) {
					met.add(i)
					break
				}
			}
		}
	}
	for w := range maybe {
		for word := maybe[w] | met[w]; word != 0; word &= word - 1 {
			i := w*64 + bits.TrailingZeros64(word)
			if met.has(i) || m.rules[i].matches(&rules[i], s) {
				fn(i)
			}
		}
	}
}

// compiledFrom reports whether m was compiled from rules.
func (m *matcher) compiledFrom(rules []Rule) bool {
	if m == nil || m.n != len(rules) {
		return false
	}
	return m.n == 0 || m.first == &rules[0]
}

// matcher returns p's rules compiled, compiling them the first time and again whenever the
// rules were replaced. Concurrent callers may each compile; they compile the same.
func (p *Policy) matcher() *matcher {
	if m := p.compiled.Load(); m.compiledFrom(p.Rules) {
		return m
	}
	m := compileRules(p.Rules)
	p.compiled.Store(m)
	return m
}

// subject is a path as globs see it, worked out once for all of them.
type subject struct {
	rel, abs string
	base     string // path.Base(rel), for globs without a slash; "" where rel is "" or "."
	isDir    bool
	top      bool // rel is an entry directly in the root
}

func newSubject(rel, abs string, isDir bool) subject {
	s := subject{rel: rel, abs: abs, isDir: isDir}
	if rel != "" && rel != "." {
		s.base = path.Base(rel)
		s.top = !strings.Contains(rel, "/")
	}
	return s
}

// matches is Rule.Matches for the rule r compiled as c.
func (c *compiledRule) matches(r *Rule, s *subject) bool {
	if r.TopLevel && !s.top {
		return false
	}
	if c.all {
		return true
	}
	for i := range c.globs {
		if c.globs[i].match(s) {
			return true
		}
	}
	return false
}

// target is what a glob is matched against.
type target uint8

const (
	targetRel  target = iota // the path relative to the root (a glob with a slash, or ./x)
	targetBase               // the entry's name (a glob without a slash)
	targetAbs                // the absolute path on the audited system (/home/*/)
)

// shape is how a compiled glob matches a name; each shape answers as doublestar does for the
// patterns compileGlob gives it, and shapeDoublestar is doublestar itself.
type shape uint8

const (
	shapeLiteral    shape = iota // name == lit
	shapeAny                     // **: any name
	shapeStar                    // pre*suf: one star, which never matches a slash
	shapeTree                    // lit/**: lit and everything below it
	shapeSegments                // slash-separated parts of literals and stars, at most one ** part
	shapeDoublestar              // anything else ({a,b}, [abc], ?, escapes): doublestar.Match
)

// glob is one glob of a rule, compiled.
type glob struct {
	target  target
	dirOnly bool // it ended in a slash: only directories match
	// root is whether a name glob matches the root itself ("." and the match-alls do).
	root bool
	shape
	pattern  string // the doublestar pattern matched against the name
	lit, suf string // shapeLiteral's and shapeTree's lit; shapeStar's pre (lit) and suf
	// parts are shapeSegments' parts; parts[double] is the ** part, double is -1 where none is.
	parts  []string
	double int
	// need is what shapeDoublestar's name must hold for doublestar to be asked at all: a literal
	// run of the pattern each, which every match contains; needPre and needSuf are the runs it
	// must begin and end with. They spare most names the call: [Bb]ackup*.tar needs "ackup".
	need             []string
	needPre, needSuf string
}

// compileGlob compiles a rule's glob as matchGlob reads it.
func compileGlob(src string) glob {
	g := glob{pattern: src}
	if strings.HasSuffix(g.pattern, "/") && g.pattern != "/" {
		g.dirOnly = true
		g.pattern = strings.TrimSuffix(g.pattern, "/")
	}
	switch {
	case strings.HasPrefix(g.pattern, "/"):
		g.target = targetAbs
	case strings.HasPrefix(g.pattern, "./"):
		g.pattern = strings.TrimPrefix(g.pattern, "./")
	case !strings.Contains(g.pattern, "/"):
		g.target = targetBase
		g.root = g.pattern == "." || strings.Trim(g.pattern, "*") == ""
	}
	g.shape = shapeDoublestar
	pat := g.pattern
	if strings.ContainsAny(pat, "?[]{}\\") || !utf8.ValidString(pat) || strings.ContainsRune(pat, utf8.RuneError) {
		// Byte comparison is rune comparison only for valid UTF-8 without U+FFFD, which
		// doublestar also reads where a name holds invalid UTF-8.
		g.compileNeeds()
		return g
	}
	parts := strings.Split(pat, "/")
	double, stars := -1, strings.Count(pat, "*")
	for i, part := range parts {
		switch {
		case part == "**":
			if double >= 0 {
				return g // two ** parts: doublestar
			}
			double = i
		case strings.Contains(part, "**"):
			return g // ** within a part is a star to doublestar, with quirks of its own
		case part == "" && i > 0:
			return g // an empty part, which validGlob refuses
		}
	}
	switch {
	case stars == 0:
		g.shape, g.lit = shapeLiteral, pat
	case pat == "**":
		g.shape = shapeAny
	case stars == 1:
		g.shape = shapeStar
		g.lit, g.suf, _ = strings.Cut(pat, "*")
	case double == len(parts)-1 && stars == 2:
		g.shape, g.lit = shapeTree, strings.TrimSuffix(pat, "/**")
	case double == len(parts)-1 && strings.HasSuffix(parts[double-1], "*"):
		// a*/** does not match a, as doublestar reads it, though a/** matches a: doublestar.
	default:
		g.shape, g.parts, g.double = shapeSegments, parts, double
	}
	return g
}

// compileNeeds finds what a name must hold for a pattern doublestar matches: the literal runs
// outside classes, between wildcards and slashes. Where the pattern has alternatives or escapes
// nothing is asked.
func (g *glob) compileNeeds() {
	pat := g.pattern
	if strings.ContainsAny(pat, "{}\\") || !utf8.ValidString(pat) || strings.ContainsRune(pat, utf8.RuneError) || !doublestar.ValidatePattern(pat) {
		return
	}
	var runs []string
	first, last := true, false
	for i := 0; i < len(pat); {
		switch c := pat[i]; c {
		case '*', '?', '/':
			first, last = false, false
			i++
		case '[':
			// A class ends at the first ] after its first member: without escapes that is the
			// next ] past i+1, or i+2 after a negation.
			j := i + 2
			if j < len(pat) && (pat[i+1] == '!' || pat[i+1] == '^') {
				j++
			}
			k := strings.IndexByte(pat[min(j, len(pat)):], ']')
			if k < 0 {
				g.need, g.needPre, g.needSuf = nil, "", ""
				return
			}
			first, last = false, false
			i = j + k + 1
		default:
			j := i
			for j < len(pat) && !strings.ContainsRune("*?/[", rune(pat[j])) {
				j++
			}
			run := pat[i:j]
			if first {
				g.needPre = run
			}
			runs = append(runs, run)
			first, last = false, j == len(pat)
			i = j
		}
	}
	if last {
		g.needSuf = runs[len(runs)-1]
	}
	g.need = runs
}

// match is matchGlob(src, s.rel, s.abs, s.isDir) for the glob src compiled as g.
func (g *glob) match(s *subject) bool {
	if g.dirOnly && !s.isDir {
		return false
	}
	name := s.rel
	switch {
	case g.target == targetAbs:
		name = s.abs
	case s.rel == "":
		return false
	case g.target != targetBase:
	case s.rel == ".":
		return g.root
	default:
		name = s.base
	}
	if name == "" {
		return false
	}
	return g.matchName(name)
}

// matchName is doublestar.Match(g.pattern, name), name not empty.
func (g *glob) matchName(name string) bool {
	switch g.shape {
	case shapeLiteral:
		return name == g.lit
	case shapeAny:
		return true
	case shapeStar:
		pre, suf := g.lit, g.suf
		return len(name) >= len(pre)+len(suf) && strings.HasPrefix(name, pre) && strings.HasSuffix(name, suf) &&
			strings.IndexByte(name[len(pre):len(name)-len(suf)], '/') < 0
	case shapeTree:
		return strings.HasPrefix(name, g.lit) && (len(name) == len(g.lit) || name[len(g.lit)] == '/')
	case shapeSegments:
		return g.matchSegments(name)
	}
	if !strings.HasPrefix(name, g.needPre) || !strings.HasSuffix(name, g.needSuf) {
		return false
	}
	for _, run := range g.need {
		if !strings.Contains(name, run) {
			return false
		}
	}
	ok, err := doublestar.Match(g.pattern, name)
	return ok && err == nil
}

// matchSegments matches name part by part. Without a ** part, name has as many parts as the
// glob and each matches its own; with ** last, name's first parts match those before it, and
// more may follow; with ** before the end, the parts before it match name's first ones, then
// name's last parts, below at least one more, match those after it.
func (g *glob) matchSegments(name string) bool {
	parts := g.parts
	if g.double < 0 {
		return matchParts(parts, name)
	}
	// The parts before **, each followed by a slash, except the last where ** ends the glob.
	for i, part := range parts[:g.double] {
		j := strings.IndexByte(name, '/')
		if g.double == len(parts)-1 && i == g.double-1 {
			if j < 0 {
				j = len(name)
			}
			return matchPart(part, name[:j])
		}
		if j < 0 || !matchPart(part, name[:j]) {
			return false
		}
		name = name[j+1:]
	}
	if name == "" {
		return false // a/**/x never matches a/, though x could be empty
	}
	// ** then the last parts of name, as many as follow **: they begin after the slash before
	// them, or at the start of what is left.
	after := parts[g.double+1:]
	end := len(name)
	for range after[1:] {
		if end = strings.LastIndexByte(name[:end], '/'); end < 0 {
			return false
		}
	}
	start := strings.LastIndexByte(name[:end], '/') + 1
	return matchParts(after, name[start:])
}

// matchParts matches name, part by part, against parts: as many of each, each matching.
func matchParts(parts []string, name string) bool {
	for i, part := range parts {
		j := strings.IndexByte(name, '/')
		if i == len(parts)-1 {
			return j < 0 && matchPart(part, name)
		}
		if j < 0 || !matchPart(part, name[:j]) {
			return false
		}
		name = name[j+1:]
	}
	return false
}

// matchPart matches one part of a name (no slash) against one part of a glob of literals and
// stars, byte by byte: a literal of valid UTF-8 begins only where doublestar's rune-by-rune
// star can stop.
func matchPart(pattern, name string) bool {
	px, nx := 0, 0
	nextPx, nextNx := 0, 0
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			c := pattern[px]
			if c == '*' {
				nextPx, nextNx = px, nx+1
				px++
				continue
			}
			if nx < len(name) && name[nx] == c {
				px++
				nx++
				continue
			}
		}
		if 0 < nextNx && nextNx <= len(name) {
			px, nx = nextPx, nextNx
			continue
		}
		return false
	}
	return true
}
