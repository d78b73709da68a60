package report

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// The metrics the prometheus format writes, with their help. All are gauges: each says what the
// last run found, and a run that finds less lowers it.
const (
	promSuccess     = "webperm_success"
	promFindings    = "webperm_findings"
	promEntries     = "webperm_entries"
	promUnreadable  = "webperm_unreadable"
	promDuration    = "webperm_audit_duration_seconds"
	promLastRun     = "webperm_last_run_timestamp_seconds"
	promLastSuccess = "webperm_last_success_timestamp_seconds"
	// Against a baseline (--baseline) only.
	promBaselineFindings = "webperm_baseline_findings"
	promBaselineResolved = "webperm_baseline_resolved"
)

var promHelp = map[string]string{
	promSuccess:          "Whether the last run audited its roots: 1, or 0 where it could audit nothing (exit status 2) and so wrote no findings, entries or duration.",
	promFindings:         "Findings of the last audit by root, severity and rule; a root and severity without any have one series without a rule, at 0.",
	promEntries:          "Entries the last audit examined, roots included, over all roots.",
	promUnreadable:       "Paths the last audit could not read: above 0, its findings may not be all there are.",
	promDuration:         "How long the last audit took, from start to the end of the walk.",
	promLastRun:          "When webperm last ran, whether it could audit or not, in seconds since the epoch.",
	promLastSuccess:      "When webperm last audited its roots, in seconds since the epoch; 0 where no run is known to have.",
	promBaselineFindings: "Findings of the last audit by root, severity and state against the baseline (--baseline): new, or known (in the baseline); every series is there, at 0 where none.",
	promBaselineResolved: "Findings of the baseline (--baseline) the last audit no longer has, by root.",
}

// Prometheus writes the report as node_exporter's textfile collector reads it: the text
// exposition format 0.0.4, gauges only, each with its # HELP and # TYPE. webperm_findings has a
// series per root, severity and rule that has findings, and one at 0, without a rule label, per
// root and severity that has none, so that an alert never waits on an absent series and
// sum by (root, severity) is always there. No label holds a path below a root: the series are
// as many as roots times rules, however many findings there are. A finding above the roots is
// counted with the first root it lies above, with whose walk it was reported.
//
// Against a baseline (opt.Baseline) webperm_findings still counts every finding, the state of
// the roots, and webperm_baseline_findings{root,severity,state} counts them again as "new" or
// "known" (a series for each, at 0 where none), webperm_baseline_resolved{root} the baseline's
// findings the audit no longer has: an alert on new findings is
// sum by (root) (webperm_baseline_findings{state="new"}) > 0.
//
// The times come from opt.Run; a zero time leaves its metric out, so the writer reads no clock.
func Prometheus(w io.Writer, r *audit.Report, opt Options) error {
	counts, states, err := findingsByRoot(r, opt.Baseline)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	gauge(bw, promSuccess)
	sample(bw, promSuccess, "", "1")
	gauge(bw, promFindings)
	for _, c := range counts {
		labels := `root="` + promLabel(r.Roots[c.root]) + `",severity="` + c.severity.String() + `"`
		if c.rule != "" {
			labels += `,rule="` + promLabel(string(c.rule)) + `"`
		}
		sample(bw, promFindings, labels, strconv.Itoa(c.n))
	}
	if b := opt.Baseline; b != nil {
		if err := writeBaselineMetrics(bw, r, b, states); err != nil {
			return err
		}
	}
	gauge(bw, promEntries)
	sample(bw, promEntries, "", strconv.Itoa(r.Entries))
	gauge(bw, promUnreadable)
	sample(bw, promUnreadable, "", strconv.Itoa(len(r.Errors)))
	if run := opt.Run; !run.Started.IsZero() && !run.Finished.IsZero() {
		gauge(bw, promDuration)
		sample(bw, promDuration, "", promSeconds(run.Finished.Sub(run.Started)))
	}
	writeRunTimes(bw, opt.Run.Finished, opt.Run.Finished)
	return bw.Flush()
}

