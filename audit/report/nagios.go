package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/policy"
)

// NagiosState is a Nagios plugin's state, which is also its exit status (the plugin API).
type NagiosState int

const (
	NagiosOK NagiosState = iota
	NagiosWarning
	NagiosCritical
	NagiosUnknown
)

func (s NagiosState) String() string {
	return [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[s]
}

// NagiosStateOf is the state of an audit that found counts findings by severity: UNKNOWN where it
// could not read part of the tree, whose findings it cannot know; else CRITICAL for a critical or
// high finding at or above failOn, WARNING for a medium, low or info one at or above it, and OK
// where there is none.
func NagiosStateOf(counts map[policy.Severity]int, complete bool, failOn policy.Severity) NagiosState {
	state := NagiosOK
	for sev, n := range counts {
		switch {
		case n == 0 || sev < failOn:
		case sev >= policy.High:
			state = NagiosCritical
		default:
			state = max(state, NagiosWarning)
		}
	}
	if !complete {
		return NagiosUnknown
	}
	return state
}

// Nagios writes the report as a Nagios or Icinga plugin's output, one line: the state (as
// NagiosStateOf decides it for opt.FailOn), a summary, and after | the performance data, a count
// per severity whose thresholds say which count what state (critical=2;;0;0: any critical
// finding is CRITICAL), the entries and the paths not read:
//
//	WEBPERM CRITICAL - 2 critical, 1 medium findings in /srv/site (57 entries) | critical=2;;0;0 high=0;;0;0 medium=1;0;;0 low=0;0;;0 info=0;;;0 entries=57;;;0 unreadable=0;;;0
//
// Names are escaped as the text report escapes them, and | as \x7c: the line stays one line, and
// its first | the one before the performance data.
//
// Against a baseline (opt.Baseline) the state, the counts by severity and their thresholds are
// those of the new findings only, as the exit status is, the summary ends with the counts
// against the baseline, and the performance data adds them:
//
//	WEBPERM WARNING - 1 medium new finding in /srv/site (57 entries); baseline: 1 new, 3 known, 2 resolved | critical=0;;0;0 ... new=1;;;0 known=3;;;0 resolved=2;;;0
func Nagios(w io.Writer, r *audit.Report, opt Options) error {
	b := opt.Baseline
	counts, err := CountedBySeverity(r, b)
	if err != nil {
		return err
	}
	noun := "finding"
	if b != nil {
		noun = "new finding"
	}
	state := NagiosStateOf(counts, r.Complete(), opt.FailOn)
	var sb strings.Builder
	if n := len(r.Errors); n > 0 {
		fmt.Fprintf(&sb, "%s not read (%s: %s); ", count(n, "path", "paths"), Escape(r.Errors[0].Path), Visible(r.Errors[0].Err.Error()))
	}
	var over []string
	above, below := 0, 0
	for _, sev := range policy.Severities() {
		switch n := counts[sev]; {
		case n == 0:
		case sev >= opt.FailOn:
			over = append(over, strconv.Itoa(n)+" "+sev.String())
			above += n
		default:
			below += n
		}
	}
	if above == 0 {
		sb.WriteString("no " + noun + "s at or above " + opt.FailOn.String())
	} else {
		sb.WriteString(strings.Join(over, ", ") + " " + noun)
		if above > 1 {
			sb.WriteString("s")
		}
	}
	if below > 0 {
		fmt.Fprintf(&sb, ", and %d below --fail-on,", below)
	}
	if len(r.Roots) == 1 {
		sb.WriteString(" in " + Escape(r.Roots[0]))
	} else {
		fmt.Fprintf(&sb, " in %d roots", len(r.Roots))
	}
	fmt.Fprintf(&sb, " (%s)", count(r.Entries, "entry", "entries"))
	if b != nil {
		fmt.Fprintf(&sb, "; baseline: %d new, %d known, %d resolved", b.New, b.Known, b.Resolved)
	}
	text := nagiosText(sb.String()) + " |"
	sb.Reset()
	for _, sev := range policy.Severities() {
		warn, crit := "", ""
		switch {
		case sev < opt.FailOn:
		case sev >= policy.High:
			crit = "0"
		default:
			warn = "0"
		}
		fmt.Fprintf(&sb, " %s=%d;%s;%s;0", sev, counts[sev], warn, crit)
	}
	fmt.Fprintf(&sb, " entries=%d;;;0 unreadable=%d;;;0", r.Entries, len(r.Errors))
	if b != nil {
		fmt.Fprintf(&sb, " new=%d;;;0 known=%d;;;0 resolved=%d;;;0", b.New, b.Known, b.Resolved)
	}
	return writeNagios(w, state, text+sb.String())
}

// NagiosError writes the line of a run that could audit nothing: UNKNOWN, and why.
func NagiosError(w io.Writer, err error) error {
	return writeNagios(w, NagiosUnknown, nagiosText(Visible(err.Error())))
}

// writeNagios writes the one line of a plugin in state, with text.
func writeNagios(w io.Writer, state NagiosState, text string) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("WEBPERM " + state.String() + " - " + text + "\n")
	return bw.Flush()
}

// nagiosText is s, escaped already, with | escaped too: Nagios takes the first | of a line for
// the start of the performance data.
func nagiosText(s string) string { return strings.ReplaceAll(s, "|", `\x7c`) }

// count is "1 entry", "2 entries".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
