package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/webperm/webperm/internal/fixture"
)

// outsideEntries is how many files the root-owned tree outside the site holds, each named as a
// planned file of the site, so that a plan that followed the swapped directory would reach them.
const outsideEntries = 1000

// shells are the shells a sh plan is run with: sh, which is dash on Debian, and dash by name.
func shells(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, name := range []string{"sh", "dash"} {
		p, err := fixture.FindTool(name)
		if err != nil {
			fixture.Unavailable(t, err.Error())
		}
		out = append(out, p)
	}
	return out
}

// runShell runs the sh plan script with shell, as root, with args: as a person does, given its
// path, so that "$0" names it.
func runShell(t *testing.T, shell, script string, args ...string) webpermRun {
	t.Helper()
	return runWebperm(t, shell, append([]string{script}, args...)...)
}

// planScript writes the sh plan of site with webperm, as root, into a directory of root's, and
// returns its path.
func planScript(t *testing.T, bin, site string) string {
	t.Helper()
	script := filepath.Join(t.TempDir(), "fix.sh")
	if r := runWebperm(t, bin, "plan", "-o", script, "--web-user", webUser, site); r.code != 1 {
		t.Fatalf("webperm plan: exit %d, want 1 (findings)\n%s", r.code, r.stderr)
	}
	return script
}

