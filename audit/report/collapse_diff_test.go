package report

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// oldCollapse is the collapse as it was before it became one streaming pass (5887a43^): every
// subtree, outermost first, over findings all in memory. The streaming collapser must choose the
// same groups and show the same findings in them.
func oldCollapse(r *audit.Report) (groups []collapsed, of []int) {
	of = make([]int, len(r.Findings))
	for i := range of {
		of[i] = -1
	}
	subs := slices.Clone(r.Subtrees)
	slices.SortFunc(subs, func(a, b audit.Subtree) int {
		return cmp.Or(cmp.Compare(a.First, b.First), cmp.Compare(b.End, a.End), cmp.Compare(len(a.Path), len(b.Path)))
	})
	type tally struct {
		key   string
		n     int
		mixed bool
		first int
	}
	for _, s := range subs {
		if s.Entries+1 < collapseMin || s.First < 0 || s.End > len(r.Findings) || s.First > s.End {
			continue
		}
		var rules []policy.RuleID
		tallies := make(map[policy.RuleID]*tally)
		consistent := true
		for i := s.First; i < s.End && consistent; i++ {
			f := &r.Findings[i]
			if consistent = f.Entry.Path != s.Path && walk.Within(f.Entry.Path, s.Path); !consistent {
				break
			}
			t := tallies[f.Rule]
			if t == nil {
				t = &tally{key: findingKey(f, r.Accounts), first: i}
				tallies[f.Rule] = t
				rules = append(rules, f.Rule)
			} else if !t.mixed && findingKey(f, r.Accounts) != t.key {
				t.mixed = true
			}
			t.n++
		}
		if !consistent {
			continue
		}
		for _, rule := range rules {
			t := tallies[rule]
			if t.mixed || t.n != s.Entries || of[t.first] >= 0 {
				continue
			}
			g := collapsed{dir: s.Path, entries: t.n, first: t.first}
			own := -1
			for j := s.First - 1; j >= 0 && r.Findings[j].Entry.Path == s.Path; j-- {
				if f := &r.Findings[j]; f.Rule == rule && of[j] < 0 && findingKey(f, r.Accounts) == t.key {
					own = j
				}
			}
			if own >= 0 {
				g.included, g.entries, g.first = true, g.entries+1, own
			}
			if g.entries < collapseMin {
				continue
			}
			if own >= 0 {
				of[own] = len(groups)
			}
			for i := s.First; i < s.End; i++ {
				if r.Findings[i].Rule == rule {
					of[i] = len(groups)
				}
			}
			groups = append(groups, g)
		}
	}
	return groups, of
}

// randomTree is a literal tree of random shape under top, with random findings: few rules,
// messages and fixes, so that subtrees often share one and often do not.
func randomTree(rng *rand.Rand, top string) []node {
	rules := []string{string(policy.WorldWritable), string(policy.WebUserOwns), string(policy.ModeTooOpen)}
	msgs := []string{"m", "m", "m", "$ is open", "other"}
	fixes := []string{"", "", "=0644", "=0640"}
	found := func() []string {
		if rng.IntN(12) == 0 {
			return nil
		}
		var out []string
		for _, r := range rules {
			if rng.IntN(3) > 0 || (len(out) == 0 && r == rules[0]) {
				msg := msgs[rng.IntN(len(msgs))]
				if rng.IntN(8) > 0 {
					msg = "m"
				}
				f := r + "=" + msg
				if fx := fixes[rng.IntN(len(fixes))]; fx != "" {
					f += fx
				}
				out = append(out, f)
			}
		}
		return out
	}
	nodes := []node{{top, found()}}
	var add func(dir string, depth int)
	add = func(dir string, depth int) {
		n := 1 + rng.IntN(4)
		for i := range n {
			// Names that are prefixes of each other: a, ab.
			name := []string{"a", "ab", "b", "c", "d"}[i]
			if depth > 0 && rng.IntN(2) == 0 {
				sub := dir + name + "/"
				nodes = append(nodes, node{sub, found()})
				add(sub, depth-1)
			} else {
				nodes = append(nodes, node{dir + name, found()})
			}
		}
	}
	add(top, 1+rng.IntN(4))
	return nodes
}

