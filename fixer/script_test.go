package fixer

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
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

// The generated script, run by sh, runs nothing but webperm fix --apply --plan on itself, with
// its plan-id and the arguments it was given, and returns webperm's exit status: no file appears
// anywhere and nothing changes, whatever the names in it.
func TestScriptRunsOnlyWebperm(t *testing.T) {
	root, _ := hostileTree(t)
	p := planFor(t, root)
	dir := t.TempDir()
	script := filepath.Join(dir, "fix.sh")
	var buf bytes.Buffer
	if err := WriteScript(&buf, p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	read, err := ReadScript(script, bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	// A stand-in for webperm that records its arguments, one a line, and exits 4.
	args := filepath.Join(dir, "args")
	fake := filepath.Join(dir, "fake webperm")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > '"+args+"'\nexit 4\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
	for _, sh := range []string{"sh", "dash"} {
		if _, err := exec.LookPath(sh); err != nil {
			t.Logf("no %s", sh)
			continue
		}
		cmd := exec.Command(sh, script, "--journal", "/root/j")
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "WEBPERM="+fake)
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 4 {
			t.Errorf("%s fix.sh: exit %d (%v), want webperm's 4\n%s", sh, code, err, out)
		}
		got, _ := os.ReadFile(args)
		want := strings.Join([]string{"fix", "--apply", "--plan", script, "--plan-id", read.ID, "--journal", "/root/j", ""}, "\n")
		if string(got) != want {
			t.Errorf("%s fix.sh ran webperm with\n%s\nwant\n%s", sh, got, want)
		}
		if entries, _ := os.ReadDir(cmd.Dir); len(entries) != 0 {
			t.Errorf("%s fix.sh made %d files in its directory", sh, len(entries))
		}
	}
	if after := snapshot(t, root); !reflect.DeepEqual(after, before) {
		t.Errorf("running the script changed the tree itself:\n%v\n%v", before, after)
	}
	for _, d := range []string{root, filepath.Dir(root)} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "pwned") {
				t.Errorf("the script ran a command: %s appeared in %s", e.Name(), d)
			}
		}
	}
	// Comments stay comments: every line that does not start with # is a command webperm means.
	for _, line := range strings.Split(buf.String(), "\n") {
		switch {
		case line == "", strings.HasPrefix(line, "#"), strings.HasPrefix(line, "chmod -- "), strings.HasPrefix(line, "chown -h -- "),
			line == "set -eu", line == nlDefinition, line == "exit 2", strings.HasPrefix(line, "webperm=${WEBPERM:-"), strings.HasPrefix(line, `exec "$webperm" fix --apply --plan "$0" --plan-id `):
		default:
			t.Errorf("unexpected script line %q", line)
		}
	}
}

// The plan read back from the script, applied, changes exactly the hostile entries.
func TestScriptHostileNames(t *testing.T) {
	diskRequireRoot(t)
	root, hostileWant := hostileTree(t)
	p := planFor(t, root)
	var script bytes.Buffer
	if err := WriteScript(&script, p); err != nil {
		t.Fatal(err)
	}
	read, err := ReadScript("fix.sh", &script)
	if err != nil {
		t.Fatal(err)
	}
	if len(read.Actions) != len(hostileWant) {
		t.Fatalf("%d actions, want %d: %+v", len(read.Actions), len(hostileWant), read.Actions)
	}
	before := snapshot(t, root)
	if sum := Apply(read, Options{}); sum != (Summary{Applied: len(hostileWant)}) {
		t.Errorf("apply: %+v", sum)
	}
	after := snapshot(t, root)
	if len(after) != len(before) {
		t.Errorf("applying made or removed entries: %d before, %d after", len(before), len(after))
	}
	for rel, was := range before {
		now := after[rel]
		if m, planned := hostileWant[rel]; planned {
			if policy.UnixMode(now.Mode) != m {
				t.Errorf("%q: mode %s, want %04o", rel, policy.OctalMode(now.Mode), m)
			}
		} else if now != was {
			t.Errorf("%q: changed from %+v to %+v, but was not planned", rel, was, now)
		}
	}
}

// hostileTree makes a root holding hostileNames and escapeNames, each 0666, and a 0777 directory
// with a hostile name holding a 0600 file with another. want are the modes its plan gives, by
// path below the root.
func hostileTree(t *testing.T) (root string, want map[string]uint32) {
	t.Helper()
	hostileWant := map[string]uint32{}
	base := fixture.TempDir(t)
	root = filepath.Join(base, "site")
	mustMkdir(t, root, 0o755)
	mustWrite(t, filepath.Join(root, "index.html"), 0o644)
	mustWrite(t, filepath.Join(root, "x"), 0o644) // what a split "--reference=x" would name
	for _, name := range append(hostileNames, escapeNames...) {
		mustWrite(t, filepath.Join(root, name), 0o666)
		hostileWant[name] = 0o644
	}
	dir := filepath.Join(root, "d'$(touch pwned4)\n-x\x1b[2J")
	mustMkdir(t, dir, 0o777)
	mustWrite(t, filepath.Join(dir, "-f'"), 0o600)
	hostileWant[filepath.Base(dir)] = 0o755
	hostileWant[filepath.Join(filepath.Base(dir), "-f'")] = 0o644
	return root, hostileWant
}

func TestShellWordHostile(t *testing.T) {
	for _, s := range append(hostileNames, "", "plain", "''", "a'b'c") {
		out, err := exec.Command("sh", "-c", nlDefinition+"\nprintf '%s' "+shellWord(s)).Output()
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("sh read %q back as %q", s, out)
		}
	}
}

// A directory losing setgid needs a fifth octal digit: GNU chmod keeps a directory's setuid
// and setgid bits for a four-digit mode. The script's chmod must say exactly the target, which
// apply leaves.
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
	read, err := ReadScript("fix.sh", &script)
	if err != nil {
		t.Fatal(err)
	}
	if diskRequireRoot(t); Apply(read, Options{}) != (Summary{Applied: 1}) {
		t.Fatal("not applied")
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