// Attack 2: root plans the site to a script and runs it later; in between, the site's user swaps
// a directory of the site, whose files the plan changes, for a symlink to a root-owned tree
// outside it. The script, run with sh and with dash, changes nothing outside the site, reports
// the swapped directory and every file below it as skipped, and exits 4.
func TestShPlanDoesNotFollowASwappedDirectory(t *testing.T) {
	h := newHostile(t)
	sh := shells(t)
	bin := buildWebperm(t)
	h.run(t, fmt.Sprintf(`cd %s && mkdir uploads && i=0 && while [ $i -lt %d ]; do : > uploads/f$i; i=$((i+1)); done && chmod 0666 uploads/* && chmod 0777 uploads`, h.site, outsideEntries))
	outside := filepath.Join(filepath.Dir(h.home), "secrets")
	if err := os.Mkdir(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	for i := range outsideEntries {
		if err := os.WriteFile(filepath.Join(outside, fmt.Sprintf("f%d", i)), []byte("secret"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	script := planScript(t, bin, h.site)
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\nchmod -- "); n < outsideEntries+1 {
		t.Fatalf("the plan has %d chmod, want one for uploads and each file in it:\n%s", n, data)
	}

	h.run(t, fmt.Sprintf("cd %s && mv uploads uploads.old && ln -s %s uploads", h.site, outside))
	before, beforeSite := snapshot(t, outside), snapshot(t, h.home)
	for _, shell := range sh {
		r := runShell(t, shell, script, "--journal", filepath.Join(t.TempDir(), "journal.jsonl"))
		if r.code != 4 {
			t.Errorf("%s fix.sh: exit %d, want 4\n%s%s", shell, r.code, r.stdout, r.stderr)
		}
		skipped := strings.Count(r.stdout, "skipped  "+h.site+"/uploads")
		if skipped != outsideEntries+1 || !strings.Contains(r.stdout, "skipped  "+h.site+"/uploads: is a symlink now") {
			t.Errorf("%s fix.sh: %d entries below uploads reported skipped, want %d, uploads itself as a symlink:\n%s", shell, skipped, outsideEntries+1, firstLines(r.stdout, 5))
		}
		requireUnchanged(t, before, snapshot(t, outside))
		requireUnchanged(t, beforeSite, snapshot(t, h.home))
	}
}

// Without an attack, the script run with sh (and with dash) makes every change of the plan, and
// webperm undo of its journal puts each back. Read from stdin, it is refused.
func TestShPlanAppliesAndUndoes(t *testing.T) {
	h := newHostile(t)
	sh := shells(t)
	bin := buildWebperm(t)
	h.run(t, fmt.Sprintf(`cd %s && mkdir uploads && : > uploads/a.jpg && : > index.php && chmod 0666 uploads/a.jpg index.php && chmod 0777 uploads`, h.site))
	terminalTree(t, h)
	before := snapshot(t, h.home)
	// From stdin "$0" is the shell, not the plan: refused, saying so, and nothing changes.
	stdin := planScript(t, bin, h.site)
	cmd := exec.Command(sh[0])
	cmd.Dir = filepath.Dir(stdin)
	f, err := os.Open(stdin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdin = f
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "not 'sh < fix.sh' or through a pipe") {
		t.Errorf("sh < fix.sh: exit %d, want 2 and why:\n%s", code, out)
	}
	requireUnchanged(t, before, snapshot(t, h.home))
	for _, shell := range sh {
		script := planScript(t, bin, h.site)
		journal := filepath.Join(t.TempDir(), "journal.jsonl")
		r := runShell(t, shell, script, "--journal", journal)
		if r.code != 0 {
			t.Fatalf("%s fix.sh: exit %d, want 0\n%s%s", shell, r.code, r.stdout, r.stderr)
		}
		for _, p := range []string{filepath.Join(h.site, "index.php"), filepath.Join(h.site, "uploads")} {
			if m := lstatPerm(t, p); m&0o022 != 0 {
				t.Errorf("%s fix.sh left %s %04o", shell, p, m)
			}
		}
		if again := runWebperm(t, bin, "plan", "--format", "json", "--web-user", webUser, h.site); strings.Contains(again.stdout, `"chmod": true`) {
			t.Errorf("%s fix.sh left changes to make:\n%s", shell, again.stdout)
		}
		if u := runWebperm(t, bin, "undo", journal); u.code != 0 {
			t.Fatalf("webperm undo: exit %d\n%s%s", u.code, u.stdout, u.stderr)
		}
		requireUnchanged(t, before, snapshot(t, h.home))
	}
}

// terminalNames are file names a site user can choose to reach the terminal of whoever reads
// webperm's output: a window title, the clipboard (OSC 52), a hyperlink (OSC 8), a newline, a
// byte that is not UTF-8.
var terminalNames = []string{
	"\x1b]0;owned\x07title.php",
	"\x1b]52;c;cm0gLXJmIH4=\x07clip.php",
	"\x1b]8;;https:evil.example\x1b\\link\x1b]8;;\x1b\\.php",
	"new\nline.php",
	"lone\xff.php",
}

// terminalTree gives the hostile user's site a 0666 file of each escape name and a 0777 directory
// with such a name holding another, and returns the directory.
func terminalTree(t *testing.T, h *hostile) string {
	t.Helper()
	dir := filepath.Join(h.site, "\x1b]0;dir\x07\n")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	paths := []string{dir}
	for _, name := range terminalNames {
		paths = append(paths, filepath.Join(h.site, name))
	}
	paths = append(paths, filepath.Join(dir, terminalNames[1]))
	for _, p := range paths[1:] {
		if err := os.WriteFile(p, []byte("x"), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range paths {
		if err := os.Chown(p, h.uid, h.gid); err != nil {
			t.Fatal(err)
		}
		mode := uint32(0o666)
		if p == dir {
			mode = 0o777
		}
		if err := syscall.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Attack 5: names holding terminal escape sequences reach no output of webperm raw, in any
// format: audit, plan, explain, fix (its plan and its progress), undo and the errors.
func TestEscapeNamesReachNoTerminal(t *testing.T) {
	h := newHostile(t)
	bin := buildWebperm(t)
	dir := terminalTree(t, h)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	script := planScript(t, bin, h.site)
	runs := map[string][]string{
		"audit":              {"audit", "--web-user", webUser, "--color", "always", h.site},
		"audit json":         {"audit", "--format", "json", "--web-user", webUser, h.site},
		"plan":               {"plan", "--web-user", webUser, h.site},
		"plan json":          {"plan", "--format", "json", "--web-user", webUser, h.site},
		"explain":            {"explain", "--web-user", webUser, filepath.Join(dir, terminalNames[1])},
		"explain a missing":  {"explain", "--web-user", webUser, filepath.Join(dir, "\x1b]0;gone\x07")},
		"audit a missing":    {"audit", "--web-user", webUser, filepath.Join(h.site, "\x1b]0;gone\x07")},
		"fix":                {"fix", "--web-user", webUser, h.site},
		"plan to a bad file": {"plan", "--web-user", webUser, "-o", filepath.Join(h.site, "\x1b]0;no\x07", "x"), h.site},
	}
	var outputs []string
	for name, args := range runs {
		r := runWebperm(t, bin, args...)
		outputs = append(outputs, name+": stdout", r.stdout, name+": stderr", r.stderr)
	}
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, "plan -o", string(data))
	r := runShell(t, "sh", script, "--journal", journal)
	if r.code != 0 {
		t.Errorf("sh fix.sh: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	outputs = append(outputs, "sh fix.sh: stdout", r.stdout, "sh fix.sh: stderr", r.stderr)
	u := runWebperm(t, bin, "undo", journal)
	outputs = append(outputs, "undo: stdout", u.stdout, "undo: stderr", u.stderr)
	if !strings.Contains(r.stdout, `changed  "`+h.site+`/\x1b]0;owned\atitle.php": `) {
		t.Errorf("fix does not show the title name escaped:\n%s", r.stdout)
	}
	for i := 0; i < len(outputs); i += 2 {
		name, out := outputs[i], outputs[i+1]
		if i := strings.IndexAny(out, "\x1b\x07"); i >= 0 && !(name == "audit: stdout" && colourOnly(out)) {
			t.Errorf("%s: a raw escape byte at %d: %q", name, i, firstLines(out[max(i-80, 0):], 2))
		}
		if strings.Contains(out, "\xff") {
			t.Errorf("%s: a raw \\xff byte", name)
		}
	}
}

// colourOnly reports whether every ESC in out begins a colour (SGR) sequence, as --color always
// asks for, and no BEL is there.
func colourOnly(out string) bool {
	if strings.Contains(out, "\x07") {
		return false
	}
	for _, part := range strings.Split(out, "\x1b")[1:] {
		if !strings.HasPrefix(part, "[") {
			return false
		}
		end := strings.IndexByte(part, 'm')
		if end < 0 || strings.Trim(part[1:end], "0123456789;") != "" {
			return false
		}
	}
	return true
}

// firstLines is the first n lines of s.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// lstatPerm is the permission bits of p, a symlink's own.
func lstatPerm(t *testing.T, p string) uint32 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Mode & 0o7777
}
