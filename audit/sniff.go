package audit

import (
	"bytes"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/safefile"
	"github.com/webperm/webperm/policy"
)

// SniffLimit is the most of a file the audit reads to tell what it holds: a dump tool writes its
// header in the first lines, and a configuration that only includes others is a few hundred
// bytes.
const SniffLimit = 64 << 10

// sniffContent reads the first SniffLimit bytes of path, a regular file, and says what they hold
// for the readers kinds names. Only files whose names a rule with a content condition matches,
// and every .htaccess, are read; a file that cannot be read is ContentUnread, which clears
// nothing. On the host's file
// system the file is read through safefile (O_PATH look first, regular files only, never
// following a symlink); another backend is asked through the Fs.
func sniffContent(fsys afero.Fs, path string, kinds policy.Sniff) policy.Content {
	head, err := safefile.ReadHeadFs(fsys, path, SniffLimit)
	if err != nil {
		return policy.ContentUnread
	}
	complete := len(head) < SniffLimit
	switch {
	case kinds&policy.SniffSQL != 0:
		return SniffSQL(head)
	case kinds&policy.SniffPHPInclude != 0:
		return SniffPHPInclude(head, complete)
	case kinds&policy.SniffHtaccess != 0:
		return SniffHtaccess(head, complete)
	}
	return policy.ContentUnread
}

// SQLSeedRows is the most rows of data a file of SQL may hold in its first SniffLimit bytes and
// still be taken for a schema. Applications seed a few rows with their schema (Roundcube's
// mysql.initial.sql one, INSERT INTO system; MediaWiki's interwiki.sql 66, the most of the
// packaged applications webperm knows); a database's data runs to hundreds of rows in 64 KiB. A
// dump tool's header or mysqldump's table locks make a file data whatever its rows.
const SQLSeedRows = 100

// dumpMarkers begin a line of what a dump tool writes, lower-cased: its header, or statements
// only a dump holds (mysqldump's LOCK TABLES and DISABLE KEYS, even with --skip-comments).
var dumpMarkers = []string{
	"-- mysql dump", "-- mariadb dump", "-- postgresql database dump", "-- dumped by pg_dump",
	"-- phpmyadmin sql dump", "-- heidisql", "# sequel pro sql dump", "# wordpress mysql database backup",
	"lock tables ", "/*!40000 alter table ", "-- dump completed",
}

// binaryMagic begins a file that is not SQL text at all: compressed or a database of its own.
// What webperm cannot read as SQL it does not clear.
var binaryMagic = [][]byte{
	{0x1f, 0x8b}, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z', 0}, {0x28, 0xb5, 0x2f, 0xfd},
	[]byte("PK\x03\x04"), []byte("SQLite format 3\x00"),
}

// SniffSQL says what head, the first bytes of a file of SQL, holds: a dump (ContentSQLDump), more
// rows of data than a schema seeds (ContentSQLData), or a schema or migration
// (ContentSQLSchema). Rows are the tuples after VALUES of INSERT and REPLACE statements and the
// lines of COPY ... FROM stdin; INSERT ... SELECT copies rows the database already holds, as
// migrations do, and counts none. Binary content is data: it is not SQL webperm can read.
func SniffSQL(head []byte) policy.Content {
	for _, m := range binaryMagic {
		if bytes.HasPrefix(head, m) {
			return policy.ContentSQLData
		}
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return policy.ContentSQLData
	}
	// A byte order mark, as an editor on Windows saves one, would hide the header on the first
	// line and make the first statement's word unknown, with every row it holds.
	head = bytes.TrimPrefix(head, []byte("\ufeff"))
	for line := range bytes.Lines(head) {
		line = bytes.TrimLeft(line, " \t")
		if len(line) > 64 {
			line = line[:64]
		}
		lower := bytes.ToLower(line)
		for _, m := range dumpMarkers {
			if bytes.HasPrefix(lower, []byte(m)) {
				return policy.ContentSQLDump
			}
		}
		// Adminer: "-- Adminer 4.8.1 MySQL 8.0.35 dump".
		if bytes.HasPrefix(lower, []byte("-- adminer ")) && bytes.Contains(lower, []byte(" dump")) {
			return policy.ContentSQLDump
		}
	}
	if sqlRows(head) > SQLSeedRows {
		return policy.ContentSQLData
	}
	return policy.ContentSQLSchema
}

// sqlRows counts the rows of data in src: tuples after VALUES in INSERT and REPLACE statements,
// lines of COPY ... FROM stdin. Strings, quoted names and comments are skipped as MySQL and
// PostgreSQL read them, closely enough to count.
func sqlRows(src []byte) int {
	rows := 0
	var (
		first       string // the statement's first word, lower-cased
		values      bool   // past VALUES in an INSERT or REPLACE
		stdin       bool   // a COPY ... FROM stdin
		depth       int    // parentheses open
		atStatement = true
		lowerBuf    []byte
		i           int
		n           = len(src)
		isWordByte  = func(c byte) bool {
			return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
		}
		skipToLineEnd = func() {
			for i < n && src[i] != '\n' {
				i++
			}
		}
	)
	for i < n {
		c := src[i]
		switch {
		case c == '-' && i+1 < n && src[i+1] == '-', c == '#':
			skipToLineEnd()
		case c == '/' && i+1 < n && src[i+1] == '*':
			end := bytes.Index(src[i+2:], []byte("*/"))
			if end < 0 {
				return rows
			}
			i += 2 + end + 2
		case c == '\'' || c == '"' || c == '`':
			i++
			for i < n && src[i] != c {
				if src[i] == '\\' && c != '`' {
					i++
				}
				i++
			}
			i++ // the closing quote; a doubled quote reopens the string next
		case c == ';':
			i++
			if first == "copy" && stdin {
				// The rows follow, one a line, up to a line "\.".
				skipToLineEnd()
				i++
				for i < n {
					start := i
					skipToLineEnd()
					line := bytes.TrimRight(src[start:i], "\r")
					i++
					if bytes.Equal(line, []byte(`\.`)) {
						break
					}
					rows++
				}
			}
			first, values, stdin, depth, atStatement = "", false, false, 0, true
		case c == '(':
			if values && depth == 0 {
				rows++
			}
			depth++
			i++
		case c == ')':
			depth = max(depth-1, 0)
			i++
		case isWordByte(c):
			start := i
			for i < n && isWordByte(src[i]) {
				i++
			}
			lowerBuf = append(lowerBuf[:0], bytes.ToLower(src[start:i])...)
			word := string(lowerBuf)
			switch {
			case atStatement:
				first, atStatement = word, false
			case (first == "insert" || first == "replace") && depth == 0 && (word == "values" || word == "value"):
				values = true
			case (first == "insert" || first == "replace") && depth == 0 && word == "select":
				values = false
			case first == "copy" && word == "stdin":
				stdin = true
			}
		default:
			i++
		}
	}
	return rows
}
