package audit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/policy"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "sniff", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// manyRows is SQL with n rows of data and no dump tool's header.
func manyRows(n int) []byte {
	var b bytes.Buffer
	b.WriteString("CREATE TABLE users (id int, name text);\nINSERT INTO users VALUES\n")
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "(%d, 'user%d')", i, i)
	}
	b.WriteString(";\n")
	return b.Bytes()
}

func TestSniffSQL(t *testing.T) {
	tests := []struct {
		name string
		src  []byte
		want policy.Content
	}{
		{"mysqldump header", readFixture(t, "mysqldump.sql"), policy.ContentSQLDump},
		{"mysqldump --compact, no header", readFixture(t, "mariadb-compact.sql"), policy.ContentSQLDump},
		{"pg_dump header", readFixture(t, "pgdump.sql"), policy.ContentSQLDump},
		{"phpMyAdmin dump", readFixture(t, "phpmyadmin.sql"), policy.ContentSQLDump},
		{"Adminer dump", readFixture(t, "adminer.sql"), policy.ContentSQLDump},
		{"MariaDB header", []byte("-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB\n"), policy.ContentSQLDump},
		{"schema with one seed row", readFixture(t, "schema-seed.sql"), policy.ContentSQLSchema},
		{"migration", readFixture(t, "migration.sql"), policy.ContentSQLSchema},
		{"empty", nil, policy.ContentSQLSchema},
		{"as many rows as a schema seeds", manyRows(SQLSeedRows), policy.ContentSQLSchema},
		{"one row more", manyRows(SQLSeedRows + 1), policy.ContentSQLData},
		{"rows one INSERT each", bytes.Repeat([]byte("INSERT INTO t (a) VALUES ('x;(');\n"), SQLSeedRows+1), policy.ContentSQLData},
		{"COPY rows", append([]byte("COPY t (a) FROM stdin;\n"), bytes.Repeat([]byte("x\n"), SQLSeedRows+1)...), policy.ContentSQLData},
		{"COPY rows then a schema", append([]byte("COPY t (a) FROM stdin;\nx\n\\.\n"), readFixture(t, "schema-seed.sql")...), policy.ContentSQLSchema},
		{"gzip named .sql", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, policy.ContentSQLData},
		{"a NUL byte", []byte("CREATE TABLE t (a int);\x00"), policy.ContentSQLData},
		// An editor on Windows saves a byte order mark first: it hides neither the header nor the
		// rows of the first statement.
		{"a BOM before the header", []byte("\ufeff-- MySQL dump 10.13  Distrib 8.0.35\n"), policy.ContentSQLDump},
		{"a BOM before the rows", append([]byte("\ufeff"), manyRows(SQLSeedRows + 1)[len("CREATE TABLE users (id int, name text);\n"):]...), policy.ContentSQLData},
		{"parentheses in strings and comments", []byte("INSERT INTO t VALUES ('(((', \"((\" /* ( ( */) -- ((((\n;"), policy.ContentSQLSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SniffSQL(tt.src); got != tt.want {
				t.Errorf("SniffSQL = %v, want %v (rows %d)", got, tt.want, sqlRows(tt.src))
			}
		})
	}
}

func TestSQLRows(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want int
	}{
		{"INSERT INTO t (a, b) VALUES (1, 2), (3, 4);", 2},
		{"insert into t value (1);", 1},
		{"REPLACE INTO t (a) VALUES ('a'),('b'),('c');", 3},
		{"INSERT INTO t (a) SELECT a FROM u WHERE b IN (1, 2);", 0},
		{"INSERT INTO t VALUES ('it''s (', 'a\\'(');", 1},
		{"# INSERT INTO t VALUES (1);\n-- INSERT INTO t VALUES (1);\n/* INSERT INTO t VALUES (1); */", 0},
		{"CREATE TABLE values_t (a int); SELECT (1);", 0},
		{"COPY t FROM stdin;\na\nb\n\\.\nINSERT INTO t VALUES (1);", 3},
		{"INSERT INTO t VALUES ('unterminated", 1},
	} {
		if got := sqlRows([]byte(tt.src)); got != tt.want {
			t.Errorf("sqlRows(%q) = %d, want %d", tt.src, got, tt.want)
		}
	}
}

