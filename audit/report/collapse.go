package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// collapseMin is the fewest entries a collapsed subtree stands for: fewer are listed one by one,
// since a collapsed line would save nothing.
const collapseMin = 3

// A collapsed subtree is a directory D and a rule where every entry below D (at any depth) has
// a finding of that rule with the same finding key: the same rule, severity, message once the
// entry's own path in it is replaced, fix as the report shows it (the same chown and chmod
// commands), and expired waiver. D itself belongs to the group when its own finding of the rule
// has the same key; otherwise it is listed on its own, as is any other finding of the entries.
// Entries below D with no finding at all, or that could not be read, stop the collapse. The
// collapse is made at the highest such directory, and only where it stands for collapseMin
// entries or more. Reports with --expand, and the JSON report, list every finding.
type collapsed struct {
	dir      string // the directory, as the findings' paths have it
	rule     policy.RuleID
	included bool // the directory's own finding is one of the group's
	entries  int  // the entries the group stands for, the directory included where it is
	first    int  // the index of the group's first finding: where it is shown
	own      int  // the index of the directory's own finding, where it is included; -1 otherwise
	// start and end are the range of the findings below the directory: the group holds every
	// finding of its rule there.
	start, end int
}

// findingKey is what two findings must share to be shown as one: see collapsed.
func findingKey(f *audit.Finding, a *access.Accounts) string {
	msg := f.Message
	if p := f.Entry.Path; p != "" {
		msg = strings.ReplaceAll(msg, p, "\x00")
	}
	fix := ""
	if f.Fix != nil {
		fix = fixCommands(f, a)
	}
	waiver := ""
	if w := f.ExpiredWaiver; w != nil {
		waiver = w.Expires + "\x00" + w.Origin + "\x00" + w.Reason
	}
	return strings.Join([]string{string(f.Rule), f.Severity.String(), msg, fix, waiver}, "\x01")
}

// collapsing is what collapse decided: the groups, and which finding is in which.
type collapsing struct {
	groups []collapsed
	byRule map[policy.RuleID][]int // each rule's groups, by start: their ranges never overlap
	owns   map[int]int             // a directory's own finding in a group, by index: the group
}

// of returns the group finding i, of rule, is shown in, or -1.
func (c *collapsing) of(i int, rule policy.RuleID) int {
	if c == nil {
		return -1
	}
	if g, ok := c.owns[i]; ok {
		return g
	}
	gs := c.byRule[rule]
	k := sort.Search(len(gs), func(k int) bool { return c.groups[gs[k]].start > i }) - 1
	if k >= 0 && i < c.groups[gs[k]].end {
		return gs[k]
	}
	return -1
}

// tally is one rule's findings below a subtree's directory: how many, whether they share one
// key, and the first.
type tally struct {
	key   string
	n     int
	mixed bool
	first int
}

// subTally is what the pass over the findings learns of one subtree while it is in it.
type subTally struct {
	audit.Subtree
	rules   []policy.RuleID // in the order of their first finding
	tallies map[policy.RuleID]*tally
	bad     bool       // its range holds a finding not below it: not the walk's
	own     []ownFound // the directory's own findings, just before its range
}

// ownFound is one finding of a subtree's directory itself.
type ownFound struct {
	i    int
	rule policy.RuleID
	key  string
}

// collapser finds the collapsed subtrees of a report, from its Subtrees, in one pass over its
// findings in walk order (add each, then done): a report may hold more findings than memory. It
// keeps a tally of rules for each subtree the pass is in, and the findings of the entry just
// read, never a set of paths or of findings. A subtree's groups are settled when the pass leaves
// it; a group of its directory's then takes in the groups of the same rule below it: every
// finding is in one group at most, at the highest directory that can show it.
type collapser struct {
	r      *audit.Report
	subs   []audit.Subtree // by range, outermost first: a directory's range holds its subdirectories'
	next   int             // the first of subs the pass has not reached
	active []*subTally     // the subtrees the pass is in, outermost first
	run    []audit.Finding // the findings of the entry just read, which may be a directory's own
	runAt  int             // the index of run[0]
	groups []collapsed     // settled so far; dead ones taken in by a group above them
	dead   []bool
	byRule map[policy.RuleID][]int // the live groups of each rule, as they were settled
}

func newCollapser(r *audit.Report) *collapser {
	k := &collapser{r: r, byRule: make(map[policy.RuleID][]int)}
	n := r.NumFindings()
	for _, s := range r.Subtrees {
		if s.Entries+1 >= collapseMin && s.First >= 0 && s.End <= n && s.First < s.End {
			k.subs = append(k.subs, s)
		}
	}
	slices.SortStableFunc(k.subs, func(a, b audit.Subtree) int {
		return cmp.Or(cmp.Compare(a.First, b.First), cmp.Compare(b.End, a.End), cmp.Compare(len(a.Path), len(b.Path)))
	})
	return k
}

