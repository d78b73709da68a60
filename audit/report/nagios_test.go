package report

import (
	"bytes"
	"errors"
	"testing"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/policy"
)

func TestNagiosStateOf(t *testing.T) {
	tests := []struct {
		name     string
		counts   map[policy.Severity]int
		complete bool
		failOn   policy.Severity
		want     NagiosState
	}{
		{"nothing", nil, true, policy.Low, NagiosOK},
		{"info below --fail-on low", map[policy.Severity]int{policy.Info: 3}, true, policy.Low, NagiosOK},
		{"info at --fail-on info", map[policy.Severity]int{policy.Info: 3}, true, policy.Info, NagiosWarning},
		{"low", map[policy.Severity]int{policy.Low: 1, policy.Info: 3}, true, policy.Low, NagiosWarning},
		{"medium", map[policy.Severity]int{policy.Medium: 1}, true, policy.Low, NagiosWarning},
		{"medium below --fail-on high", map[policy.Severity]int{policy.Medium: 4}, true, policy.High, NagiosOK},
		{"high", map[policy.Severity]int{policy.High: 1, policy.Medium: 2}, true, policy.Low, NagiosCritical},
		{"critical", map[policy.Severity]int{policy.Critical: 1}, true, policy.Low, NagiosCritical},
		{"high below --fail-on critical", map[policy.Severity]int{policy.High: 1}, true, policy.Critical, NagiosOK},
		{"a zero count", map[policy.Severity]int{policy.Critical: 0}, true, policy.Low, NagiosOK},
		{"incomplete, clean", nil, false, policy.Low, NagiosUnknown},
		{"incomplete, critical", map[policy.Severity]int{policy.Critical: 1}, false, policy.Low, NagiosUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NagiosStateOf(tt.counts, tt.complete, tt.failOn); got != tt.want {
				t.Errorf("state %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNagiosLine(t *testing.T) {
	tests := []struct {
		name string
		r    *audit.Report
		opt  Options
		want string
	}{
		{"clean", &audit.Report{Roots: []string{"/srv/site"}, Entries: 1}, Options{FailOn: policy.Low},
			"WEBPERM OK - no findings at or above low in /srv/site (1 entry) | critical=0;;0;0 high=0;;0;0 medium=0;0;;0 low=0;0;;0 info=0;;;0 entries=1;;;0 unreadable=0;;;0"},
		{"info only", &audit.Report{Roots: []string{"/srv/site"}, Entries: 4, Findings: []audit.Finding{findingAt("/srv/site/a", policy.MissingIndex, policy.Info)}}, Options{FailOn: policy.Low},
			"WEBPERM OK - no findings at or above low, and 1 below --fail-on, in /srv/site (4 entries) | critical=0;;0;0 high=0;;0;0 medium=0;0;;0 low=0;0;;0 info=1;;;0 entries=4;;;0 unreadable=0;;;0"},
		{"one medium, --fail-on medium", &audit.Report{Roots: []string{"/srv/site"}, Entries: 4, Findings: []audit.Finding{findingAt("/srv/site/a", policy.ModeTooOpen, policy.Medium)}}, Options{FailOn: policy.Medium},
			"WEBPERM WARNING - 1 medium finding in /srv/site (4 entries) | critical=0;;0;0 high=0;;0;0 medium=1;0;;0 low=0;;;0 info=0;;;0 entries=4;;;0 unreadable=0;;;0"},
		{"critical and medium, two roots", &audit.Report{Roots: []string{"/srv/a", "/srv/b"}, Entries: 9, Findings: []audit.Finding{
			findingAt("/srv/a/x", policy.WorldWritable, policy.Critical), findingAt("/srv/b/x", policy.WorldWritable, policy.Critical), findingAt("/srv/b/y", policy.ModeTooOpen, policy.Medium)}}, Options{FailOn: policy.Low},
			"WEBPERM CRITICAL - 2 critical, 1 medium findings in 2 roots (9 entries) | critical=2;;0;0 high=0;;0;0 medium=1;0;;0 low=0;0;;0 info=0;;;0 entries=9;;;0 unreadable=0;;;0"},
		{"incomplete", &audit.Report{Roots: []string{"/srv/site"}, Entries: 3, Errors: []audit.WalkError{{Path: "/srv/site/private", Err: errors.New("permission denied")}, {Path: "/srv/site/b", Err: errors.New("permission denied")}},
			Findings: []audit.Finding{findingAt("/srv/site/x", policy.WorldWritable, policy.Critical)}}, Options{FailOn: policy.Low},
			"WEBPERM UNKNOWN - 2 paths not read (/srv/site/private: permission denied); 1 critical finding in /srv/site (3 entries) | critical=1;;0;0 high=0;;0;0 medium=0;0;;0 low=0;0;;0 info=0;;;0 entries=3;;;0 unreadable=2;;;0"},
		// A hostile root stays on one line, and its | cannot start the performance data.
		{"hostile root", &audit.Report{Roots: []string{"/srv/a|b=1\nWEBPERM OK"}}, Options{FailOn: policy.Low},
			`WEBPERM OK - no findings at or above low in "/srv/a\x7cb=1\nWEBPERM OK" (0 entries) | critical=0;;0;0 high=0;;0;0 medium=0;0;;0 low=0;0;;0 info=0;;;0 entries=0;;;0 unreadable=0;;;0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Nagios(&buf, tt.r, tt.opt); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want+"\n" {
				t.Errorf("got  %q\nwant %q", got, tt.want+"\n")
			}
		})
	}
}

func TestNagiosError(t *testing.T) {
	var buf bytes.Buffer
	if err := NagiosError(&buf, errors.Join(errors.New("/srv/a|b: no such file"), errors.New("policy.yaml:3: bad \x1b"))); err != nil {
		t.Fatal(err)
	}
	if want := `WEBPERM UNKNOWN - /srv/a\x7cb: no such file\npolicy.yaml:3: bad \x1b` + "\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}