func TestSniffPHPInclude(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		complete bool
		want     policy.Content
	}{
		{"Debian's wp-config.php of the issue", string(readFixture(t, "include-only-debian.php")), true, policy.ContentPHPIncludeOnly},
		{"literal paths, __DIR__, a closing tag", string(readFixture(t, "include-only-literal.php")), true, policy.ContentPHPIncludeOnly},
		{"an include, then a define", string(readFixture(t, "include-then-define.php")), true, policy.ContentPHPCode},
		{"an include of a variable", string(readFixture(t, "include-variable.php")), true, policy.ContentPHPCode},
		{"a real wp-config.php", string(readFixture(t, "wp-config-real.php")), true, policy.ContentPHPCode},
		{"cut at the cap", string(readFixture(t, "include-only-debian.php")), false, policy.ContentPHPCode},
		{"server name", "<?php include $_SERVER[\"SERVER_NAME\"] . '.php';", true, policy.ContentPHPIncludeOnly},
		{"dirname of __FILE__", "<?PHP\nREQUIRE dirname(__FILE__).'/c.php';\n", true, policy.ContentPHPIncludeOnly},
		{"a statement ended by the closing tag", "<?php include '/etc/a.php' ?>\n", true, policy.ContentPHPIncludeOnly},
		{"nothing but comments", "<?php\n// no secret, no include\n", true, policy.ContentPHPCode},
		{"empty", "", true, policy.ContentPHPCode},
		{"no opening tag", "include '/etc/a.php';", true, policy.ContentPHPCode},
		{"short opening tag", "<? include '/etc/a.php';", true, policy.ContentPHPCode},
		{"a BOM before the tag", "\ufeff<?php include '/etc/a.php';", true, policy.ContentPHPCode},
		{"output before the tag", "x<?php include '/etc/a.php';", true, policy.ContentPHPCode},
		{"output after the closing tag", "<?php include '/etc/a.php'; ?>\nDB password: x", true, policy.ContentPHPCode},
		{"a secret after the closing tag's line comment", "<?php include '/etc/a.php'; // ?> $pass = 'x';", true, policy.ContentPHPCode},
		{"interpolation", `<?php include "/etc/$site.php";`, true, policy.ContentPHPCode},
		{"a constant", "<?php require ABSPATH . 'wp-settings.php';", true, policy.ContentPHPCode},
		{"another request header", "<?php include '/etc/' . $_SERVER['HTTP_X_SITE'] . '.php';", true, policy.ContentPHPCode},
		{"another call", "<?php include base64_decode('L2V0Yy9h');", true, policy.ContentPHPCode},
		{"or die", "<?php include '/etc/a.php' or die('x');", true, policy.ContentPHPCode},
		{"missing semicolon", "<?php include '/etc/a.php'\n$a = 1;", true, policy.ContentPHPCode},
		{"unterminated comment", "<?php include '/etc/a.php'; /* ", true, policy.ContentPHPCode},
		{"unterminated string", "<?php include '/etc/a.php", true, policy.ContentPHPCode},
		{"an attribute", "<?php #[Attr]\ninclude '/etc/a.php';", true, policy.ContentPHPCode},
		{"a word that begins like include", "<?php includex('/etc/a.php');", true, policy.ContentPHPCode},
		{"deep parentheses", "<?php include " + strings.Repeat("(", 100) + "'a'" + strings.Repeat(")", 100) + ";", true, policy.ContentPHPCode},
		{"two parentheses", "<?php include (('a'));", true, policy.ContentPHPIncludeOnly},
		// Credentials an admin moved out but left commented out are still in the file.
		{"a define commented out", "<?php\n// define( 'DB_PASSWORD', 'hunter2' );\nrequire_once '/etc/wordpress/config.php';\n", true, policy.ContentPHPCode},
		{"an assignment in a block comment", "<?php /* old: $password = \"hunter2\"; */ include '/etc/a.php';", true, policy.ContentPHPCode},
		{"an assignment in a hash comment", "<?php include '/etc/a.php'; # $db_pass='x'\n", true, policy.ContentPHPCode},
		{"a comparison in a comment is no assignment", "<?php // if $a == 1, read /etc/a.php\ninclude '/etc/a.php';", true, policy.ContentPHPIncludeOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SniffPHPInclude([]byte(tt.src), tt.complete); got != tt.want {
				t.Errorf("SniffPHPInclude = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSniffContentReadsTheHeadOnly: the audit reads at most SniffLimit bytes, through the Fs or
// safefile, and a file it cannot read stays unread, which clears nothing.
func TestSniffContentReadsTheHeadOnly(t *testing.T) {
	dir := t.TempDir()
	// 100 KiB: a schema's first 64 KiB, then a dump's header and its rows, past the cap.
	var b bytes.Buffer
	for b.Len() < SniffLimit {
		b.WriteString("-- a schema's long commentary, line after line, until the cap is passed.\n")
	}
	b.WriteString("-- MySQL dump 10.13\n")
	b.Write(manyRows(1000))
	for b.Len() < 100<<10 {
		b.WriteString("INSERT INTO t VALUES (1);\n")
	}
	big := filepath.Join(dir, "big.sql")
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("big.sql", b.Bytes(), 0o644)
	dump := write("dump.sql", readFixture(t, "mysqldump.sql"), 0o644)
	schema := write("schema.sql", readFixture(t, "schema-seed.sql"), 0o644)
	link := filepath.Join(dir, "link.sql")
	if err := os.Symlink(schema, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.sql")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	osfs := afero.NewOsFs()
	mem := afero.NewMemMapFs()
	if err := afero.WriteFile(mem, "/big.sql", b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		fsys afero.Fs
		path string
		want policy.Content
	}{
		{"the header past 64 KiB is not read", osfs, big, policy.ContentSQLSchema},
		{"nor through another Fs", mem, "/big.sql", policy.ContentSQLSchema},
		{"a dump", osfs, dump, policy.ContentSQLDump},
		{"a schema", osfs, schema, policy.ContentSQLSchema},
		{"a symlink is not followed", osfs, link, policy.ContentUnread},
		{"a FIFO is not opened", osfs, fifo, policy.ContentUnread},
		{"a missing file", osfs, filepath.Join(dir, "gone.sql"), policy.ContentUnread},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := sniffContent(tt.fsys, tt.path, policy.SniffSQL); got != tt.want {
				t.Errorf("sniffContent = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		denied := &denyOpen{Fs: mem}
		if got := sniffContent(denied, "/big.sql", policy.SniffSQL); got != policy.ContentUnread {
			t.Errorf("sniffContent = %v, want unread", got)
		}
	})
}

// denyOpen is a file system on which every file can be looked at but none opened, as a file of
// mode 0000 is to a user other than root.
type denyOpen struct{ afero.Fs }

func (d *denyOpen) Open(name string) (afero.File, error) {
	return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EACCES}
}

func FuzzSniffSQL(f *testing.F) {
	for _, name := range []string{"mysqldump.sql", "mariadb-compact.sql", "pgdump.sql", "phpmyadmin.sql", "adminer.sql", "schema-seed.sql", "migration.sql"} {
		f.Add(readFixture(f, name))
	}
	f.Add(manyRows(3))
	f.Fuzz(func(t *testing.T, src []byte) {
		got := SniffSQL(src)
		if got != policy.ContentSQLDump && got != policy.ContentSQLData && got != policy.ContentSQLSchema {
			t.Fatalf("SniffSQL = %v", got)
		}
		// More of the same file never makes data a schema: rows only add up.
		if got != policy.ContentSQLSchema && SniffSQL(append(src[:len(src):len(src)], "\n;\n"...)) == policy.ContentSQLSchema {
			t.Fatalf("%v became a schema with more text", got)
		}
	})
}

func FuzzSniffPHPInclude(f *testing.F) {
	for _, name := range []string{"include-only-debian.php", "include-only-literal.php", "include-then-define.php", "include-variable.php", "wp-config-real.php"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		got := SniffPHPInclude(src, true)
		if got != policy.ContentPHPIncludeOnly && got != policy.ContentPHPCode {
			t.Fatalf("SniffPHPInclude = %v", got)
		}
		if SniffPHPInclude(src, false) != policy.ContentPHPCode {
			t.Fatal("a file cut at the cap was cleared")
		}
		if got == policy.ContentPHPIncludeOnly {
			// Whatever it accepts opens with the tag and includes something.
			if !bytes.HasPrefix(bytes.ToLower(src), []byte("<?php")) || !bytes.Contains(bytes.ToLower(src), []byte("include")) && !bytes.Contains(bytes.ToLower(src), []byte("require")) {
				t.Fatalf("accepted %q", src)
			}
			// Nothing that assigns or defines is accepted outside strings and comments: a
			// definition appended after it is code.
			if SniffPHPInclude(append(src[:len(src):len(src)], "\n$p = 'x';\n"...), true) != policy.ContentPHPCode {
				t.Fatalf("accepted %q followed by an assignment", src)
			}
		}
	})
}
