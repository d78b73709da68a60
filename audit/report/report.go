// Package report writes an audit.Report in each format webperm offers. A writer takes an
// io.Writer and the report; it never opens files, prints to the terminal or decides exit codes.
package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// Options tune a writer.
type Options struct {
	Color bool // the text writer may use colour; the caller decides (terminal, NO_COLOR, --color)
	// Expand lists every finding in the text report, where it would show a subtree that shares
	// one as a single line.
	Expand bool
}

// Writer renders a report.
type Writer func(w io.Writer, r *audit.Report, opt Options) error

var writers = map[string]Writer{
	"text": Text,
	"json": JSON,
	"html": HTML,
}

// Lookup returns the writer of a format name.
func Lookup(format string) (Writer, error) {
	if w, ok := writers[format]; ok {
		return w, nil
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// Formats lists the format names, sorted.
func Formats() []string {
	names := make([]string, 0, len(writers))
	for n := range writers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Escape makes s safe to print on a terminal or in a mail: a string with control characters or
// invalid UTF-8 is shown Go-quoted ("up\xffloads/a\nb"), anything else as it is.
func Escape(s string) string {
	if plain(s) || Visible(s) == s {
		return s
	}
	return strconv.Quote(s)
}

// plain reports whether s is printable ASCII only, as almost every name is: nothing to escape,
// known without building a copy.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

// Visible shows s with each control character, character that prints as nothing, and byte that
// is not UTF-8 written as its Go escape (\x1b, \n, \u202e, \xff), and the rest as it is: for
// text that names things already quoted or escaped, such as an error message, which must still
// never carry a terminal escape sequence.
func Visible(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ' || unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// ownerNames returns the owner and group of e by name (escaped: an account file is text too),
// numeric where the system has no name, and "?" where the backend carries no owners.
func ownerNames(e *walk.Entry, a *access.Accounts) (owner, group string) {
	if !e.OwnerKnown {
		return "?", "?"
	}
	return Escape(a.UserLabel(e.UID)), Escape(a.GroupLabel(e.GID))
}

// fixCommands says what a finding's fix changes as the commands a sysadmin would type:
// "chown deploy:www-data", "chmod 0640", or both.
func fixCommands(f *audit.Finding, a *access.Accounts) string {
	var cmds []string
	if f.Fix.Chown {
		owner, group := ownerNames(&walk.Entry{UID: f.Fix.UID, GID: f.Fix.GID, OwnerKnown: true}, a)
		cmds = append(cmds, "chown -h "+owner+":"+group)
	}
	if f.Entry.Type != walk.TypeSymlink && (f.Fix.Mode != f.Entry.Mode || !f.Fix.Chown) {
		cmds = append(cmds, "chmod "+policy.OctalMode(f.Fix.Mode))
	}
	return strings.Join(cmds, "; ")
}
