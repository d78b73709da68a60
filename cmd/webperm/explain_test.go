package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
