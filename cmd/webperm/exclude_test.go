package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// excludedSite has, beside what the exclusions of TestAuditExcludes leave out, entries they
// must not: every one of them world-writable, so each is a finding unless left out.
const excludedSite = `
d 0755 0:0 .
f 0644 0:0 index.html
d 0755 0:0 a
f 0666 0:0 a/cache
d 0755 0:0 a/tmp
f 0666 0:0 a/tmp/kept.html
f 0666 0:0 a/debug.log
d 0755 0:0 cache
d 0777 0:0 cache/deep
f 0666 0:0 cache/deep/below.html
d 0777 0:0 tmp
f 0666 0:0 tmp/x.html
`

// excludeArgs audits root with cache/ (directories alone, at any depth) and *.log on the
// command line, and ./tmp (the root's alone) in a policy file, on its third line.
func excludeArgs(t *testing.T, root string) []string {
	t.Helper()
	pol := filepath.Join(t.TempDir(), "site.yaml")
	if err := os.WriteFile(pol, []byte("version: 1\nexclude:\n  - ./tmp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"--root", demoSysroot, "--web-user", "www-data", "--policy", pol, "--exclude", "cache/", "--exclude", "*.log", root}
}

func TestAuditExcludes(t *testing.T) {
	root := tree(t, excludedSite)
	args := excludeArgs(t, root)
	pol := args[5]
	code, out, errOut := webperm(t, append([]string{"audit", "--format", "json"}, args...)...)
	if code != exitFindings {
		t.Fatalf("exit %d, want 1\n%s", code, errOut)
	}
	r := decode(t, out)
	// The tops of what was left out: cache, a/debug.log and tmp, not what lies below cache and
	// tmp, which was never read.
	if r.Summary.Excluded != 3 {
		t.Errorf("summary.excluded %d, want 3", r.Summary.Excluded)
	}
	wantFrom := []struct{ Glob, From string }{{"cache/", "--exclude"}, {"*.log", "--exclude"}, {"./tmp", pol + ":3"}}
	if !slices.Equal(r.Exclude, wantFrom) {
		t.Errorf("exclude %+v, want %+v", r.Exclude, wantFrom)
	}
	var paths []string
	for _, f := range r.RawFindings {
		if f["rule"] == "world-writable" {
			paths = append(paths, strings.TrimPrefix(f["path"].(string), root+"/"))
		}
	}
	// a/cache is a file: cache/ names directories; a/tmp is not the root's tmp.
	if want := []string{"a/cache", "a/tmp/kept.html"}; !slices.Equal(paths, want) {
		t.Errorf("world-writable findings on %q, want %q alone", paths, want)
	}
	if want := 6; r.Summary.Entries != want {
		t.Errorf("summary.entries %d, want %d: the root, index.html, a, a/cache, a/tmp, a/tmp/kept.html", r.Summary.Entries, want)
	}

	code, out, _ = webperm(t, append([]string{"audit"}, args...)...)
	want := "  excluded  3 paths, not examined, by cache/ (--exclude), *.log (--exclude), ./tmp (" + pol + ":3)\n"
	if code != exitFindings || !strings.Contains(out, want) {
		t.Errorf("exit %d; the text report's header does not say\n%s\nit reads:\n%s", code, want, out)
	}
	for _, hidden := range []string{"below.html", "x.html", "debug.log"} {
		if strings.Contains(out, hidden) {
			t.Errorf("the text report names %s, which was excluded", hidden)
		}
	}

	// Without exclusions the header says nothing of them, and the JSON counts none.
	code, out, _ = webperm(t, "audit", "--format", "json", "--root", demoSysroot, "--web-user", "www-data", root)
	if r := decode(t, out); code != exitFindings || r.Summary.Excluded != 0 || r.Exclude != nil {
		t.Errorf("without exclusions: exit %d, excluded %d, exclude %+v", code, r.Summary.Excluded, r.Exclude)
	}
}

// plan and fix never touch what is excluded: not in the plan, not changed by --apply.
func TestPlanAndFixLeaveExcludedAlone(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("fix --apply changes modes as root")
	}
	root := tree(t, excludedSite)
	args := excludeArgs(t, root)
	code, out, errOut := webperm(t, append([]string{"plan"}, args...)...)
	if code != exitFindings {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	for _, hidden := range []string{"cache/deep", "debug.log", root + "/tmp", "'" + root + "/cache'"} {
		if strings.Contains(out, hidden) {
			t.Errorf("the plan names %s, which was excluded:\n%s", hidden, out)
		}
	}
	if !strings.Contains(out, "a/tmp/kept.html") {
		t.Errorf("the plan does not fix a/tmp/kept.html, which no exclusion covers:\n%s", out)
	}
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	if code, out, errOut := webperm(t, append([]string{"fix", "--apply", "--journal", journal}, args...)...); code != exitClean {
		t.Fatalf("fix --apply: exit %d\n%s%s", code, out, errOut)
	}
	for rel, want := range map[string]os.FileMode{
		"cache/deep": 0o777, "cache/deep/below.html": 0o666, "tmp": 0o777, "tmp/x.html": 0o666, "a/debug.log": 0o666,
		"a/tmp/kept.html": 0o644, "a/cache": 0o644,
	} {
		fi, err := os.Lstat(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s is %04o after fix --apply, want %04o", rel, got, want)
		}
	}
}

func TestExcludeRefusesBadGlobs(t *testing.T) {
	root := tree(t, "d 0755 0:0 .\n")
	for _, tt := range []struct{ glob, want string }{
		{"/var/www/cache", `webperm: --exclude glob "/var/www/cache" is absolute: exclusions are relative to each root` + "\n"},
		{"wp-[content", `webperm: --exclude glob "wp-[content": not a glob webperm can match`},
		{"../x", `webperm: --exclude glob "../x": not a glob`},
		{".", `webperm: --exclude glob ".": not a glob`},
	} {
		code, out, errOut := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", "--exclude", tt.glob, root)
		if code != exitError || out != "" || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "webperm: hint: --exclude cache/") {
			t.Errorf("--exclude %q: exit %d, stdout %q, stderr %q; want exit 2 and %q with a hint", tt.glob, code, out, errOut, tt.want)
		}
	}
}

// A saved plan is applied as it was made: what to leave out was the plan's to say.
func TestSavedPlanRefusesExcludeAndSites(t *testing.T) {
	for _, flag := range []string{"--exclude=cache/", "--sites-from=/etc/webperm/sites"} {
		code, _, errOut := webperm(t, "fix", "--apply", "--plan", "/root/plan.json", flag)
		name := strings.TrimPrefix(flag[:strings.Index(flag, "=")], "--")
		if want := "webperm: --" + name + " has no say over a saved plan"; code != exitError || !strings.HasPrefix(errOut, want) {
			t.Errorf("fix --apply --plan %s: exit %d, stderr %q; want 2 and %q", flag, code, errOut, want)
		}
	}
}
