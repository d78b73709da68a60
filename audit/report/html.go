package report

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// The page's template, style sheet and script, kept apart so each reads as what it is. The style
// and the script go into the page as they are in these files: the Content-Security-Policy names
// them by their hashes.
//
//go:embed html/report.tmpl html/report.css html/report.js
var htmlFiles embed.FS

var (
	htmlPage   = template.Must(template.New("report.tmpl").Funcs(template.FuncMap{"thousands": thousands}).ParseFS(htmlFiles, "html/report.tmpl"))
	htmlStyle  = mustRead("html/report.css")
	htmlScript = mustRead("html/report.js")
	// htmlCSP lets the page run its own style sheet and script and nothing else: no other inline
	// script or style (should a name ever get through as markup, it could not run), no image, font,
	// frame or request of any kind, no form sent anywhere.
	htmlCSP = "default-src 'none'; style-src " + cspHash(htmlStyle) + "; script-src " + cspHash(htmlScript) +
		"; base-uri 'none'; form-action 'none'"
)

func mustRead(name string) string {
	b, err := htmlFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// cspHash is a Content-Security-Policy source naming an inline style or script by its text.
func cspHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// chartBars is how many top-level directories the chart shows as bars of their own; the others
// share one bar.
const chartBars = 20

// HTML writes the report as one self-contained web page, for the compliance report that cron
// mails or a team opens in a browser: the header of the text report, the counts by severity and
// by rule, a chart of the findings per top-level directory, the paths not read and the
// directories not entered, then every finding in a table. All of it is HTML that reads without
// scripts; a small inline script sorts the table (click a column's header) and filters it (by
// text and severity) where scripts run. The page loads nothing: its style and script are inline,
// and its Content-Security-Policy forbids anything else.
//
// Names are text, never markup: html/template escapes every value, and control characters and
// invalid UTF-8 are shown escaped as the text report shows them. The findings are read twice,
// once for the counts and once for the table's rows, written as they come.
func HTML(w io.Writer, r *audit.Report, opt Options) error {
	// Against a baseline the page counts and lists the new findings, as the text report does,
	// and the resolved ones after them.
	b := opt.Baseline
	var rules ruleSummaries
	counts := make(map[policy.Severity]int)
	tops := newTopDirs(len(r.Roots) > 1)
	err := r.EachFinding(func(i int, f *audit.Finding) error {
		if b.IsKnown(i) {
			return nil
		}
		counts[f.Severity]++
		rules.add(f)
		tops.add(f, r.Roots)
		return nil
	})
	if err != nil {
		return err
	}
	page := newHTMLHead(r, counts, &rules, tops, b)
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := htmlPage.ExecuteTemplate(bw, "head", page); err != nil {
		return err
	}
	var row htmlRow
	err = r.EachFinding(func(i int, f *audit.Finding) error {
		if b.IsKnown(i) {
			return nil
		}
		row.set(f, r)
		return htmlPage.ExecuteTemplate(bw, "row", &row)
	})
	if err != nil {
		return err
	}
	if err := htmlPage.ExecuteTemplate(bw, "findings-end", page); err != nil {
		return err
	}
	if b != nil && b.Resolved > 0 {
		if err := htmlPage.ExecuteTemplate(bw, "resolved-head", page); err != nil {
			return err
		}
		err := b.eachResolved(r, func(f *audit.Finding, base *audit.Report) error {
			row.set(f, base)
			return htmlPage.ExecuteTemplate(bw, "row", &row)
		})
		if err != nil {
			return err
		}
		if err := htmlPage.ExecuteTemplate(bw, "resolved-end", page); err != nil {
			return err
		}
	}
	if err := htmlPage.ExecuteTemplate(bw, "tail", page); err != nil {
		return err
	}
	return bw.Flush()
}

// htmlHead is what the page says before and after the findings' rows.
type htmlHead struct {
	Title      string
	CSP        string
	Style      template.CSS
	Script     template.JS
	Fields     []htmlField
	Findings   int
	Entries    int
	Waived     int
	Waivers    []string
	Severities []htmlCount
	Rules      []htmlRule
	Chart      htmlChart
	Errors     []htmlError
	Skipped    []htmlSkip
	// Baseline is what the findings were compared with, where they were: the page lists the new
	// ones, then the baseline's resolved ones.
	Baseline *jsonBaseline
}

type htmlField struct{ Label, Value string }

// htmlCount is a number shown with thousands separators, its name and its value for a script.
type htmlCount struct {
	Name  string
	Count int
	Shown string
}

type htmlRule struct {
	Rule       policy.RuleID
	Count      int
	Shown      string
	Severities string
	Worst      string
	Example    string
}

// htmlChart is the chart of findings per top-level directory: one bar each for the directories
// with the most, one for all the others.
type htmlChart struct {
	Bars  []htmlBar
	Other *htmlBar
	Label string // what the bars stand for
}

// htmlBar is one bar: Width is its length in thousandths of the longest bar's.
type htmlBar struct {
	Label string
	Count int
	Shown string
	Width int
}

type htmlError struct{ Path, Error string }

type htmlSkip struct{ Path, FsType, Reason string }

func newHTMLHead(r *audit.Report, counts map[policy.Severity]int, rules *ruleSummaries, tops *topDirs, b *Baseline) *htmlHead {
	h := &htmlHead{
		Title:    "webperm audit of " + strings.Join(escapeAll(r.Roots), ", "),
		CSP:      htmlCSP,
		Style:    template.CSS(htmlStyle),
		Script:   template.JS(htmlScript),
		Findings: r.NumFindings(),
		Entries:  r.Entries,
		Waived:   r.Waived(),
		Baseline: newJSONBaseline(b),
	}
	for _, f := range headerFields(r) {
		h.Fields = append(h.Fields, htmlField{f.label, f.value})
	}
	if b != nil {
		h.Findings = b.New
		h.Fields = append(h.Fields, htmlField{"baseline", baselineLine(b)})
	}
	for _, w := range r.Waivers {
		state := "waived " + thousands(w.Findings) + " until " + w.Expires
		if w.Expired {
			state = "expired " + w.Expires + ": " + thousands(w.Findings) + " reported again"
		}
		h.Waivers = append(h.Waivers, waiverLine(w, state))
	}
	for _, sev := range policy.Severities() {
		h.Severities = append(h.Severities, htmlCount{Name: sev.String(), Count: counts[sev], Shown: thousands(counts[sev])})
	}
	for _, s := range rules.sorted() {
		h.Rules = append(h.Rules, htmlRule{Rule: s.rule, Count: s.count, Shown: thousands(s.count), Severities: s.severities(), Worst: s.worst.String(), Example: Escape(s.example)})
	}
	h.Chart = tops.chart(chartBars)
	for _, e := range r.Errors {
		h.Errors = append(h.Errors, htmlError{Path: Escape(e.Path), Error: Escape(e.Err.Error())})
	}
	for _, s := range r.Skipped {
		h.Skipped = append(h.Skipped, htmlSkip{Path: Escape(s.Path), FsType: Escape(fsName(s)), Reason: s.Reason})
	}
	return h
}

func escapeAll(names []string) []string {
	esc := make([]string, len(names))
	for i, n := range names {
		esc[i] = Escape(n)
	}
	return esc
}

// htmlRow is one finding as a row of the table; one is reused for every row.
type htmlRow struct {
	Rule, Severity, Path, Type, Mode, Owner, Group, Message, Fix string
	Notes                                                        []string
}

func (row *htmlRow) set(f *audit.Finding, r *audit.Report) {
	e := &f.Entry
	*row = htmlRow{Rule: string(f.Rule), Severity: f.Severity.String(), Path: Escape(e.Path), Notes: row.Notes[:0]}
	row.Type = e.Type.String()
	row.Mode = policy.OctalMode(e.Mode) + aclMark(e)
	if e.Type == walk.TypeSymlink {
		row.Type += " → " + Escape(e.LinkTarget)
		row.Mode = ""
	}
	row.Owner, row.Group = ownerNames(e, r.Accounts)
	row.Message = Escape(f.Message)
	if w := f.ExpiredWaiver; w != nil {
		row.Notes = append(row.Notes, "waiver expired "+w.Expires+" ("+Escape(w.Origin)+"): "+Escape(w.Reason))
	}
	if f.Package != "" {
		row.Notes = append(row.Notes, "installed by the package "+Escape(f.Package)+": its next upgrade reverts a chmod or chown")
	}
	if f.Fix != nil {
		row.Fix = fixCommands(f, r.Accounts)
	}
}

// topDirs counts findings per top-level directory of the roots (the first component of a
// finding's path relative to its root), in a map of at most topDirsMax names: a root with a
// million children does not make a million counts. Once the map is full, the half with the fewest
// findings is folded into other. The walk gives the findings of each top-level directory one after
// the other (depth first), so a directory folded away has no findings still to come: the counts
// kept are exact, and every directory with more findings than one folded is kept. Should one come
// back, its findings before are in other; the total is right either way.
type topDirs struct {
	counts    map[string]int
	other     int // findings in the directories folded away
	folded    int // directories folded away
	withRoots bool
}

const topDirsMax = 1024

func newTopDirs(withRoots bool) *topDirs {
	return &topDirs{counts: make(map[string]int), withRoots: withRoots}
}

func (t *topDirs) add(f *audit.Finding, roots []string) {
	name := topDir(&f.Entry, roots, t.withRoots)
	if _, ok := t.counts[name]; ok {
		t.counts[name]++
		return
	}
	if len(t.counts) >= topDirsMax {
		t.fold(topDirsMax / 2)
	}
	t.counts[strings.Clone(name)] = 1 // not the whole path it may be cut from
}

// fold folds the n directories with the fewest findings into other.
func (t *topDirs) fold(n int) {
	for _, name := range t.sorted()[len(t.counts)-n:] {
		t.other += t.counts[name]
		t.folded++
		delete(t.counts, name)
	}
}

// sorted lists the directories counted, most findings first, then by name.
func (t *topDirs) sorted() []string {
	names := make([]string, 0, len(t.counts))
	for name := range t.counts {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(t.counts[b], t.counts[a]), strings.Compare(a, b))
	})
	return names
}