// add takes finding i, the next in walk order.
func (k *collapser) add(i int, f *audit.Finding) {
	k.leave(i)
	for ; k.next < len(k.subs) && k.subs[k.next].First <= i; k.next++ {
		s := &subTally{Subtree: k.subs[k.next], tallies: make(map[policy.RuleID]*tally)}
		k.active = append(k.active, s)
		if s.First == i && len(k.run) > 0 && k.run[0].Entry.Path == s.Path {
			for j := range k.run {
				s.own = append(s.own, ownFound{i: k.runAt + j, rule: k.run[j].Rule, key: findingKey(&k.run[j], k.r.Accounts)})
			}
		}
	}
	if len(k.active) > 0 {
		key := findingKey(f, k.r.Accounts)
		for _, s := range k.active {
			s.count(f, i, key)
		}
	}
	if len(k.run) == 0 || k.run[0].Entry.Path != f.Entry.Path {
		clear(k.run)
		k.run, k.runAt = k.run[:0], i
	}
	k.run = append(k.run, *f)
}

// leave settles every subtree whose range ends before finding i, innermost first.
func (k *collapser) leave(i int) {
	for j := len(k.active) - 1; j >= 0; j-- {
		if s := k.active[j]; s.End <= i {
			k.settle(s)
			k.active = slices.Delete(k.active, j, j+1)
		}
	}
}

// done ends the pass and returns the groups.
func (k *collapser) done() *collapsing {
	k.leave(math.MaxInt)
	c := &collapsing{byRule: make(map[policy.RuleID][]int), owns: make(map[int]int)}
	for g := range k.groups {
		if k.dead[g] {
			continue
		}
		n := len(c.groups)
		c.groups = append(c.groups, k.groups[g])
		c.byRule[k.groups[g].rule] = append(c.byRule[k.groups[g].rule], n)
		if own := k.groups[g].own; own >= 0 {
			c.owns[own] = n
		}
	}
	for _, gs := range c.byRule {
		slices.SortFunc(gs, func(a, b int) int { return cmp.Compare(c.groups[a].start, c.groups[b].start) })
	}
	return c
}

// count tallies f, finding i with key, below s's directory.
func (s *subTally) count(f *audit.Finding, i int, key string) {
	// A range that holds a finding not below the directory is not the walk's: collapse nothing
	// rather than say something false.
	if s.bad = s.bad || f.Entry.Path == s.Path || !walk.Within(f.Entry.Path, s.Path); s.bad {
		return
	}
	t := s.tallies[f.Rule]
	if t == nil {
		t = &tally{key: key, first: i}
		s.tallies[f.Rule] = t
		s.rules = append(s.rules, f.Rule)
	} else if !t.mixed && key != t.key {
		t.mixed = true
	}
	t.n++
}

// settle makes a group of s for each rule every entry below its directory has a finding of,
// with one key; the group takes in those of the same rule settled below it.
func (k *collapser) settle(s *subTally) {
	if s.bad {
		return
	}
	for _, rule := range s.rules {
		t := s.tallies[rule]
		// One finding per rule and entry: n equal to the entries below means every one has it.
		if t.mixed || t.n != s.Entries {
			continue
		}
		g := collapsed{dir: s.Path, rule: rule, entries: t.n, first: t.first, own: -1, start: s.First, end: s.End}
		for _, o := range s.own {
			if o.rule == rule && o.key == t.key {
				g.included, g.entries, g.first, g.own = true, g.entries+1, o.i, o.i
				break
			}
		}
		if g.entries < collapseMin {
			continue
		}
		// The rule's groups below s's directory were settled last: they end the list.
		gs := k.byRule[rule]
		for len(gs) > 0 && k.groups[gs[len(gs)-1]].start >= s.First {
			k.dead[gs[len(gs)-1]] = true
			gs = gs[:len(gs)-1]
		}
		k.byRule[rule] = append(gs, len(k.groups))
		k.groups = append(k.groups, g)
		k.dead = append(k.dead, false)
	}
}

// writeCollapsed shows a collapsed subtree as one finding: the rule, the directory and how many
// entries, the shared message and fix.
func writeCollapsed(b *strings.Builder, g *collapsed, f *audit.Finding, a *access.Accounts, st textStyles) {
	dir := Escape(g.dir)
	if !strings.HasSuffix(dir, "/") && !strings.HasSuffix(dir, `/"`) {
		dir += "/"
	}
	what := fmt.Sprintf("%s and everything below it (%s entries)", dir, thousands(g.entries))
	if !g.included {
		what = fmt.Sprintf("everything below %s (%s entries)", dir, thousands(g.entries))
	}
	fmt.Fprintf(b, "  %s  %s\n", st.rule.Render(string(f.Rule)), what)
	msg := f.Message
	if p := f.Entry.Path; p != "" {
		msg = strings.ReplaceAll(msg, p, "(each entry's path)")
	}
	fmt.Fprintf(b, "    %s\n", Escape(msg))
	if w := f.ExpiredWaiver; w != nil {
		fmt.Fprintf(b, "    %s\n", st.dim.Render(fmt.Sprintf("waiver expired %s (%s): %s", w.Expires, Escape(w.Origin), Escape(w.Reason))))
	}
	if f.Fix != nil {
		fmt.Fprintf(b, "    %s\n", st.fix.Render("fix, each: "+fixCommands(f, a)))
	}
}

// thousands writes n with a comma between groups of three digits: 3,412.
func thousands(n int) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
