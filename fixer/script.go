package fixer

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// WriteScript writes p as a POSIX sh script for a person to review and run as root. It reads
// as the list of chown and chmod it is, but sh runs none of them: its header hands the script to
// `webperm fix --apply --plan "$0"`, which reads the plan from its lines and makes each change
// with apply's guarantees (nothing through a symlink or outside its root, nothing that is not
// still the inode, mode and owner the audit saw, a journal for undo). Arguments to the script
// (--journal FILE, --include-ancestors) go to fix --apply.
//
// What apply needs and a command line does not show is on data lines, comments that start "#:":
// the plan's webperm, time, policy, web user and roots in the header, and before each entry's
// chown and chmod its type, path, inode, and mode and owner as audited. ReadScript reads the
// plan back from them and the commands, and from nothing else.
//
// Every path and name is one sh word in visible text (see shellWord): a name with a newline, a
// quote, a leading dash, $(…), a terminal escape sequence or bytes that are not UTF-8 can neither
// break a line nor reach a reviewer's terminal raw.
func WriteScript(w io.Writer, p *Plan) error {
	id := p.ID
	if id == "" {
		id = NewPlanID()
	}
	bw := bufio.NewWriter(w)
	writeHeader(bw, p, id)
	if len(p.Actions) == 0 {
		fmt.Fprintln(bw, "\n# nothing to change")
	}
	var section *Action // the first action of the section being written
	for i := range p.Actions {
		a := &p.Actions[i]
		if section == nil || a.Root != section.Root || a.Ancestor != section.Ancestor {
			section = a
			writeSection(bw, a)
		}
		writeAction(bw, a, p.Accounts)
	}
	if len(p.Manual) > 0 {
		fmt.Fprintf(bw, "\n# LEFT FOR YOU TO DECIDE: webperm changes none of these.\n")
		for _, m := range p.Manual {
			fmt.Fprintf(bw, "#: manual %s %s\n", typeName(m.Type), shellWord(m.Path))
			for _, f := range m.Findings {
				fmt.Fprintf(bw, "#: finding %s %s %s\n", f.Rule, f.Severity, shellWord(f.Message))
			}
			fmt.Fprintf(bw, "#: why %s\n", shellWord(m.Reason))
		}
	}
	fmt.Fprintln(bw, "\n#: end of plan")
	return bw.Flush()
}

// NewPlanID returns a fresh plan-id: 128 random bits in hex.
func NewPlanID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand.Read never fails on Linux
	}
	return hex.EncodeToString(b[:])
}

// The sh plan's own commands: set -eu, $nl, and the hand-over to webperm (scriptExec, with the
// plan-id). exit 2 is never reached unless exec returns, which it does only where a shell is
// told to go on after a failed exec.
const (
	scriptWebpermVar = "webperm=${WEBPERM:-%s}"
	scriptExec       = `exec "$webperm" fix --apply --plan "$0" --plan-id %s "$@"`
)

