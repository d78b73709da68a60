package main

import (
	"debug/buildinfo"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildRelease(t *testing.T) {
	vcs := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/webperm/webperm", Version: version}}
		for i := 0; i < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	tests := []struct {
		name             string
		ldVersion, ldRev string
		bi               *debug.BuildInfo
		want             string
	}{
		{"make's stamp", "v1.2.0-3-g1c89941-dirty", "1c899413f45c581bc47ebf42446c112b6b9aa54c", vcs("(devel)", "vcs.revision", "ffff", "vcs.modified", "true"),
			"webperm v1.2.0-3-g1c89941-dirty, commit 1c899413f45c581bc47ebf42446c112b6b9aa54c"},
		{"go install of a release", "", "", vcs("v1.2.0"), "webperm v1.2.0, commit unknown (built without the Makefile's version stamp or version control information)"},
		{"go build in a clean checkout", "", "", vcs("v1.2.1-0.20261203062734-1c899413f45c", "vcs.revision", "1c899413f45c581bc47ebf42446c112b6b9aa54c", "vcs.modified", "false"),
			"webperm v1.2.1-0.20261203062734-1c899413f45c, commit 1c899413f45c581bc47ebf42446c112b6b9aa54c"},
		{"go build with changes", "", "", vcs("v0.0.0-20261203062734-1c899413f45c+dirty", "vcs.revision", "1c899413f45c", "vcs.modified", "true"),
			"webperm v0.0.0-20261203062734-1c899413f45c+dirty, commit 1c899413f45c with uncommitted changes"},
		{"make without git", "", "", vcs("(devel)", "vcs.revision", "1c899413f45c"), "webperm (devel), commit 1c899413f45c"},
		{"nothing known", "", "", vcs("(devel)"), "webperm (devel), commit unknown (built without the Makefile's version stamp or version control information)"},
		{"no build info", "", "", nil, "webperm (devel), commit unknown (built without the Makefile's version stamp or version control information)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := buildRelease(tt.ldVersion, tt.ldRev, tt.bi).String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// buildAndRun builds webperm with the go command's extra flags, runs it with args and returns
// its stdout.
func buildAndRun(t *testing.T, buildFlags []string, args ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "webperm")
	build := exec.Command("go", append(append([]string{"build"}, buildFlags...), "-o", bin, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", buildFlags, err, out)
	}
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("webperm %v: %v", args, err)
	}
	return string(out)
}

// gitOutput runs git in the module's work tree; "" when git or the repository is not there.
func gitOutput(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// A go build with -ldflags is what the Makefile does: see TestMakeInstall. Without them, the
// version comes from the build info, and says what is missing rather than "(devel)" alone.
func TestVersionWithoutLdflags(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH: webperm cannot be built to run")
	}
	got := buildAndRun(t, []string{"-buildvcs=false"}, "version")
	if want := "webperm (devel), commit unknown (built without the Makefile's version stamp or version control information)\n"; got != want {
		t.Errorf("built with -buildvcs=false: %q, want %q", got, want)
	}
	got = buildAndRun(t, []string{"-ldflags", "-X main.version=v9.8.7 -X main.commit=0123456789abcdef"}, "version")
	if want := "webperm v9.8.7, commit 0123456789abcdef\n"; got != want {
		t.Errorf("built with -ldflags -X: %q, want %q", got, want)
	}
	// With version control information, the version and commit come from it.
	bin := filepath.Join(t.TempDir(), "webperm")
	if out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	rev := ""
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			rev = s.Value
		}
	}
	if rev == "" {
		t.Skip("the go command recorded no version control information here (git missing, or a git worktree, whose .git is a file): the fallback to it is not checked")
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^webperm v\d+\.\d+\.\d+\S*, commit ` + rev + `( with uncommitted changes)?\n$`)
	if !want.MatchString(string(out)) {
		t.Errorf("built with version control information: %q, want it to match %s", out, want)
	}
}
