package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/internal/fixture"
)

// The HTML report, rendered by a real browser, shows the counts of the JSON report, one row per
// finding, and hostile file names as text: never as an element, never run.
func TestHTMLReportInBrowser(t *testing.T) {
	chromium := fixture.Tool(t, "chromium", "chromium")
	root := demoTree(t)
	hostile := []string{
		"<script>alert(1)</script>.php", // a directory <script>alert(1)< holding script>.php
		`"><img src=x onerror=alert(1)>`,
		"new\nline.php",
		"bad\xffutf8.php",
		"amp&amp;quot\".php",
	}
	for _, name := range hostile {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o666); err != nil { // world-writable: a finding
			t.Fatal(err)
		}
	}
	page, js := htmlAndJSON(t, root)
	if bytes.Contains(page, []byte("://")) {
		t.Error("the report names a URL: it must load nothing")
	}
	if !bytes.Contains(page, []byte(`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;sha256-`)) {
		t.Error("the report has no Content-Security-Policy that forbids everything but its own style and script")
	}

	dom := renderDOM(t, chromium, writePage(t, page), "")
	rows := findingRows(t, dom)
	checkCounts(t, dom, rows, js)
	for i, row := range rows {
		if row.hidden {
			t.Errorf("row %d (%s) is hidden in the page as opened", i, row.cells[2])
		}
	}
	// The rows are the JSON report's findings, in its order, names escaped as the text report
	// escapes them.
	for i, f := range js.Findings {
		if i >= len(rows) {
			break
		}
		if got := rows[i].cells; got[0] != f.Rule || got[1] != f.Severity || got[2] != report.Escape(f.rawPath(t)) {
			t.Errorf("row %d is %q %q %q, want %s %s %q", i, got[0], got[1], got[2], f.Rule, f.Severity, report.Escape(f.rawPath(t)))
		}
	}
	for _, name := range hostile {
		cell := "<td>" + htmlText(report.Escape(filepath.Join(root, name))) + "</td>"
		if !strings.Contains(dom, cell) {
			t.Errorf("the page has no cell %s", cell)
		}
	}
	if n := strings.Count(dom, "<script"); n != 1 {
		t.Errorf("the page as rendered has %d script elements, want its own one", n)
	}
	if strings.Contains(dom, "<img") {
		t.Error("a file name became an <img> element")
	}
	if !strings.Contains(dom, `<th scope="row" class="path">&lt;script&gt;alert(1)&lt;/</th>`) {
		t.Error("the chart does not show the top-level directory <script>alert(1)< as text")
	}

	// Sorted by path, last first, and filtered by text and severity: the view the fragment asks.
	dom = renderDOM(t, chromium, writePage(t, page), "sort=path&order=desc&q=PHP&sev=critical,medium")
	rows = findingRows(t, dom)
	if len(rows) != len(js.Findings) {
		t.Errorf("the findings table has %d rows, want %d: a filter hides rows, never removes them", len(rows), len(js.Findings))
	}
	checkView(t, dom, rows, "php", map[string]bool{"critical": true, "medium": true}, 1, true)
}

// A report of 100,000 findings loads, shows the JSON report's counts and every row, and sorts and
// filters them.
func TestHTMLReportInBrowserManyFindings(t *testing.T) {
	chromium := fixture.Tool(t, "chromium", "chromium")
	const dirs, files = 50, 1000
	site := writableScriptsSite(t, dirs, files)
	page, js := htmlAndJSON(t, site)
	if js.Summary.Findings < 2*dirs*files {
		t.Fatalf("%d findings, want at least %d", js.Summary.Findings, 2*dirs*files)
	}
	dom := renderDOM(t, chromium, writePage(t, page), "sort=path&order=desc&q=d07/&sev=critical,high")
	rows := findingRows(t, dom)
	checkCounts(t, dom, rows, js)
	shown := checkView(t, dom, rows, "d07/", map[string]bool{"critical": true, "high": true}, 2, true)
	if len(shown) != 2*files || !strings.HasSuffix(shown[0], "/d07/f999.php") || !strings.HasSuffix(shown[len(shown)-1], "/d07/f000.php") {
		t.Errorf("%d rows shown, from %s to %s; want the two findings of each of d07's %d files, last first", len(shown), shown[0], shown[len(shown)-1], files)
	}
}

