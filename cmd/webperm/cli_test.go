package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// A script that mistypes a command must fail, not print help and exit 0.
func TestCommandsAloneAndUnknown(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr []string // parts stderr must contain, in order
	}{
		{"webperm alone", nil, []string{"Usage:\n  webperm [command]\n", "Available Commands:", "  audit ", "  completion ", "Use \"webperm [command] --help\""}},
		{"policy alone", []string{"policy"}, []string{"Usage:\n  webperm policy [command]\n", "  check ", "  init ", "  show "}},
		{"unknown command", []string{"audti"}, []string{"webperm: unknown command \"audti\" for \"webperm\"\n", "webperm: hint: did you mean 'webperm audit'?\n"}},
		{"unknown command with arguments", []string{"plna", "/var/www/html"}, []string{"webperm: unknown command \"plna\" for \"webperm\"\n", "webperm: hint: did you mean 'webperm plan'?\n"}},
		{"unknown policy command", []string{"policy", "chek"}, []string{"webperm: unknown command \"chek\" for \"webperm policy\"\n", "webperm: hint: did you mean 'webperm policy check'?\n"}},
		{"unknown command with its flags", []string{"audti", "-j", "2", "--format", "json", "/var/www/html"}, []string{"webperm: unknown command \"audti\" for \"webperm\"\n", "webperm: hint: did you mean 'webperm audit'?\n"}},
		{"unknown policy command with its flags", []string{"policy", "chek", "--preset", "wordpress"}, []string{"webperm: unknown command \"chek\" for \"webperm policy\"\n", "did you mean 'webperm policy check'?"}},
		{"unknown policy command with a file", []string{"policy", "chek", "site.yaml"}, []string{"unknown command \"chek\" for \"webperm policy\"", "did you mean 'webperm policy check'?"}},
		{"nothing like a command", []string{"policy", "xyzzy"}, []string{"webperm: unknown command \"xyzzy\" for \"webperm policy\"\n", "webperm: hint: see 'webperm policy --help' for its commands\n"}},
		{"unknown completion shell", []string{"completion", "tcsh"}, []string{"unknown command \"tcsh\" for \"webperm completion\""}},
		{"completion alone", []string{"completion"}, []string{"Usage:\n  webperm completion [command]\n", "  bash ", "  fish ", "  zsh "}},
		{"help on an unknown command", []string{"help", "policy", "chek"}, []string{"webperm: unknown command \"chek\" for \"webperm policy\"\n", "did you mean 'webperm policy check'?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := webperm(t, tt.args...)
			if code != exitError || out != "" {
				t.Errorf("exit %d, stdout %q; want exit 2 and nothing on stdout", code, out)
			}
			rest := errOut
			for _, part := range tt.stderr {
				i := strings.Index(rest, part)
				if i < 0 {
					t.Fatalf("stderr %q does not contain %q (after what came before)", errOut, part)
				}
				rest = rest[i+len(part):]
			}
			if strings.Contains(errOut, "[flags]\n") {
				t.Errorf("the usage of a group offers to run it with flags alone:\n%s", errOut)
			}
		})
	}
	// Help asked for is still help: stdout, exit 0.
	for _, args := range [][]string{{"--help"}, {"help"}, {"policy", "--help"}, {"help", "policy"}, {"help", "audit", "/var/www"}} {
		code, out, errOut := webperm(t, args...)
		if code != exitClean || errOut != "" || !strings.Contains(out, "Usage:\n  webperm ") {
			t.Errorf("webperm %v: exit %d, stderr %q, stdout %q; want the help on stdout and exit 0", args, code, errOut, out)
		}
	}
}

func TestCompletionIsListed(t *testing.T) {
	_, out, _ := webperm(t, "--help")
	if !regexp.MustCompile(`(?m)^  completion +\S`).MatchString(out) {
		t.Errorf("webperm --help does not list completion:\n%s", out)
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errOut := webperm(t, "completion", shell)
		if code != exitClean || errOut != "" || !strings.Contains(out, "webperm") {
			t.Errorf("completion %s: exit %d, stderr %q, %d bytes", shell, code, errOut, len(out))
		}
	}
}

