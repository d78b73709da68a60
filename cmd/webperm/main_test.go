package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/internal/fixture"
)

var update = flag.Bool("update", false, "rewrite the golden reports under testdata/golden")

// demoSysroot holds the demo's etc/passwd and etc/group, so reports name the same users on any
// machine.
var demoSysroot = filepath.Join("..", "..", "testdata", "demo")

// webperm runs the command in-process and returns its exit status, stdout and stderr.
func webperm(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// tree materialises a manifest in a fresh, traversable temporary directory and returns its root.
// Without root, owners are left as they are (fixture.Tree).
func tree(t *testing.T, manifest string) string {
	t.Helper()
	return fixture.Tree(t, afero.NewOsFs(), manifest)
}

// manyFiles is the manifest of a site of dirs directories with files files of mode each: a
// tree whose audit and report take a while.
func manyFiles(dirs, files int, mode string) string {
	var m strings.Builder
	m.WriteString("d 0755 0:0 .\n")
	for d := range dirs {
		fmt.Fprintf(&m, "d 0755 0:0 d%02d\n", d)
		for f := range files {
			fmt.Fprintf(&m, "f %s 0:0 d%02d/f%03d.html\n", mode, d, f)
		}
	}
	return m.String()
}

func materialise(t *testing.T, entries []fixture.Entry) string {
	t.Helper()
	root := filepath.Join(fixture.TempDir(t), "site")
	if err := fixture.Materialise(afero.NewOsFs(), root, entries, fixture.Options{Chown: os.Geteuid() == 0}); err != nil {
		t.Fatal(err)
	}
	return root
}

func demoTree(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the demo site's owners (deploy, uid 4242) can only be set as root")
	}
	entries, err := fixture.Load(filepath.Join(demoSysroot, "site.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	return materialise(t, entries)
}

// goldenVolatile is what differs between two runs on the same tree: a plan's time and the
// inode numbers of the temporary tree.
var goldenVolatile = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|"(dev|ino)": \d+`)

// goldenScriptVolatile is what else differs in a sh plan, with what stands for it in the golden
// file: the inode numbers on data lines, the plan-id, and the path of the test binary; and in
// the prometheus report, the times.
var goldenScriptVolatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?m)^(webperm_(?:audit_duration_seconds|last_run_timestamp_seconds|last_success_timestamp_seconds)) [0-9.]+$`), "$1 0"},
	{regexp.MustCompile(`(?m)^(#: (?:file|dir|root) '[^']*') \d+:\d+`), "$1 0:0"},
	{regexp.MustCompile(`--plan-id [0-9a-f]{32} `), "--plan-id 0123456789abcdef0123456789abcdef "},
	{regexp.MustCompile(`(?m)^webperm=\$\{WEBPERM:-'[^']*'\}$`), "webperm=$${WEBPERM:-'/usr/local/bin/webperm'}"},
}

func TestGoldenDemo(t *testing.T) {
	root := demoTree(t)
	for _, tc := range []struct {
		golden, command, format string
		code                    int
	}{
		{"demo.text", "audit", "text", exitFindings},
		{"demo.json", "audit", "json", exitFindings},
		{"demo.prom", "audit", "prometheus", exitFindings},
		{"demo.nagios", "audit", "nagios", int(report.NagiosCritical)},
		{"demo.sarif", "audit", "sarif", exitFindings},
		{"demo.jsonl", "audit", "jsonl", exitFindings},
		{"demo.csv", "audit", "csv", exitFindings},
		{"demo.junit.xml", "audit", "junit", exitFindings},
		{"demo.html", "audit", "html", exitFindings},
		{"demo-plan.sh", "plan", "sh", exitFindings},
		{"demo-plan.json", "plan", "json", exitFindings},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errOut := webperm(t, tc.command, "--root", demoSysroot, "--web-user", "www-data", "--format", tc.format, root)
			if code != tc.code || errOut != "" {
				t.Fatalf("exit %d, stderr %q; want %d and nothing on stderr", code, errOut, tc.code)
			}
			if strings.Contains(out, "\x1b") {
				t.Error("the report to a buffer has escape codes")
			}
			checkGolden(t, out, root, tc.golden)
		})
	}
}