// PrometheusFailed writes the metrics of a run that could audit nothing: webperm_success 0, when
// it ran (opt.Run.Finished), and when an audit last succeeded (opt.Run.LastSuccess, 0 where none
// is known), carried over from the file of an earlier run (PrometheusLastSuccess). Nothing else:
// a count of what was not audited would say the roots are clean.
func PrometheusFailed(w io.Writer, opt Options) error {
	bw := bufio.NewWriter(w)
	gauge(bw, promSuccess)
	sample(bw, promSuccess, "", "0")
	writeRunTimes(bw, opt.Run.Finished, opt.Run.LastSuccess)
	if opt.Run.LastSuccess.IsZero() {
		gauge(bw, promLastSuccess)
		sample(bw, promLastSuccess, "", "0")
	}
	return bw.Flush()
}

// writeRunTimes writes when webperm last ran and last succeeded, each where it is known.
func writeRunTimes(w *bufio.Writer, ran, succeeded time.Time) {
	if !ran.IsZero() {
		gauge(w, promLastRun)
		sample(w, promLastRun, "", promTime(ran))
	}
	if !succeeded.IsZero() {
		gauge(w, promLastSuccess)
		sample(w, promLastSuccess, "", promTime(succeeded))
	}
}

// PrometheusLastSuccess reads when an audit last succeeded from a file the prometheus format
// wrote: the zero time where it says none has, and an error where it says nothing readable.
func PrometheusLastSuccess(r io.Reader) (time.Time, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		name, rest, _ := strings.Cut(sc.Text(), " ")
		if name != promLastSuccess {
			continue
		}
		value, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
		s, err := strconv.ParseFloat(value, 64)
		switch {
		case err != nil:
			return time.Time{}, fmt.Errorf("%s: %w", promLastSuccess, err)
		case s < 0 || s > math.MaxInt64/1e9 || math.IsNaN(s):
			return time.Time{}, fmt.Errorf("%s: %s is no time", promLastSuccess, Visible(value))
		case s == 0:
			return time.Time{}, nil
		}
		return time.UnixMilli(int64(math.Round(s * 1000))), nil
	}
	if err := sc.Err(); err != nil {
		return time.Time{}, err
	}
	return time.Time{}, errors.New("no " + promLastSuccess)
}

// gauge writes the # HELP and # TYPE lines of the gauge name.
func gauge(w *bufio.Writer, name string) {
	w.WriteString("# HELP " + name + " " + promHelp[name] + "\n# TYPE " + name + " gauge\n")
}

// sample writes one sample of name, with labels (`a="x",b="y"`, escaped) where there are any.
func sample(w *bufio.Writer, name, labels, value string) {
	w.WriteString(name)
	if labels != "" {
		w.WriteString("{" + labels + "}")
	}
	w.WriteString(" " + value + "\n")
}

// promLabel is s as a label value of the text format: backslash, double quote and newline
// escaped as the format says; a byte that is not UTF-8, which no label may hold, becomes U+FFFD
// as it does in the JSON report's path.
func promLabel(s string) string {
	return promEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

var promEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// promTime is t in seconds since the epoch, to the millisecond.
func promTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)
}

// promSeconds is d in seconds, to the millisecond.
func promSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Round(time.Millisecond).Seconds(), 'f', -1, 64)
}

// rootCount is the number of findings of one root, severity and rule; rule "" for a root and
// severity that have none.
type rootCount struct {
	root     int
	severity policy.Severity
	rule     policy.RuleID
	n        int
}

// stateCount keys the findings of one root and severity that are new or known against a baseline.
type stateCount struct {
	root     int
	severity policy.Severity
	state    string
}

