package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/internal/sarifcheck"
)

// baselineFormat reads one format's report against a baseline: the findings it lists, each as
// "RULE PATH STATE" (PATH relative to the site, STATE new, known or resolved), sorted, and its
// counts of new, known and resolved findings. A format that lists no findings returns only
// counts.
type baselineFormat func(t *testing.T, site, out string) (listed []string, counts [3]int)

var baselineFormats = map[string]baselineFormat{
	"jsonl": func(t *testing.T, site, out string) ([]string, [3]int) {
		var listed []string
		var counts [3]int
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		for i, line := range lines {
			// "baseline" is the counts, an object, in the summary, and a string in a finding.
			if strings.Contains(line, `"record":"summary"`) {
				var rec struct {
					Counts *struct{ New, Known, Resolved int } `json:"baseline"`
				}
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				if i != len(lines)-1 || rec.Counts == nil {
					t.Errorf("summary at line %d of %d, baseline %+v: want it last, with the counts", i+1, len(lines), rec.Counts)
					continue
				}
				counts = [3]int{rec.Counts.New, rec.Counts.Known, rec.Counts.Resolved}
				continue
			}
			var f struct{ Record, Rule, Path, Baseline string }
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			switch {
			case f.Record == "finding" && (f.Baseline == "new" || f.Baseline == "known"):
			case f.Record == "resolved" && f.Baseline == "resolved":
			case f.Record == "header":
				continue
			default:
				t.Errorf("line %d: record %q, baseline %q", i+1, f.Record, f.Baseline)
			}
			listed = append(listed, f.Rule+" "+relTo(site, f.Path)+" "+f.Baseline)
		}
		return listed, counts
	},
	"csv": func(t *testing.T, site, out string) ([]string, [3]int) {
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) == 0 {
			t.Fatalf("%v, %d rows", err, len(rows))
		}
		head := rows[0]
		if head[len(head)-1] != "baseline" || !slices.Equal(head[:len(head)-1], strings.Split("rule,severity,path,type,mode,owner,group,message,fingerprint", ",")) {
			t.Errorf("header %q: want the columns of a report without a baseline, then baseline", head)
		}
		var listed []string
		var counts [3]int
		for _, row := range rows[1:] {
			state := row[len(row)-1]
			listed = append(listed, row[0]+" "+relTo(site, row[2])+" "+state)
			counts[slices.Index([]string{"new", "known", "resolved"}, state)]++
		}
		return listed, counts
	},
	"sarif": func(t *testing.T, site, out string) ([]string, [3]int) {
		sarifcheck.Check(t, []byte(out))
		sarifcheck.Validate(t, []byte(out))
		var log struct {
			Runs []struct {
				Results []struct {
					RuleID        string `json:"ruleId"`
					BaselineState string `json:"baselineState"`
					Properties    struct{ Path, Baseline string }
				} `json:"results"`
				Properties struct {
					Baseline struct{ New, Known, Resolved int }
				} `json:"properties"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(out), &log); err != nil {
			t.Fatal(err)
		}
		sarifStates := map[string]string{"new": "new", "unchanged": "known", "absent": "resolved"}
		var listed []string
		for _, r := range log.Runs[0].Results {
			state := sarifStates[r.BaselineState]
			if state == "" || state != r.Properties.Baseline {
				t.Errorf("%s %s: baselineState %q, properties' baseline %q", r.RuleID, r.Properties.Path, r.BaselineState, r.Properties.Baseline)
			}
			listed = append(listed, r.RuleID+" "+relTo(site, r.Properties.Path)+" "+state)
		}
		b := log.Runs[0].Properties.Baseline
		return listed, [3]int{b.New, b.Known, b.Resolved}
	},
	"junit": func(t *testing.T, site, out string) ([]string, [3]int) {
		type counts struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Skipped  int `xml:"skipped,attr"`
		}
		var doc struct {
			counts
			Suites []struct {
				counts
				Properties []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
				Cases []struct {
					Class   string    `xml:"classname,attr"`
					Name    string    `xml:"name,attr"`
					Failure *struct{} `xml:"failure"`
					Skipped *struct {
						Message string `xml:"message,attr"`
					} `xml:"skipped"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Suites) != 1 {
			t.Fatalf("%d suites, want 1", len(doc.Suites))
		}
		s := &doc.Suites[0]
		var listed []string
		var n counts
		for _, c := range s.Cases {
			n.Tests++
			switch {
			case c.Failure != nil:
				n.Failures++
				listed = append(listed, c.Class+" "+c.Name+" new")
			case c.Skipped != nil && strings.HasPrefix(c.Skipped.Message, "known: in the baseline "):
				n.Skipped++
				listed = append(listed, c.Class+" "+c.Name+" known")
			case c.Class == "webperm" && c.Name == "no new findings":
			default:
				t.Errorf("test case %s %s: neither a new finding, a known one, nor the passing case", c.Class, c.Name)
			}
		}
		if n != s.counts || n != doc.counts {
			t.Errorf("the suite says %+v and the suites %+v; its cases are %+v", s.counts, doc.counts, n)
		}
		props := map[string]int{}
		for _, p := range s.Properties {
			props[p.Name], _ = strconv.Atoi(p.Value)
		}
		return listed, [3]int{props["baseline.new"], props["baseline.known"], props["baseline.resolved"]}
	},
	"prometheus": func(t *testing.T, site, out string) ([]string, [3]int) {
		if tool := fixture.Tool(t, "promtool", "prometheus"); tool != "" {
			checkMetrics(t, tool, out)
		}
		var counts [3]int
		sample := regexp.MustCompile(`(?m)^(webperm_\w+)\{root="([^"]*)"(?:,severity="(\w+)")?(?:,(?:state|rule)="([\w-]+)")?\} (\d+)$`)
		total := 0
		for _, m := range sample.FindAllStringSubmatch(out, -1) {
			n, _ := strconv.Atoi(m[5])
			if m[2] != site {
				t.Errorf("root %q, want %q", m[2], site)
			}
			switch {
			case m[1] == "webperm_findings":
				total += n
			case m[1] == "webperm_baseline_findings" && m[4] == "new":
				counts[0] += n
			case m[1] == "webperm_baseline_findings" && m[4] == "known":
				counts[1] += n
			case m[1] == "webperm_baseline_resolved":
				counts[2] += n
			default:
				t.Errorf("unexpected series %s", m[0])
			}
		}
		if total != counts[0]+counts[1] {
			t.Errorf("webperm_findings counts %d findings, webperm_baseline_findings %d new and %d known", total, counts[0], counts[1])
		}
		return nil, counts
	},
	// The page lists the new findings and the resolved ones, each in its table, not the known
	// ones, which its header counts.
	"html": func(t *testing.T, site, out string) ([]string, [3]int) {
		listed := []string{} // a page that lists nothing is a list too, empty
		findings, resolved, _ := strings.Cut(out, `<section id="resolved">`)
		row := regexp.MustCompile(`<tr class="[a-z]+"><td>([a-z-]+)</td><td>[a-z]+</td><td>([^<]*)</td>`)
		for _, part := range []struct{ html, state string }{{findings, "new"}, {resolved, "resolved"}} {
			for _, m := range row.FindAllStringSubmatch(part.html, -1) {
				listed = append(listed, m[1]+" "+relTo(site, m[2])+" "+part.state)
			}
		}
		header := regexp.MustCompile(`<dt>baseline</dt><dd>[^<]*: (\d+) new, (\d+) known \(not listed\), (\d+) resolved</dd>`).FindStringSubmatch(out)
		if header == nil {
			t.Errorf("no baseline line in the header:\n%s", out)
			return listed, [3]int{}
		}
		var counts [3]int
		for i := range counts {
			counts[i], _ = strconv.Atoi(header[i+1])
		}
		if n := regexp.MustCompile(`id="count-findings" data-count="(\d+)"`).FindStringSubmatch(out); n == nil || n[1] != header[1] {
			t.Errorf("count-findings %v, want the %s new findings", n, header[1])
		}
		return listed, counts
	},
	"nagios": func(t *testing.T, site, out string) ([]string, [3]int) {
		m := regexp.MustCompile(`; baseline: (\d+) new, (\d+) known, (\d+) resolved \|.* new=(\d+);;;0 known=(\d+);;;0 resolved=(\d+);;;0\n$`).FindStringSubmatch(out)
		if m == nil || m[1] != m[4] || m[2] != m[5] || m[3] != m[6] {
			t.Errorf("%q: want the counts against the baseline in the summary and the performance data, the same", out)
			return nil, [3]int{}
		}
		var counts [3]int
		for i := range counts {
			counts[i], _ = strconv.Atoi(m[i+1])
		}
		return nil, counts
	},
}