// chart makes the bars: one for each of the bars directories with the most findings, one for the
// rest.
func (t *topDirs) chart(bars int) htmlChart {
	c := htmlChart{Label: "top-level directory"}
	if t.withRoots {
		c.Label = "top-level directory of each root"
	}
	names := t.sorted()
	other, folded := t.other, t.folded
	for i, name := range names {
		if i >= bars {
			other += t.counts[name]
			folded++
			continue
		}
		c.Bars = append(c.Bars, htmlBar{Label: name, Count: t.counts[name]})
	}
	if folded > 0 {
		c.Other = &htmlBar{Label: "other (" + thousands(folded) + " more)", Count: other}
	}
	longest := 0
	for _, b := range c.Bars {
		longest = max(longest, b.Count)
	}
	if c.Other != nil {
		longest = max(longest, c.Other.Count)
	}
	scale := func(b *htmlBar) {
		b.Shown = thousands(b.Count)
		b.Width = max(1, b.Count*1000/max(longest, 1))
	}
	for i := range c.Bars {
		scale(&c.Bars[i])
	}
	if c.Other != nil {
		scale(c.Other)
	}
	return c
}

// topDir names the top-level directory of the roots that e lies in, as the chart shows it: the
// first component of its path relative to its root, with a / where it is a directory; "." for a
// root itself; "(above the root)" for an ancestor of the roots. With several roots, each name
// begins with its root.
func topDir(e *walk.Entry, roots []string, withRoots bool) string {
	rel := audit.RootRelative(e.Path, roots)
	switch {
	case rel == "." && withRoots:
		return Escape(e.Path) + " (the root)"
	case rel == ".":
		return ". (the root)"
	case strings.HasPrefix(rel, "/"):
		return "(above the root)"
	}
	first, _, below := strings.Cut(rel, "/")
	if below || e.Type == walk.TypeDir {
		first += "/"
	}
	if withRoots {
		return Escape(e.Path[:len(e.Path)-len(rel)] + first)
	}
	return Escape(first)
}
