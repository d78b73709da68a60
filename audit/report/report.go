// Package report writes an audit.Report in each format webperm offers. A writer takes an
// io.Writer and the report; it never opens files, prints to the terminal or decides exit codes.
package report

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
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
	// Baseline, where set, is what the findings were compared with (--baseline): the report
	// says which are new and which known, and lists the baseline's resolved ones.
	Baseline *Baseline
	// ToolVersion is the version of webperm that audited, for the formats that name the tool
	// (SARIF); left out where empty.
	ToolVersion string
	// FailOn is the least severity of a finding that counts against the run (--fail-on): the
	// nagios line's state and thresholds follow it. The zero value, Info, counts every finding.
	FailOn policy.Severity
	// Run says when the audit ran, for the formats that carry it (prometheus).
	Run Run
}

// Run is when an audit ran. The command measures it and hands it to the writers, which read no
// clock: two reports of the same tree differ only where their times do.
type Run struct {
	Started, Finished time.Time
	// LastSuccess is when an audit last succeeded, for a run that could audit nothing
	// (PrometheusFailed); zero where none is known.
	LastSuccess time.Time
}

// Writer renders a report.
type Writer func(w io.Writer, r *audit.Report, opt Options) error

var writers = map[string]Writer{
	"text":       Text,
	"json":       JSON,
	"sarif":      SARIF,
	"jsonl":      JSONLines,
	"csv":        CSV,
	"junit":      JUnit,
	"prometheus": Prometheus,
	"nagios":     Nagios,
	"html":       HTML,
}

// baselineFormats are the formats that say what is new against a baseline (Options.Baseline).
// A format is listed once its writer does: --baseline with any other is refused, rather than
// the writer ignoring the baseline and reporting known findings as if they were new.
var baselineFormats = []string{"csv", "html", "json", "jsonl", "junit", "nagios", "prometheus", "sarif", "text"}

// ComparesWithBaseline says whether the format says what is new against a baseline.
func ComparesWithBaseline(format string) bool { return slices.Contains(baselineFormats, format) }

// BaselineFormats lists the formats that compare with a baseline.
func BaselineFormats() []string { return baselineFormats }

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

// fsName is the file system of a directory the walk did not enter, as mount(8) names it.
func fsName(s walk.Skip) string {
	if s.FsType == "" {
		return "file system unknown"
	}
	return s.FsType
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