func TestJobsWantsANumber(t *testing.T) {
	for _, args := range [][]string{{"audit", "-j", "abc", "/var/www"}, {"audit", "--jobs=abc", "/var/www"}, {"plan", "-jabc", "/var/www"}} {
		code, out, errOut := webperm(t, args...)
		want := "webperm: --jobs wants a number of directories, got abc\nwebperm: hint: see 'webperm " + args[0] + " --help'\n"
		if code != exitError || out != "" || errOut != want {
			t.Errorf("webperm %v: exit %d, stdout %q, stderr %q; want exit 2 and %q", args, code, out, errOut, want)
		}
	}
	code, _, errOut := webperm(t, "fix", "-j")
	if want := "webperm: --jobs wants a number of directories\nwebperm: hint: see 'webperm fix --help'\n"; code != exitError || errOut != want {
		t.Errorf("fix -j: exit %d, stderr %q; want exit 2 and %q", code, errOut, want)
	}
}

// allCommands returns every command of webperm.
func allCommands(t *testing.T) []*cobra.Command {
	t.Helper()
	all := []*cobra.Command{newRootCommand(nil, nil)}
	for i := 0; i < len(all); i++ {
		all = append(all, all[i].Commands()...)
	}
	return all
}

// commandArgs is the arguments that name c.
func commandArgs(c *cobra.Command) []string {
	return strings.Fields(strings.TrimPrefix(c.CommandPath(), "webperm"))
}

// Every flag that does not take free text gets a message in words for a bad value, whatever the
// command, and never a Go parse error; every flag error points to the right help.
func TestFlagErrorsAreInWords(t *testing.T) {
	for _, c := range allCommands(t) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if typ := f.Value.Type(); typ == "string" || typ == "stringArray" { // free text
				return
			}
			args := append(commandArgs(c), "--"+f.Name+"=abc")
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, _, errOut := webperm(t, args...)
				wantMsg := "webperm: --" + f.Name + " wants "
				wantHint := "webperm: hint: see '" + c.CommandPath() + " --help'\n"
				if code != exitError || !strings.HasPrefix(errOut, wantMsg) || !strings.Contains(errOut, ", got abc\n") || !strings.HasSuffix(errOut, wantHint) {
					t.Errorf("exit %d, stderr %q; want exit 2, %q…, got abc, and %q", code, errOut, wantMsg, wantHint)
				}
				if strings.Contains(errOut, "strconv") || strings.Contains(errOut, "invalid syntax") {
					t.Errorf("a Go parse error reaches the user: %q", errOut)
				}
			})
		})
	}
}

// doubledWord finds a word written twice in a row ("webperm webperm --help"): two words alike
// but for case, apart by one space or a line break. Columns (help's "help   Help about") and
// numbers ("0644 0644") and an option's argument ("--plan PLAN.json") do not count.
var wordRE = regexp.MustCompile(`\p{L}[\p{L}\p{N}_'-]*`)

func doubledWord(s string) string {
	words := wordRE.FindAllStringIndex(s, -1)
	for i := 1; i < len(words); i++ {
		a, b := s[words[i-1][0]:words[i-1][1]], s[words[i][0]:words[i][1]]
		sep := s[words[i-1][1]:words[i][0]]
		option := words[i-1][0] > 0 && s[words[i-1][0]-1] == '-' // --plan PLAN.json
		if strings.EqualFold(a, b) && !option && (sep == " " || strings.TrimRight(sep, " \t") == "\n") {
			return a + " " + b
		}
	}
	return ""
}

func TestDoubledWord(t *testing.T) {
	for s, want := range map[string]string{
		"see 'webperm webperm --help'":   "webperm webperm",
		"the the":                        "the the",
		"The the policy":                 "The the",
		"see 'webperm audit --help'":     "",
		"mode 0644 0644":                 "", // numbers may repeat
		"webperm: webperm policy":        "", // punctuation between
		"--preset auto, auto picks them": "",
		"help        Help about":         "",
		"--plan PLAN.json":               "",
		"ends the\n  the next":           "the the",
	} {
		if got := doubledWord(s); got != want {
			t.Errorf("doubledWord(%q) = %q, want %q", s, got, want)
		}
	}
}