func writeHeader(w io.Writer, p *Plan, id string) {
	fmt.Fprintln(w, "#!/bin/sh")
	fmt.Fprintln(w, "# webperm plan: the chown and chmod that bring these web roots to their policy.")
	fmt.Fprintf(w, "# webperm %s, %s\n", escape(p.Version), p.Created.UTC().Format(time.RFC3339))
	for _, r := range p.Roots {
		fmt.Fprintf(w, "# root: %s\n", escape(r.Path))
	}
	for _, id := range []struct {
		what string
		who  *access.WebUser
	}{{"web user", p.WebUser}, {"php user", p.PHPUser}} {
		if id.who != nil {
			fmt.Fprintf(w, "# %s: %s (uid %d, gid %d)\n", id.what, escape(id.who.Name), id.who.UID, id.who.GID)
		}
	}
	fmt.Fprintf(w, "# policy: %s\n", escape(p.Policy))
	fmt.Fprintf(w, "# %d %s to change; %d left for you to decide (listed at the end)\n", len(p.Actions), plural(len(p.Actions), "entry", "entries"), len(p.Manual))
	if len(p.Unread) > 0 {
		fmt.Fprintf(w, "# INCOMPLETE: the audit could not read %d %s, so nothing in them is planned:\n", len(p.Unread), plural(len(p.Unread), "path", "paths"))
		for _, u := range p.Unread {
			fmt.Fprintf(w, "#: unread %s\n", shellWord(u))
		}
	}
	if len(p.Skipped) > 0 {
		n := len(p.Skipped)
		fmt.Fprintf(w, "# NOT ENTERED: the audit stayed out of %d %s, so nothing below %s is planned:\n", n, plural(n, "directory", "directories"), plural(n, "it", "them"))
		for _, s := range p.Skipped {
			fmt.Fprintf(w, "#   %s (%s: %s)\n", escape(s.Path), escape(s.FsType), s.Reason)
		}
	}
	fmt.Fprintln(w, "#")
	fmt.Fprintln(w, "# Review it, then run it as root: sh THIS-FILE [--journal FILE] [--include-ancestors]")
	fmt.Fprintln(w, "# sh runs none of the chown and chmod below: it hands this file to webperm fix --apply,")
	fmt.Fprintln(w, "# which reads them and the #: line above each, and changes an entry only if it is still the")
	fmt.Fprintln(w, "# inode, mode and owner that line gives, never through a symlink, keeping a journal for")
	fmt.Fprintln(w, "# `webperm undo`. Delete a line, or change a mode or owner, to change the plan; nothing else.")
	fmt.Fprintln(w, "# WEBPERM=/path/to/webperm runs it with another webperm.")
	fmt.Fprintf(w, "#: plan %s %s %s\n", shellWord(p.Version), p.Created.UTC().Format(time.RFC3339), shellWord(p.Policy))
	for _, id := range []struct {
		what string
		who  *access.WebUser
	}{{"web-user", p.WebUser}, {"php-user", p.PHPUser}} {
		if u := id.who; u != nil {
			fmt.Fprintf(w, "#: %s %s %d %d %s %s %s\n", id.what, shellWord(u.Name), u.UID, u.GID, idList(u.Groups), shellWord(u.Source), shellWord(u.Evidence))
		}
	}
	for _, r := range p.Roots {
		fmt.Fprintf(w, "#: root %s %d:%d\n", shellWord(r.Path), r.Dev, r.Ino)
	}
	// What the audit held the roots to: an edited target is judged by the same.
	for _, rp := range p.Settings.Presets {
		fmt.Fprintf(w, "#: preset %s %s\n", shellWord(rp.Root), shellWord(rp.Preset))
	}
	if p.Settings.PolicyFile != "" {
		fmt.Fprintf(w, "#: policy-file %s\n", shellWord(p.Settings.PolicyFile))
	}
	if p.Settings.SysRoot != "" {
		fmt.Fprintf(w, "#: sysroot %s\n", shellWord(p.Settings.SysRoot))
	}
	if p.Settings.SiteOwner != nil {
		fmt.Fprintf(w, "#: site-owner %d\n", *p.Settings.SiteOwner)
	}
	for _, g := range p.Settings.Writable {
		fmt.Fprintf(w, "#: writable %s\n", shellWord(g))
	}
	fmt.Fprintln(w, "set -eu")
	fmt.Fprintf(w, "%s\n", nlDefinition)
	webperm := p.Webperm
	if webperm == "" {
		webperm = "webperm"
	}
	fmt.Fprintf(w, scriptWebpermVar+"\n", shellWord(webperm))
	fmt.Fprintf(w, scriptExec+"\n", id)
	fmt.Fprintln(w, "exit 2")
}

// writeSection heads the actions in a's root, or above it.
func writeSection(w io.Writer, a *Action) {
	if !a.Ancestor {
		fmt.Fprintf(w, "\n#: in %s\n", shellWord(a.Root))
		return
	}
	fmt.Fprintf(w, "\n#: above %s\n", shellWord(a.Root))
	fmt.Fprintln(w, "# ABOVE THE ROOT: outside the audited tree, on the web server's way to it.")
	fmt.Fprintln(w, "# webperm fix --apply changes these only with --include-ancestors.")
}

// writeAction writes a's data line, then its chown, then its chmod: chown clears setuid and
// setgid bits.
func writeAction(w io.Writer, a *Action, acc *access.Accounts) {
	path := shellWord(a.Path)
	fmt.Fprintf(w, "#: %s %s %d:%d %s %d:%d %s\n", typeName(a.Type), path, a.Dev, a.Ino, policy.OctalMode(a.Current.Mode), a.Current.UID, a.Current.GID, ruleList(a.Rules))
	fixes := make([]string, len(a.Rules))
	for i, r := range a.Rules {
		fixes[i] = string(r)
	}
	why := "fixes " + strings.Join(fixes, ", ")
	if a.Chown() {
		fmt.Fprintf(w, "chown -h -- '%d:%d' %s # %s, was %s", a.Target.UID, a.Target.GID, path, a.Target.Owners(acc), a.Current.Owners(acc))
		if !a.Chmod() {
			fmt.Fprintf(w, "; %s", why)
		}
		fmt.Fprintln(w)
	}
	if a.Chmod() {
		fmt.Fprintf(w, "chmod -- %s %s # was %s; %s\n", chmodMode(a), path, policy.OctalMode(a.Current.Mode), why)
	}
}

// chmodMode is the target mode as chmod must be given it. GNU chmod keeps a directory's setuid
// and setgid bits for a four-digit mode; a fifth, leading zero clears them.
func chmodMode(a *Action) string {
	m := policy.OctalMode(a.Target.Mode)
	special := fs.ModeSetuid | fs.ModeSetgid
	if a.Type == walk.TypeDir && a.Current.Mode&special&^a.Target.Mode != 0 {
		return "0" + m
	}
	return m
}

// ruleList is rules as a data line gives them: comma-separated, or "-" for none.
func ruleList(rules []policy.RuleID) string {
	if len(rules) == 0 {
		return "-"
	}
	s := make([]string, len(rules))
	for i, r := range rules {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// idList is ids as a data line gives them: comma-separated, or "-" for none.
func idList(ids []uint32) string {
	if len(ids) == 0 {
		return "-"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(s, ",")
}

// escape makes s safe on a comment line: text with a newline, another control character or
// bytes that are not UTF-8 is written as a quoted Go string.
func escape(s string) string { return report.Escape(s) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
