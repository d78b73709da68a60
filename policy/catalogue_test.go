package policy

import "testing"

// TestSensitiveCatalogue holds the default preset's catalogue of secrets to what each name is: a
// secret others must never read, or not. Content says what the audit read in the file, for the
// names a content condition clears; unread is every other file, and one that could not be read.
func TestSensitiveCatalogue(t *testing.T) {
	tests := []struct {
		rel       string
		dir       bool
		content   Content
		sensitive bool
	}{
		// Configurations and their editor and backup copies.
		{rel: "wp-config.php", sensitive: true},
		{rel: "blog/wp-config.php", sensitive: true},
		{rel: "wp-config.php.save", sensitive: true},
		{rel: "wp-config.php.bak", sensitive: true},
		{rel: "wp-config.php.old", sensitive: true},
		{rel: "wp-config.php.orig", sensitive: true},
		{rel: "wp-config.php~", sensitive: true},
		{rel: ".wp-config.php.swp", sensitive: true},
		{rel: ".wp-config.php.swo", sensitive: true},
		{rel: "#wp-config.php#", sensitive: true},
		{rel: "wp-config.php.txt", sensitive: true},
		{rel: "wp-config.txt", sensitive: true},
		{rel: ".env", sensitive: true},
		{rel: ".env.local", sensitive: true},
		{rel: ".env.txt", sensitive: true},
		{rel: "config.php.bak", sensitive: true},
		{rel: "index.php~", sensitive: true},
		// Templates.
		{rel: ".env.example"},
		{rel: ".env.dist"},
		{rel: ".env.sample"},
		{rel: "wp-config-sample.php"},
		{rel: "config-sample.php"},
		{rel: "phpunit.xml.dist"},
		{rel: "wp-config.php.dist"},
		// Dumps and archives.
		{rel: "db.sql.gz", sensitive: true},
		{rel: "db.sql.bz2", sensitive: true},
		{rel: "db.sql.xz", sensitive: true},
		{rel: "db.sql.zst", sensitive: true},
		{rel: "db.sql.zip", sensitive: true},
		{rel: "backup-2026-01-01.tar", sensitive: true},
		{rel: "backup.tar.gz", sensitive: true},
		{rel: "wp-content/backup_site.tar.zst", sensitive: true},
		{rel: "Backup.zip", sensitive: true},
		{rel: "backups.tgz", sensitive: true},
		{rel: "site.tar.gz", sensitive: true},
		{rel: "vendor/lib/tests/fixture.tar.gz"},
		{rel: "plugin.zip"},
		// Plain SQL: a secret unless read and found to hold no data.
		{rel: "dump.sql", sensitive: true},
		{rel: "dump.sql", content: ContentSQLDump, sensitive: true},
		{rel: "dump.sql", content: ContentSQLData, sensitive: true},
		{rel: "SQL/mysql.initial.sql", content: ContentSQLSchema},
		{rel: "wp-config.php", content: ContentPHPIncludeOnly},
		{rel: "wp-config.php", content: ContentPHPCode, sensitive: true},
		{rel: "wp-config.php.bak", content: ContentPHPIncludeOnly, sensitive: true},
		{rel: "settings.php", content: ContentPHPIncludeOnly},
		// Version control.
		{rel: ".git", dir: true, sensitive: true},
		{rel: "vendor/x/.git", dir: true, sensitive: true},
		{rel: ".hg", dir: true, sensitive: true},
		{rel: ".bzr", dir: true, sensitive: true},
		{rel: ".svn", dir: true, sensitive: true},
		{rel: "CVS", dir: true, sensitive: true},
		{rel: ".gitignore"},
		// Keys.
		{rel: "id_rsa", sensitive: true},
		{rel: ".ssh/id_ed25519", sensitive: true},
		{rel: "id_ecdsa", sensitive: true},
		{rel: "id_rsa.pub"},
		{rel: "id_ed25519.pub"},
		{rel: "server.pem", sensitive: true},
		{rel: "server.key", sensitive: true},
		{rel: "cert.p12", sensitive: true},
		{rel: "cert.pfx", sensitive: true},
		{rel: "putty.ppk", sensitive: true},
		{rel: "keystore.jks", sensitive: true},
		// Credentials.
		{rel: ".my.cnf", sensitive: true},
		{rel: ".pgpass", sensitive: true},
		{rel: "auth.json", sensitive: true},
		{rel: ".npmrc", sensitive: true},
		{rel: ".netrc", sensitive: true},
		{rel: "sftp-config.json", sensitive: true},
		{rel: ".htpasswd", sensitive: true},
		{rel: "composer.json"},
		// Shell histories.
		{rel: ".bash_history", sensitive: true},
		{rel: ".mysql_history", sensitive: true},
		{rel: ".psql_history", sensitive: true},
		// Logs.
		{rel: "wp-content/debug.log", sensitive: true},
		{rel: "error_log", sensitive: true},
		{rel: "wp-admin/error_log", sensitive: true},
		{rel: "access.log", sensitive: true},
		{rel: "storage/logs/laravel.log"},
		// Neither.
		{rel: "index.php"},
		{rel: "style.css"},
		{rel: "readme.txt"},
		{rel: "wp-content", dir: true},
	}
	p, err := Preset("default")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.rel+"/"+tt.content.String(), func(t *testing.T) {
			s := p.ForContent(tt.rel, "", tt.dir, tt.content)
			if s.Sensitive != tt.sensitive {
				t.Errorf("sensitive %v, want %v", s.Sensitive, tt.sensitive)
			}
			if s.Sensitive && s.Max(tt.dir)&0o007 != 0 {
				t.Errorf("a secret others may read: at most %s", OctalMode(s.Max(tt.dir)))
			}
			if !s.Sensitive && !tt.dir && s.FileMax&0o004 == 0 {
				t.Errorf("no secret, yet others may not read it: at most %s", OctalMode(s.FileMax))
			}
		})
	}
}

// TestSensitiveCatalogueWordPress: the WordPress preset keeps the default's content condition for
// wp-config.php, though it says again that wp-config.php is a secret.
func TestSensitiveCatalogueWordPress(t *testing.T) {
	p, err := Preset("wordpress")
	if err != nil {
		t.Fatal(err)
	}
	if s := p.For("wp-config.php", "", false); !s.Sensitive || s.Sniff != SniffPHPInclude || s.PHP != NeedRead {
		t.Errorf("unread wp-config.php: sensitive %v, sniff %v, php %v; want true, php-include, read", s.Sensitive, s.Sniff, s.PHP)
	}
	if s := p.ForContent("wp-config.php", "", false, ContentPHPIncludeOnly); s.Sensitive || s.PHP != NeedRead {
		t.Errorf("include-only wp-config.php: sensitive %v, php %v; want false, read", s.Sensitive, s.PHP)
	}
	if s := p.ForContent("wp-config.php", "", false, ContentPHPCode); !s.Sensitive {
		t.Error("wp-config.php with code is no secret")
	}
}
