package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSitesFrom(t *testing.T) {
	a, b, c := tree(t, "d 0755 0:0 .\n"), tree(t, "d 0755 0:0 .\n"), tree(t, "d 0755 0:0 .\n")
	sites := filepath.Join(t.TempDir(), "sites")
	list := "# the sites of this host\n\n  " + c + "  \n" + b + "\t# the shop\n\t\n" + a + "\n" + c + "\n"
	if err := os.WriteFile(sites, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--root", demoSysroot, "--web-user", "www-data", "--format", "json"}
	code, out, errOut := webperm(t, append(append([]string{"audit"}, flags...), "--sites-from", sites, a)...)
	if code != exitClean && code != exitFindings {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	// PATH first, then the file's in its order; a root given twice is audited once, where it
	// first comes.
	if got, want := decode(t, out).Roots, []string{a, c, b}; !slices.Equal(got, want) {
		t.Errorf("roots %q, want %q", got, want)
	}

	// - reads stdin.
	cmd := webpermProcess(append(append([]string{"audit"}, flags...), "--sites-from", "-")...)
	cmd.Stdin = strings.NewReader(b + "\n" + a + "\n")
	stdout, err := cmd.Output()
	if code := cmd.ProcessState.ExitCode(); code < 0 || code > 1 {
		t.Fatalf("--sites-from -: exit %d: %v", code, err)
	}
	if got, want := decode(t, string(stdout)).Roots, []string{b, a}; !slices.Equal(got, want) {
		t.Errorf("--sites-from -: roots %q, want %q", got, want)
	}
}

func TestSitesFromRefuses(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\n")
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	relative := write("relative", "# sites\n"+site+"\nvar/www/html\n")
	empty := write("empty", "# nothing yet\n\n")
	missing := filepath.Join(dir, "missing")
	for _, tt := range []struct {
		name, file, want, hint string
	}{
		{"a relative path", relative, "webperm: --sites-from " + relative + ":3: var/www/html is a relative path\n", "absolute path"},
		{"no root", empty, "webperm: --sites-from " + empty + " lists no root\n", "one web root a line"},
		{"a missing file", missing, "webperm: --sites-from " + missing + ": no such file or directory\n", "check the path"},
		{"a directory", dir, "webperm: --sites-from " + dir + ": ", "a text file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", "--sites-from", tt.file, site)
			if code != exitError || out != "" || !strings.HasPrefix(errOut, tt.want) || !strings.Contains(errOut, "webperm: hint: ") || !strings.Contains(errOut, tt.hint) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q, with a hint about %q", code, out, errOut, tt.want, tt.hint)
			}
		})
	}
}

func TestStripComment(t *testing.T) {
	for _, tt := range []struct{ line, want string }{
		{"# a comment", ""},
		{"   # indented", "   "},
		{"/srv/www/a # the shop", "/srv/www/a "},
		{"/srv/www/a\t# the shop", "/srv/www/a\t"},
		{"/srv/www/c#", "/srv/www/c#"}, // a # within a name is the name's
		{"/srv/www/c#/x # and a comment", "/srv/www/c#/x "},
	} {
		if got := stripComment(tt.line); got != tt.want {
			t.Errorf("stripComment(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

// plan and fix read the sites file as they read their policy: a file another user could write
// would choose what root changes.
func TestSitesFromTrustedForPlan(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a file of another user's needs root to make")
	}
	site := tree(t, "d 0755 0:0 .\n")
	sites := filepath.Join(t.TempDir(), "sites")
	if err := os.WriteFile(sites, []byte(site+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(sites, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	code := run([]string{"plan", "--root", demoSysroot, "--web-user", "www-data", "--sites-from", sites}, &bytes.Buffer{}, &errOut)
	if want := "webperm: the sites file " + sites + " "; code != exitError || !strings.HasPrefix(errOut.String(), want) {
		t.Errorf("plan --sites-from a file nobody's: exit %d, stderr %q; want exit 2 and %q", code, errOut.String(), want)
	}
	if code, _, errOut := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", "--sites-from", sites); code != exitClean && code != exitFindings {
		t.Errorf("audit reads any sites file: exit %d, %s", code, errOut)
	}
}
