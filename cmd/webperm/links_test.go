package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The command on a small system image (--root): a WordPress whose uploads hold a www-data-owned
// .htaccess, whose .htaccess files Apache cannot read as files (a directory, a link to a file
// closed to www-data), and whose links lead to secrets and to the system's shared JavaScript.
func TestAuditJudgesLinksAndHtaccess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the image's owners (root, www-data, deploy) can only be set as root")
	}
	image := tree(t, `d 0755 0:0 .
d 0755 0:0 etc
f 0644 0:0 etc/passwd
f 0644 0:0 etc/group
d 0755 0:0 etc/wordpress
f 0644 0:0 etc/wordpress/config-site.php
d 0755 0:0 usr
d 0755 0:0 usr/share
d 0755 0:0 usr/share/javascript
d 0755 0:0 usr/share/javascript/jquery
f 0644 0:0 usr/share/javascript/jquery/jquery.js
d 0755 0:0 srv
d 0755 1000:1000 srv/site
f 0644 1000:1000 srv/site/index.php
f 0644 1000:1000 srv/site/wp-login.php
l 0777 0:0 srv/site/wp-config.php /etc/wordpress/config-site.php
l 0777 1000:33 srv/site/jquery /usr/share/javascript/jquery
d 0755 1000:1000 srv/site/wp-content
d 2775 1000:33 srv/site/wp-content/uploads
f 0644 33:33 srv/site/wp-content/uploads/.htaccess
f 0644 33:33 srv/site/wp-content/uploads/photo.jpg
d 0755 1000:1000 srv/site/wp-content/plugins
d 0755 1000:1000 srv/site/wp-content/plugins/.htaccess
d 0755 1000:1000 srv/site/wp-content/themes
f 0600 1000:1000 srv/site/wp-content/themes/rules.conf
l 0777 1000:1000 srv/site/wp-content/themes/.htaccess rules.conf
`)
	for name, content := range map[string]string{
		"passwd": "root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/sh\ndeploy:x:1000:1000::/home/deploy:/bin/sh\n",
		"group":  "root:x:0:\nwww-data:x:33:\ndeploy:x:1000:\n",
	} {
		if err := os.WriteFile(filepath.Join(image, "etc", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	site := filepath.Join(image, "srv", "site")
	code, stdout, errOut := webperm(t, "audit", "--format", "json", "--web-user", "www-data", "--preset", "wordpress", "--root", image, site)
	if code != exitFindings {
		t.Fatalf("exit %d, want %d (findings)\n%s", code, exitFindings, errOut)
	}
	var rep struct {
		Findings []struct {
			Rule     string `json:"rule"`
			Severity string `json:"severity"`
			Path     string `json:"path"`
			Message  string `json:"message"`
			Fix      any    `json:"fix"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	got := map[string][]string{}
	for _, f := range rep.Findings {
		rel, _ := filepath.Rel(site, f.Path)
		got[rel] = append(got[rel], f.Rule+" "+f.Severity)
		if strings.HasSuffix(rel, "wp-config.php") && !strings.Contains(f.Message, filepath.Join(image, "etc/wordpress/config-site.php")) {
			t.Errorf("%s: %q does not name the link's target", rel, f.Message)
		}
	}
	want := map[string][]string{
		// The link is named like a secret and its target is open to others: one finding, no fix.
		"wp-config.php": {"sensitive-exposed high"},
		// Apache cannot read these as files: 403 for their directories.
		"wp-content/plugins/.htaccess": {"htaccess-unreadable high"},
		"wp-content/themes/.htaccess":  {"htaccess-unreadable high"},
		"wp-content/themes/rules.conf": {"web-unreadable high"},
		// www-data owns its own handler configuration, in the uploads it writes.
		"wp-content/uploads/.htaccess": {"web-writable-code high"},
	}
	for rel, rules := range want {
		if !slices.Equal(got[rel], rules) {
			t.Errorf("%s: %v, want %v", rel, got[rel], rules)
		}
	}
	for rel, rules := range got {
		if _, ok := want[rel]; !ok {
			t.Errorf("%s: unexpected %v", rel, rules)
		}
	}
}
