package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webperm/webperm/internal/fixture"
)

// baselineRun is a JSON report against a baseline, as the tests read it.
type baselineRun struct {
	Baseline struct {
		File                 string
		New, Known, Resolved int
	} `json:"baseline"`
	Findings []struct {
		Rule     string `json:"rule"`
		Path     string `json:"path"`
		Baseline string `json:"baseline"`
	} `json:"findings"`
	Resolved []struct {
		Rule     string `json:"rule"`
		Path     string `json:"path"`
		Baseline string `json:"baseline"`
	} `json:"resolved"`
}

// audit runs webperm audit on site with the demo's accounts, as cron would, and the arguments.
func auditSite(t *testing.T, site string, args ...string) (int, string, string) {
	t.Helper()
	return webperm(t, append(append([]string{"audit", "--root", demoSysroot, "--web-user", "www-data"}, args...), site)...)
}

// baselineSite is a site with three findings, two of which changeSite changes.
const baselineSite = `
d 0755 0:0 .
f 0644 0:0 index.html
f 0666 0:0 open.html
f 0666 0:0 fixed.html
d 0755 0:0 lib
f 0600 0:0 lib/a.php
`

// changeSite changes baselineSite as a week on a server might: a world-writable file fixed, a
// script made unreadable another way, a new world-writable file. Against a baseline of before,
// the audit has world-writable new.html and web-unreadable lib/a.php new, world-writable
// open.html known, and world-writable fixed.html and web-unreadable lib/a.php (0600) resolved.
func changeSite(t *testing.T, site string) {
	t.Helper()
	for p, m := range map[string]os.FileMode{"fixed.html": 0o644, "lib/a.php": 0o640} {
		if err := os.Chmod(filepath.Join(site, p), m); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(site, "new.html"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(site, "new.html"), 0o666); err != nil {
		t.Fatal(err)
	}
}

// The nightly run: a baseline taken, the site changed, the audit says what is new, what is known
// and what was resolved, and only new findings set the exit status.
func TestBaselineNewKnownResolved(t *testing.T) {
	site := tree(t, baselineSite)
	base := filepath.Join(t.TempDir(), "baseline.json")
	if code, _, stderr := auditSite(t, site, "--format", "json", "-o", base); code != exitFindings {
		t.Fatalf("taking the baseline: exit %d, %s", code, stderr)
	}

	// Nothing changed: quiet, exit 0, though the tree has findings.
	if code, out, stderr := auditSite(t, site, "--baseline", base, "-q"); code != exitClean || out != "" {
		t.Errorf("unchanged site: exit %d, stdout %q, stderr %q; want 0 and nothing", code, out, stderr)
	}
	code, out, _ := auditSite(t, site, "--baseline", base)
	if code != exitClean || !strings.Contains(out, "0 new, 3 known (not listed), 0 resolved") || !strings.Contains(out, "no new findings") || strings.Contains(out, "world-writable  ") {
		t.Errorf("unchanged site, text: exit %d\n%s", code, out)
	}

	changeSite(t, site)
	code, out, stderr := auditSite(t, site, "--baseline", base, "--format", "json")
	if code != exitFindings {
		t.Fatalf("changed site: exit %d, %s", code, stderr)
	}
	var run baselineRun
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, f := range run.Findings {
		status[f.Rule+" "+strings.TrimPrefix(f.Path, site+"/")] = f.Baseline
	}
	want := map[string]string{
		"world-writable open.html": "known",
		"world-writable new.html":  "new",
		"web-unreadable lib/a.php": "new", // 0640 is another fault than 0600: its fix is the same, its facts are not
	}
	for k, v := range want {
		if status[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, status[k], v, status)
		}
	}
	var resolved []string
	for _, f := range run.Resolved {
		resolved = append(resolved, f.Rule+" "+strings.TrimPrefix(f.Path, site+"/")+" "+f.Baseline)
	}
	if strings.Join(resolved, ", ") != "world-writable fixed.html resolved, web-unreadable lib/a.php resolved" {
		t.Errorf("resolved: %v", resolved)
	}
	if b := run.Baseline; b.File != base || b.New != 2 || b.Known != 1 || b.Resolved != 2 {
		t.Errorf("baseline summary %+v: want 2 new, 1 known, 2 resolved", b)
	}

	// New findings below --fail-on leave the exit status clean.
	if code, _, _ := auditSite(t, site, "--baseline", base, "--fail-on", "critical", "-q"); code != exitFindings {
		t.Errorf("a new critical finding at --fail-on critical: exit %d, want 1", code)
	}
	if err := os.Chmod(filepath.Join(site, "new.html"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := auditSite(t, site, "--baseline", base, "--fail-on", "critical", "-q"); code != exitClean || out != "" {
		t.Errorf("only a new high finding at --fail-on critical: exit %d, stdout %q; want 0 and nothing", code, out)
	}
}

// A baseline that cannot be compared with is exit 2, a message that names it and a hint, and
// no report written.
func TestBaselineRefused(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\n")
	dir := t.TempDir()
	base := filepath.Join(dir, "baseline.json")
	if code, _, stderr := auditSite(t, site, "--format", "json", "-o", base); code != exitFindings {
		t.Fatalf("taking the baseline: exit %d, %s", code, stderr)
	}
	// The same site at another path: a renamed root.
	moved := site + "-moved"
	if err := os.Rename(site, moved); err != nil {
		t.Fatal(err)
	}
	garbled := filepath.Join(dir, "garbled.json")
	data, _ := os.ReadFile(base)
	if err := os.WriteFile(garbled, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report.json")
	for _, tc := range []struct {
		name, baseline, want string
	}{
		{"renamed root", base, "was made for the roots"},
		{"truncated", garbled, "truncated"},
		{"missing", filepath.Join(dir, "none.json"), "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := auditSite(t, moved, "--baseline", tc.baseline, "--format", "json", "-o", out)
			// The error's one line names the baseline, not only the hint.
			if code != exitError || !strings.HasPrefix(stderr, "webperm: baseline "+tc.baseline) || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "hint: ") {
				t.Errorf("exit %d, stderr %q: want 2, an error that begins with baseline %s, %q and a hint", code, stderr, tc.baseline, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a report was written to %s", out)
			}
		})
	}
}

// A baseline of more findings than an audit keeps in memory is merged with a spooled audit.
func TestBaselineOfSpooledFindings(t *testing.T) {
	const dirs, files = 25, 200 // 5,000 findings: past the 4,096 kept in memory
	site := openSite(t, dirs, files)
	base := filepath.Join(t.TempDir(), "baseline.json")
	if code, _, stderr := auditSite(t, site, "--format", "json", "-o", base); code != exitFindings {
		t.Fatalf("taking the baseline: exit %d, %s", code, stderr)
	}
	if err := os.Chmod(filepath.Join(site, "d24", "f199.html"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := auditSite(t, site, "--baseline", base, "--format", "json")
	if code != exitClean {
		t.Fatalf("exit %d, %s", code, stderr)
	}
	var run baselineRun
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatal(err)
	}
	if b := run.Baseline; b.New != 0 || b.Known != dirs*files-1 || b.Resolved != 1 || len(run.Resolved) != 1 || run.Resolved[0].Path != filepath.Join(site, "d24", "f199.html") {
		t.Errorf("baseline %+v, resolved %+v: want %d known and d24/f199.html resolved", b, run.Resolved, dirs*files-1)
	}
}

// Roots one of which lies in another cannot be compared with a baseline, however it was taken:
// the hint said to take the baseline again of the same roots, which is refused the same way.
func TestBaselineNestedRootsHint(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\nd 0755 0:0 sub\nf 0666 0:0 sub/open.html\n")
	base := filepath.Join(t.TempDir(), "baseline.json")
	inner := filepath.Join(site, "sub")
	if code, _, stderr := auditSite(t, site, "--format", "json", "-o", base, inner); code != exitFindings {
		t.Fatalf("taking the baseline: exit %d, %s", code, stderr)
	}
	code, _, stderr := auditSite(t, site, "--baseline", base, inner)
	if code != exitError || !strings.Contains(stderr, "lies in the root") {
		t.Fatalf("exit %d, stderr %q; want 2 and the nested roots named", code, stderr)
	}
	if strings.Contains(stderr, "-o "+base) || !strings.Contains(stderr, "hint: ") {
		t.Errorf("the hint would take the same refused baseline again, or is missing: %s", stderr)
	}
}

// A baseline that cannot be read, or is no JSON report of webperm, is refused before the audit:
// a nightly audit of a large host takes hours, and a typo in --baseline cost all of them before
// it was exit 2. Here the root is missing too: the error must be the baseline's, which is
// looked at first.
func TestBaselineRefusedBeforeTheAudit(t *testing.T) {
	dir := t.TempDir()
	notReport := filepath.Join(dir, "not-a-report.json")
	if err := os.WriteFile(notReport, []byte(`{"schema": "something/else", "findings": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	missingRoot := filepath.Join(dir, "no-site")
	for _, tc := range []struct{ name, baseline, want string }{
		{"missing", filepath.Join(dir, "typo.json"), "no such file"},
		{"not a report", notReport, "schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := auditSite(t, missingRoot, "--baseline", tc.baseline)
			if code != exitError || !strings.HasPrefix(stderr, "webperm: baseline "+tc.baseline) || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q: want 2 and the baseline refused first", code, stderr)
			}
		})
	}
}

// A baseline another user could have written is refused before the audit, exit 2: whoever writes
// it decides which findings are known, and a site's user would hide the site's faults from the
// nightly job.
func TestBaselineOthersCouldWriteIsRefused(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\n")
	dir := t.TempDir()
	base := filepath.Join(dir, "baseline.json")
	if code, _, stderr := auditSite(t, site, "--format", "json", "-o", base); code != exitFindings {
		t.Fatalf("taking the baseline: exit %d, %s", code, stderr)
	}
	if code, _, stderr := auditSite(t, site, "--baseline", base, "-q"); code != exitClean {
		t.Fatalf("a baseline of one's own: exit %d, %s", code, stderr)
	}
	data, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	// place writes the baseline to name in a directory of mode dirMode, the file of mode mode.
	place := func(t *testing.T, sub string, dirMode, mode os.FileMode) string {
		d := filepath.Join(t.TempDir(), sub)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(d, "baseline.json")
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(name, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, dirMode); err != nil {
			t.Fatal(err)
		}
		return name
	}
	cases := []struct {
		name, want string
		file       func(t *testing.T) string
	}{
		{"writable by others", "is writable by others (mode 0666)", func(t *testing.T) string { return place(t, "w", 0o755, 0o666) }},
		{"in a directory others can write", "--baseline's directory", func(t *testing.T) string { return place(t, "d", 0o777, 0o644) }},
		{"a symlink", "a symlink", func(t *testing.T) string {
			link := filepath.Join(t.TempDir(), "link.json")
			if err := os.Symlink(base, link); err != nil {
				t.Fatal(err)
			}
			return link
		}},
	}
	if os.Geteuid() == 0 {
		cases = append(cases, struct {
			name, want string
			file       func(t *testing.T) string
		}{"a site user's", "is owned by uid 1000", func(t *testing.T) string {
			name := place(t, "u", 0o755, 0o644)
			if err := os.Chown(name, 1000, 1000); err != nil {
				t.Fatal(err)
			}
			return name
		}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file(t)
			code, out, stderr := auditSite(t, site, "--baseline", file, "-q")
			if code != exitError || out != "" || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "could hide findings") || !strings.Contains(stderr, "hint: ") {
				t.Errorf("exit %d, stdout %q, stderr %q: want 2, %q and why", code, out, stderr, tc.want)
			}
		})
	}
}

// A deploy points /var/www/current at each new release: the baseline of current compares with
// the next release by the paths below it, while a root given otherwise is still refused.
func TestBaselineOfARepointedRoot(t *testing.T) {
	base := t.TempDir()
	releases := filepath.Join(fixture.TempDir(t), "releases")
	for _, r := range []string{"r1", "r2"} {
		dir := filepath.Join(releases, r)
		for _, d := range []string{dir, filepath.Join(dir, "lib")} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, mode := range map[string]os.FileMode{"index.html": 0o644, "open.html": 0o666, "lib/a.php": 0o644} {
			if r == "r2" && name == "lib/a.php" {
				mode = 0o666 // the new release breaks one more
			}
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	current := filepath.Join(releases, "..", "current")
	if err := os.Symlink(filepath.Join(releases, "r1"), current); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "baseline.json")
	if code, _, stderr := auditSite(t, current, "--format", "json", "-o", file); code != exitFindings {
		t.Fatalf("taking the baseline: exit %d, %s", code, stderr)
	}
	if err := os.Remove(current); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(releases, "r2"), current); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := auditSite(t, current, "--format", "json", "--baseline", file)
	if code != exitFindings {
		t.Fatalf("the next release: exit %d, %s", code, stderr)
	}
	var run baselineRun
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, f := range run.Findings {
		status[f.Rule+" "+filepath.Base(f.Path)] = f.Baseline
	}
	if status["world-writable open.html"] != "known" || status["world-writable a.php"] != "new" || run.Baseline.Resolved != 0 {
		t.Errorf("the next release against the last: %v, %d resolved; want open.html known, a.php new, none resolved", status, run.Baseline.Resolved)
	}
	// The release given by its own path is another root.
	if code, _, stderr := auditSite(t, filepath.Join(releases, "r2"), "--baseline", file); code != exitError || !strings.Contains(stderr, "was made for the roots") {
		t.Errorf("another root: exit %d, %s; want 2", code, stderr)
	}
}

// A baseline's findings where this audit did not look, below an exclusion it was given, are not
// resolved: the audit cannot say.
func TestBaselineExcludedIsNotResolved(t *testing.T) {
	site := tree(t, baselineSite)
	file := filepath.Join(t.TempDir(), "baseline.json")
	if code, _, stderr := auditSite(t, site, "--format", "json", "-o", file); code != exitFindings {
		t.Fatalf("taking the baseline: exit %d, %s", code, stderr)
	}
	for _, exclude := range []string{"lib/", "a.php", "lib/**"} {
		code, out, stderr := auditSite(t, site, "--format", "json", "--baseline", file, "--exclude", exclude)
		if code != exitClean {
			t.Fatalf("--exclude %s: exit %d, %s", exclude, code, stderr)
		}
		var run baselineRun
		if err := json.Unmarshal([]byte(out), &run); err != nil {
			t.Fatal(err)
		}
		if run.Baseline.Resolved != 0 || len(run.Resolved) != 0 {
			t.Errorf("--exclude %s: %d resolved %v; want lib/a.php's finding left out, not resolved", exclude, run.Baseline.Resolved, run.Resolved)
		}
	}
}

// A baseline taken with --no-xattrs is refused for an audit that reads ACLs and labels, and the
// other way round: their findings of ACLs and labels would all be new, or all resolved.
func TestBaselineXattrsMismatch(t *testing.T) {
	site := tree(t, baselineSite)
	file := filepath.Join(t.TempDir(), "baseline.json")
	if code, _, stderr := auditSite(t, site, "--format", "json", "--no-xattrs", "-o", file); code != exitFindings {
		t.Fatalf("taking the baseline: exit %d, %s", code, stderr)
	}
	if code, _, stderr := auditSite(t, site, "--baseline", file); code != exitError || !strings.Contains(stderr, "--no-xattrs") {
		t.Errorf("exit %d, %s; want 2 and why", code, stderr)
	}
	if code, _, stderr := auditSite(t, site, "--baseline", file, "--no-xattrs", "-q"); code != exitClean {
		t.Errorf("both --no-xattrs: exit %d, %s; want 0", code, stderr)
	}
}
