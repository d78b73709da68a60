package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/internal/fixture"
	"golang.org/x/sys/unix"
)

// checkMetrics runs promtool check metrics, which parses and lints the text format, on data.
func checkMetrics(t *testing.T, promtool, data string) {
	t.Helper()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(data)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\non:\n%s", err, out, data)
	}
}

// metric is the value of the one unlabelled sample of name in a prometheus report, "" if none.
func metric(t *testing.T, data, name string) string {
	t.Helper()
	value := ""
	for _, line := range strings.Split(data, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			if value != "" {
				t.Errorf("%s twice", name)
			}
			value = v
		}
	}
	return value
}

// The demo site's metrics, a failed run's and a hostile root's all pass promtool, and so do the
// example alert rules.
func TestPromtoolChecks(t *testing.T) {
	tool := fixture.Tool(t, "promtool", "prometheus")
	t.Run("demo", func(t *testing.T) {
		root := demoTree(t)
		_, out, _ := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", "--format", "prometheus", root)
		if !strings.Contains(out, `webperm_findings{root="`+root+`",severity="critical",rule="world-writable"} 3`) {
			t.Errorf("no world-writable count in:\n%s", out)
		}
		checkMetrics(t, tool, out)
	})
	t.Run("failed run", func(t *testing.T) {
		dir := t.TempDir()
		webperm(t, "audit", "--textfile-dir", dir, filepath.Join(dir, "missing"))
		out, err := os.ReadFile(filepath.Join(dir, textfileName))
		if err != nil {
			t.Fatal(err)
		}
		checkMetrics(t, tool, string(out))
	})
	t.Run("hostile root", func(t *testing.T) {
		parent := fixture.TempDir(t)
		root := filepath.Join(parent, "a\"b\\c\nd")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "open.html"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(root, "open.html"), 0o666); err != nil {
			t.Fatal(err)
		}
		_, out, errOut := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", "--format", "prometheus", root)
		want := `webperm_findings{root="` + parent + `/a\"b\\c\nd",severity="critical",rule="world-writable"} 1`
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no line %s in:\n%s%s", want, out, errOut)
		}
		checkMetrics(t, tool, out)
	})
	t.Run("alert rules", func(t *testing.T) {
		rules := filepath.Join("..", "..", "contrib", "prometheus", "webperm.rules.yml")
		if out, err := exec.Command(tool, "check", "rules", rules).CombinedOutput(); err != nil {
			t.Errorf("promtool check rules %s: %v\n%s", rules, err, out)
		}
	})
}

