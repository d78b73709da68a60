package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// textStyles are the text report's styles, bound to one renderer so that colour follows the
// writer the report goes to, not the process's stdout.
type textStyles struct {
	title, label, rule, dim, fix, errPath lipgloss.Style
	severity                              map[policy.Severity]lipgloss.Style
}

func newTextStyles(w io.Writer, color bool) textStyles {
	r := lipgloss.NewRenderer(w)
	if color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	sev := func(c string) lipgloss.Style { return r.NewStyle().Bold(true).Foreground(lipgloss.Color(c)) }
	return textStyles{
		title:   r.NewStyle().Bold(true),
		label:   r.NewStyle().Foreground(lipgloss.Color("245")),
		rule:    r.NewStyle().Bold(true),
		dim:     r.NewStyle().Foreground(lipgloss.Color("245")),
		fix:     r.NewStyle().Foreground(lipgloss.Color("70")),
		errPath: r.NewStyle().Foreground(lipgloss.Color("203")),
		severity: map[policy.Severity]lipgloss.Style{
			policy.Critical: sev("196"),
			policy.High:     sev("202"),
			policy.Medium:   sev("214"),
			policy.Low:      sev("75"),
			policy.Info:     sev("245"),
		},
	}
}

// Text writes the report for a person: a header with what was audited and the counts, then the
// findings grouped by severity, most severe first, then the paths that could not be read, then a
// summary per rule. Unless opt.Expand is set, a subtree every entry of which has the same finding
// is shown as one (see collapsed). Control characters and invalid UTF-8 in names are escaped, so
// a hostile file name cannot rewrite the terminal or the mail it is read in.
//
// The report is written as it is made, a few pages at a time, reading the findings once for the
// counts, collapses and summary, then once per severity: its memory does not grow with them.
func Text(w io.Writer, r *audit.Report, opt Options) error {
	st := newTextStyles(w, opt.Color)
	// One pass for what is said before or after the findings: the counts by severity, the
	// subtrees shown as one, and the summary by rule. Against a baseline only the new findings
	// are counted and listed, each on its own: a subtree shown as one might hold known ones.
	b := opt.Baseline
	listed := func(i int) bool { return b == nil || !b.IsKnown(i) }
	var k *collapser
	if !opt.Expand && b == nil {
		k = newCollapser(r)
	}
	var rules ruleSummaries
	counts := make(map[policy.Severity]int)
	err := r.EachFinding(func(i int, f *audit.Finding) error {
		if !listed(i) {
			return nil
		}
		counts[f.Severity]++
		if k != nil {
			k.add(i, f)
		}
		rules.add(f)
		return nil
	})
	if err != nil {
		return err
	}
	var c *collapsing
	if k != nil {
		c = k.done()
	}
	out := &pager{w: w}
	pb := &out.b
	writeHeader(pb, r, counts, st)
	if b != nil {
		writeBaselineLine(pb, b, st)
	}
	for _, sev := range policy.Severities() {
		if counts[sev] == 0 {
			continue
		}
		fmt.Fprintf(pb, "\n%s\n", st.severity[sev].Render(fmt.Sprintf("%s (%d)", sev, counts[sev])))
		err := r.EachFindingOf(sev, func(i int, f *audit.Finding) error {
			switch g := c.of(i, f.Rule); {
			case !listed(i):
			case g < 0:
				writeFinding(pb, f, r.Accounts, st)
			case c.groups[g].first == i:
				writeCollapsed(pb, &c.groups[g], f, r.Accounts, st)
			}
			return out.next()
		})
		if err != nil {
			return err
		}
	}
	switch {
	case b != nil && b.New == 0:
		fmt.Fprintf(pb, "\nno new findings\n")
	case r.NumFindings() == 0:
		fmt.Fprintf(pb, "\nno findings\n")
	}
	if b != nil && b.Resolved > 0 {
		if err := writeResolved(out, b, st); err != nil {
			return err
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(pb, "\n%s\n", st.errPath.Bold(true).Render(fmt.Sprintf("not read (%d): the audit is incomplete", len(r.Errors))))
		for _, e := range r.Errors {
			fmt.Fprintf(pb, "  %s: %s\n", st.errPath.Render(Escape(e.Path)), Escape(e.Err.Error()))
		}
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(pb, "\n%s\n", st.title.Render(fmt.Sprintf("skipped (%d): examined, not entered", len(r.Skipped))))
		for _, s := range r.Skipped {
			fmt.Fprintf(pb, "  %s: %s, %s\n", Escape(s.Path), Escape(fsName(s)), s.Reason)
		}
	}
	groups := 0
	if c != nil {
		groups = len(c.groups)
	}
	writeSummary(pb, &rules, groups, st)
	return out.flush()
}

// writeBaselineLine says what the findings were compared with, and what changed since.
func writeBaselineLine(pb *strings.Builder, b *Baseline, st textStyles) {
	fmt.Fprintf(pb, "  %s %s\n", st.label.Render(fmt.Sprintf("%-9s", "baseline")), baselineLine(b))
}

// baselineLine says what the findings were compared with, and what changed since: the text and
// HTML reports' header line.
func baselineLine(b *Baseline) string {
	return fmt.Sprintf("%s: %d new, %d known (not listed), %d resolved", Escape(b.File), b.New, b.Known, b.Resolved)
}

// writeResolved lists the baseline's findings the audit no longer has.
func writeResolved(out *pager, b *Baseline, st textStyles) error {
	fmt.Fprintf(&out.b, "\n%s\n", st.title.Render(fmt.Sprintf("resolved since the baseline (%d)", b.Resolved)))
	return b.EachResolved(func(f *audit.Finding) error {
		fmt.Fprintf(&out.b, "  %s  %s  %s\n", st.rule.Render(string(f.Rule)), Escape(f.Entry.Path), st.dim.Render(f.Severity.String()))
		return out.next()
	})
}

// pager writes what is put in b on to w a page at a time.
type pager struct {
	w   io.Writer
	b   strings.Builder
	err error
}

// next writes b out once it holds a page or more.
func (p *pager) next() error {
	if p.b.Len() < 64<<10 {
		return nil
	}
	return p.flush()
}

func (p *pager) flush() error {
	if p.err == nil {
		_, p.err = io.WriteString(p.w, p.b.String())
	}
	p.b.Reset()
	return p.err
}

// ruleSummary is one rule's line in the summary: how many findings, the highest severity among
// them, and the first finding of that severity in walk order.
type ruleSummary struct {
	rule          policy.RuleID
	count         int
	worst, lowest policy.Severity
	example       string
}

// ruleSummaries gathers the summary's lines, one finding at a time in walk order.
type ruleSummaries struct {
	rules  []*ruleSummary
	byRule map[policy.RuleID]*ruleSummary
}

func (rs *ruleSummaries) add(f *audit.Finding) {
	s := rs.byRule[f.Rule]
	if s == nil {
		if rs.byRule == nil {
			rs.byRule = make(map[policy.RuleID]*ruleSummary)
		}
		s = &ruleSummary{rule: f.Rule, worst: f.Severity, lowest: f.Severity, example: f.Entry.Path}
		rs.byRule[f.Rule] = s
		rs.rules = append(rs.rules, s)
	}
	s.count++
	if f.Severity > s.worst {
		s.worst, s.example = f.Severity, f.Entry.Path
	}
	s.lowest = min(s.lowest, f.Severity)
}

// sorted lists the rules most severe first, then by how many findings each has, then by name.
func (rs *ruleSummaries) sorted() []*ruleSummary {
	slices.SortStableFunc(rs.rules, func(a, b *ruleSummary) int {
		return cmp.Or(cmp.Compare(b.worst, a.worst), cmp.Compare(b.count, a.count), strings.Compare(string(a.rule), string(b.rule)))
	})
	return rs.rules
}

// severities is the severity of a rule's findings, or the range they span: "info..medium".
func (s *ruleSummary) severities() string {
	if s.lowest != s.worst {
		return s.lowest.String() + ".." + s.worst.String()
	}
	return s.worst.String()
}

// writeSummary ends the report with one line per rule that has findings, most severe first, and
// how many subtrees were shown as one finding.
func writeSummary(b *strings.Builder, rs *ruleSummaries, groups int, st textStyles) {
	rules := rs.sorted()
	if len(rules) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n", st.title.Render("by rule"))
	ruleW, countW, sevW := 0, 0, 0
	sevs := make([]string, len(rules))
	for i, s := range rules {
		sevs[i] = s.severities()
		ruleW = max(ruleW, len(s.rule))
		countW = max(countW, len(thousands(s.count)))
		sevW = max(sevW, len(sevs[i]))
	}
	for i, s := range rules {
		sev := st.severity[s.worst].Render(fmt.Sprintf("%-*s", sevW, sevs[i]))
		fmt.Fprintf(b, "  %-*s  %*s  %s  %s\n", ruleW, s.rule, countW, thousands(s.count), sev, Escape(s.example))
	}
	if groups > 0 {
		what := fmt.Sprintf("%d subtrees", groups)
		if groups == 1 {
			what = "1 subtree"
		}
		fmt.Fprintf(b, "  %s\n", st.dim.Render(what+" shown as one finding: --expand lists every entry; webperm explain --in ROOT PATH shows one entry's findings"))
	}
}

func writeHeader(b *strings.Builder, r *audit.Report, counts map[policy.Severity]int, st textStyles) {
	fmt.Fprintf(b, "%s\n", st.title.Render("webperm audit"))
	field := func(label, value string) {
		fmt.Fprintf(b, "  %s %s\n", st.label.Render(fmt.Sprintf("%-9s", label)), value)
	}
	for _, f := range headerFields(r) {
		field(f.label, f.value)
	}
	var parts []string
	total := 0
	for _, sev := range policy.Severities() {
		total += counts[sev]
		s := fmt.Sprintf("%s %d", sev, counts[sev])
		if counts[sev] > 0 {
			s = st.severity[sev].Render(s)
		}
		parts = append(parts, s)
	}
	field("findings", fmt.Sprintf("%d: %s", total, strings.Join(parts, ", ")))
	for _, w := range r.Waivers {
		state := fmt.Sprintf("waived %d until %s", w.Findings, w.Expires)
		if w.Expired {
			state = st.severity[policy.High].Render(fmt.Sprintf("expired %s: %d reported again", w.Expires, w.Findings))
		}
		field("waiver", waiverLine(w, state))
	}
}

// headerField is one line of what a report says first about an audit: a label and its value,
// escaped for a terminal or a mail.
type headerField struct{ label, value string }

// headerFields say what was audited, against what and for whom, and how much of it was read: the
// header the text and HTML reports share, before their counts of findings.
func headerFields(r *audit.Report) []headerField {
	var fields []headerField
	field := func(label, value string) { fields = append(fields, headerField{label, value}) }
	roots := make([]string, len(r.Roots))
	for i, root := range r.Roots {
		roots[i] = Escape(root)
	}
	field("roots", strings.Join(roots, ", "))
	for i, o := range r.Origins {
		if o.Given == r.Roots[i] {
			continue
		}
		line := Escape(o.Given)
		if len(r.Roots) > 1 {
			line += " for " + Escape(r.Roots[i])
		}
		if o.Note != "" {
			line += ", " + o.Note
		}
		field("given", line)
	}
	field("policy", Escape(r.Policy))
	for _, p := range r.Presets {
		line := p.Preset
		if len(r.Presets) > 1 {
			line += " for " + Escape(p.Root)
		}
		if len(p.Evidence) > 0 {
			esc := make([]string, len(p.Evidence))
			for i, e := range p.Evidence {
				esc[i] = Escape(e)
			}
			line += " (detected: " + strings.Join(esc, ", ") + ")"
		}
		field("preset", line)
	}
	for _, so := range r.SiteOwners {
		line := siteOwnerLine(r, &so)
		if len(r.Roots) > 1 {
			line += " for " + Escape(so.Root)
		}
		field("owner", line)
	}
	field("web user", webUserLine(r.WebUser))
	if r.PHPUser != nil {
		field("php user", webUserLine(r.PHPUser))
	}
	entries := fmt.Sprintf("%d examined, %d not read", r.Entries, len(r.Errors))
	switch n := len(r.Skipped); {
	case n == 1:
		entries += ", 1 directory not entered (listed below)"
	case n > 1:
		entries += fmt.Sprintf(", %d directories not entered (listed below)", n)
	}
	field("entries", entries)
	if len(r.Exclude) > 0 {
		field("excluded", excludedLine(r))
	}
	if r.NoXattrs {
		field("xattrs", "not read (--no-xattrs): access is judged by the mode bits alone; ACLs, SELinux labels and file capabilities are not seen")
	}
	return fields
}

// waiverLine says what a waiver covers and why, with its state: how many findings it waived
// until when, or that it expired.
func waiverLine(w *audit.WaiverUse, state string) string {
	return fmt.Sprintf("%s on %s (%s): %s; %s", w.Rule, Escape(strings.Join(w.Paths, ", ")), Escape(w.Origin), state, Escape(w.Reason))
}

// excludedLine says how many entries the exclusions left out, and which globs, each with where it
// was given: what lies below an excluded directory was not read, so is not counted.
func excludedLine(r *audit.Report) string {
	globs := make([]string, len(r.Exclude))
	for i, e := range r.Exclude {
		globs[i] = Escape(e.Glob) + " (" + Escape(e.Origin) + ")"
	}
	what := "paths"
	if r.Excluded == 1 {
		what = "path"
	}
	return fmt.Sprintf("%d %s, not examined, by %s", r.Excluded, what, strings.Join(globs, ", "))
}

// siteOwnerLine says whose a root's site is and why, or that no one knows: then no fix can give
// what the web server owns back to the site.
func siteOwnerLine(r *audit.Report, so *audit.SiteOwner) string {
	who := Escape(r.Accounts.UserLabel(so.UID))
	switch so.Source {
	case "flag":
		return who + " (--site-owner)"
	case "parent":
		return fmt.Sprintf("%s (the owner of %s, the home the root lies in: the web server owns the root)", who, Escape(so.Parent))
	}
	return fmt.Sprintf("unknown: the web server (%s) owns the root and nothing says whose the site is, so nothing it owns can be given back; name the owner with --site-owner", who)
}

func webUserLine(u *access.WebUser) string {
	if u == nil {
		return "unknown (the system has none of " + strings.Join(access.DefaultWebUsers, ", ") + ")"
	}
	name := u.Name
	if name == "" {
		name = fmt.Sprint(u.UID)
	}
	groups := make([]string, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = fmt.Sprint(g)
	}
	how := u.Source
	if u.Evidence != "" {
		how += ": " + Escape(u.Evidence)
	}
	return fmt.Sprintf("%s (uid %d, gid %d, groups %s; %s)", Escape(name), u.UID, u.GID, strings.Join(groups, ","), how)
}

// aclMark is ls -l's "+" after the mode of an entry with an access ACL.
func aclMark(e *walk.Entry) string {
	if e.ACL != nil {
		return "+"
	}
	return ""
}

func writeFinding(b *strings.Builder, f *audit.Finding, a *access.Accounts, st textStyles) {
	e := &f.Entry
	fmt.Fprintf(b, "  %s  %s\n", st.rule.Render(string(f.Rule)), Escape(e.Path))
	owner, group := ownerNames(e, a)
	details := fmt.Sprintf("%s %s (%s%s) %s:%s", e.Type, policy.OctalMode(e.Mode), policy.SymbolicMode(e.Mode), aclMark(e), owner, group)
	if e.Type == walk.TypeSymlink {
		details = fmt.Sprintf("%s -> %s, %s:%s", e.Type, Escape(e.LinkTarget), owner, group)
	}
	fmt.Fprintf(b, "    %s\n", st.dim.Render(details))
	fmt.Fprintf(b, "    %s\n", Escape(f.Message))
	if w := f.ExpiredWaiver; w != nil {
		fmt.Fprintf(b, "    %s\n", st.dim.Render(fmt.Sprintf("waiver expired %s (%s): %s", w.Expires, Escape(w.Origin), Escape(w.Reason))))
	}
	if f.Fix != nil {
		fmt.Fprintf(b, "    %s\n", st.fix.Render("fix: "+fixCommands(f, a)))
	}
	if f.Package != "" {
		keep := "dpkg-statoverride keeps one"
		if f.PackageManager == audit.ManagerRPM {
			keep = "rpm keeps none: make it again after each update, or ask the package's maintainer"
		}
		fmt.Fprintf(b, "    %s\n", st.dim.Render("installed by the package "+Escape(f.Package)+": its next upgrade reverts a chmod or chown; "+keep))
	}
}
