package fixer

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
	"golang.org/x/sys/unix"
)

// hostileNames are names a tree can hold and a careless script would break on: a newline, a
// quote, a leading dash (an option to chmod), command substitution, and bytes that are not UTF-8.
var hostileNames = []string{
	"new\nline.html",
	"it's.html",
	"-R",
	"--reference=x",
	"$(touch pwned).html",
	"`touch pwned2`.html",
	"a; touch pwned3",
	"\xff\xfe.html",
	" spaced ",
	"'",
	"\\",
}

// The generated script, run by sh, changes exactly the hostile entries and executes nothing
// else: no file appears anywhere, and every entry not planned keeps its mode.
func TestScriptHostileNames(t *testing.T) {
	base := fixture.TempDir(t)
	root := filepath.Join(base, "site")
	mustMkdir(t, root, 0o755)
	mustWrite(t, filepath.Join(root, "index.html"), 0o644)
	mustWrite(t, filepath.Join(root, "x"), 0o644) // what a split "--reference=x" would name
	want := map[string]uint32{}
	for _, name := range hostileNames {
		mustWrite(t, filepath.Join(root, name), 0o666)
		want[name] = 0o644
	}
	dir := filepath.Join(root, "d'$(touch pwned4)\n-x")
	mustMkdir(t, dir, 0o777)
	mustWrite(t, filepath.Join(dir, "-f'"), 0o600)
	want[filepath.Base(dir)] = 0o755
	want[filepath.Join(filepath.Base(dir), "-f'")] = 0o644

	p := planFor(t, root)
	if len(p.Actions) != len(want) {
		t.Fatalf("%d actions, want %d: %+v", len(p.Actions), len(want), p.Actions)
	}
	var script bytes.Buffer
	if err := WriteScript(&script, p); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
	cwd := t.TempDir()
	cmd := exec.Command("sh", "-c", script.String())
	cmd.Dir = cwd
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sh: %v\n%s\nscript:\n%s", err, out, script.String())
	}
	after := snapshot(t, root)
	if len(after) != len(before) {
		t.Errorf("the script made or removed entries: %d before, %d after", len(before), len(after))
	}
	for rel, was := range before {
		now := after[rel]
		if m, planned := want[rel]; planned {
			if policy.UnixMode(now.Mode) != m {
				t.Errorf("%q: mode %s, want %04o", rel, policy.OctalMode(now.Mode), m)
			}
		} else if now != was {
			t.Errorf("%q: changed from %+v to %+v, but was not planned", rel, was, now)
		}
	}
	for _, d := range []string{cwd, base, filepath.Dir(base)} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "pwned") {
				t.Errorf("the script ran a command: %s appeared in %s", e.Name(), d)
			}
		}
	}
	for _, name := range []string{"pwned", "pwned2", "pwned3", "pwned4"} {
		if _, err := os.Lstat(filepath.Join(root, name)); err == nil {
			t.Errorf("the script ran a command: %s appeared in the root", name)
		}
	}
	// Comments stay comments: every line that does not start with # is a command webperm means.
	for _, line := range strings.Split(script.String(), "\n") {
		if line == "" || strings.HasPrefix(line, "#") || line == "set -eu" || strings.HasPrefix(line, "chmod -- ") || strings.HasPrefix(line, "chown -h -- ") {
			continue
		}
		// A quoted path may span lines; such a line is the rest of one, which sh has proved above.
		if !strings.Contains(line, "'") {
			t.Errorf("unexpected script line %q", line)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for _, s := range append(hostileNames, "", "plain", "''", "a'b'c") {
		out, err := exec.Command("sh", "-c", "printf '%s' "+shellQuote(s)).Output()
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("sh read %q back as %q", s, out)
		}
	}
}

// A directory losing setgid needs a fifth octal digit: GNU chmod keeps a directory's setuid
// and setgid bits for a four-digit mode. The script's chmod must leave exactly the target.
func TestScriptClearsDirectorySetgid(t *testing.T) {
	root := filepath.Join(fixture.TempDir(t), "site")
	mustMkdir(t, root, 0o755)
	mustMkdir(t, filepath.Join(root, "cache"), 0o2777)
	pol := policy.Default()
	pol.Rules = append(pol.Rules, policy.Rule{Paths: []string{"cache/"}, DirMax: ptr(policy.FromUnix(0o755))})
	p := planWith(t, root, pol)
	if len(p.Actions) != 1 {
		t.Fatalf("actions %+v, want one", p.Actions)
	}
	a := p.Actions[0]
	if a.Target.Mode != 0o755 {
		t.Fatalf("target %s, want 0755", policy.OctalMode(a.Target.Mode))
	}
	var script bytes.Buffer
	if err := WriteScript(&script, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(script.String(), "chmod -- 00755 ") {
		t.Errorf("script lacks chmod 00755:\n%s", script.String())
	}
	if out, err := exec.Command("sh", "-c", script.String()).CombinedOutput(); err != nil {
		t.Fatalf("sh: %v\n%s", err, out)
	}
	if got := snapshot(t, root)["cache"].Mode; got != 0o755 {
		t.Errorf("cache is %s after the script, want 0755", policy.OctalMode(got))
	}
}

// mustMkdir makes directory p with mode m, in chmod's octal: after creation, as the umask lies.
func mustMkdir(t *testing.T, p string, m uint32) {
	t.Helper()
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

// mustWrite makes file p with mode m, in chmod's octal.
func mustWrite(t *testing.T, p string, m uint32) {
	t.Helper()
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
