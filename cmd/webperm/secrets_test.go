package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAuditSecretsByNameAndContent audits a tree holding every kind of secret the catalogue names,
// the templates and schemas that look like them, and files whose content decides, and gets
// exactly one finding for each secret others can read.
func TestAuditSecretsByNameAndContent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the tree is root's, as the demo's etc/passwd names it, and only root can give it that owner")
	}
	secrets := []string{
		"wp-config.php", "wp-config.php.save", "wp-config.php.bak", "wp-config.php~", ".wp-config.php.swp",
		"#wp-config.php#", "wp-config.php.txt", ".env", "mysqldump.sql", "pgdump.sql", "rows.sql",
		"db.sql.gz", "backup-2026.tar.gz", "site.tar.gz", ".git", ".hg", "id_rsa", "server.key",
		"cert.pem", ".my.cnf", ".pgpass", "auth.json", ".npmrc", ".netrc", "sftp-config.json",
		".htpasswd", ".bash_history", "debug.log", "error_log", "access.log",
	}
	// Not secrets: templates, schemas, a public key, an application's own archive and log, and a
	// configuration that only includes the real one.
	plain := []string{
		".env.example", ".env.dist", "wp-config-sample.php", "phpunit.xml.dist", "schema.sql",
		"migration.sql", "big.sql", "id_rsa.pub", "lib/vendor.tar.gz", "app/logs/app.log",
		"debian/wp-config.php", "index.html", "index.php",
	}
	var manifest strings.Builder
	manifest.WriteString("d 0755 0:0 .\nd 0755 0:0 lib\nd 0755 0:0 app\nd 0755 0:0 app/logs\nd 0755 0:0 debian\n")
	for _, name := range append(slices.Clone(secrets), plain...) {
		kind, mode := "f", "0644"
		if name == ".git" || name == ".hg" {
			kind, mode = "d", "0755"
		}
		fmt.Fprintf(&manifest, "%s %s 0:0 %q\n", kind, mode, name)
	}
	manifest.WriteString("f 0644 0:0 .git/config\n")
	root := tree(t, manifest.String())

	fixture := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("..", "..", "audit", "testdata", "sniff", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	var rows bytes.Buffer
	rows.WriteString("INSERT INTO users VALUES\n")
	for i := range 150 {
		fmt.Fprintf(&rows, "(%d, 'user%d'),\n", i, i)
	}
	rows.WriteString("(150, 'last');\n")
	// 100 KiB whose dump header lies past the 64 KiB the audit reads.
	var big bytes.Buffer
	for big.Len() < 70<<10 {
		big.WriteString("-- commentary of a long schema, read no further than 64 KiB.\n")
	}
	big.Write(fixture("mysqldump.sql"))
	big.Write(bytes.Repeat([]byte("INSERT INTO t VALUES (1);\n"), 1200))
	for name, data := range map[string][]byte{
		"wp-config.php":        fixture("wp-config-real.php"),
		"debian/wp-config.php": fixture("include-only-debian.php"),
		"mysqldump.sql":        fixture("mysqldump.sql"),
		"pgdump.sql":           fixture("pgdump.sql"),
		"rows.sql":             rows.Bytes(),
		"schema.sql":           fixture("schema-seed.sql"),
		"migration.sql":        fixture("migration.sql"),
		"big.sql":              big.Bytes(),
	} {
		// Writing keeps the mode and owner the manifest gave.
		if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	code, out, errOut := webperm(t, "audit", "--root", demoSysroot, "--web-user", "www-data", "--preset", "default", "--format", "json", root)
	if code != exitFindings || errOut != "" {
		t.Fatalf("exit %d, stderr %q; want 1 and nothing on stderr\n%s", code, errOut, out)
	}
	var got []string
	messages := map[string]string{}
	for _, f := range decode(t, out).RawFindings {
		rel, _ := filepath.Rel(root, f["path"].(string))
		got = append(got, rel+" "+f["rule"].(string))
		messages[rel], _ = f["message"].(string)
	}
	var want []string
	for _, name := range secrets {
		want = append(want, name+" sensitive-exposed")
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for rel, what := range map[string]string{
		"mysqldump.sql": "others can read this database dump (mode 0644): at most 0640",
		"rows.sql":      "others can read this file of database rows (mode 0644)",
		"wp-config.php": "others can read this sensitive file (mode 0644)",
	} {
		if !strings.HasPrefix(messages[rel], what) {
			t.Errorf("%s: message %q, want it to begin %q", rel, messages[rel], what)
		}
	}
}