// checkGolden holds out, a report or plan of the tree at root, to testdata/golden/name, with what
// differs between runs and machines replaced; -update rewrites the file instead.
func checkGolden(t *testing.T, out, root, name string) {
	t.Helper()
	got := strings.ReplaceAll(out, root, "/srv/demo")
	if abs, err := filepath.Abs(demoSysroot); err == nil {
		got = strings.ReplaceAll(got, abs, "/testdata/demo") // where the checkout lies
	}
	got = goldenVolatile.ReplaceAllStringFunc(got, func(s string) string {
		if strings.HasPrefix(s, `"`) {
			return s[:strings.Index(s, ":")] + ": 0"
		}
		return "2026-01-01T00:00:00Z"
	})
	for _, v := range goldenScriptVolatile {
		got = v.re.ReplaceAllString(got, v.with)
	}
	golden := filepath.Join("..", "..", "testdata", "golden", name)
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run make golden to write it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run make golden and review the diff):\n%s", golden, got)
	}
}

// TestGoldenCollapsed pins the text report of a tree whose subtrees share findings: collapsed by
// default, every entry with --expand, and the JSON report listing every finding either way.
func TestGoldenCollapsed(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the fixture's owners (www-data, deploy) can only be set as root")
	}
	entries, err := fixture.Load(filepath.Join(demoSysroot, "collapse.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	root := materialise(t, entries)
	for _, tc := range []struct {
		golden string
		flags  []string
	}{
		{"collapse.text", nil},
		{"collapse-expand.text", []string{"--expand"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			args := append([]string{"audit", "--root", demoSysroot, "--web-user", "www-data"}, tc.flags...)
			code, out, errOut := webperm(t, append(args, root)...)
			if code != exitFindings || errOut != "" {
				t.Fatalf("exit %d, stderr %q; want 1 and nothing on stderr", code, errOut)
			}
			checkGolden(t, out, root, tc.golden)
		})
	}
	// --expand lists one block per finding; collapsed, the media files are one line.
	_, collapsed, _ := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", root)
	_, expanded, _ := webperm(t, "audit", "--expand", "--root", demoSysroot, "--web-user", "www-data", root)
	_, js, _ := webperm(t, "audit", "--expand", "--format", "json", "--root", demoSysroot, "--web-user", "www-data", root)
	_, jsCollapsed, _ := webperm(t, "audit", "--format", "json", "--root", demoSysroot, "--web-user", "www-data", root)
	for _, name := range []string{"1.jpg", "2.jpg", "3.jpg", "4.jpg"} {
		p := filepath.Join(root, "media", name)
		if strings.Contains(collapsed, p) {
			t.Errorf("the collapsed report names %s", p)
		}
		if !strings.Contains(expanded, p) || !strings.Contains(js, p) {
			t.Errorf("--expand or the JSON report does not name %s", p)
		}
	}
	if js != jsCollapsed {
		t.Error("--expand changed the JSON report, which always lists every finding")
	}
	if !strings.Contains(collapsed, "everything below "+filepath.Join(root, "media")+"/ (4 entries)") {
		t.Errorf("the report does not collapse media/:\n%s", collapsed)
	}

	// explain --in shows one entry of a collapsed subtree in full, as --expand does.
	photo := filepath.Join(root, "media", "3.jpg")
	code, out, errOut := webperm(t, "explain", "--root", demoSysroot, "--web-user", "www-data", "--in", root, photo)
	block := "  world-writable  " + photo + "\n    file 0666 (rw-rw-rw-) deploy:deploy\n    any local user can change this file (mode 0666)\n    fix: chmod 0644\n"
	if code != exitClean || errOut != "" || !strings.Contains(out, "findings, as webperm audit "+root+" reports them (1)\n"+block) {
		t.Errorf("explain --in: exit %d, stderr %q, want 0 and the finding in full:\n%s", code, errOut, out)
	}
	if !strings.Contains(expanded, block) {
		t.Errorf("explain --in and audit --expand show the finding differently:\n%s", block)
	}
	logo := filepath.Join(root, "theme", "logo.png")
	if _, out, _ := webperm(t, "explain", "--root", demoSysroot, "--web-user", "www-data", "--in", root, logo); !strings.Contains(out, "  web-user-owns  "+logo+"\n") {
		t.Errorf("explain --in of the theme's logo lacks web-user-owns:\n%s", out)
	}
	index := filepath.Join(root, "index.html")
	if _, out, _ := webperm(t, "explain", "--root", demoSysroot, "--web-user", "www-data", "--in", root, index); !strings.Contains(out, "reports them (0)\n  none\n") {
		t.Errorf("explain --in of a clean file does not say it has none:\n%s", out)
	}
	if code, _, errOut := webperm(t, "explain", "--root", demoSysroot, "--web-user", "www-data", "--in", filepath.Join(root, "media"), index); code != exitError || !strings.Contains(errOut, "is not in --in") {
		t.Errorf("explain --in of a path outside it: exit %d, stderr %q; want 2 and why", code, errOut)
	}
}

func TestExitStatusAndErrors(t *testing.T) {
	clean := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\n")
	medium := tree(t, "d 0755 0:0 .\nf 0664 0:0 index.html\n")
	aFile := filepath.Join(clean, "index.html")
	missing := filepath.Join(clean, "no-such-dir")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string // parts stderr must contain; none means stderr must be empty
	}{
		{"clean tree", []string{"audit", clean}, exitClean, nil},
		{"findings", []string{"audit", medium}, exitFindings, nil},
		{"findings below --fail-on", []string{"audit", "--fail-on", "critical", medium}, exitClean, nil},
		{"findings at --fail-on", []string{"audit", "--fail-on", "MEDIUM", medium}, exitFindings, nil},
		{"missing path", []string{"audit", missing}, exitError, []string{"webperm: " + missing + ": no such file or directory\n", "webperm: hint: check the path"}},
		{"path is a file", []string{"audit", aFile}, exitError, []string{aFile + ": not a directory", "hint: webperm audits directories"}},
		{"one bad path of two", []string{"audit", clean, missing}, exitError, []string{missing}},
		{"no path", []string{"audit"}, exitError, []string{"webperm: audit needs at least one PATH", "hint: webperm audit /var/www/html"}},
		{"unknown flag", []string{"audit", "--frobnicate", clean}, exitError, []string{"unknown flag: --frobnicate", "hint: see 'webperm audit --help'"}},
		{"unknown format", []string{"audit", "--format", "xml", clean}, exitError, []string{`unknown format "xml"`, "hint: use --format " + strings.Join(report.Formats(), " or --format ")}},
		{"bad severity", []string{"audit", "--fail-on", "severe", clean}, exitError, []string{`unknown severity "severe"`}},
		{"bad jobs", []string{"audit", "--jobs", "0", clean}, exitError, []string{"--jobs 0: must be at least 1"}},
		{"bad color", []string{"audit", "--color", "pink", clean}, exitError, []string{`unknown --color "pink"`}},
		{"root without accounts", []string{"audit", "--root", clean, clean}, exitError, []string{"reading the system's users", "hint: --root DIR must name a system root"}},
		{"unknown web user", []string{"audit", "--root", demoSysroot, "--web-user", "nginx", clean}, exitError, []string{`--web-user "nginx": no such user in`}},
		{"unknown command", []string{"audti", clean}, exitError, []string{`unknown command "audti"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := webperm(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errOut)
			}
			if len(tt.stderr) == 0 && errOut != "" {
				t.Errorf("stderr %q, want nothing", errOut)
			}
			for _, part := range tt.stderr {
				if !strings.Contains(errOut, part) {
					t.Errorf("stderr %q does not contain %q", errOut, part)
				}
			}
			if code == exitError && out != "" {
				t.Errorf("nothing may be audited on exit 2, but stdout has %q", out)
			}
			if code == exitError && strings.TrimPrefix(errOut, "webperm: ")[:1] != strings.ToLower(strings.TrimPrefix(errOut, "webperm: ")[:1]) {
				t.Errorf("error %q does not start in lower case", errOut)
			}
		})
	}
}

func TestQuiet(t *testing.T) {
	clean := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\n")
	if code, out, _ := webperm(t, "audit", "-q", clean); code != exitClean || out != "" {
		t.Errorf("quiet on a clean tree: exit %d, stdout %q; want 0 and nothing", code, out)
	}
	medium := tree(t, "d 0755 0:0 .\nf 0664 0:0 index.html\n")
	if code, out, _ := webperm(t, "audit", "-q", "--fail-on", "high", medium); code != exitClean || out != "" {
		t.Errorf("quiet below --fail-on: exit %d, stdout %q; want 0 and nothing", code, out)
	}
	if code, out, _ := webperm(t, "audit", "-q", medium); code != exitFindings || !strings.Contains(out, "mode-too-open") {
		t.Errorf("quiet with findings: exit %d, stdout %q; want 1 and the report", code, out)
	}
}

func TestOutputFile(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\n")
	dir := t.TempDir()
	out := filepath.Join(dir, "report.json")
	// --web-user: detection may see the e2e tests' servers come and go between the two runs; and
	// the demo's accounts: the e2e tests add www-data to groups of their own meanwhile.
	_, stdout, _ := webperm(t, "audit", "--format", "json", "--root", demoSysroot, "--web-user", "www-data", site)
	code, printed, errOut := webperm(t, "audit", "--format", "json", "--root", demoSysroot, "--web-user", "www-data", "-o", out, site)
	if code != exitFindings || printed != "" || errOut != "" {
		t.Fatalf("exit %d stdout %q stderr %q", code, printed, errOut)
	}
	got, err := os.ReadFile(out)
	if err != nil || string(got) != stdout {
		t.Fatalf("file holds %q (%v), want what stdout gets", got, err)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o644 {
		t.Errorf("new report has mode %v, want 0644", fi.Mode().Perm())
	}
	// A symlink at -o is refused: neither written through nor replaced.
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := webperm(t, "audit", "-o", link, site); code != exitError || !strings.Contains(errOut, "writing the report to "+link+": a symlink") || !strings.Contains(errOut, "hint: ") {
		t.Fatalf("-o SYMLINK: exit %d, stderr %q", code, errOut)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the report was written through the symlink into %s", target)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is %v, want the symlink left alone", link, fi.Mode())
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	if code, _, errOut := webperm(t, "audit", "-o", dir, site); code != exitError || !strings.Contains(errOut, dir+": a directory") {
		t.Errorf("-o DIR: exit %d, stderr %q", code, errOut)
	}
}

// jsonReport is the part of the JSON report the tests read.
type jsonReport struct {
	Schema  string   `json:"schema"`
	Roots   []string `json:"roots"`
	Given   []string `json:"given"`
	Summary struct {
		Entries, Findings, Errors, Excluded int
	} `json:"summary"`
	Exclude     []struct{ Glob, From string } `json:"exclude"`
	RawFindings []map[string]any              `json:"findings"`
	Errors      []struct {
		Path  string `json:"path"`
		Error string `json:"error"`
	} `json:"errors"`
}

func decode(t *testing.T, out string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out)
	}
	return r
}

func TestSameReportForAnyJobs(t *testing.T) {
	root := tree(t, `
d 0755 0:0 .
d 0777 0:0 a
f 0666 0:0 a/x
d 0775 0:0 a/b
f 0664 0:0 a/b/y
d 0755 0:0 b
f 0755 0:0 b/run
f 0644 0:0 b/wp-config.php
d 0755 0:0 c
l 0777 0:0 c/out /etc
l 0777 0:0 c/gone nowhere
`)
	// The demo's accounts: the e2e tests add www-data to groups of their own meanwhile.
	_, one, _ := webperm(t, "audit", "--format", "json", "--jobs", "1", "--root", demoSysroot, "--web-user", "www-data", root)
	_, eight, _ := webperm(t, "audit", "--format", "json", "--jobs", "8", "--root", demoSysroot, "--web-user", "www-data", root)
	if one != eight {
		t.Errorf("--jobs 1 and --jobs 8 differ:\n%s\n---\n%s", one, eight)
	}
	if r := decode(t, one); r.Summary.Findings != 9 || r.Summary.Entries != 11 {
		t.Errorf("summary %+v, want 11 entries and 9 findings (8, and the root has no index)", r.Summary)
	}
}

func TestHostileNames(t *testing.T) {
	names := []string{
		"with space.php", "new\nline.php", "it's.php", "-rf", "--help", "$(touch pwned).php",
		"bad\xffutf8.php", "\x1b[31mred\x1b[0m.php", "tab\there.php", "ünïcødé.php",
	}
	var entries []fixture.Entry
	entries = append(entries, fixture.Entry{Kind: fixture.Dir, Mode: 0o755, Path: "."})
	for _, n := range names {
		entries = append(entries, fixture.Entry{Kind: fixture.File, Mode: 0o666, Path: n})
	}
	root := materialise(t, entries)

	code, out, _ := webperm(t, "audit", "--format", "json", root)
	if code != exitFindings {
		t.Fatalf("exit %d", code)
	}
	r := decode(t, out)
	got := map[string]bool{}
	for _, f := range r.RawFindings {
		if f["rule"] == "missing-index" {
			continue
		}
		p := f["path"].(string)
		if b64, ok := f["path_base64"].(string); ok {
			raw, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				t.Fatal(err)
			}
			p = string(raw)
		}
		got[strings.TrimPrefix(p, root+"/")] = true
	}
	for _, n := range names {
		if !got[n] {
			t.Errorf("%q did not round-trip through the JSON report", n)
		}
	}
	if len(got) != len(names) {
		t.Errorf("%d findings for %d names", len(got), len(names))
	}

	// Every name has the same finding: --expand lists them rather than one line for the root.
	_, text, _ := webperm(t, "audit", "--expand", root)
	if strings.ContainsAny(text, "\x1b\t") || !utf8.ValidString(text) {
		t.Error("the text report carries raw control characters or invalid UTF-8")
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "line.php") {
			t.Error("a newline in a name broke the text report's lines")
		}
	}
	if !strings.Contains(text, `"`+root+`/new\nline.php"`) || !strings.Contains(text, `bad\xffutf8.php"`) {
		t.Error("escaped names are not shown quoted")
	}
	if _, err := os.Stat(filepath.Join(root, "pwned")); err == nil {
		t.Error("a name was executed")
	}
}

func TestRootThroughSymlink(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\n")
	link := filepath.Join(t.TempDir(), "html")
	if err := os.Symlink(site, link); err != nil {
		t.Fatal(err)
	}
	code, out, _ := webperm(t, "audit", "--format", "json", link, site)
	r := decode(t, out)
	if code != exitFindings || len(r.Roots) != 1 || r.Roots[0] != site || r.Summary.Findings != 1 {
		t.Errorf("exit %d, roots %v, findings %d; want the link's target audited, once", code, r.Roots, r.Summary.Findings)
	}
	if len(r.Given) != 1 || r.Given[0] != link {
		t.Errorf("given %q, want [%s]: the report shows what the root was given as", r.Given, link)
	}
	_, text, _ := webperm(t, "audit", link)
	if !strings.Contains(text, "roots     "+site+"\n") || !strings.Contains(text, "given     "+link+"\n") {
		t.Errorf("the text report's header does not show both the root and the path given:\n%s", text)
	}
	if _, out, _ := webperm(t, "audit", "--format", "json", site); strings.Contains(out, `"given"`) {
		t.Errorf("a root given as itself got a given field:\n%s", out)
	}
}

// TestEmptyPath: "" as a PATH or as --root is refused; it must never mean the current directory.
func TestEmptyPath(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\n")
	t.Chdir(site)
	for _, args := range [][]string{
		{"audit", ""}, {"audit", site, ""}, {"plan", ""}, {"fix", ""}, {"fix", "--apply", "--journal", filepath.Join(t.TempDir(), "j"), ""},
		{"explain", ""}, {"audit", "--root", "", site}, {"explain", "--root", "", site},
	} {
		code, out, errOut := webperm(t, args...)
		if code != exitError || !strings.Contains(errOut, "empty path") || out != "" {
			t.Errorf("webperm %q: exit %d, stdout %q, stderr %q; want 2 and empty path", args, code, out, errOut)
		}
	}
	requireUntouched(t, filepath.Join(site, "index.html"), 0o666)
}

// requireUntouched fails t unless path still has the permission bits perm: nothing changed it.
func requireUntouched(t *testing.T, path string, perm os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != perm {
		t.Errorf("%s is %v, want %v: it was changed", path, fi.Mode().Perm(), perm)
	}
}

// TestSystemRoots: plan and fix never take a system directory as a root; audit may.
func TestSystemRoots(t *testing.T) {
	out := filepath.Join(t.TempDir(), "plan.sh")
	for _, root := range []string{"/", "/etc", "/usr", "/lib", "/var", "/etc/../tmp", "/dev/shm", "/sys/kernel"} {
		code, stdout, errOut := webperm(t, "plan", "-o", out, root)
		if code != exitError || !strings.Contains(errOut, "a system directory") || !strings.Contains(errOut, "hint:") || stdout != "" {
			t.Errorf("plan %s: exit %d, stderr %q; want 2, a system directory, and a hint", root, code, errOut)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("plan %s wrote %s", root, out)
		}
	}
	// An image mounted elsewhere has system directories of its own: fixing one is refused too.
	image := tree(t, "d 0755 0:0 .\nd 0755 0:0 etc\nf 0644 0:0 etc/passwd\nf 0644 0:0 etc/group\nf 0666 0:0 etc/shadow\n")
	if err := os.WriteFile(filepath.Join(image, "etc", "passwd"), []byte("root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(image, "etc", "group"), []byte("root:x:0:\nwww-data:x:33:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{image, filepath.Join(image, "etc")} {
		code, _, errOut := webperm(t, "fix", "--apply", "--journal", filepath.Join(t.TempDir(), "j"), "--root", image, root)
		if code != exitError || !strings.Contains(errOut, "a system directory") {
			t.Errorf("fix --apply --root %s %s: exit %d, stderr %q; want 2, a system directory", image, root, code, errOut)
		}
	}
	requireUntouched(t, filepath.Join(image, "etc", "shadow"), 0o666)
	if code, _, errOut := webperm(t, "audit", "--format", "json", "--root", image, filepath.Join(image, "etc")); code == exitError {
		t.Errorf("audit of a system directory refused: %s", errOut)
	}
}

func TestColor(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\n")
	if _, out, _ := webperm(t, "audit", "--color", "always", site); !strings.Contains(out, "\x1b[") {
		t.Error("--color always printed no colour")
	}
	if _, out, _ := webperm(t, "audit", "--color", "auto", site); strings.Contains(out, "\x1b") {
		t.Error("--color auto coloured a pipe")
	}
	t.Setenv("NO_COLOR", "1")
	if ok, _ := colorWanted("auto", os.Stdout, false); ok {
		t.Error("NO_COLOR did not turn colour off")
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := webperm(t, "version")
	if code != exitClean || !strings.HasPrefix(out, "webperm ") {
		t.Errorf("exit %d, %q", code, out)
	}
}

// An unreadable directory is reported and the walk goes on: the real binary, as an unprivileged
// user, audits a tree with a directory only root may read.
func TestUnreadableDirectory(t *testing.T) {
	manifest := `
d 0755 0:0 .
d 0755 0:0 a
f 0666 0:0 a/open.html
d 0700 0:0 private
f 0644 0:0 private/secret.php
d 0755 0:0 z
f 0664 0:0 z/last.html
`
	root := tree(t, manifest)
	var out []byte
	var code int
	if os.Geteuid() == 0 {
		bin := filepath.Join(filepath.Dir(filepath.Dir(root)), "webperm")
		build := exec.Command("go", "build", "-o", bin, ".")
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, b)
		}
		if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "audit", "--format", "json", "--root", demoSysroot, root)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var err error
		out, err = cmd.Output()
		code = cmd.ProcessState.ExitCode()
		if code < 0 {
			t.Fatal(err)
		}
	} else {
		// Not root: the caller owns the tree, so a 0000 directory is unreadable to it.
		if err := os.Chmod(filepath.Join(root, "private"), 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(filepath.Join(root, "private"), 0o700) })
		var s string
		code, s, _ = webperm(t, "audit", "--format", "json", "--root", demoSysroot, root)
		out = []byte(s)
	}
	if code != exitIncomplete {
		t.Errorf("exit %d, want %d (audit incomplete)", code, exitIncomplete)
	}
	r := decode(t, string(out))
	if len(r.Errors) != 1 || r.Errors[0].Path != filepath.Join(root, "private") || r.Errors[0].Error != "permission denied" {
		t.Errorf("errors %+v, want %s: permission denied", r.Errors, filepath.Join(root, "private"))
	}
	var paths []string
	for _, f := range r.RawFindings {
		// Without root the tree is the caller's, whom the demo's accounts do not name.
		if f["rule"] != "unknown-owner" && f["rule"] != "missing-index" {
			paths = append(paths, strings.TrimPrefix(f["path"].(string), root+"/"))
		}
	}
	if strings.Join(paths, ",") != "a/open.html,private,z/last.html" { // private: www-data cannot search it either
		t.Errorf("findings on %v; want the walk to go on past private/ to z/", paths)
	}
}

// An audit with more findings than it keeps in memory spools them: the report still lists every
// one, the counts agree, and without a TMPDIR to spool to it fails plainly, exit 2.
func TestAuditSpoolsManyFindings(t *testing.T) {
	const dirs, files = 25, 200 // 5,000 world-writable files: past the 4,096 kept in memory
	site := openSite(t, dirs, files)
	code, stdout, stderr := webperm(t, "audit", "--format", "json", "--root", demoSysroot, "--web-user", "www-data", site)
	if code != exitFindings {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var rep struct {
		Summary struct {
			Findings int `json:"findings"`
		} `json:"summary"`
		Findings []struct {
			Path string `json:"path"`
			Rule string `json:"rule"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, f := range rep.Findings {
		if f.Rule == "world-writable" {
			open++
		}
	}
	if open != dirs*files || rep.Summary.Findings != len(rep.Findings) {
		t.Errorf("%d world-writable findings, want %d; summary says %d findings, the list holds %d", open, dirs*files, rep.Summary.Findings, len(rep.Findings))
	}
	code, text, _ := webperm(t, "audit", "--expand", "--root", demoSysroot, "--web-user", "www-data", site)
	if want := fmt.Sprintf("findings  %d:", len(rep.Findings)); code != exitFindings || !strings.Contains(text, want) || strings.Count(text, "\n  world-writable  "+site+"/") != dirs*files {
		t.Errorf("text report: exit %d, want %q and %d world-writable findings listed", code, want, dirs*files)
	}
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "gone"))
	if code, _, stderr := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", site); code != exitError || !strings.Contains(stderr, "TMPDIR") {
		t.Errorf("no TMPDIR: exit %d, stderr %q", code, stderr)
	}
}

// A plan made from more findings than the audit keeps in memory has every fix, once, in walk
// order.
func TestPlanFromSpooledFindings(t *testing.T) {
	const dirs, files = 25, 200
	site := openSite(t, dirs, files)
	code, stdout, stderr := webperm(t, "plan", "--format", "json", "--root", demoSysroot, "--web-user", "www-data", site)
	if code != exitFindings {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var plan struct {
		Actions []struct {
			Path string `json:"path"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatal(err)
	}
	if len(plan.Actions) != dirs*files {
		t.Fatalf("%d actions, want %d", len(plan.Actions), dirs*files)
	}
	for i, a := range plan.Actions {
		if want := filepath.Join(site, fmt.Sprintf("d%02d/f%03d.html", i/files, i%files)); a.Path != want {
			t.Fatalf("action %d is for %s, want %s", i, a.Path, want)
		}
	}
}

// openSite makes a site of dirs directories of files world-writable files each, dNN/fNNN.html,
// and an index.
func openSite(t *testing.T, dirs, files int) string {
	var m strings.Builder
	m.WriteString("d 0755 0:0 .\nf 0644 0:0 index.html\n")
	for d := range dirs {
		fmt.Fprintf(&m, "d 0755 0:0 d%02d\n", d)
		for f := range files {
			fmt.Fprintf(&m, "f 0666 0:0 d%02d/f%03d.html\n", d, f)
		}
	}
	return tree(t, m.String())
}