// No message or help text says a word twice in a row: every command's help and usage, every
// kind of flag error of every command, and the manual page.
func TestNoDoubledWords(t *testing.T) {
	check := func(t *testing.T, args ...string) {
		t.Helper()
		_, out, errOut := webperm(t, args...)
		if w := doubledWord(out + "\n" + errOut); w != "" {
			t.Errorf("webperm %s says %q:\n%s%s", strings.Join(args, " "), w, out, errOut)
		}
	}
	for _, c := range allCommands(t) {
		args := commandArgs(c)
		check(t, append(args, "--help")...)
		check(t, append(args, "--no-such-flag")...)
		check(t, append(args, "-Z")...)
		if c.HasAvailableSubCommands() {
			check(t, args...)
			check(t, append(args, "xyzzy")...)
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Value.Type() != "bool" {
				check(t, append(args, "--"+f.Name)...) // no value
			}
			if f.Value.Type() != "string" {
				check(t, append(args, "--"+f.Name+"=abc")...)
			}
		})
	}
	check(t, "man")
	// The errors of commands that stop before they read or change anything.
	missing := filepath.Join(t.TempDir(), "missing")
	for _, args := range [][]string{
		{"audit"}, {"audit", missing}, {"audit", "--format", "xml", missing}, {"audit", "--color", "pink", missing},
		{"audit", "--fail-on", "severe", missing}, {"audit", "--jobs", "0", missing}, {"plan", "--format", "xml", missing},
		{"audit", "--preset", "nosuch", t.TempDir()}, {"explain"}, {"explain", missing}, {"undo"}, {"undo", missing},
		{"fix", "--journal", missing, missing}, {"fix", "--apply", "--format", "json", missing},
		{"fix", "--apply", "--plan", missing, "--policy", missing}, {"policy", "check"}, {"policy", "check", missing},
		{"policy", "init", "--preset", "nosuch"}, {"policy", "show", "--policy", missing}, {"version", "extra"},
	} {
		check(t, args...)
	}
}

func TestWebGroupAndAutoPresetHints(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\n")
	// A host with cPanel but no group "nobody", which the cpanel preset names.
	sys := t.TempDir()
	for _, d := range []string{"etc", "usr/local/cpanel"} {
		if err := os.MkdirAll(filepath.Join(sys, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range map[string]string{"etc/passwd": "root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/sh\n", "etc/group": "root:x:0:\nwww-data:x:33:\n"} {
		if err := os.WriteFile(filepath.Join(sys, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"unknown --web-group", []string{"audit", "--root", demoSysroot, "--web-group", "nogroup", site},
			`webperm: --web-group "nogroup": no such group in ` + filepath.Join(demoSysroot, "etc", "group") + "\nwebperm: hint: give the web server's group as " + filepath.Join(demoSysroot, "etc", "group") + " names it, or its number: --web-group www-data, --web-group 33\n"},
		{"unknown --web-group with --web-user", []string{"explain", "--root", demoSysroot, "--web-user", "www-data", "--web-group", "nogroup", site},
			`webperm: --web-group "nogroup": no such group in`},
		{"preset auto picks a preset the host does not fit", []string{"audit", "--root", sys, site},
			"webperm: hint: 'webperm policy show --root " + sys + " " + site + "' shows the presets --preset auto picked and why; give --preset NAME to choose"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := webperm(t, tt.args...)
			if code != exitError || out != "" || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out, errOut, tt.stderr)
			}
		})
	}
	// The preset auto picked is what the hint's command shows.
	_, out, _ := webperm(t, "policy", "show", "--root", sys, site)
	if !strings.Contains(out, "preset cpanel (auto, for ") {
		t.Errorf("policy show does not say auto picked cpanel:\n%.300s", out)
	}
}

// A command given too few or too many arguments says so in words, as the command the user typed,
// with an example: never cobra's "accepts 1 arg(s), received 0".
func TestMissingArguments(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"fix"}, []string{"webperm: fix needs at least one PATH\n", "webperm: hint: webperm fix /var/www/html, or --sites-from FILE\n"}},
		{[]string{"explain"}, []string{"webperm: explain takes one PATH, not 0\n", "webperm: hint: webperm explain /var/www/html/index.php\n"}},
		{[]string{"explain", "a", "b"}, []string{"webperm: explain takes one PATH, not 2\n", "webperm: hint: webperm explain /var/www/html/index.php\n"}},
		{[]string{"policy", "check"}, []string{"webperm: policy check needs at least one FILE\n", "webperm: hint: webperm policy check site.yaml\n"}},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := webperm(t, tt.args...)
			if code != exitError || out != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
}
