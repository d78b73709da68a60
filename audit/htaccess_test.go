package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// wordpressRewrite is the block WordPress writes into the .htaccess of its root for permalinks.
const wordpressRewrite = `# BEGIN WordPress
<IfModule mod_rewrite.c>
RewriteEngine On
RewriteBase /
RewriteRule ^index\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /index.php [L]
</IfModule>
# END WordPress
`

func TestSniffHtaccess(t *testing.T) {
	deny, other := policy.ContentHtaccessDenyOnly, policy.ContentHtaccessOther
	tests := []struct {
		name string
		src  string
		want policy.Content
	}{
		// As Debian's packages install them, verbatim.
		{"MediaWiki's images/", string(readFixture(t, "mediawiki-images.htaccess")), deny},
		{"MediaWiki's cache/", string(readFixture(t, "mediawiki-cache.htaccess")), deny},
		{"DokuWiki's data/", string(readFixture(t, "dokuwiki-data.htaccess")), deny},
		// Akismet's grants its assets back with Allow from all and Require all granted.
		{"Akismet's plugin directory", string(readFixture(t, "akismet.htaccess")), other},
		// DokuWiki's root redirects .git with RedirectMatch.
		{"DokuWiki's root", string(readFixture(t, "dokuwiki-root.htaccess")), other},
		{"WordPress's rewrite block", wordpressRewrite, other},
		{"Deny from all", "Deny from all\n", deny},
		{"Require all denied, no newline", "Require all denied", deny},
		{"case-insensitive names", "<ifmodule MOD_AUTHZ_CORE.C>\n  REQUIRE ALL DENIED\n</IFMODULE>\n", deny},
		{"Require all granted", "Require all granted\n", other},
		{"Require ip", "Require ip 10.0.0.0/8\n", other},
		{"Require not", "<RequireAll>\nRequire all denied\nRequire not ip 10.0.0.1\n</RequireAll>\n", other},
		{"RequireAll and RequireAny of denials", "<RequireAll>\n<RequireAny>\nRequire all denied\n</RequireAny>\n</RequireAll>\n", deny},
		{"RequireNone", "<RequireNone>\nRequire all denied\n</RequireNone>\n", other},
		{"Require all denied with more", "Require all denied now\n", other},
		{"AddHandler", "AddHandler application/x-httpd-php .jpg\n", other},
		{"AddType", "AddType application/x-httpd-php .png\n", other},
		{"Options +ExecCGI", "Options +ExecCGI\n", other},
		{"Options ExecCGI", "Options ExecCGI\n", other},
		{"Options -Indexes -ExecCGI", "Options -Indexes -ExecCGI\n", deny},
		{"Options mixed", "Options -Indexes +FollowSymLinks\n", other},
		{"Allow from all", "Order allow,deny\nAllow from all\n", other},
		{"Deny from a host", "Deny from 192.0.2.1\n", other},
		{"Order deny,allow alone", "Order deny,allow\n", other},
		{"Satisfy All alone", "Satisfy All\n", other},
		{"Satisfy Any", "Require all denied\nSatisfy Any\n", other},
		{"Order held by Deny from all", "Order deny,allow\nDeny from all\n", deny},
		{"Order in a conditional, Deny from all outside", "<IfModule x>\nOrder deny,allow\n</IfModule>\nDeny from all\n", deny},
		{"Order and Deny from all in different conditionals", "<IfModule a>\nOrder deny,allow\n</IfModule>\n<IfModule b>\nDeny from all\n</IfModule>\n", other},
		{"Satisfy All in Files, Require outside", "Require all denied\n<Files x>\nSatisfy All\n</Files>\n", other},
		{"Files holding a denial", "<Files ~ \"\\.(php|phtml)$\">\nRequire all denied\n</Files>\n", deny},
		{"FilesMatch in FilesMatch", "<FilesMatch a>\n<FilesMatch b>\nDeny from all\n</FilesMatch>\n</FilesMatch>\n", other},
		{"Limit", "<Limit POST>\nRequire all denied\n</Limit>\n", other},
		{"LimitExcept", "<LimitExcept GET>\nDeny from all\n</LimitExcept>\n", other},
		{"If", "<If \"true\">\nRequire all denied\n</If>\n", other},
		{"php_flag engine off", "php_flag engine off\n", deny},
		{"php_flag engine on", "php_flag engine on\n", other},
		{"php_value engine 0", "php_value engine 0\n", deny},
		{"php_value auto_prepend_file", "php_value auto_prepend_file /tmp/x.jpg\n", other},
		{"php_admin_flag", "php_admin_flag engine off\n", other},
		{"RemoveHandler and RemoveType", "RemoveHandler .php .phtml\nRemoveType .php\n", deny},
		{"RemoveHandler of a word", "RemoveHandler php\n", other},
		{"SetHandler none", "SetHandler None\n", deny},
		{"SetHandler php", "SetHandler application/x-httpd-php\n", other},
		{"mixed", "Require all denied\nRewriteEngine On\n", other},
		{"unclosed container", "<IfModule x>\nRequire all denied\n", other},
		{"mismatched closer", "<IfModule x>\nRequire all denied\n</Files>\n", other},
		{"closer without opener", "Require all denied\n</IfModule>\n", other},
		{"container without >", "<IfModule x\nRequire all denied\n</IfModule>\n", other},
		{"a comment on the directive's line", "Deny from all # everyone\n", other},
		{"comments and blank lines only", "# nothing here\n\n   # indented\n", other},
		{"empty", "", other},
		{"CRLF", "<IfModule mod_authz_core.c>\r\n    Require all denied\r\n</IfModule>\r\n", deny},
		{"BOM", "\ufeffRequire all denied\n", deny},
		{"NUL", "Require all denied\n\x00", other},
		{"a continued directive", "Require all \\\n  denied\n", deny},
		{"a continued directive, CRLF", "Require all \\\r\n  denied\r\n", deny},
		// Whether Apache joins the next line to a comment or not, this reader does not guess.
		{"a comment that continues", "Require all denied\n# a comment \\\nAddHandler php .jpg\n", other},
		{"a continuation that joins a directive", "RemoveHandler .php \\\nAddHandler php .jpg\n", other},
		{"Require in a conditional in a Require container", "<RequireAll>\n<IfModule x>\nRequire all denied\n</IfModule>\n</RequireAll>\n", other},
		{"Deny in a Require container", "<RequireAll>\nDeny from all\n</RequireAll>\n", other},
		{"too deep", strings.Repeat("<IfModule x>\n", htMaxDepth+1) + "Require all denied\n" + strings.Repeat("</IfModule>\n", htMaxDepth+1), other},
		{"Unicode space is no separator", "Require all\u00a0denied\n", other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SniffHtaccess([]byte(tt.src), true); got != tt.want {
				t.Errorf("SniffHtaccess = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("cut at the cap", func(t *testing.T) {
		if got := SniffHtaccess(readFixture(t, "dokuwiki-data.htaccess"), false); got != other {
			t.Errorf("SniffHtaccess of a file cut at the cap = %v, want %v", got, other)
		}
	})
}

// TestSniffContentHtaccess: through the audit's reader, an .htaccess past SniffLimit, or one that
// cannot be read, is never deny-only.
func TestSniffContentHtaccess(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, readFixture(t, "dokuwiki-data.htaccess"), 0o644); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for b.Len() <= SniffLimit {
		b.WriteString("Require all denied\n")
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	osfs := afero.NewOsFs()
	mem := afero.NewMemMapFs()
	if err := afero.WriteFile(mem, "/.htaccess", []byte("Require all denied\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		fsys afero.Fs
		path string
		want policy.Content
	}{
		{"deny-only", osfs, small, policy.ContentHtaccessDenyOnly},
		{"past the cap", osfs, big, policy.ContentHtaccessOther},
		{"missing", osfs, filepath.Join(dir, "gone"), policy.ContentUnread},
		{"unreadable", &denyOpen{Fs: mem}, "/.htaccess", policy.ContentUnread},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := sniffContent(tt.fsys, tt.path, policy.SniffHtaccess); got != tt.want {
				t.Errorf("sniffContent = %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzSniffHtaccess(f *testing.F) {
	for _, name := range []string{"mediawiki-images.htaccess", "mediawiki-cache.htaccess", "dokuwiki-data.htaccess", "akismet.htaccess", "dokuwiki-root.htaccess"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(wordpressRewrite))
	f.Add([]byte("Order deny,allow\r\nDeny from all\\\r\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		got := SniffHtaccess(src, true)
		if got != policy.ContentHtaccessDenyOnly && got != policy.ContentHtaccessOther {
			t.Fatalf("SniffHtaccess = %v", got)
		}
		if SniffHtaccess(src, false) != policy.ContentHtaccessOther {
			t.Fatal("a file cut at the cap was cleared")
		}
		if got != policy.ContentHtaccessDenyOnly {
			return
		}
		// A grant or a handler added before or after makes any of it other.
		if SniffHtaccess(append(src[:len(src):len(src)], "\nRequire all granted\n"...), true) != policy.ContentHtaccessOther {
			t.Fatalf("%q with Require all granted appended is still deny-only", src)
		}
		if SniffHtaccess(append([]byte("AddHandler application/x-httpd-php .jpg\n"), src...), true) != policy.ContentHtaccessOther {
			t.Fatalf("%q after an AddHandler is still deny-only", src)
		}
	})
}

// An .htaccess that only denies, in a directory the web server writes, is the application's own
// protection: the web server could replace it whether or not it owns it, so it is info with no
// fix, and says that only AllowOverride None closes that. In a directory the web server cannot
// write, owning the same file is high, and the chown fix closes it; an .htaccess that does more
// than deny is high wherever it is, and .user.ini as before.
func TestDenyOnlyHtaccess(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: the tree's owners must be set with chown")
	}
	fsys := afero.NewOsFs()
	root := fixture.Tree(t, fsys, `
d 0755 1000:1000 .
f 0644 1000:1000 index.php
d 0755 1000:1000 wp-content
d 2775 1000:33 wp-content/uploads
f 0644 33:33 wp-content/uploads/.htaccess
f 0644 33:33 wp-content/uploads/.user.ini
d 2775 1000:33 wp-content/uploads/2024
f 0644 33:33 wp-content/uploads/2024/.htaccess
d 0755 1000:1000 wp-content/themes
f 0644 33:33 wp-content/themes/.htaccess
`)
	for rel, src := range map[string]string{
		"wp-content/uploads/.htaccess":      string(readFixture(t, "dokuwiki-data.htaccess")),
		"wp-content/uploads/.user.ini":      "engine = Off\n",
		"wp-content/uploads/2024/.htaccess": wordpressRewrite,
		"wp-content/themes/.htaccess":       string(readFixture(t, "mediawiki-images.htaccess")),
	} {
		// Writing keeps the owner and mode the manifest set.
		if err := os.WriteFile(filepath.Join(root, rel), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := policy.Resolve("wordpress", nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := auditAs(t, fsys, root, webUser(), nil, p)
	checkRules(t, rulesByRel(rep), map[string][]string{
		"wp-content/uploads/.htaccess":      {"web-writable-code"},
		"wp-content/uploads/.user.ini":      {"web-writable-code"},
		"wp-content/uploads/2024/.htaccess": {"web-writable-code"},
		"wp-content/themes/.htaccess":       {"web-writable-code"},
	})
	for _, f := range rep.Findings {
		switch f.Entry.Rel {
		case "wp-content/uploads/.htaccess":
			if f.Severity != policy.Info || f.Fix != nil {
				t.Errorf("%s: %s with fix %v, want info without one", f.Entry.Rel, f.Severity, f.Fix)
			}
			for _, want := range []string{"only denies", "replace it", "writes its directory", "AllowOverride None"} {
				if !strings.Contains(f.Message, want) {
					t.Errorf("%s: message %q does not say %q", f.Entry.Rel, f.Message, want)
				}
			}
			if f.Entry.Content != policy.ContentHtaccessDenyOnly {
				t.Errorf("%s: content %v", f.Entry.Rel, f.Entry.Content)
			}
		case "wp-content/themes/.htaccess":
			if f.Severity != policy.High || f.Fix == nil || !f.Fix.Chown || f.Fix.UID == 33 {
				t.Errorf("%s: %s with fix %+v, want high with a chown away from www-data", f.Entry.Rel, f.Severity, f.Fix)
			}
			if strings.Contains(f.Message, "only denies") {
				t.Errorf("%s: message %q clears a file a chown would close", f.Entry.Rel, f.Message)
			}
		default:
			if f.Severity != policy.High {
				t.Errorf("%s: %s, want high", f.Entry.Rel, f.Severity)
			}
			if f.Entry.Rel == "wp-content/uploads/2024/.htaccess" && f.Entry.Content != policy.ContentHtaccessOther {
				t.Errorf("%s: content %v", f.Entry.Rel, f.Entry.Content)
			}
		}
	}
}

// Every identity that can change a deny-only .htaccess must be able to write its directory for
// the finding to be info: where PHP's own user can rewrite the file but not replace it, a chmod
// still closes its way, and the finding stays high with that fix.
func TestDenyOnlyHtaccessEveryWriter(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: the tree's owners must be set with chown")
	}
	fsys := afero.NewOsFs()
	root := fixture.Tree(t, fsys, `
d 0755 1000:1000 .
f 0644 1000:1000 index.php
d 0775 33:33 cache
f 0664 33:2000 cache/.htaccess
`)
	if err := os.WriteFile(filepath.Join(root, "cache/.htaccess"), readFixture(t, "mediawiki-cache.htaccess"), 0o644); err != nil {
		t.Fatal(err)
	}
	// PHP runs as pool, whose group 2000 may write the file; only www-data writes the directory.
	php := &access.WebUser{Name: "pool", UID: 2000, GID: 2000, Groups: []uint32{2000}, Source: "flag", Role: access.RolePHP}
	rep := auditAs(t, fsys, root, webUser(), php, policy.Default())
	found := false
	for _, f := range rep.Findings {
		if f.Entry.Rel != "cache/.htaccess" || f.Rule != policy.WebWritableCode {
			continue
		}
		found = true
		if f.Severity != policy.High || f.Fix == nil || strings.Contains(f.Message, "only denies") {
			t.Errorf("%s: %s, fix %+v, message %q; want high with a fix", f.Entry.Rel, f.Severity, f.Fix, f.Message)
		}
	}
	if !found {
		t.Errorf("cache/.htaccess: no web-writable-code finding; findings %v", rulesByRel(rep))
	}
}
