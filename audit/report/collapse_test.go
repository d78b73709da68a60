package report

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// node is one entry of a literal tree, in walk order: a path ending in "/" is a directory; each
// finding is "rule", "rule=message" or "rule=message=octal fix mode". A message's "$" stands for
// the entry's own path.
type node struct {
	path  string
	found []string
}

// collapse is a collapser's pass on its own, as the text report makes it with its other work.
func collapse(r *audit.Report) (*collapsing, error) {
	k := newCollapser(r)
	err := r.EachFinding(func(i int, f *audit.Finding) error {
		k.add(i, f)
		return nil
	})
	return k.done(), err
}

// literalReport makes the report of a literal tree: its findings in walk order, and its subtrees
// counted the slow way, by prefix, as an oracle apart from the tracer's.
func literalReport(nodes []node) *audit.Report {
	r := &audit.Report{Roots: []string{strings.TrimSuffix(nodes[0].path, "/")}}
	start := make([]int, len(nodes))
	for i, n := range nodes {
		start[i] = len(r.Findings)
		path := strings.TrimSuffix(n.path, "/")
		typ := walk.TypeFile
		if strings.HasSuffix(n.path, "/") {
			typ = walk.TypeDir
		}
		for _, f := range n.found {
			parts := strings.Split(f, "=")
			msg := "m"
			if len(parts) > 1 {
				msg = strings.ReplaceAll(parts[1], "$", path)
			}
			var fix *audit.Fix
			if len(parts) > 2 {
				var mode uint32
				fmt.Sscanf(parts[2], "%o", &mode)
				fix = &audit.Fix{Mode: fs.FileMode(mode)}
			}
			r.Findings = append(r.Findings, audit.Finding{Rule: policy.RuleID(parts[0]), Severity: policy.High, Message: msg, Fix: fix,
				Entry: walk.Entry{Path: path, Type: typ, Mode: 0o600}})
		}
	}
	for i, n := range nodes {
		if !strings.HasSuffix(n.path, "/") {
			continue
		}
		below, full := 0, true
		for j := i + 1; j < len(nodes) && strings.HasPrefix(nodes[j].path, n.path); j++ {
			below++
			full = full && len(nodes[j].found) > 0
		}
		if below > 0 && full {
			first := start[i] + len(n.found)
			r.Subtrees = append(r.Subtrees, audit.Subtree{Path: strings.TrimSuffix(n.path, "/"), Entries: below, First: first, End: start[i+below] + len(nodes[i+below].found)})
		}
	}
	return r
}

// files lists n entries dir/1 … dir/n, each with the findings found.
func files(dir string, n int, found ...string) []node {
	out := make([]node, n)
	for i := range out {
		out[i] = node{fmt.Sprintf("%s%d", dir, i+1), found}
	}
	return out
}

func tree(parts ...any) []node {
	var out []node
	for _, p := range parts {
		switch p := p.(type) {
		case node:
			out = append(out, p)
		case []node:
			out = append(out, p...)
		}
	}
	return out
}

