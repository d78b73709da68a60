package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// make install puts exactly the binary, three completions and the manual page under DESTDIR and
// PREFIX, with the modes a package would give them; make uninstall takes them away again.
func TestMakeInstall(t *testing.T) {
	for _, tool := range []string{"make", "install", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: make install cannot run", tool)
		}
	}
	build := t.TempDir() // the binary and the generated files, so the work tree's bin/ stays as it is
	for _, prefix := range []string{"", "/opt/webperm"} {
		dest := t.TempDir()
		args := []string{"-C", filepath.Join("..", ".."), "DESTDIR=" + dest, "BIN=" + filepath.Join(build, "webperm"), "GENERATED=" + build}
		if prefix != "" {
			args = append(args, "PREFIX="+prefix)
		} else {
			prefix = "/usr/local"
		}
		if out, err := exec.Command("make", append(args, "install")...).CombinedOutput(); err != nil {
			t.Fatalf("make install: %v\n%s", err, out)
		}
		want := map[string]fs.FileMode{
			"bin/webperm":                                  0o755,
			"share/man/man1/webperm.1":                     0o644,
			"share/bash-completion/completions/webperm":    0o644,
			"share/zsh/site-functions/_webperm":            0o644,
			"share/fish/vendor_completions.d/webperm.fish": 0o644,
		}
		if got := regularFiles(t, dest); strings.Join(got, "\n") != strings.Join(sortedKeys(want, prefix), "\n") {
			t.Errorf("make install PREFIX=%s put\n%s\nwant\n%s", prefix, strings.Join(got, "\n"), strings.Join(sortedKeys(want, prefix), "\n"))
		}
		for name, mode := range want {
			fi, err := os.Stat(filepath.Join(dest, prefix, name))
			if err == nil && fi.Mode().Perm() != mode {
				t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), mode)
			}
		}
		root := filepath.Join(dest, prefix)
		for name, start := range map[string]string{
			"share/bash-completion/completions/webperm":    "# bash completion V2 for webperm",
			"share/zsh/site-functions/_webperm":            "#compdef webperm",
			"share/fish/vendor_completions.d/webperm.fish": "# fish completion for webperm",
			"share/man/man1/webperm.1":                     ".TH WEBPERM 1 ",
		} {
			if data, err := os.ReadFile(filepath.Join(root, name)); err != nil || !strings.HasPrefix(string(data), start) {
				t.Errorf("%s does not start with %q (%v): %.80q", name, start, err, data)
			}
		}
		out, err := exec.Command(filepath.Join(root, "bin", "webperm"), "version").Output()
		if err != nil {
			t.Fatalf("the installed webperm version: %v", err)
		}
		if describe, head := gitOutput(t, "describe", "--tags", "--always", "--dirty"), gitOutput(t, "rev-parse", "HEAD"); describe != "" && head != "" {
			if want := "webperm " + describe + ", commit " + head + "\n"; string(out) != want {
				t.Errorf("the installed webperm version says %q, want %q (the Makefile's stamp)", out, want)
			}
		} else if !strings.HasPrefix(string(out), "webperm ") || strings.TrimSpace(string(out)) == "webperm (devel)" {
			t.Errorf("without git, webperm version says %q", out)
		}
		if _, err := exec.LookPath("groff"); err == nil { // else TestManPage says why it is not checked
			page, err := os.ReadFile(filepath.Join(root, "share/man/man1/webperm.1"))
			if err != nil {
				t.Fatal(err)
			}
			checkRoff(t, string(page))
		}

		if out, err := exec.Command("make", append(args, "uninstall")...).CombinedOutput(); err != nil {
			t.Fatalf("make uninstall: %v\n%s", err, out)
		}
		if left := regularFiles(t, dest); len(left) > 0 {
			t.Errorf("make uninstall left %v", left)
		}
	}
}

// regularFiles lists the files below dir, sorted, by their path from dir.
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, "/"+rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func sortedKeys(m map[string]fs.FileMode, prefix string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, filepath.Join(prefix, k))
	}
	sort.Strings(keys)
	return keys
}
