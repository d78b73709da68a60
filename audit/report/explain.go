package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// typeChars are ls -l's first column for each entry type.
var typeChars = map[walk.Type]string{
	walk.TypeFile: "-", walk.TypeDir: "d", walk.TypeSymlink: "l", walk.TypeFIFO: "p",
	walk.TypeSocket: "s", walk.TypeCharDevice: "c", walk.TypeBlockDevice: "b", walk.TypeOther: "?",
}

// Found are the explained path's findings as an audit of Root reports them (explain --in).
type Found struct {
	Root     string
	Findings []audit.Finding
}

// Explain writes, for each identity, the way from / to the explained path one component per
// line as namei -l does, with the identity's verdict on each; then the first blocker, the lines
// nginx and Apache would log, and the answer a visitor gets. Where the path is a symlink, the way
// to each link comes first, then where it leads, down to the target or to where the chain ends;
// last, where found is not nil, the path's findings.
func Explain(w io.Writer, x *access.Explanation, found *Found, a *access.Accounts, opt Options) error {
	st := newTextStyles(w, opt.Color)
	var b strings.Builder
	title := x.Path
	if len(x.Links) > 0 {
		title = x.Links[0].Link().Path
	}
	fmt.Fprintf(&b, "%s %s\n", st.title.Render("webperm explain"), Escape(title))
	for i := range x.Links {
		h := &x.Links[i]
		for j := range h.Trails {
			writeTrail(&b, &h.Trails[j], "", a, st)
		}
		leads := fmt.Sprintf("%s -> %s: leads to %s", Escape(h.Link().Path), Escape(h.Link().LinkTarget), Escape(h.Leads))
		if h.Clamped {
			leads += fmt.Sprintf(" (a .. above %s stays at %s, as on the audited system)", Escape(h.Root), Escape(h.Root))
		} else if h.Root != "/" && filepath.IsAbs(h.Link().LinkTarget) {
			leads += fmt.Sprintf(" (an absolute target is below %s, as on the audited system)", Escape(h.Root))
		}
		fmt.Fprintf(&b, "  %s %s\n", st.label.Render("link"), leads)
	}
	// The servers open the path they were asked for, the link, and log it by that name.
	for i := range x.Trails {
		writeTrail(&b, &x.Trails[i], title, a, st)
	}
	answer := st.fix.Render("200: the file system lets the server answer")
	switch {
	case x.End == access.LinkDangling:
		fmt.Fprintf(&b, "\n%s %s does not exist: the link leads nowhere\n", st.label.Render("dangling:"), Escape(x.Path))
		answer = st.severity[policy.High].Render("404 Not Found")
	case x.End == access.LinkLoop:
		fmt.Fprintf(&b, "\n%s %s: the links loop (the kernel gives up after 40: ELOOP)\n", st.label.Render("loop:"), Escape(x.Path))
		answer = st.severity[policy.High].Render("the server cannot open the path: nginx answers 403 Forbidden (ELOOP)")
	case !x.Allowed():
		answer = st.severity[policy.High].Render("403 Forbidden")
	case x.Trails[0].Htaccess != nil:
		answer = st.severity[policy.High].Render("200 from nginx; 403 from Apache wherever AllowOverride has it read .htaccess files")
	}
	fmt.Fprintf(&b, "\n%s %s\n", st.label.Render("answer:"), answer)
	if found != nil {
		fmt.Fprintf(&b, "\n%s\n", st.title.Render(fmt.Sprintf("findings, as webperm audit %s reports them (%d)", Escape(found.Root), len(found.Findings))))
		for i := range found.Findings {
			writeFinding(&b, &found.Findings[i], a, st)
		}
		if len(found.Findings) == 0 {
			fmt.Fprintf(&b, "  none\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTrail(b *strings.Builder, t *access.Trail, target string, a *access.Accounts, st textStyles) {
	role := "web user"
	if t.Who.Role == access.RolePHP {
		role = "php user"
	}
	fmt.Fprintf(b, "\n%s %s\n", st.rule.Render(role), webUserLine(t.Who))
	rows := make([][4]string, len(t.Steps))
	widths := [3]int{}
	for i := range t.Steps {
		s := &t.Steps[i]
		e := &s.Entry
		owner, group := ownerNames(e, a)
		name := filepath.Base(e.Path)
		rows[i] = [4]string{typeChars[e.Type] + policy.SymbolicMode(e.Mode) + aclMark(e), Escape(owner + ":" + group), Escape(name), Escape(verdictText(s, a))}
		for k := range widths {
			widths[k] = max(widths[k], len(rows[i][k]))
		}
	}
	for i, r := range rows {
		verdict := st.fix.Render(r[3])
		if t.Steps[i].Reached && !t.Steps[i].OK() {
			verdict = st.errPath.Render(r[3])
		} else if !t.Steps[i].Reached {
			verdict = st.dim.Render(r[3])
		}
		fmt.Fprintf(b, "  %-*s  %-*s  %-*s  %s\n", widths[0], r[0], widths[1], r[1], widths[2], r[2], verdict)
	}
	if blk := t.Blocker(); blk != nil {
		fmt.Fprintf(b, "  %s %s: %s\n", st.label.Render("blocked at"), Escape(blk.Entry.Path), Escape(blk.Verdict.Reason(&blk.Entry, a)))
	}
	if h := t.Htaccess; h != nil {
		fmt.Fprintf(b, "  %s %s: %s; where AllowOverride lets Apache read .htaccess files, it answers 403 below %s\n",
			st.label.Render("unreadable"), Escape(h.Entry.Path), Escape(h.Verdict.Reason(&h.Entry, a)), Escape(filepath.Dir(h.Entry.Path)))
	}
	if target == "" {
		return // the way to a link: the logs are the target's
	}
	nginx, apache := t.ServerLogs(target)
	if t.Who.Role == access.RolePHP {
		if t.Blocker() != nil {
			fmt.Fprintf(b, "  %s PHP-FPM answers 403 Access denied (\"Unable to open primary script\")\n", st.label.Render("php-fpm:"))
		}
		return
	}
	if nginx != "" {
		fmt.Fprintf(b, "  %s  %s\n", st.label.Render("nginx logs:"), Escape(nginx))
	}
	for i, line := range apache {
		label := "apache logs:"
		if i > 0 {
			label = "  or, where AllowOverride reads .htaccess files:"
		}
		fmt.Fprintf(b, "  %s %s\n", st.label.Render(label), Escape(line))
	}
}

// verdictText is one step's verdict: "search ok (others class applies: …)".
func verdictText(s *access.Step, a *access.Accounts) string {
	if !s.Reached {
		return "not reached"
	}
	if s.Entry.Type == walk.TypeSymlink && s.Need == 0 {
		return "reached: the server follows it where it follows symlinks (a link has no permissions of its own)"
	}
	need := "search"
	switch s.Need {
	case walk.PermRead:
		need = "read"
	case 0:
		return "reached (PHP reads it)"
	}
	result := "ok"
	if !s.OK() {
		result = "denied"
	}
	return fmt.Sprintf("%s %s: %s", need, result, s.Verdict.Reason(&s.Entry, a))
}