func TestCollapse(t *testing.T) {
	ww := string(policy.WorldWritable)
	own := string(policy.WebUserOwns)
	tests := []struct {
		name  string
		nodes []node
		// want lists each group as "rule dir entries", dir ending in "/" where the directory is
		// one of the group's, "/*" where only what is below it is; shown, the other findings'
		// paths, in walk order.
		want  []string
		shown []string
	}{
		{
			name:  "same finding everywhere: the root itself and all below",
			nodes: tree(node{"/s/", []string{ww}}, node{"/s/a/", []string{ww}}, files("/s/a/", 3, ww), files("/s/", 2, ww)),
			want:  []string{"world-writable /s/ 7"},
		},
		{
			name:  "the root without the finding: everything below it",
			nodes: tree(node{"/s/", nil}, files("/s/", 3, ww)),
			want:  []string{"world-writable /s/* 3"},
		},
		{
			name:  "the directory's own finding differs: it is shown, what is below collapses",
			nodes: tree(node{"/s/", nil}, node{"/s/d/", []string{ww + "=dir"}}, files("/s/d/", 3, ww)),
			want:  []string{"world-writable /s/d/* 3"},
			shown: []string{"/s/d"},
		},
		{
			name: "one differing entry stops the collapse one level down",
			nodes: tree(node{"/s/", []string{ww}},
				node{"/s/a/", []string{ww}}, files("/s/a/", 3, ww),
				node{"/s/b/", []string{ww}}, files("/s/b/", 2, ww), node{"/s/b/x", []string{ww + "=other"}}),
			want:  []string{"world-writable /s/a/ 4"},
			shown: []string{"/s", "/s/b", "/s/b/1", "/s/b/2", "/s/b/x"},
		},
		{
			name:  "an entry with no finding stops the collapse",
			nodes: tree(node{"/s/", nil}, node{"/s/a/", []string{ww}}, files("/s/a/", 3, ww), node{"/s/a/clean", nil}),
			shown: []string{"/s/a", "/s/a/1", "/s/a/2", "/s/a/3"},
		},
		{
			name:  "the highest directory wins",
			nodes: tree(node{"/s/", nil}, node{"/s/a/", []string{ww}}, node{"/s/a/b/", []string{ww}}, files("/s/a/b/", 3, ww), node{"/s/z", nil}),
			want:  []string{"world-writable /s/a/ 5"},
		},
		{
			name:  "below the threshold: listed",
			nodes: tree(node{"/s/", nil}, node{"/s/a/", nil}, files("/s/a/", 2, ww)),
			shown: []string{"/s/a/1", "/s/a/2"},
		},
		{
			name:  "at the threshold: collapsed",
			nodes: tree(node{"/s/", nil}, node{"/s/a/", nil}, files("/s/a/", 3, ww), node{"/s/b", nil}),
			want:  []string{"world-writable /s/a/* 3"},
		},
		{
			name:  "the directory counts toward the threshold",
			nodes: tree(node{"/s/", nil}, node{"/s/a/", []string{ww}}, files("/s/a/", 2, ww), node{"/s/b", nil}),
			want:  []string{"world-writable /s/a/ 3"},
		},
		{
			name:  "two rules on every entry: two collapses, each on its own",
			nodes: tree(node{"/s/", nil}, node{"/s/a/", []string{own}}, files("/s/a/", 3, ww, own), node{"/s/b", nil}),
			want:  []string{"web-user-owns /s/a/ 4", "world-writable /s/a/* 3"},
		},
		{
			name:  "the message modulo the entry's path",
			nodes: tree(node{"/s/", nil}, files("/s/", 3, ww+"=$ is open")),
			want:  []string{"world-writable /s/* 3"},
		},
		{
			name:  "a different fix stops the collapse",
			nodes: tree(node{"/s/", nil}, files("/s/", 2, ww+"=m=0644"), node{"/s/x", []string{ww + "=m=0640"}}),
			shown: []string{"/s/1", "/s/2", "/s/x"},
		},
		{
			name:  "the same fix collapses",
			nodes: tree(node{"/s/", nil}, files("/s/", 3, ww+"=m=0644")),
			want:  []string{"world-writable /s/* 3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := literalReport(tt.nodes)
			c, err := collapse(r)
			if err != nil {
				t.Fatal(err)
			}
			groups := c.groups
			var got, shown []string
			for _, g := range groups {
				f := &r.Findings[g.first]
				dir := g.dir + "/*"
				if g.included {
					dir = g.dir + "/"
				}
				got = append(got, fmt.Sprintf("%s %s %d", f.Rule, dir, g.entries))
			}
			for i := range r.Findings {
				if c.of(i, r.Findings[i].Rule) < 0 {
					shown = append(shown, r.Findings[i].Entry.Path)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("groups %q, want %q", got, tt.want)
			}
			if !slices.Equal(shown, tt.shown) {
				t.Errorf("shown one by one %q, want %q", shown, tt.shown)
			}
			// Every finding is either shown or in a group that stands for it.
			total := len(shown)
			for _, g := range groups {
				total += g.entries
			}
			if total != len(r.Findings) {
				t.Errorf("groups and lines stand for %d findings, the report has %d", total, len(r.Findings))
			}
		})
	}
}

func TestTextExpandAndSummary(t *testing.T) {
	ww := string(policy.WorldWritable)
	r := literalReport(tree(node{"/s/", nil}, node{"/s/up/", nil}, files("/s/up/", 1200, ww+"=m=0644"), node{"/s/z", []string{string(policy.ModeTooOpen)}}))
	r.Findings[len(r.Findings)-1].Severity = policy.Medium
	var collapsed, expanded strings.Builder
	if err := Text(&collapsed, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Text(&expanded, r, Options{Expand: true}); err != nil {
		t.Fatal(err)
	}
	if want := "world-writable  everything below /s/up/ (1,200 entries)\n    m\n    fix, each: chmod 0644\n"; !strings.Contains(collapsed.String(), want) {
		t.Errorf("collapsed report lacks %q:\n%s", want, collapsed.String())
	}
	if strings.Contains(collapsed.String(), "/s/up/7\n") {
		t.Error("the collapsed report lists an entry of the collapsed subtree")
	}
	if n := strings.Count(expanded.String(), "  world-writable  /s/up/"); n != 1200 {
		t.Errorf("--expand lists %d findings of /s/up, want 1200", n)
	}
	summary := "\nby rule\n  world-writable  1,200  high    /s/up/1\n  mode-too-open       1  medium  /s/z\n"
	for name, out := range map[string]string{"collapsed": collapsed.String(), "expanded": expanded.String()} {
		if !strings.Contains(out, summary) {
			t.Errorf("the %s report lacks the summary %q:\n%s", name, summary, out[max(0, len(out)-400):])
		}
	}
	var again strings.Builder
	if err := Text(&again, r, Options{}); err != nil || again.String() != collapsed.String() {
		t.Error("two writes of the same report differ")
	}
}

func TestSummaryWorstExample(t *testing.T) {
	r := &audit.Report{Findings: []audit.Finding{
		{Rule: policy.ModeTooOpen, Severity: policy.Low, Message: "m", Entry: walk.Entry{Path: "/s/a"}},
		{Rule: policy.ModeTooOpen, Severity: policy.Medium, Message: "m", Entry: walk.Entry{Path: "/s/b\n"}},
		{Rule: policy.ModeTooOpen, Severity: policy.Medium, Message: "m", Entry: walk.Entry{Path: "/s/c"}},
	}}
	var b strings.Builder
	if err := Text(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if want := "by rule\n  mode-too-open  3  low..medium  \"/s/b\\n\"\n"; !strings.HasSuffix(b.String(), want) {
		t.Errorf("summary: want the first of the highest severity, escaped, %q; got\n%s", want, b.String())
	}
}

func TestCollapseIgnoresRangesNotTheWalks(t *testing.T) {
	ww := string(policy.WorldWritable)
	r := literalReport(tree(node{"/s/", nil}, node{"/s/a/", nil}, files("/s/a/", 3, ww), node{"/s/b", []string{ww}}))
	r.Subtrees[0].End++ // now holds /s/b too, which is not below /s/a
	if c, err := collapse(r); err != nil {
		t.Fatal(err)
	} else if len(c.groups) != 0 {
		t.Errorf("collapsed %d groups from a range that is not the walk's", len(c.groups))
	}
}

// BenchmarkCollapse collapses a tree of 100,000 findings, 6 directories deep.
func BenchmarkCollapse(b *testing.B) {
	ww := string(policy.WorldWritable)
	var nodes []node
	nodes = append(nodes, node{"/s/", nil})
	var add func(dir string, depth int)
	add = func(dir string, depth int) {
		if depth == 0 {
			nodes = append(nodes, files(dir, 10, ww+"=m=0644")...)
			return
		}
		for i := range 6 {
			sub := fmt.Sprintf("%sd%d/", dir, i)
			nodes = append(nodes, node{sub, []string{ww + "=dir=0755"}})
			add(sub, depth-1)
		}
	}
	add("/s/", 5)
	r := literalReport(nodes)
	b.ReportMetric(float64(len(r.Findings)), "findings")
	b.ResetTimer()
	for range b.N {
		collapse(r)
	}
}