// --textfile-dir replaces webperm.prom atomically with a new file of mode 0644, whatever the
// umask, beside the report in --format; a run that fails still writes it, saying so and keeping
// when the last run succeeded.
func TestTextfileDir(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\nf 0666 0:0 open.html\n")
	dir := fixture.TempDir(t)
	prom := filepath.Join(dir, textfileName)
	if err := os.WriteFile(prom, []byte("yesterday's"), 0o600); err != nil {
		t.Fatal(err)
	}
	kept := filepath.Join(t.TempDir(), "kept")
	if err := os.Link(prom, kept); err != nil {
		t.Fatal(err)
	}
	old := unix.Umask(0o077)
	code, out, errOut := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", "--format", "json", "--textfile-dir", dir, site)
	unix.Umask(old)
	if code != exitFindings || errOut != "" || !strings.HasPrefix(out, "{") {
		t.Fatalf("exit %d, stderr %q, stdout %.40q; want 1 and the JSON report on stdout", code, errOut, out)
	}
	fi, err := os.Stat(prom)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o644 || fi.Sys().(*syscall.Stat_t).Uid != uint32(os.Geteuid()) {
		t.Errorf("%s: mode %v, uid %d; want 0644, ours", textfileName, fi.Mode(), fi.Sys().(*syscall.Stat_t).Uid)
	}
	if got, _ := os.ReadFile(kept); string(got) != "yesterday's" {
		t.Errorf("the old file was written over (%q), not replaced", got)
	}
	if names, _ := os.ReadDir(dir); len(names) != 1 {
		t.Errorf("the directory holds %d entries, want webperm.prom alone", len(names))
	}
	first := readFile(t, prom)
	success := metric(t, first, "webperm_last_success_timestamp_seconds")
	if metric(t, first, "webperm_success") != "1" || success == "" || metric(t, first, "webperm_last_run_timestamp_seconds") != success {
		t.Fatalf("a run that audited:\n%s", first)
	}
	if !strings.Contains(first, `,severity="critical",rule="world-writable"} 1`) {
		t.Errorf("no world-writable finding in:\n%s", first)
	}

	// Each failure keeps the last success; a failure stopped before its flags were all read too.
	failures := []struct {
		name string
		args []string
	}{
		{"missing root", []string{"--textfile-dir", dir, filepath.Join(site, "missing")}},
		{"bad flag before the dir", []string{"--jobs", "x", "--textfile-dir", dir, site}},
		{"bad policy", []string{"--textfile-dir", dir, "--policy", filepath.Join(site, "index.html"), site}},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			code, out, errOut := webperm(t, append([]string{"audit", "--root", demoSysroot}, f.args...)...)
			if code != exitError || out != "" || !strings.HasPrefix(errOut, "webperm: ") {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2, an error and nothing on stdout", code, out, errOut)
			}
			got := readFile(t, prom)
			if metric(t, got, "webperm_success") != "0" || metric(t, got, "webperm_last_success_timestamp_seconds") != success {
				t.Errorf("after a failure, want webperm_success 0 and the last success %s:\n%s", success, got)
			}
			ran, _ := strconv.ParseFloat(metric(t, got, "webperm_last_run_timestamp_seconds"), 64)
			if before, _ := strconv.ParseFloat(success, 64); ran < before {
				t.Errorf("last run %v, before the success at %v", ran, before)
			}
			if strings.Contains(got, "webperm_findings") {
				t.Errorf("a failed run counts findings:\n%s", got)
			}
		})
	}

	// A garbled or missing old file never fails the run: no success is known, so it is 0.
	for _, old := range []string{"garbled", "missing"} {
		t.Run(old+" old file", func(t *testing.T) {
			os.Remove(prom)
			if old == "garbled" {
				if err := os.WriteFile(prom, []byte("webperm_last_success_timestamp_seconds yesterday\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, _, errOut := webperm(t, "audit", "--textfile-dir", dir, filepath.Join(site, "missing"))
			if code != exitError {
				t.Errorf("exit %d, want 2", code)
			}
			got := readFile(t, prom)
			if metric(t, got, "webperm_success") != "0" || metric(t, got, "webperm_last_success_timestamp_seconds") != "0" {
				t.Errorf("want webperm_success 0 and no success known (0):\n%s", got)
			}
			if notice := strings.Contains(errOut, "webperm: notice: "+prom+": "); notice != (old == "garbled") {
				t.Errorf("notice of the old file %v, want %v: %s", notice, old == "garbled", errOut)
			}
		})
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// A --textfile-dir that cannot take the metrics is an error before the audit: nothing is written.
func TestTextfileDirRefused(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\n")
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, want string
	}{
		{"missing", filepath.Join(t.TempDir(), "missing"), "no such file or directory"},
		{"a file", file, "not a directory"},
	}
	if os.Geteuid() == 0 {
		others := fixture.TempDir(t)
		if err := os.Chown(others, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct{ name, dir, want string }{"another user's, as root", others, "is owned by uid 65534"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", "--textfile-dir", tt.dir, site)
			if code != exitError || out != "" || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "webperm: hint: ") || strings.Count(errOut, "\n") != 2 {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, one error with %q and a hint", code, out, errOut, tt.want)
			}
			if _, err := os.Lstat(filepath.Join(tt.dir, textfileName)); !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				t.Errorf("%s written: %v", textfileName, err)
			}
		})
	}
}

// With --format nagios, webperm is a Nagios plugin: one line on stdout, and the plugin API's exit
// status, each reached by the binary on a real tree.
func TestNagiosExitStatus(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the trees' owners, and a directory webperm cannot read, need root: it runs webperm as nobody")
	}
	bin := filepath.Join(fixture.TempDir(t), "webperm")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	sysroot, err := filepath.Abs(demoSysroot)
	if err != nil {
		t.Fatal(err)
	}
	const clean = "d 0755 0:0 .\nf 0644 0:0 index.html\nd 0755 0:0 sub\nf 0644 0:0 sub/index.html\n"
	tests := []struct {
		name     string
		manifest string
		args     []string
		path     string // the PATH audited, relative to the tree's root
		nobody   bool   // run as nobody, who cannot read a 0700 directory of root's
		code     int
		line     string // the start of the line
	}{
		{"clean", clean, nil, ".", false, 0, "WEBPERM OK - no findings at or above low in "},
		{"medium", clean + "f 0664 0:0 page.html\n", nil, ".", false, 1, "WEBPERM WARNING - 1 medium finding in "},
		{"medium below --fail-on high", clean + "f 0664 0:0 page.html\n", []string{"--fail-on", "high"}, ".", false, 0, "WEBPERM OK - no findings at or above high, and 1 below --fail-on, in "},
		{"critical", clean + "f 0664 0:0 page.html\nf 0666 0:0 open.html\n", nil, ".", false, 2, "WEBPERM CRITICAL - 1 critical, 1 medium findings in "},
		{"unreadable", clean + "d 0700 0:0 private\nf 0644 0:0 private/a.html\n", nil, ".", true, 3, "WEBPERM UNKNOWN - 1 path not read ("},
		{"missing root", clean, nil, "missing", false, 3, "WEBPERM UNKNOWN - "},
		{"bad flag", clean, []string{"-qj", "x"}, ".", false, 3, "WEBPERM UNKNOWN - --jobs wants a number of directories, got x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tree(t, tt.manifest)
			// Flags of the case first: a bad one stops pflag before it reads --format.
			args := append(append([]string{"audit"}, tt.args...), "--root", sysroot, "--web-user", "www-data", "--format", "nagios")
			cmd := exec.Command(bin, append(args, filepath.Join(root, tt.path))...)
			cmd.Env = append(os.Environ(), asMainEnv+"=1")
			if tt.nobody {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr.String())
			}
			out := stdout.String()
			if !strings.HasPrefix(out, tt.line) || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Errorf("stdout %q; want one line starting %q", out, tt.line)
			}
			if tt.code < 3 && !strings.Contains(out, " | critical=") {
				t.Errorf("no performance data in %q", out)
			}
		})
	}
}

