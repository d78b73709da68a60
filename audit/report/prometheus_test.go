package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// findingAt is a finding of rule and severity at path, as the prometheus writer counts it.
func findingAt(path string, rule policy.RuleID, sev policy.Severity) audit.Finding {
	return audit.Finding{Rule: rule, Severity: sev, Entry: walk.Entry{Path: path, Type: walk.TypeFile, Mode: 0o666}}
}

// samples returns the sample lines of metric name in a prometheus report.
func samples(out, name string) []string {
	var got []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			got = append(got, line)
		}
	}
	return got
}

// Each finding counts once, with the innermost root that holds it, or the first root below it
// where it lies above the roots; a root and severity without findings has one series at 0.
func TestPrometheusFindingsByRoot(t *testing.T) {
	r := &audit.Report{
		Roots:   []string{"/srv/a", "/srv/a/inner", "/srv/b"},
		Entries: 12,
		Findings: []audit.Finding{
			findingAt("/srv", policy.WebUntraversable, policy.High),
			findingAt("/srv/a/x", policy.WorldWritable, policy.Critical),
			findingAt("/srv/a/inner/y", policy.WorldWritable, policy.Critical),
			findingAt("/srv/a/inner", policy.ModeTooOpen, policy.Medium),
			findingAt("/srv/b/z", policy.WorldWritable, policy.Critical),
			findingAt("/srv/b/z2", policy.WorldWritable, policy.Critical),
			findingAt("/srv/b/z3", policy.ModeTooOpen, policy.Info),
			findingAt("/srv/b/z4", policy.ModeTooOpen, policy.Medium),
		},
	}
	var buf bytes.Buffer
	if err := Prometheus(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`webperm_findings{root="/srv/a",severity="critical",rule="world-writable"} 1`,
		`webperm_findings{root="/srv/a",severity="high",rule="web-untraversable"} 1`,
		`webperm_findings{root="/srv/a",severity="medium"} 0`,
		`webperm_findings{root="/srv/a",severity="low"} 0`,
		`webperm_findings{root="/srv/a",severity="info"} 0`,
		`webperm_findings{root="/srv/a/inner",severity="critical",rule="world-writable"} 1`,
		`webperm_findings{root="/srv/a/inner",severity="high"} 0`,
		`webperm_findings{root="/srv/a/inner",severity="medium",rule="mode-too-open"} 1`,
		`webperm_findings{root="/srv/a/inner",severity="low"} 0`,
		`webperm_findings{root="/srv/a/inner",severity="info"} 0`,
		`webperm_findings{root="/srv/b",severity="critical",rule="world-writable"} 2`,
		`webperm_findings{root="/srv/b",severity="high"} 0`,
		`webperm_findings{root="/srv/b",severity="medium",rule="mode-too-open"} 1`,
		`webperm_findings{root="/srv/b",severity="low"} 0`,
		`webperm_findings{root="/srv/b",severity="info",rule="mode-too-open"} 1`,
	}
	if got := samples(buf.String(), "webperm_findings"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings series:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for name, want := range map[string]string{"webperm_success": "1", "webperm_entries": "12", "webperm_unreadable": "0"} {
		if got := samples(buf.String(), name); len(got) != 1 || got[0] != name+" "+want {
			t.Errorf("%s: %q, want one sample %s", name, got, want)
		}
	}
	// No times given, no times written: the writer reads no clock.
	for _, name := range []string{promDuration, promLastRun, promLastSuccess} {
		if got := samples(buf.String(), name); len(got) != 0 {
			t.Errorf("without times, the report has %q", got)
		}
	}
}

func TestPrometheusTimes(t *testing.T) {
	start := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	r := &audit.Report{Roots: []string{"/srv/site"}, Errors: []audit.WalkError{{Path: "/srv/site/x"}}}
	var buf bytes.Buffer
	if err := Prometheus(&buf, r, Options{Run: Run{Started: start, Finished: start.Add(1500 * time.Millisecond), LastSuccess: start.Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	// A run that read part of the tree succeeded: the count of what it could not read says the rest.
	for name, want := range map[string]string{
		"webperm_success":                        "1",
		"webperm_unreadable":                     "1",
		"webperm_audit_duration_seconds":         "1.5",
		"webperm_last_run_timestamp_seconds":     "1772330401.5",
		"webperm_last_success_timestamp_seconds": "1772330401.5",
	} {
		if got := samples(buf.String(), name); len(got) != 1 || got[0] != name+" "+want {
			t.Errorf("%s: %q, want one sample %s", name, got, want)
		}
	}
}

// Roots are label values: backslash, double quote and newline escaped as the text format says,
// and bytes that are not UTF-8, which a label cannot hold, as U+FFFD.
func TestPrometheusLabelEscaped(t *testing.T) {
	r := &audit.Report{
		Roots:    []string{"/srv/a\"b\\c\nd\xffe"},
		Findings: []audit.Finding{findingAt("/srv/a\"b\\c\nd\xffe/f", policy.WorldWritable, policy.Critical)},
	}
	var buf bytes.Buffer
	if err := Prometheus(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	want := `webperm_findings{root="/srv/a\"b\\c\nd` + "\uFFFD" + `e",severity="critical",rule="world-writable"} 1`
	if got := samples(buf.String(), "webperm_findings"); len(got) != 5 || got[0] != want {
		t.Errorf("series %q, want 5, the first %s", got, want)
	}
}

func TestPrometheusLastSuccess(t *testing.T) {
	then := time.UnixMilli(1772330401500)
	var failed bytes.Buffer
	if err := PrometheusFailed(&failed, Options{Run: Run{Finished: then.Add(time.Hour), LastSuccess: then}}); err != nil {
		t.Fatal(err)
	}
	var never bytes.Buffer
	if err := PrometheusFailed(&never, Options{Run: Run{Finished: then}}); err != nil {
		t.Fatal(err)
	}
	var ok bytes.Buffer
	if err := Prometheus(&ok, &audit.Report{Roots: []string{"/srv"}}, Options{Run: Run{Started: then, Finished: then}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file string
		want       time.Time
		err        string
	}{
		{"a success", ok.String(), then, ""},
		{"a failure after one", failed.String(), then, ""},
		{"a failure before any", never.String(), time.Time{}, ""},
		{"with a timestamp", "webperm_last_success_timestamp_seconds 1772330401.5 1772330401500\n", then, ""},
		{"empty", "", time.Time{}, "no webperm_last_success_timestamp_seconds"},
		{"another file", "node_foo 1\n", time.Time{}, "no webperm_last_success_timestamp_seconds"},
		{"garbled value", "webperm_last_success_timestamp_seconds 17x\n", time.Time{}, "invalid syntax"},
		{"negative", "webperm_last_success_timestamp_seconds -5\n", time.Time{}, "is no time"},
		{"not a number", "webperm_last_success_timestamp_seconds NaN\n", time.Time{}, "is no time"},
		{"infinite", "webperm_last_success_timestamp_seconds +Inf\n", time.Time{}, "is no time"},
		{"a line past the cap", strings.Repeat("x", 2<<20) + "\n", time.Time{}, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PrometheusLastSuccess(strings.NewReader(tt.file))
			switch {
			case tt.err == "" && err != nil, tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want %q", err, tt.err)
			case !got.Equal(tt.want):
				t.Errorf("last success %v, want %v", got, tt.want)
			}
		})
	}
	// A failed run says it failed, and nothing of what it did not audit.
	for _, out := range []string{failed.String(), never.String()} {
		if got := samples(out, "webperm_success"); len(got) != 1 || got[0] != "webperm_success 0" {
			t.Errorf("a failed run: %q", got)
		}
		if strings.Contains(out, "webperm_findings") || strings.Contains(out, "webperm_entries") {
			t.Errorf("a failed run counts what it did not audit:\n%s", out)
		}
	}
	if got := samples(never.String(), promLastSuccess); len(got) != 1 || got[0] != promLastSuccess+" 0" {
		t.Errorf("no success known: %q, want 0", got)
	}
}