// writeBaselineMetrics writes the counts against the baseline b: states, as findingsByRoot
// counted them, a series for every root, severity and state; and the resolved findings by root,
// from a reading of the baseline.
func writeBaselineMetrics(bw *bufio.Writer, r *audit.Report, b *Baseline, states map[stateCount]int) error {
	resolved := make([]int, len(r.Roots))
	rootOf := newRootFinder(r.Roots)
	err := b.EachResolved(func(f *audit.Finding) error {
		if len(resolved) > 0 {
			resolved[rootOf.find(f.Entry.Path)]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	gauge(bw, promBaselineFindings)
	for root := range r.Roots {
		for _, sev := range policy.Severities() {
			for _, state := range []string{"new", "known"} {
				labels := `root="` + promLabel(r.Roots[root]) + `",severity="` + sev.String() + `",state="` + state + `"`
				sample(bw, promBaselineFindings, labels, strconv.Itoa(states[stateCount{root, sev, state}]))
			}
		}
	}
	gauge(bw, promBaselineResolved)
	for root, n := range resolved {
		sample(bw, promBaselineResolved, `root="`+promLabel(r.Roots[root])+`"`, strconv.Itoa(n))
	}
	return nil
}

// findingsByRoot counts r's findings by root, severity and rule, and adds a count of 0 for every
// root and severity without any: roots in r.Roots' order, most severe first, rules by name. Its
// memory is that of the counts, as many as roots times rules at most. Against a baseline b it
// counts them by root, severity and state (new or known) too, in the same reading.
func findingsByRoot(r *audit.Report, b *Baseline) ([]rootCount, map[stateCount]int, error) {
	type key struct {
		root     int
		severity policy.Severity
		rule     policy.RuleID
	}
	counts := make(map[key]int)
	states := make(map[stateCount]int)
	rootOf := newRootFinder(r.Roots)
	err := r.EachFinding(func(i int, f *audit.Finding) error {
		root := rootOf.find(f.Entry.Path)
		counts[key{root, f.Severity, f.Rule}]++
		if b != nil {
			states[stateCount{root, f.Severity, b.State(i)}]++
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	out := make([]rootCount, 0, len(counts)+len(r.Roots)*len(policy.Severities()))
	seen := make(map[key]bool)
	for k, n := range counts {
		out = append(out, rootCount{k.root, k.severity, k.rule, n})
		seen[key{k.root, k.severity, ""}] = true
	}
	for root := range r.Roots {
		for _, sev := range policy.Severities() {
			if !seen[key{root, sev, ""}] {
				out = append(out, rootCount{root: root, severity: sev})
			}
		}
	}
	slices.SortFunc(out, func(a, b rootCount) int {
		return cmp.Or(cmp.Compare(a.root, b.root), cmp.Compare(b.severity, a.severity), strings.Compare(string(a.rule), string(b.rule)))
	})
	return out, states, nil
}

// rootFinder tells which root a finding's path belongs to: the innermost root that holds it, or
// for an ancestor of the roots the first root below it. Findings come root by root, so it tries
// the last answer first, where no other root lies inside that one.
type rootFinder struct {
	roots  []string
	nested []bool // nested[i]: another root lies inside roots[i]
	last   int
}

func newRootFinder(roots []string) *rootFinder {
	rf := &rootFinder{roots: roots, nested: make([]bool, len(roots))}
	for i, a := range roots {
		for j, b := range roots {
			rf.nested[i] = rf.nested[i] || i != j && a != b && walk.Within(b, a)
		}
	}
	return rf
}

func (rf *rootFinder) find(p string) int {
	if rf.last < len(rf.roots) && !rf.nested[rf.last] && walk.Within(p, rf.roots[rf.last]) {
		return rf.last
	}
	best, below := -1, -1
	for i, root := range rf.roots {
		switch {
		case walk.Within(p, root) && (best < 0 || len(root) > len(rf.roots[best])):
			best = i
		case below < 0 && walk.Within(root, p):
			below = i
		}
	}
	switch {
	case best >= 0:
		rf.last = best
		return best
	case below >= 0:
		return below
	}
	return 0 // no root holds it nor lies below it: counted with the first
}
