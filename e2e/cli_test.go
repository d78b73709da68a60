package e2e

import (
	"bytes"
	"errors"
	"os/exec"
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
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, tt.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr.String())
			}
			for _, out := range []struct {
				name, got, want string
			}{{"stdout", stdout.String(), tt.stdout}, {"stderr", stderr.String(), tt.stderr}} {
				if (out.want == "" && out.got != "") || !strings.Contains(out.got, out.want) {
					t.Errorf("%s %q, want %q", out.name, out.got, out.want)
				}
			}
		})
	}
}
