package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
)

func TestExplain(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the trees' owners must be set with chown")
	}
	site := tree(t, `
d 0755 0:0 .
f 0644 0:0 index.html
f 0600 0:0 private.html
f 0044 33:33 owned.html
d 0700 0:0 closed
f 0644 0:0 closed/page.html
d 0755 0:0 apache
f 0600 0:0 apache/.htaccess
f 0644 0:0 apache/page.html
`)
	tests := []struct {
		name string
		path string
		code int
		want []string
	}{
		{"readable", "index.html", exitClean, []string{"read ok: others class applies: 0644 gives others read", "answer: 200"}},
		{"unreadable file", "private.html", exitFindings, []string{
			"read denied: others class applies: 0600 gives others nothing",
			"blocked at " + filepath.Join(site, "private.html"),
			`open() "` + filepath.Join(site, "private.html") + `" failed (13: Permission denied)`,
			"AH00132: file permissions deny server access",
			"answer: 403 Forbidden",
		}},
		{"owner class first", "owned.html", exitFindings, []string{"owner class applies: 0044 gives the owner nothing"}},
		{"closed directory", "closed/page.html", exitFindings, []string{
			"search denied: others class applies: 0700 gives others nothing",
			"blocked at " + filepath.Join(site, "closed"),
			"AH00035: access to",
			"because search permissions are missing on a component of the path",
			"or, where AllowOverride reads .htaccess files: (13)Permission denied: AH00529: " + filepath.Join(site, "closed", ".htaccess"),
			"not reached",
		}},
		{"unreadable .htaccess on the way", "apache/page.html", exitClean, []string{
			"unreadable " + filepath.Join(site, "apache", ".htaccess"),
			"AH00529: " + filepath.Join(site, "apache", ".htaccess") + " pcfg_openfile: unable to check htaccess file",
			"answer: 200 from nginx; 403 from Apache",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := webperm(t, "explain", "--web-user", "www-data", "--color", "never", filepath.Join(site, tt.path))
			if code != tt.code || errOut != "" {
				t.Fatalf("exit %d stderr %q, want %d\n%s", code, errOut, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			// One line per component from / down, as namei -l shows them.
			if n := strings.Count(out, "\n  d") + strings.Count(out, "\n  -"); n != strings.Count(filepath.Join(site, tt.path), "/")+1 {
				t.Errorf("%d component lines for %s:\n%s", n, tt.path, out)
			}
		})
	}
	t.Run("missing path", func(t *testing.T) {
		code, _, errOut := webperm(t, "explain", "--web-user", "www-data", filepath.Join(site, "nope.html"))
		if code != exitError || !strings.Contains(errOut, "nope.html: no such file or directory") || !strings.Contains(errOut, "hint:") {
			t.Errorf("exit %d, stderr %q; want 2, the path and a hint", code, errOut)
		}
	})
}

// TestExplainSymlinks explains links as namei -l does: the way to the link, then where it leads,
// resolved as the system below --root resolves it, down to the target or to where the chain
// ends.
func TestExplainSymlinks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the trees' owners must be set with chown")
	}
	outside := fixture.TempDir(t)
	sys := filepath.Join(outside, "sys")
	entries, err := fixture.Parse(strings.NewReader(`
d 0755 0:0 .
d 0755 0:0 etc
d 0755 0:0 var
d 0755 0:0 var/www
d 0755 0:0 var/www/site
f 0644 0:0 var/www/site/index.html
f 0600 0:0 var/www/site/private.html
d 0755 0:0 var/www/site/sub
f 0644 0:0 var/www/site/sub/index.html
d 0700 0:0 var/www/closed
f 0644 0:0 var/www/closed/page.html
l 0777 0:0 var/www/site/to-file index.html
l 0777 0:0 var/www/site/to-private private.html
l 0777 0:0 var/www/site/to-dir sub
l 0777 0:0 var/www/site/to-closed ../closed/page.html
l 0777 0:0 var/www/site/chain to-file
l 0777 0:0 var/www/site/dangling nothing.html
l 0777 0:0 var/www/site/loop-a loop-b
l 0777 0:0 var/www/site/loop-b loop-a
l 0777 0:0 var/www/site/out ../../../../secret
l 0777 0:0 var/www/site/abs /etc/group
`), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := fixture.Materialise(afero.NewOsFs(), sys, entries, fixture.Options{Chown: true}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"passwd", "group"} {
		data, err := os.ReadFile(filepath.Join(demoSysroot, "etc", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sys, "etc", f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Where ../../../../secret would lead on the host, lexically: above --root. It must never be
	// what the link is explained by.
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(sys, "var", "www", "site")
	link := func(name, target, leads string) string {
		return "link " + filepath.Join(site, name) + " -> " + target + ": leads to " + leads
	}
	tests := []struct {
		name   string
		path   string
		code   int
		want   []string
		absent []string
	}{
		{"to a file", "to-file", exitClean, []string{
			"lrwxrwxrwx root:root to-file reached: the server follows it",
			link("to-file", "index.html", filepath.Join(site, "index.html")),
			"-rw-r--r-- root:root index.html read ok",
			"answer: 200",
		}, nil},
		{"to a file the web user cannot read", "to-private", exitFindings, []string{
			link("to-private", "private.html", filepath.Join(site, "private.html")),
			"blocked at " + filepath.Join(site, "private.html"),
			`open() "` + filepath.Join(site, "to-private") + `" failed (13: Permission denied)`,
			"answer: 403 Forbidden",
		}, nil},
		{"to a directory", "to-dir", exitClean, []string{
			link("to-dir", "sub", filepath.Join(site, "sub")),
			"drwxr-xr-x root:root sub search ok",
			"answer: 200",
		}, nil},
		{"to a file behind a closed directory", "to-closed", exitFindings, []string{
			link("to-closed", "../closed/page.html", filepath.Join(sys, "var", "www", "closed", "page.html")),
			"blocked at " + filepath.Join(sys, "var", "www", "closed"),
			"answer: 403 Forbidden",
		}, nil},
		{"a chain of links", "chain", exitClean, []string{
			link("chain", "to-file", filepath.Join(site, "to-file")),
			link("to-file", "index.html", filepath.Join(site, "index.html")),
			"answer: 200",
		}, nil},
		{"dangling", "dangling", exitFindings, []string{
			link("dangling", "nothing.html", filepath.Join(site, "nothing.html")),
			"dangling: " + filepath.Join(site, "nothing.html") + " does not exist",
			"answer: 404 Not Found",
		}, []string{"answer: 200"}},
		{"looping", "loop-a", exitFindings, []string{
			link("loop-a", "loop-b", filepath.Join(site, "loop-b")),
			link("loop-b", "loop-a", filepath.Join(site, "loop-a")),
			"the links loop",
			"nginx answers 403 Forbidden (ELOOP)",
		}, nil},
		{"out of --root by ..", "out", exitFindings, []string{
			link("out", "../../../../secret", filepath.Join(sys, "secret")) + " (a .. above " + sys + " stays at " + sys,
			"dangling: " + filepath.Join(sys, "secret") + " does not exist",
		}, []string{"leads to " + filepath.Join(outside, "secret")}},
		{"absolute, below --root", "abs", exitClean, []string{
			link("abs", "/etc/group", filepath.Join(sys, "etc", "group")) + " (an absolute target is below " + sys,
			"-rw-r--r-- root:root group read ok",
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := webperm(t, "explain", "--root", sys, "--web-user", "www-data", "--color", "never", filepath.Join(site, tt.path))
			if code != tt.code || errOut != "" {
				t.Fatalf("exit %d stderr %q, want %d\n%s", code, errOut, tt.code, out)
			}
			if !strings.HasPrefix(out, "webperm explain "+filepath.Join(site, tt.path)+"\n") {
				t.Errorf("the explanation does not start with the link's path:\n%s", out)
			}
			// Columns are aligned with spaces: compare with runs of them as one.
			flat := regexp.MustCompile(` {2,}`).ReplaceAllString(out, " ")
			for _, w := range tt.want {
				if !strings.Contains(flat, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.absent {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}
