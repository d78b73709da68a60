package fixer

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/policy"
)

// WriteScript writes p as a POSIX sh script for a person to review and run: a header saying what
// it is for, set -eu, then each action's chown and chmod on absolute, single-quoted paths, and
// last, as comments, what is left to a person.
//
// Every path goes between single quotes with each ' written '\”, so a name with spaces,
// newlines, a leading dash, quotes, $(…) or bytes that are not UTF-8 is one word that sh never
// expands; "--" ends the options before it. Everything else the script carries from the tree
// (names, messages) is in comments, escaped so that it stays on its line.
func WriteScript(w io.Writer, p *Plan) error {
	bw := bufio.NewWriter(w)
	writeHeader(bw, p)
	fmt.Fprintln(bw, "set -eu")
	fmt.Fprintln(bw)
	if len(p.Actions) == 0 {
		fmt.Fprintln(bw, "# nothing to change")
	}
	var section *Action // the first action of the section being written
	for i := range p.Actions {
		a := &p.Actions[i]
		if section == nil || a.Root != section.Root || a.Ancestor != section.Ancestor {
			if section != nil {
				fmt.Fprintln(bw)
			}
			section = a
			writeSection(bw, a)
		}
		writeAction(bw, a, p.Accounts)
	}
	if len(p.Manual) > 0 {
		fmt.Fprintf(bw, "\n# LEFT FOR YOU TO DECIDE: webperm changes none of these.\n")
		for _, m := range p.Manual {
			fmt.Fprintf(bw, "# %s (%s)\n", escape(m.Path), m.Type)
			for _, f := range m.Findings {
				fmt.Fprintf(bw, "#   %s: %s\n", f.Rule, escape(f.Message))
			}
			fmt.Fprintf(bw, "#   why: %s\n", escape(m.Reason))
		}
	}
	return bw.Flush()
}

func writeHeader(w io.Writer, p *Plan) {
	fmt.Fprintln(w, "#!/bin/sh")
	fmt.Fprintln(w, "# webperm plan: the chown and chmod that bring these web roots to their policy.")
	fmt.Fprintf(w, "# webperm %s, %s\n", escape(p.Version), p.Created.UTC().Format(time.RFC3339))
	for _, r := range p.Roots {
		fmt.Fprintf(w, "# root: %s\n", escape(r.Path))
	}
	for _, id := range []struct {
		what string
		who  *audit.WebUser
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
			fmt.Fprintf(w, "#   %s\n", escape(u))
		}
	}
	fmt.Fprintln(w, "#")
	fmt.Fprintln(w, "# Review it, then run it as root. It changes paths as they are when it runs: should the tree")
	fmt.Fprintln(w, "# change first, `webperm fix --apply --plan PLAN.json` checks that each entry is still the one")
	fmt.Fprintln(w, "# audited, never follows a symlink, and keeps a journal for `webperm undo`.")
}

// writeSection heads the actions in a's root, or above it.
func writeSection(w io.Writer, a *Action) {
	if !a.Ancestor {
		fmt.Fprintf(w, "# in the root %s\n", escape(a.Root))
		return
	}
	fmt.Fprintf(w, "# ABOVE THE ROOT %s: outside the audited tree, on the web server's way to it.\n", escape(a.Root))
	fmt.Fprintln(w, "# webperm fix --apply changes these only with --include-ancestors.")
}

// writeAction writes a's chown, then its chmod: chown clears setuid and setgid bits.
func writeAction(w io.Writer, a *Action, acc *audit.Accounts) {
	path := shellQuote(a.Path)
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
	if a.Type == audit.TypeDir && a.Current.Mode&special&^a.Target.Mode != 0 {
		return "0" + m
	}
	return m
}

// shellQuote makes s one sh word that is never expanded: single quotes keep every byte as it
// is, newlines included, except ' itself, which closes the quote, is escaped and reopens it.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// comment makes s safe on a comment line: text with a newline, another control character or
// bytes that are not UTF-8 is written as a quoted Go string.
func escape(s string) string { return report.Escape(s) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