func TestFlagValue(t *testing.T) {
	c := newAuditCommand()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--format", "nagios", "/srv"}, "nagios"},
		{[]string{"--format=nagios"}, "nagios"},
		{[]string{"-f", "nagios"}, "nagios"},
		{[]string{"-fnagios"}, "nagios"},
		{[]string{"-f=nagios"}, "nagios"},
		{[]string{"-qf", "nagios"}, "nagios"},
		{[]string{"-f", "json", "--format", "nagios"}, "nagios"},
		{[]string{"--format", "nagios", "-f", "json"}, "json"},
		{[]string{"-o", "-f", "/srv"}, ""},      // -o takes -f as its file
		{[]string{"-of", "nagios", "/srv"}, ""}, // -o takes f
		{[]string{"--", "--format", "nagios"}, ""},
		{[]string{"--quiet", "/srv", "--format", "nagios"}, "nagios"},
		{[]string{"--nosuch", "--format", "nagios"}, "nagios"},
		{[]string{"--format"}, ""},
	}
	for _, tt := range tests {
		if got := flagValue(c.Flags(), tt.args, "format"); got != tt.want {
			t.Errorf("flagValue(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// A failed audit's UNKNOWN line goes where its report would have gone: -o's file, else stdout;
// the error, with its hint, to stderr as always.
func TestNagiosFailureLine(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	want := "WEBPERM UNKNOWN - " + missing + ": no such file or directory\n"
	file := filepath.Join(dir, "check.out")
	for _, output := range []string{"", file} {
		args := []string{"audit", "--format", "nagios", missing}
		if output != "" {
			args = append(args, "-o", output)
		}
		code, out, errOut := webperm(t, args...)
		if output != "" {
			if out != "" {
				t.Errorf("-o %s: stdout %q", output, out)
			}
			out = readFile(t, output)
		}
		if code != int(report.NagiosUnknown) || out != want || !strings.Contains(errOut, "webperm: hint: ") {
			t.Errorf("-o %q: exit %d, line %q, stderr %q; want 3, %q, and the error with its hint", output, code, out, errOut, want)
		}
	}
}

// A run that finds --lock held audited nothing, but the run that holds it is auditing: the
// metrics are that run's to write. Written by the run kept out, webperm_success 0 fired
// WebpermAuditFailed and took every webperm_findings series away, resolving the findings' alerts,
// each time cron started a run while a long one was still going.
func TestTextfileDirLeftToTheLockHolder(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\nf 0666 0:0 open.html\n")
	dir := fixture.TempDir(t)
	prom := filepath.Join(dir, textfileName)
	lock := filepath.Join(fixture.TempDir(t), "webperm.lock")
	args := []string{"audit", "--root", demoSysroot, "--web-user", "www-data", "--quiet", "--lock", lock, "--textfile-dir", dir, site}
	if code, _, errOut := webperm(t, args...); code != exitFindings {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	before := readFile(t, prom)
	fd, err := unix.Open(lock, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := webperm(t, args...)
	if code != exitError || !strings.Contains(errOut, "holds it") {
		t.Fatalf("exit %d, stderr %q; want 2, the lock held", code, errOut)
	}
	if after := readFile(t, prom); after != before {
		t.Errorf("the run kept out by the lock replaced the metrics of the last run:\n%s\nwith:\n%s", before, after)
	}
	// Under --format nagios, the run kept out still says so in its line: UNKNOWN.
	code, out, _ := webperm(t, append([]string{"audit", "--format", "nagios"}, args[1:]...)...)
	if code != int(report.NagiosUnknown) || !strings.HasPrefix(out, "WEBPERM UNKNOWN - ") {
		t.Errorf("nagios with the lock held: exit %d, %q; want 3 and an UNKNOWN line", code, out)
	}
}

// Metrics that cannot be written (here webperm.prom is a directory, as a mistaken mkdir leaves
// it) fail the run before its report is out: a nagios plugin printed its CRITICAL line, then an
// UNKNOWN one, and exited 3, so Nagios showed "CRITICAL" in a state of UNKNOWN; and -o's report
// was replaced by a run that exits 2, which changes nothing on disk.
func TestTextfileFailureBeforeTheReport(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\nf 0666 0:0 open.html\n")
	dir := fixture.TempDir(t)
	if err := os.Mkdir(filepath.Join(dir, textfileName), 0o755); err != nil {
		t.Fatal(err)
	}
	common := []string{"audit", "--root", demoSysroot, "--web-user", "www-data", "--textfile-dir", dir}
	code, out, errOut := webperm(t, append(common, "--format", "nagios", site)...)
	if code != int(report.NagiosUnknown) || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "WEBPERM UNKNOWN - --textfile-dir: ") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 3 and one UNKNOWN line", code, out, errOut)
	}
	report := filepath.Join(fixture.TempDir(t), "report.json")
	code, _, errOut = webperm(t, append(common, "--format", "json", "-o", report, site)...)
	if code != exitError || !strings.Contains(errOut, "--textfile-dir") {
		t.Errorf("exit %d, stderr %q; want 2 and the metrics' error", code, errOut)
	}
	if _, err := os.Lstat(report); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a run that exits 2 wrote its report: %v", err)
	}
}
