package policy

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// presetGlobs are the globs of every preset's rules and waivers, those --writable makes, and a
// few a policy file may hold that no preset does: every shape compileGlob knows and the ones it
// leaves to doublestar.
func presetGlobs(t testing.TB) []string {
	seen := map[string]bool{}
	for _, name := range Presets() {
		p, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Rules {
			for _, g := range r.Paths {
				seen[g] = true
			}
		}
		for _, w := range p.Waivers {
			for _, g := range w.Paths {
				seen[g] = true
			}
		}
	}
	writable, err := WritableRules([]string{"wp-content/uploads", "sites/*/files/", "data/**", "./cache"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range writable {
		for _, g := range r.Paths {
			seen[g] = true
		}
	}
	for _, g := range extraGlobs {
		seen[g] = true
	}
	globs := make([]string, 0, len(seen))
	for g := range seen {
		globs = append(globs, g)
	}
	slices.Sort(globs)
	return globs
}

// extraGlobs are globs no preset holds that a policy file may: the quirks of doublestar (a*/**
// does not match a, a/**/* does not match a/), alternatives, classes, escapes, several stars and
// doublestars, non-ASCII.
var extraGlobs = []string{
	"/", "/**", "/*", "**", "*", "**/", "*/", ".", "./", "./*", "./**", "./.", "a*/**", "a*b/**", "*/**",
	"a/**/*", "a/**/b", "**/a", "**/a/b", "**/*.php", "a/**/b/**", "a/**/b/**/c", "a/*/b/*/c",
	"a*b*c", "*a*", "*.*", "a/*b*/c", "**.php", "a**", "a/**b", "{a,b}", "*.{php,phtml}", "?",
	"a?c", "[abc]", "[!a]*", "[^a]x", "[a-c]*.tar", "\\*", "a\\/b", "é*", "*é", "日本/**",
	"*\uFFFD", "uploads/**/", "/home/*/", "/home*/*/public_html/", "/srv/**/x.php", "a/b/", "a/b",
	"**/uploads/**", "x/**/y/", "*~", ".env.*", "id_*.pub", "sites/*/settings.*.php",
}

// oddNames are names an audited tree may hold that no glob names: dots, brackets, stars, spaces,
// non-ASCII, invalid UTF-8, U+FFFD.
var oddNames = []string{
	"x", ".", "..", "...", ".x", "a", "b", "c", "ab", "abc", "a.b", "a b", "-", "~", "#x#", "x~",
	"*", "**", "?", "[abc]", "{a,b}", "\\", "a\\b", "é", "é.php", "日本", "\xff", "\xc3", "a\xffb",
	"\xef\xbf\xbd", "x.\xff", "Backup-1.tar", "backup.tar.gz", "[Bb]ackup.tar", "x.PHP", "x.php.",
	"uploads", "wp-content", "2024", "index.php", "shell.phtml", "id_rsa.pub", ".env.local",
}

// globPaths makes paths near what globs name: each glob with its stars and doublestars filled
// in several ways, its slashes and dots kept or dropped, below a directory or not, and the
// names around it varied.
func globPaths(globs []string, rng *rand.Rand) []string {
	set := map[string]bool{}
	add := func(p string) {
		set[p] = true
		set[strings.TrimPrefix(p, "./")] = true
		set[strings.TrimSuffix(p, "/")] = true
	}
	fills := []string{"", "x", "é", "a.b", "\xff", "x/y", "/"}
	for _, g := range globs {
		for _, f := range fills {
			p := strings.ReplaceAll(g, "**", f)
			for _, f2 := range fills[:5] {
				q := strings.ReplaceAll(p, "*", f2)
				q = strings.NewReplacer("?", "q", "[", "", "]", "", "{", "", "}", "", ",", "").Replace(q)
				add(q)
				add("d/" + q)
				add(q + "/z")
				if len(q) > 1 {
					add(q[1:])
					add(q[:len(q)-1])
				}
			}
		}
	}
	for range 2000 {
		depth := 1 + rng.IntN(4)
		parts := make([]string, depth)
		for i := range parts {
			if rng.IntN(3) == 0 {
				parts[i] = oddNames[rng.IntN(len(oddNames))]
			} else {
				g := globs[rng.IntN(len(globs))]
				seg := strings.Split(strings.Trim(g, "./"), "/")
				parts[i] = strings.ReplaceAll(seg[rng.IntN(len(seg))], "*", oddNames[rng.IntN(len(oddNames))])
			}
		}
		add(strings.Join(parts, "/"))
	}
	for _, p := range []string{"", ".", "/", "//", "a//b", "/a", "a/", "./a", "../a", "a/../b", "a/./b"} {
		add(p)
	}
	paths := make([]string, 0, len(set))
	for p := range set {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}

// TestCompiledGlobsMatchAsDoublestar holds every glob a preset, --writable or a policy file may
// hold, compiled, to matchGlob, which asks doublestar, on a large set of paths near what they
// name: relative and absolute, files and directories, the root and the directories above it.
func TestCompiledGlobsMatchAsDoublestar(t *testing.T) {
	globs := presetGlobs(t)
	paths := globPaths(globs, rand.New(rand.NewPCG(14, 14)))
	t.Logf("%d globs, %d paths", len(globs), len(paths))
	checked, matched := 0, 0
	for _, g := range globs {
		c := compileGlob(g)
		for _, p := range paths {
			abs := "/" + strings.TrimPrefix(p, "/")
			for _, tc := range [][2]string{{p, "/srv/www/" + p}, {p, abs}, {"", p}, {".", abs}} {
				for _, isDir := range []bool{false, true} {
					want := matchGlob(g, tc[0], tc[1], isDir)
					if got := matchSubject(&c, tc[0], tc[1], isDir); got != want {
						t.Errorf("glob %q (shape %d) on rel %q abs %q dir=%v: compiled %v, doublestar %v", g, c.shape, tc[0], tc[1], isDir, got, want)
					}
					checked++
					if want {
						matched++
					}
				}
			}
		}
	}
	t.Logf("%d matches checked, %d of them true", checked, matched)
	if matched < checked/100 {
		t.Errorf("only %d of %d checks matched: the paths are too far from the globs to test them", matched, checked)
	}
}

// TestPresetGlobsCompiled checks that the presets' globs do not fall back to doublestar, where
// an audit would spend its time, but for the character classes ([Bb]ackup*.tar), which their
// literal runs keep from doublestar for nearly every name.
func TestPresetGlobsCompiled(t *testing.T) {
	for _, g := range presetGlobs(t) {
		if slices.Contains(extraGlobs, g) {
			continue
		}
		c := compileGlob(g)
		switch {
		case c.shape != shapeDoublestar:
		case strings.Contains(g, "[") && len(c.need) > 0:
		default:
			t.Errorf("preset glob %q is left to doublestar", g)
		}
	}
	for g, want := range map[string]shape{
		"wp-config.php": shapeLiteral, "*.php": shapeStar, "id_*.pub": shapeStar, "wp-content/uploads/**": shapeTree,
		"**/": shapeAny, "sites/*/files/**": shapeSegments, "images/**/*.php": shapeSegments, "/home*/*/": shapeSegments,
		"a*/**": shapeDoublestar, "{a,b}": shapeDoublestar, "a/**/b/**": shapeDoublestar,
	} {
		if got := compileGlob(g).shape; got != want {
			t.Errorf("compileGlob(%q).shape = %d, want %d", g, got, want)
		}
	}
}

// oracleFor is For as it was before globs were compiled: every rule's globs handed to
// doublestar for every path.
func oracleFor(p *Policy, rel, abs string, isDir bool, content Content) Settings {
	s := p.base()
	for i := range p.Rules {
		if r := &p.Rules[i]; r.Matches(rel, abs, isDir) {
			s.take(r, isDir, content)
		}
	}
	return s
}

// oracleForAncestor is ForAncestor as it was before globs were compiled.
func oracleForAncestor(p *Policy, abs string) Settings {
	s := oracleFor(p, ".", "", true, ContentUnread)
	s.Web, s.PHP, s.Matched = NeedSearch, NeedSearch, false
	for i := range p.Rules {
		r := &p.Rules[i]
		if r.TopLevel || r.Content != ContentUnread {
			continue
		}
		for _, g := range r.Paths {
			if strings.HasPrefix(g, "/") && matchGlob(g, "", abs, true) {
				s.apply(r)
				break
			}
		}
	}
	return s
}

// TestForMatchesDoublestar holds For, ForContent and ForAncestor of every preset, and of two
// combined, to what they gave when every glob went to doublestar.
func TestForMatchesDoublestar(t *testing.T) {
	// A third of the paths TestCompiledGlobsMatchAsDoublestar holds each glob to, so that
	// fifteen policies take seconds.
	var paths []string
	for i, p := range globPaths(presetGlobs(t), rand.New(rand.NewPCG(1, 4))) {
		if i%3 == 0 {
			paths = append(paths, p)
		}
	}
	for _, b := range wordpressPaths() {
		paths = append(paths, b.rel)
	}
	for _, name := range append(Presets(), "cpanel+wordpress", "plesk+phpmyadmin") {
		p, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, rel := range paths {
			abs := "/home/alice/public_html/" + rel
			for _, isDir := range []bool{false, true} {
				contents := []Content{ContentUnread, ContentSQLSchema, ContentPHPIncludeOnly}
				if isDir {
					contents = contents[:1] // a rule with a content condition never applies to a directory
				}
				for _, content := range contents {
					if got, want := p.ForContent(rel, abs, isDir, content), oracleFor(p, rel, abs, isDir, content); !reflect.DeepEqual(got, want) {
						t.Fatalf("%s: ForContent(%q, %q, %v, %v) = %+v, doublestar gave %+v", name, rel, abs, isDir, content, got, want)
					}
				}
			}
			abs = "/" + strings.TrimPrefix(rel, "/")
			if got, want := p.ForAncestor(abs), oracleForAncestor(p, abs); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: ForAncestor(%q) = %+v, doublestar gave %+v", name, abs, got, want)
			}
		}
	}
}

// TestManyRulesMatchAsDoublestar checks a policy with more rules than the index takes, which
// asks each rule in turn.
func TestManyRulesMatchAsDoublestar(t *testing.T) {
	p, err := Preset("cpanel+wordpress")
	if err != nil {
		t.Fatal(err)
	}
	for len(p.Rules) <= maxIndexed {
		p.Rules = append(p.Rules, p.Rules...)
	}
	for _, b := range wordpressPaths() {
		abs := "/home/alice/public_html/" + b.rel
		if got, want := p.For(b.rel, abs, b.dir), oracleFor(p, b.rel, abs, b.dir, ContentUnread); !reflect.DeepEqual(got, want) {
			t.Fatalf("For(%q) = %+v, doublestar gave %+v", b.rel, got, want)
		}
	}
}

// TestForConcurrent asks For of one policy from several goroutines at once, its first
// compilation among them, as an audit's walkers may (go test -race).
func TestForConcurrent(t *testing.T) {
	p, err := Preset("wordpress")
	if err != nil {
		t.Fatal(err)
	}
	paths := wordpressPaths()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, b := range paths {
				if got, want := p.For(b.rel, "", b.dir), oracleFor(p, b.rel, "", b.dir, ContentUnread); !reflect.DeepEqual(got, want) {
					t.Errorf("For(%q) = %+v, doublestar gave %+v", b.rel, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestRulesReplacedAreCompiledAgain checks that a policy whose rules were replaced, or appended
// to in place, matches by its new rules, not by those it first compiled.
func TestRulesReplacedAreCompiledAgain(t *testing.T) {
	yes := true
	rules := make([]Rule, 1, 4)
	rules[0] = Rule{Paths: []string{"*.key"}, Sensitive: &yes}
	p := &Policy{Rules: rules}
	if !p.For("a.key", "", false).Sensitive || p.For("a.pem", "", false).Sensitive {
		t.Fatal("*.key: want a.key sensitive, a.pem not")
	}
	p.Rules = append(p.Rules, Rule{Paths: []string{"*.pem"}, Sensitive: &yes}) // same array
	if !p.For("a.pem", "", false).Sensitive {
		t.Error("a rule appended in place was not compiled")
	}
	p.Rules = []Rule{{Paths: []string{"*.crt"}, Sensitive: &yes}}
	if p.For("a.key", "", false).Sensitive || !p.For("a.crt", "", false).Sensitive {
		t.Error("replaced rules were not compiled")
	}
}

// TestWithCopiesThePolicy checks that With keeps every field of the policy and only adds rules.
func TestWithCopiesThePolicy(t *testing.T) {
	p, err := Preset("wordpress")
	if err != nil {
		t.Fatal(err)
	}
	p.Base = "default"
	p.For("wp-config.php", "", false) // compiled, and not carried over
	yes := true
	extra := Rule{Paths: []string{"x/**"}, Writable: &yes}
	q := p.With(extra)
	pv, qv := reflect.ValueOf(p).Elem(), reflect.ValueOf(q).Elem()
	for i := range pv.NumField() {
		f := pv.Type().Field(i)
		switch {
		case !f.IsExported():
		case f.Name == "Rules":
			if want := append(slices.Clone(p.Rules), extra); !reflect.DeepEqual(q.Rules, want) {
				t.Errorf("With: rules differ")
			}
		case !reflect.DeepEqual(pv.Field(i).Interface(), qv.Field(i).Interface()):
			t.Errorf("With: field %s = %v, want %v", f.Name, qv.Field(i), pv.Field(i))
		}
	}
	if !q.For("x/y", "", false).Writable || p.For("x/y", "", false).Writable {
		t.Error("With: the added rule applies to the copy alone")
	}
}

// FuzzMatcher holds a compiled glob to doublestar on any glob and path.
func FuzzMatcher(f *testing.F) {
	for _, g := range presetGlobs(f) {
		f.Add(g, "wp-content/uploads/2024/x.php", false)
	}
	for _, n := range oddNames {
		f.Add("*"+n, "d/"+n, true)
	}
	f.Fuzz(func(t *testing.T, glob, rel string, isDir bool) {
		c := compileGlob(glob)
		// Beside the glob, in the same policy, a rule the index always asks.
		p := &Policy{Rules: []Rule{{Paths: []string{"*~"}}, {Paths: []string{glob}}}}
		for _, tc := range [][2]string{{rel, "/srv/" + rel}, {rel, rel}, {"", rel}} {
			want := matchGlob(glob, tc[0], tc[1], isDir)
			if got := matchSubject(&c, tc[0], tc[1], isDir); got != want {
				t.Errorf("glob %q (shape %d) on rel %q abs %q dir=%v: compiled %v, doublestar %v", glob, c.shape, tc[0], tc[1], isDir, got, want)
			}
			want = want || matchGlob("*~", tc[0], tc[1], isDir)
			if got := p.For(tc[0], tc[1], isDir).Matched; got != want {
				t.Errorf("glob %q beside *~ in a policy on rel %q abs %q dir=%v: matched %v, doublestar %v", glob, tc[0], tc[1], isDir, got, want)
			}
		}
	})
}

func matchSubject(g *glob, rel, abs string, isDir bool) bool {
	s := newSubject(rel, abs, isDir)
	return g.match(&s)
}