// writableScriptsSite makes a site of dirs world-writable directories of files world-writable
// scripts each, dNN/fNNN.php: two findings each (world-writable, script-in-writable-dir). It writes
// them itself, as a manifest of 100,000 lines takes long to materialise.
func writableScriptsSite(t *testing.T, dirs, files int) string {
	t.Helper()
	site := filepath.Join(t.TempDir(), "site")
	for d := range dirs {
		dir := filepath.Join(site, fmt.Sprintf("d%02d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := range files {
			p := filepath.Join(dir, fmt.Sprintf("f%03d.php", f))
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, 0o666); err != nil { // after creating: the umask lies
				t.Fatal(err)
			}
		}
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	return site
}

// reportCounts is what the HTML tests compare with: the JSON report's summary and findings.
type reportCounts struct {
	Summary struct {
		Entries    int            `json:"entries"`
		Findings   int            `json:"findings"`
		Errors     int            `json:"errors"`
		BySeverity map[string]int `json:"by_severity"`
	} `json:"summary"`
	Findings []reportFinding `json:"findings"`
}

type reportFinding struct {
	Rule       string `json:"rule"`
	Severity   string `json:"severity"`
	Path       string `json:"path"`
	PathBase64 string `json:"path_base64"`
}

// rawPath is the finding's path as the file system has it: path_base64 where it is not UTF-8.
func (f reportFinding) rawPath(t *testing.T) string {
	if f.PathBase64 == "" {
		return f.Path
	}
	b, err := base64.StdEncoding.DecodeString(f.PathBase64)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// htmlAndJSON audits root for www-data in the HTML and the JSON format.
func htmlAndJSON(t *testing.T, root string) ([]byte, *reportCounts) {
	t.Helper()
	var js reportCounts
	for _, format := range []string{"json", "html"} {
		code, out, errOut := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", "--format", format, root)
		if code != exitFindings || errOut != "" {
			t.Fatalf("--format %s: exit %d, stderr %q; want 1 and nothing on stderr", format, code, errOut)
		}
		if format == "html" {
			return []byte(out), &js
		}
		if err := json.Unmarshal([]byte(out), &js); err != nil {
			t.Fatal(err)
		}
	}
	panic("unreachable")
}

func writePage(t *testing.T, page []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(p, page, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// renderDOM opens the page in headless chromium with the URL fragment given, lets its script
// finish (virtual time runs its timers at once), and returns the DOM as chromium serialises it.
func renderDOM(t *testing.T, chromium, page, fragment string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	u := "file://" + (&url.URL{Path: page}).EscapedPath()
	if fragment != "" {
		u += "#" + fragment
	}
	args := []string{"--headless=new", "--disable-gpu", "--no-first-run", "--user-data-dir=" + t.TempDir(),
		"--virtual-time-budget=600000", "--dump-dom", u}
	if os.Geteuid() == 0 {
		args = append([]string{"--no-sandbox"}, args...) // chromium refuses to run as root with it
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, chromium, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	dom := stdout.String()
	if !strings.Contains(dom, `<table id="findings" data-state="ready">`) || !strings.Contains(dom, `data-state="ready">`) {
		t.Fatalf("the page's script did not run or did not finish: the findings table is not ready\n%s", stderr.String())
	}
	return dom
}

// htmlText is s as chromium serialises a text node.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\u00a0", "&nbsp;").Replace(s)
}

var countRE = regexp.MustCompile(`\bid="count-([a-z]+)" data-count="(\d+)"`)

// checkCounts wants the counts the page shows to be the JSON report's: findings, entries and each
// severity, the findings of each rule, and a row for each finding.
func checkCounts(t *testing.T, dom string, rows []findingRow, js *reportCounts) {
	t.Helper()
	dom = dom[:strings.Index(dom, `<table id="findings"`)] // the counts come before the rows
	want := map[string]int{"findings": js.Summary.Findings, "entries": js.Summary.Entries}
	for sev, n := range js.Summary.BySeverity {
		want[sev] = n
	}
	got := map[string]int{}
	for _, m := range countRE.FindAllStringSubmatch(dom, -1) {
		got[m[1]], _ = strconv.Atoi(m[2])
	}
	delete(got, "waived") // the JSON summary's waived is not compared here
	if js.Summary.Errors > 0 {
		want["errors"] = js.Summary.Errors
	}
	if !mapsEqual(got, want) {
		t.Errorf("the page's counts are %v, the JSON report's %v", got, want)
	}
	wantRules := map[string]int{}
	for _, f := range js.Findings {
		wantRules[f.Rule]++
	}
	gotRules := map[string]int{}
	for _, m := range ruleCountRE.FindAllStringSubmatch(dom, -1) {
		gotRules[m[1]], _ = strconv.Atoi(m[2])
	}
	if !mapsEqual(gotRules, wantRules) {
		t.Errorf("the page's findings by rule are %v, the JSON report's %v", gotRules, wantRules)
	}
	if len(rows) != js.Summary.Findings {
		t.Errorf("the findings table has %d rows, the JSON report %d findings", len(rows), js.Summary.Findings)
	}
}

var ruleCountRE = regexp.MustCompile(`<tr class="[a-z]+" data-rule="([^"]+)"><th scope="row">[^<]*</th><td class="num" data-count="(\d+)"`)

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// findingRow is a row of the findings table: its severity, whether the filter hides it, and the
// text of its cells.
type findingRow struct {
	severity string
	hidden   bool
	cells    []string
}

// findingRows reads the rows of the findings table in the order the page has them, as chromium
// serialises them: <tr class="SEVERITY"[ hidden=""]><td>…</td>…</tr>.
func findingRows(t *testing.T, dom string) []findingRow {
	t.Helper()
	start := strings.Index(dom, `<table id="findings"`)
	if start < 0 {
		t.Fatal("the page has no findings table")
	}
	table, _, _ := strings.Cut(dom[start:], "</table>")
	_, body, _ := strings.Cut(table, "<tbody>")
	var rows []findingRow
	for {
		_, rest, ok := strings.Cut(body, `<tr class="`)
		if !ok {
			return rows
		}
		var row findingRow
		var attrs, cells string
		row.severity, rest, _ = strings.Cut(rest, `"`)
		attrs, rest, _ = strings.Cut(rest, ">")
		row.hidden = attrs == ` hidden=""`
		cells, body, _ = strings.Cut(rest, "</tr>")
		for {
			_, cell, ok := strings.Cut(cells, "<td>")
			if !ok {
				break
			}
			cell, cells, _ = strings.Cut(cell, "</td>")
			if strings.Contains(cell, "<") { // a note: <br><small>…</small>
				cell = tagRE.ReplaceAllString(cell, "")
			}
			row.cells = append(row.cells, html.UnescapeString(cell))
		}
		if len(row.cells) != 9 || attrs != "" && !row.hidden {
			t.Fatalf("a row of the findings table has %d cells and attributes %q, want 9 cells and at most hidden: %s", len(row.cells), attrs, cells)
		}
		rows = append(rows, row)
	}
}

var (
	tagRE   = regexp.MustCompile(`<[^>]*>`)
	shownRE = regexp.MustCompile(`<output id="shown" data-count="(\d+)" data-state="ready">([^<]*)</output>`)
)

// checkView wants the rows shown to be those of the severities given whose text holds q, sorted
// by the path column (cell 2), last first where desc is set, and the count shown to say how many;
// it returns the paths shown. At least atLeast of the rows are hidden, so that the filter is seen
// to work.
func checkView(t *testing.T, dom string, rows []findingRow, q string, sevs map[string]bool, atLeast int, desc bool) []string {
	t.Helper()
	var shown []string
	hidden := 0
	for i, row := range rows {
		want := sevs[row.severity] && strings.Contains(strings.ToLower(strings.Join(row.cells, "\n")), q)
		if row.hidden == want {
			t.Errorf("row %d (%s %s): hidden %v, want %v", i, row.severity, row.cells[2], row.hidden, !want)
		}
		if row.hidden {
			hidden++
		} else {
			shown = append(shown, row.cells[2])
		}
	}
	if hidden < atLeast || len(shown) == 0 {
		t.Errorf("%d rows shown, %d hidden: the view tests nothing", len(shown), hidden)
	}
	if !slices.IsSortedFunc(shown, func(a, b string) int {
		if desc {
			a, b = b, a
		}
		return strings.Compare(a, b)
	}) {
		t.Errorf("the rows shown are not sorted by path (desc %v): %q", desc, shown[:min(len(shown), 10)])
	}
	m := shownRE.FindStringSubmatch(dom[:strings.Index(dom, `<table id="findings"`)])
	if m == nil || m[1] != strconv.Itoa(len(shown)) {
		t.Errorf("the page says %q shown, want %d", m, len(shown))
	}
	return shown
}
