package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The built binary's exit statuses are what a script sees: webperm alone and a mistyped command
// fail with 2, never print help and exit 0. It needs neither root nor a web server.
func TestCommandLineStatuses(t *testing.T) {
	bin := buildWebperm(t)
	tests := []struct {
		args   []string
		code   int
		stdout string // a part stdout must have; "" means stdout must be empty
		stderr string // a part stderr must have; "" means stderr must be empty
	}{
		{nil, 2, "", "Usage:\n  webperm [command]\n"},
		{[]string{"policy"}, 2, "", "Usage:\n  webperm policy [command]\n"},
		{[]string{"policy", "chek"}, 2, "", "webperm: unknown command \"chek\" for \"webperm policy\"\nwebperm: hint: did you mean 'webperm policy check'?\n"},
		{[]string{"audti", "/var/www"}, 2, "", "did you mean 'webperm audit'?"},
		{[]string{"audit", "-j", "abc", "/var/www"}, 2, "", "webperm: --jobs wants a number of directories, got abc\n"},
		{[]string{"--help"}, 0, "  completion ", ""},
		// buildWebperm builds with -buildvcs=false and no -ldflags: nothing says the version.
		{[]string{"version"}, 0, "webperm (devel), commit unknown (built without the Makefile's version stamp or version control information)\n", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{"webperm"}, tt.args...), " "), func(t *testing.T) {
			r := runWebperm(t, bin, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			for _, out := range []struct {
				name, got, want string
			}{{"stdout", r.stdout, tt.stdout}, {"stderr", r.stderr, tt.stderr}} {
				if (out.want == "" && out.got != "") || !strings.Contains(out.got, out.want) {
					t.Errorf("%s %q, want %q", out.name, out.got, out.want)
				}
			}
		})
	}
}

// A typo in a command that would change files changes nothing: a tree fix --apply would mend
// stays as it is.
func TestMistypedFixChangesNothing(t *testing.T) {
	bin := buildWebperm(t)
	site := t.TempDir()
	page := filepath.Join(site, "index.html")
	if err := os.WriteFile(page, []byte("<p>hi</p>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(page, 0o666); err != nil { // the umask lies
		t.Fatal(err)
	}
	if plan := runWebperm(t, bin, "plan", "--format", "json", site); !strings.Contains(plan.stdout, "index.html") {
		t.Fatalf("the plan does not mend index.html, so the test shows nothing: exit %d, %s%s", plan.code, plan.stdout, plan.stderr)
	}
	before := snapshot(t, site)
	for _, args := range [][]string{{"fxi", "--apply", site}, {"fix", "--aply", site}, {"fix", "--apply=maybe", site}, {"fix", "--apply", "-j", "all", site}} {
		r := runWebperm(t, bin, args...)
		if r.code != 2 || r.stdout != "" || !strings.HasPrefix(r.stderr, "webperm: ") {
			t.Errorf("webperm %s: exit %d, stdout %q, stderr %q; want exit 2 and an error", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
	requireUnchanged(t, before, snapshot(t, site))
}