// randomReport joins the literal reports of one to three roots, each after findings of the
// directories above it, as a multi-root audit's report is; a root may lie in another.
func randomReport(rng *rand.Rand) *audit.Report {
	r := &audit.Report{}
	tops := []string{"/s/", "/s/a/", "/t/", "/s/ab/"}
	for range 1 + rng.IntN(3) {
		top := tops[rng.IntN(len(tops))]
		for _, up := range walk.PathTo(strings.TrimSuffix(top, "/")) {
			if up != strings.TrimSuffix(top, "/") && rng.IntN(2) == 0 {
				r.Findings = append(r.Findings, audit.Finding{Rule: policy.WorldWritable, Severity: policy.High, Message: "m", Entry: walk.Entry{Path: up, Type: walk.TypeDir}})
			}
		}
		base := len(r.Findings)
		one := literalReport(randomTree(rng, top))
		r.Roots = append(r.Roots, one.Roots...)
		r.Findings = append(r.Findings, one.Findings...)
		for _, s := range one.Subtrees {
			s.First += base
			s.End += base
			r.Subtrees = append(r.Subtrees, s)
		}
	}
	return r
}

// sameCollapse fails t unless the streaming collapse of r chooses the groups oldCollapse
// chooses, and shows each finding in the same group; it returns how many groups there are.
func sameCollapse(t *testing.T, r *audit.Report) int {
	t.Helper()
	oldGroups, oldOf := oldCollapse(r)
	c, err := collapse(r)
	if err != nil {
		t.Fatal(err)
	}
	name := func(g collapsed) string {
		return fmt.Sprintf("%s %s included=%v entries=%d first=%d", r.Findings[g.first].Rule, g.dir, g.included, g.entries, g.first)
	}
	var want, got []string
	for _, g := range oldGroups {
		want = append(want, name(g))
	}
	for _, g := range c.groups {
		got = append(got, name(g))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("groups\n%s\nwant\n%s\nfindings:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), dump(r))
	}
	for i := range r.Findings {
		g, og := c.of(i, r.Findings[i].Rule), oldOf[i]
		if (g < 0) != (og < 0) || g >= 0 && name(c.groups[g]) != name(oldGroups[og]) {
			gs, ogs := "none", "none"
			if g >= 0 {
				gs = name(c.groups[g])
			}
			if og >= 0 {
				ogs = name(oldGroups[og])
			}
			t.Fatalf("finding %d (%s %s) shown in %s, want %s\nfindings:\n%s", i, r.Findings[i].Rule, r.Findings[i].Entry.Path, gs, ogs, dump(r))
		}
	}
	return len(want)
}

// The same on what the tracer makes of random web roots, audited one to three at a time (a root
// inside another among them): its subtrees, its tree findings, its missing indexes.
func TestCollapseAsBeforeOnAudits(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 4))
	groups := 0
	for n := range 300 {
		fsys := fixture.NewMemFs()
		roots := fixture.RandomRoots(t, rng, fsys)
		if fi, err := fsys.Stat(roots[0] + "/lib"); err == nil && fi.IsDir() && rng.IntN(2) == 0 {
			roots = append(roots, roots[0]+"/lib") // a root inside another
		}
		a := randomAuditor(fsys)
		r, err := a.Run(context.Background(), roots)
		if err != nil {
			t.Fatalf("tree %d: %v", n, err)
		}
		groups += sameCollapse(t, r)
	}
	if groups < 100 {
		t.Errorf("only %d groups in all: the random trees do not exercise the collapse", groups)
	}
}

// The streaming collapse chooses exactly the groups the collapse over findings in memory chose,
// and shows each finding in the same group, on thousands of random trees and multi-root reports.
func TestCollapseAsBefore(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 3))
	groupsSeen := 0
	for range 4000 {
		groupsSeen += sameCollapse(t, randomReport(rng))
	}
	if groupsSeen < 1000 {
		t.Errorf("only %d groups in all: the random trees do not exercise the collapse", groupsSeen)
	}
}

func dump(r *audit.Report) string {
	var b strings.Builder
	for i, f := range r.Findings {
		fmt.Fprintf(&b, "  %d %s %s %q\n", i, f.Entry.Path, f.Rule, f.Message)
	}
	for _, s := range r.Subtrees {
		fmt.Fprintf(&b, "  subtree %s entries=%d [%d,%d)\n", s.Path, s.Entries, s.First, s.End)
	}
	return b.String()
}