// relTo is path relative to site, as the reports' paths are compared.
func relTo(site, path string) string {
	if rel, err := filepath.Rel(site, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// Every format says what is new, known and resolved against a baseline, and the exit status (a
// Nagios plugin's state under nagios) follows the new findings only: a site whose every finding
// is known exits 0, though it has critical ones.
func TestBaselineEveryFormat(t *testing.T) {
	site := tree(t, baselineSite)
	dir := t.TempDir()
	before, after := filepath.Join(dir, "before.json"), filepath.Join(dir, "after.json")
	if code, _, stderr := auditSite(t, site, "--format", "json", "-o", before); code != exitFindings {
		t.Fatalf("taking the baseline: exit %d, %s", code, stderr)
	}
	changeSite(t, site)
	if code, _, stderr := auditSite(t, site, "--format", "json", "-o", after); code != exitFindings {
		t.Fatalf("taking the second baseline: exit %d, %s", code, stderr)
	}
	changed := []string{
		"web-unreadable lib/a.php new", "web-unreadable lib/a.php resolved", "world-writable fixed.html resolved",
		"world-writable new.html new", "world-writable open.html known",
	}
	unchanged := []string{"web-unreadable lib/a.php known", "world-writable new.html known", "world-writable open.html known"}
	for format, read := range baselineFormats {
		t.Run(format, func(t *testing.T) {
			for _, tc := range []struct {
				baseline string
				code     int
				listed   []string
				counts   [3]int
			}{
				// Nagios: a new critical finding is CRITICAL, 2; all known is OK, 0.
				{before, map[bool]int{true: 2, false: exitFindings}[format == "nagios"], changed, [3]int{2, 1, 2}},
				{after, exitClean, unchanged, [3]int{0, 3, 0}},
			} {
				code, out, stderr := auditSite(t, site, "--baseline", tc.baseline, "--format", format)
				if code != tc.code || stderr != "" {
					t.Fatalf("against %s: exit %d, stderr %q; want %d", filepath.Base(tc.baseline), code, stderr, tc.code)
				}
				listed, counts := read(t, site, out)
				if slices.Sort(listed); listed != nil {
					want := tc.listed
					switch format {
					case "junit": // resolved findings are no test cases
						want = slices.DeleteFunc(slices.Clone(want), func(s string) bool { return strings.HasSuffix(s, " resolved") })
					case "html": // known findings are counted, not listed
						want = slices.DeleteFunc(slices.Clone(want), func(s string) bool { return strings.HasSuffix(s, " known") })
					}
					if !slices.Equal(listed, want) {
						t.Errorf("against %s, listed:\n%s\nwant:\n%s", filepath.Base(tc.baseline), strings.Join(listed, "\n"), strings.Join(want, "\n"))
					}
				} else if format != "prometheus" && format != "nagios" {
					t.Errorf("against %s, nothing listed:\n%s", filepath.Base(tc.baseline), out)
				}
				if counts != tc.counts {
					t.Errorf("against %s: new, known, resolved %v, want %v", filepath.Base(tc.baseline), counts, tc.counts)
				}
			}
		})
	}

	// The nagios line's state and its counts by severity are the new findings'.
	code, out, _ := auditSite(t, site, "--baseline", after, "--format", "nagios")
	if want := "WEBPERM OK - no new findings at or above low in "; code != exitClean || !strings.HasPrefix(out, want) || !strings.Contains(out, " critical=0;;0;0 ") {
		t.Errorf("all known: exit %d, %q; want 0 and %q..., critical=0", code, out, want)
	}
	code, out, _ = auditSite(t, site, "--baseline", before, "--format", "nagios")
	if want := "WEBPERM CRITICAL - 1 critical, 1 high new findings in "; code != 2 || !strings.HasPrefix(out, want) || !strings.Contains(out, " critical=1;;0;0 ") {
		t.Errorf("changed: exit %d, %q; want 2 and %q..., critical=1", code, out, want)
	}
	// The JUnit report of a site whose findings are all known has a passing case: a green run.
	_, out, _ = auditSite(t, site, "--baseline", after, "--format", "junit")
	if !bytes.Contains([]byte(out), []byte(`<testcase classname="webperm" name="no new findings"/>`)) || !strings.Contains(out, `failures="0"`) {
		t.Errorf("all known, JUnit:\n%s", out)
	}
}

// Each format that compares with a baseline is tested, by TestBaselineEveryFormat or, text and
// json, by TestBaselineNewKnownResolved; --baseline with any other is refused, exit 2, before
// anything is audited.
func TestBaselineFormatsListed(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\n")
	for _, format := range report.Formats() {
		_, tested := baselineFormats[format]
		tested = tested || format == "text" || format == "json"
		if report.ComparesWithBaseline(format) {
			if !tested {
				t.Errorf("--format %s compares with a baseline, and no test says how", format)
			}
			continue
		}
		if tested {
			t.Errorf("--format %s is tested with a baseline, but does not compare with one", format)
		}
		code, out, stderr := auditSite(t, site, "--baseline", filepath.Join(site, "none.json"), "--format", format)
		if code != exitError || out != "" || !strings.Contains(stderr, "does not compare with a baseline") {
			t.Errorf("--format %s --baseline: exit %d, stdout %q, stderr %q; want 2 and why", format, code, out, stderr)
		}
	}
}

// A known and a resolved finding of names with a line break, invalid UTF-8 and quotes are
// carried as each format carries names: the CSV has a line per row, every JSON line is one
// record, the SARIF log's locations are the exact paths, the JUnit report is XML, the metrics
// pass promtool.
func TestBaselineHostileNames(t *testing.T) {
	names := []string{"new\nline.html", "bad\xffutf8.html", `quo"te's.html`, "=cmd.html"}
	manifest := "d 0755 0:0 .\nf 0644 0:0 index.html\n"
	for _, n := range names {
		manifest += "f 0666 0:0 " + strconv.Quote(n) + "\n"
	}
	site := tree(t, manifest)
	base := filepath.Join(t.TempDir(), "baseline.json")
	if code, _, stderr := auditSite(t, site, "--format", "json", "-o", base); code != exitFindings {
		t.Fatalf("taking the baseline: exit %d, %s", code, stderr)
	}
	for _, n := range names[:2] {
		if err := os.Chmod(filepath.Join(site, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for format := range baselineFormats {
		t.Run(format, func(t *testing.T) {
			code, out, stderr := auditSite(t, site, "--baseline", base, "--format", format)
			if code != exitClean || stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0", code, stderr)
			}
			_, counts := baselineFormats[format](t, site, out)
			if counts != [3]int{0, 2, 2} {
				t.Errorf("new, known, resolved %v, want [0 2 2]", counts)
			}
			switch format {
			case "csv":
				if rows := strings.Count(out, "\n"); rows != 5 {
					t.Errorf("%d lines, want a header and 4 rows:\n%s", rows, out)
				}
			case "jsonl":
				var resolved []string
				for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
					var rec struct {
						Record     string
						PathBase64 string `json:"path_base64"`
					}
					if err := json.Unmarshal([]byte(line), &rec); err != nil {
						t.Fatalf("%v: %q", err, line)
					}
					if rec.Record == "resolved" && rec.PathBase64 != "" {
						resolved = append(resolved, rec.PathBase64)
					}
				}
				if len(resolved) != 1 {
					t.Errorf("resolved records with path_base64: %q, want that of bad\\xffutf8.html", resolved)
				}
			}
		})
	}
}
