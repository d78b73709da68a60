package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/webperm/webperm/audit"
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
	included bool   // the directory's own finding is one of the group's
	entries  int    // the entries the group stands for, the directory included where it is
	first    int    // the index in Report.Findings of the group's first finding: where it is shown
}

// findingKey is what two findings must share to be shown as one: see collapsed.
func findingKey(f *audit.Finding, a *audit.Accounts) string {
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

// collapse finds the collapsed subtrees of r, from r.Subtrees: groups in the order they are
// found, and for each of r.Findings the index of the group it is shown in, or -1. It keeps one
// tally of rules per subtree at a time, not a set of paths: memory grows with the findings (the
// index per finding) and the rules, never with the entries.
func collapse(r *audit.Report) (groups []collapsed, of []int) {
	of = make([]int, len(r.Findings))
	for i := range of {
		of[i] = -1
	}
	subs := slices.Clone(r.Subtrees)
	// Outermost first: a directory's range holds its subdirectories'.
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
			// A range that holds a finding not below the directory is not the walk's: collapse
			// nothing rather than say something false.
			if consistent = f.Entry.Path != s.Path && audit.Within(f.Entry.Path, s.Path); !consistent {
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
			// One finding per rule and entry: n equal to the entries below means every one has it.
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

// writeCollapsed shows a collapsed subtree as one finding: the rule, the directory and how many
// entries, the shared message and fix.
func writeCollapsed(b *strings.Builder, g *collapsed, f *audit.Finding, a *audit.Accounts, st textStyles) {
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
