package fixer

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/webperm/webperm/audit/walk"
	"golang.org/x/sys/unix"
)

// A valid journal's lines, for the tables below to break: testHeader is a webperm/journal/v1
// header and testHeaderV2 a webperm/journal/v2 one, which earlier webperm wrote, testHeaderV3
// today's; testDone marks testEntry done.
const (
	testHeader   = `{"schema":"webperm/journal/v1","version":"1.2.0","created":"2026-11-21T10:00:00Z","roots":[{"path":"/srv/www","dev":2049,"ino":128}]}` + "\n"
	testHeaderV2 = `{"schema":"webperm/journal/v2","version":"1.3.0","created":"2026-11-21T10:00:00Z","roots":[{"path":"/srv/www","dev":2049,"ino":128}]}` + "\n"
	testHeaderV3 = `{"schema":"webperm/journal/v3","version":"1.4.0","created":"2026-11-21T10:00:00Z","roots":[{"path":"/srv/www","dev":2049,"ino":128}]}` + "\n"
	// testACLEntry chmods a directory 0664 to 0644 whose access ACL, which the journal keeps, is
	// user::rw-,user:33:r--,group::rw-,mask::rw-,other::r--.
	testACLEntry = `{"path":"/srv/www/cache","root":"/srv/www","ancestor":false,"type":"dir","dev":2049,"ino":133,"old":{"mode":"0664","uid":0,"gid":0},"new":{"mode":"0644","uid":0,"gid":0},"acl_base64":"` + testACL + `"}` + "\n"
	testACL      = `AgAAAAEABgD/////AgAEACEAAAAEAAYA/////xAABgD/////IAAEAP////8=`
	testDone     = `{"done":2,"dev":2049,"ino":130,"ctime":"2026-11-21T10:00:01.000000002Z","mtime":"2026-11-20T09:00:00.500000000Z"}` + "\n"
	// testCapEntry chowns a file with cap_net_bind_service=ep, which the journal keeps.
	testCapEntry = `{"path":"/srv/www/ping","root":"/srv/www","ancestor":false,"type":"file","dev":2049,"ino":131,"old":{"mode":"4755","uid":0,"gid":0},"new":{"mode":"4750","uid":0,"gid":33},"capability_base64":"AQAAAgAEAAAAAAAAAAAAAAAAAAA="}` + "\n"
	testEntry    = `{"path":"/srv/www/index.php","root":"/srv/www","ancestor":false,"type":"file","dev":2049,"ino":130,"old":{"mode":"0666","uid":1000,"gid":1000},"new":{"mode":"0640","uid":1000,"gid":33}}` + "\n"
)

// entryWith is testEntry with one field's value replaced: field is the JSON text up to and
// including the colon, such as `"path":`, value the new JSON value.
func entryWith(field, value string) string {
	i := strings.Index(testEntry, field)
	rest := testEntry[i+len(field):]
	end := 0
	for depth := 0; ; end++ {
		switch rest[end] {
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return testEntry[:i+len(field)] + value + rest[end:]
			}
			depth--
			if depth == 0 {
				end++
				return testEntry[:i+len(field)] + value + rest[end:]
			}
		case ',':
			if depth == 0 {
				return testEntry[:i+len(field)] + value + rest[end:]
			}
		}
	}
}

// journalCorrupt are journals ReadJournal must refuse, with the message it must give.
var journalCorrupt = []struct {
	name, data, want string
}{
	{"empty", "", "j:1: the journal is empty: webperm stopped before it wrote the header, so before it changed anything"},
	{"header cut short", testHeader[:40], "j:1: the header is cut short, as a crash while writing it leaves: webperm changed nothing, so there is nothing to undo"},
	{"header without newline", strings.TrimSuffix(testHeader, "\n"), "j:1: the header is cut short, as a crash while writing it leaves: webperm changed nothing, so there is nothing to undo"},
	{"entry cut short", testHeader + testEntry + testEntry[:50], "j:3: the line is cut short, as a crash while writing it leaves: its change was never made, so delete the line and undo again"},
	{"entry without newline", testHeader + strings.TrimSuffix(testEntry, "\n"), "j:2: the line is cut short, as a crash while writing it leaves: its change was never made, so delete the line and undo again"},
	{"not JSON", "schema: webperm/journal/v1\n", "j:1: not JSON: invalid character 's' looking for beginning of value"},
	{"entry not JSON", testHeader + "{path: /srv/www}\n", "j:2: not JSON: invalid character 'p'"},
	{"half an object", testHeader + `{"path":"/srv/www/a",` + "\n", "j:2: not JSON: the object is cut short"},
	{"not an object", testHeader + `["/srv/www"]` + "\n", "j:2: not a JSON object: each line holds one"},
	{"two objects", testHeader + strings.TrimSuffix(testEntry, "\n") + " {}\n", "j:2: more than one JSON value on the line"},
	{"blank line", testHeader + "\n" + testEntry, "j:2: empty line: each line holds one JSON object"},
	{"CRLF blank line", testHeader + "\r\n", "j:2: empty line: each line holds one JSON object"},
	{"no schema", `{"version":"1.2.0"}` + "\n", `j:1: not a webperm journal: its first line has no "schema"`},
	{"entry first", testEntry, `j:1: not a webperm journal: its first line has no "schema"`},
	{"a plan", `{"schema":"webperm/plan/v1"}` + "\n", `j:1: not a webperm journal: its schema is "webperm/plan/v1", not "webperm/journal/v3"`},
	{"schema not a string", `{"schema":1}` + "\n", `j:1: not a webperm journal: its "schema" is not a string`},
	{"newer schema", `{"schema":"webperm/journal/v4","version":"9"}` + "\n", `j:1: schema "webperm/journal/v4": this webperm reads only webperm/journal/v1, webperm/journal/v2 and webperm/journal/v3, so undo with the webperm that wrote the journal`},
	{"header unknown field", strings.Replace(testHeader, `"roots"`, `"user":"x","roots"`, 1), `j:1: unknown field "user"`},
	{"header field in another case", strings.Replace(testHeader, `"version"`, `"Version"`, 1), `j:1: unknown field "Version"`},
	{"header missing roots", `{"schema":"webperm/journal/v1","version":"1","created":"2026-11-21T10:00:00Z"}` + "\n", `j:1: missing field "roots"`},
	{"header root missing ino", strings.Replace(testHeader, `,"ino":128`, ``, 1), `j:1: missing field "roots.ino"`},
	{"header root unknown field", strings.Replace(testHeader, `"ino":128`, `"ino":128,"uid":0`, 1), `j:1: unknown field "roots.uid"`},
	{"header bad time", strings.Replace(testHeader, `2026-11-21T10:00:00Z`, `yesterday`, 1), `j:1: created "yesterday": want an RFC 3339 time, such as "2025-01-02T15:04:05Z"`},
	{"header relative root", strings.Replace(testHeader, `"/srv/www"`, `"srv/www"`, 1), `j:1: root "srv/www" is relative: want an absolute path`},
	{"header root twice", strings.Replace(testHeader, `"roots":[`, `"roots":[{"path":"/srv/www","dev":1,"ino":2},`, 1), `j:1: root "/srv/www" is listed twice`},
	{"header roots not a list", strings.Replace(testHeader, `"roots":[{"path":"/srv/www","dev":2049,"ino":128}]`, `"roots":"/srv/www"`, 1), `j:1: field "roots": want a list, not string`},
	{"header null version", strings.Replace(testHeader, `"1.2.0"`, `null`, 1), `j:1: field "version" is null`},
	{"unknown field", testHeader + strings.Replace(testEntry, `"ancestor"`, `"colour":"red","ancestor"`, 1), `j:2: unknown field "colour"`},
	{"field in another case", testHeader + strings.Replace(testEntry, `"path"`, `"PATH"`, 1), `j:2: unknown field "PATH"`},
	{"field twice", testHeader + strings.Replace(testEntry, `"root"`, `"path":"/etc/shadow","root"`, 1), `j:2: field "path" appears twice`},
	{"unknown field in a state", testHeader + strings.Replace(testEntry, `"uid":1000,"gid":33`, `"uid":1000,"gid":33,"acl":""`, 1), `j:2: unknown field "new.acl"`},
	{"missing field", testHeader + strings.Replace(testEntry, `"ino":130,`, ``, 1), `j:2: missing field "ino"`},
	{"missing uid", testHeader + strings.Replace(testEntry, `"uid":1000,"gid":33`, `"gid":33`, 1), `j:2: missing field "new.uid"`},
	{"null dev", testHeader + entryWith(`"dev":`, `null`), `j:2: field "dev" is null`},
	{"string dev", testHeader + entryWith(`"dev":`, `"2049"`), `j:2: field "dev": want a whole number from 0 to 18446744073709551615, not string`},
	{"negative uid", testHeader + strings.Replace(testEntry, `"uid":1000,"gid":33`, `"uid":-1,"gid":33`, 1), `j:2: field "new.uid": want a whole number from 0 to 4294967295, not number -1`},
	{"uid too large", testHeader + strings.Replace(testEntry, `"uid":1000,"gid":33`, `"uid":4294967296,"gid":33`, 1), `j:2: field "new.uid": want a whole number from 0 to 4294967295, not number 4294967296`},
	{"ancestor a string", testHeader + entryWith(`"ancestor":`, `"no"`), `j:2: field "ancestor": want true or false, not string`},
	{"mode not octal", testHeader + entryWith(`"old":`, `{"mode":"0999","uid":1000,"gid":1000}`), `j:2: old: mode "0999": want octal digits 0-7, such as "0644"`},
	{"mode three digits", testHeader + entryWith(`"new":`, `{"mode":"640","uid":1000,"gid":33}`), `j:2: new: mode "640": want four octal digits, such as "0644"`},
	{"mode a number", testHeader + entryWith(`"new":`, `{"mode":640,"uid":1000,"gid":33}`), `j:2: field "new.mode": want a string, not number`},
	{"relative path", testHeader + entryWith(`"path":`, `"index.php"`), `j:2: path "index.php" is relative: want an absolute path`},
	{"unclean path", testHeader + entryWith(`"path":`, `"/srv/www/../../etc/shadow"`), `j:2: path "/srv/www/../../etc/shadow" is not clean: want "/etc/shadow"`},
	{"trailing slash", testHeader + entryWith(`"path":`, `"/srv/www/uploads/"`), `j:2: path "/srv/www/uploads/" is not clean: want "/srv/www/uploads"`},
	{"empty path", testHeader + entryWith(`"path":`, `""`), `j:2: path is empty: want an absolute path`},
	{"NUL in path", testHeader + entryWith(`"path":`, `"/srv/www/a\u0000b"`), `j:2: path "/srv/www/a\x00b" holds a NUL byte, which no path can`},
	{"path outside its root", testHeader + entryWith(`"path":`, `"/etc/shadow"`), `j:2: path "/etc/shadow" is neither its root "/srv/www" nor below it, and not marked "ancestor"`},
	{"path beside its root", testHeader + entryWith(`"path":`, `"/srv/www2/x"`), `j:2: path "/srv/www2/x" is neither its root "/srv/www" nor below it, and not marked "ancestor"`},
	{"ancestor below its root", testHeader + entryWith(`"ancestor":`, `true`), `j:2: ancestor "/srv/www/index.php" does not lie above its root "/srv/www"`},
	{"ancestor the root", testHeader + strings.Replace(entryWith(`"path":`, `"/srv/www"`), `"ancestor":false,"type":"file"`, `"ancestor":true,"type":"dir"`, 1), `j:2: ancestor "/srv/www" does not lie above its root "/srv/www"`},
	{"ancestor a file", testHeader + strings.Replace(entryWith(`"path":`, `"/srv"`), `"ancestor":false`, `"ancestor":true`, 1), `j:2: ancestor "/srv" is a file: an ancestor is a directory`},
	{"root not in header", testHeader + strings.ReplaceAll(testEntry, `/srv/www`, `/srv/other`), `j:2: root "/srv/other" is not among the roots in the journal's header`},
	{"symlink", testHeader + entryWith(`"type":`, `"symlink"`), `j:2: type "symlink": webperm changes only files and directories`},
	{"unknown type", testHeader + entryWith(`"type":`, `"blob"`), `j:2: type "blob": want "file" or "dir"`},
	{"old is new", testHeader + entryWith(`"new":`, `{"mode":"0666","uid":1000,"gid":1000}`), `j:2: old and new are the same state: a journal records only changes`},
	{"bad base64", testHeader + strings.Replace(testEntry, `"root"`, `"path_base64":"!!","root"`, 1), `j:2: path_base64: illegal base64 data at input byte 0`},
	{"base64 of valid UTF-8", testHeader + strings.Replace(testEntry, `"root"`, `"path_base64":"L3Nydi93d3cvaW5kZXgucGhw","root"`, 1), `j:2: path_base64 holds valid UTF-8: such a path is written in "path" alone`},
	// The text shows index.php, the bytes name /srv/www/\xff: what a person reads must be what
	// undo changes.
	{"base64 disagrees", testHeader + strings.Replace(testEntry, `"root"`, `"path_base64":"L3Nydi93d3cv/w==","root"`, 1), `j:2: path "/srv/www/index.php" disagrees with path_base64, whose path it must show with each invalid byte as U+FFFD`},
	{"second entry bad", testHeader + testEntry + entryWith(`"type":`, `"fifo"`), `j:3: type "fifo": webperm changes only files and directories`},
	// Done lines and capabilities: webperm/journal/v2 alone has them, where apply writes them.
	{"done line in a v1 journal", testHeader + testEntry + testDone, `j:3: a done line, which a webperm/journal/v1 journal never holds`},
	{"capability in a v1 journal", testHeader + testCapEntry, `j:2: unknown field "capability_base64"`},
	{"done line cut short", testHeaderV2 + testEntry + testDone[:30], "j:3: the line is cut short, as a crash while writing it leaves: it marks the change on the line before done, which was made, so delete the line and undo again; undo then gives that file no set-id bit or capability back"},
	{"done line first", testHeaderV2 + testDone, `j:2: a done line follows the entry it marks done, and line 1 is none`},
	{"done line twice", testHeaderV2 + testEntry + testDone + testDone, `j:4: a done line follows the entry it marks done, and line 3 is none`},
	{"done line naming another line", testHeaderV2 + testEntry + strings.Replace(testDone, `"done":2`, `"done":1`, 1), `j:3: done 1: a done line names the line of the entry it marks done, 2`},
	{"done line of another inode", testHeaderV2 + testEntry + strings.Replace(testDone, `"ino":130`, `"ino":131`, 1), `j:3: dev 2049 and ino 131 are not those of the entry on line 2, 2049 and 130: a change never makes another inode`},
	{"done line bad ctime", testHeaderV2 + testEntry + strings.Replace(testDone, `2026-11-21T10:00:01.000000002Z`, `now`, 1), `j:3: ctime "now": want an RFC 3339 time to the nanosecond, such as "2025-01-02T15:04:05.123456789Z"`},
	{"done line missing mtime", testHeaderV2 + testEntry + strings.Replace(testDone, `,"mtime":"2026-11-20T09:00:00.500000000Z"`, ``, 1), `j:3: missing field "mtime"`},
	{"done line unknown field", testHeaderV2 + testEntry + strings.Replace(testDone, `"dev"`, `"path":"/etc/shadow","dev"`, 1), `j:3: unknown field "path"`},
	{"done line a string", testHeaderV2 + testEntry + strings.Replace(testDone, `"done":2`, `"done":"2"`, 1), `j:3: field "done": want a whole number, not string`},
	{"capability of a chmod", testHeaderV2 + strings.Replace(testCapEntry, `"uid":0,"gid":33`, `"uid":0,"gid":0`, 1), `j:2: capability_base64: a journal records capabilities only where a change chowns a regular file, which clears them`},
	{"capability not base64", testHeaderV2 + strings.Replace(testCapEntry, `AQAAAgAEAAAAAAAAAAAAAAAAAAA=`, `!`, 1), `j:2: capability_base64: illegal base64 data at input byte 0`},
	{"capability not a vfs_cap_data", testHeaderV2 + strings.Replace(testCapEntry, `AQAAAgAEAAAAAAAAAAAAAAAAAAA=`, `AQAAAg==`, 1), `j:2: capability_base64: security.capability of 4 bytes: vfs_cap_data revision 2 has 20`},
	// Access ACLs: webperm/journal/v3 alone has them, where a change chmods a file or directory,
	// and only an extended ACL that the old mode's bits agree with, as apply reads it.
	{"acl in a v2 journal", testHeaderV2 + testACLEntry, `j:2: unknown field "acl_base64"`},
	{"acl of a chown", testHeaderV3 + strings.Replace(testACLEntry, `"new":{"mode":"0644","uid":0,"gid":0}`, `"new":{"mode":"0664","uid":0,"gid":33}`, 1), `j:2: acl_base64: a journal records an access ACL only where a change chmods a file or directory, which rewrites its mask`},
	{"acl of a symlink", testHeaderV3 + strings.Replace(strings.Replace(testACLEntry, `"type":"dir"`, `"type":"symlink"`, 1), `"new":{"mode":"0644","uid":0,"gid":0}`, `"new":{"mode":"0664","uid":0,"gid":33}`, 1), `j:2: type "symlink": webperm changes only files and directories`},
	{"acl not base64", testHeaderV3 + strings.Replace(testACLEntry, testACL, `!`, 1), `j:2: acl_base64: illegal base64 data at input byte 0`},
	{"acl not an ACL", testHeaderV3 + strings.Replace(testACLEntry, testACL, `AwAAAA==`, 1), `j:2: acl_base64: acl: version 3, want 2`},
	{"acl minimal", testHeaderV3 + strings.Replace(testACLEntry, testACL, `AgAAAAEABgD/////BAAGAP////8gAAQA/////w==`, 1), `j:2: acl_base64: user::rw-,group::rw-,other::r--: an extended access ACL has one entry each for the owner (user::), the owning group (group::), the mask (mask::) and everyone else (other::)`},
	{"acl not the old mode's", testHeaderV3 + strings.Replace(testACLEntry, testACL, `AgAAAAEABgD/////AgAEACEAAAAEAAYA/////xAABAD/////IAAEAP////8=`, 1), `j:2: acl_base64: user::rw-,user:33:r--,group::rw-,mask::r--,other::r-- is not the access ACL of an entry with mode 0664, whose bits its user::, mask:: and other:: entries hold`},
}

func TestReadJournalCorrupt(t *testing.T) {
	for _, tt := range journalCorrupt {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadJournal("j", strings.NewReader(tt.data))
			if err == nil {
				t.Fatalf("ReadJournal accepted\n%s", tt.data)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tt.want)
			}
		})
	}
}

func TestReadJournal(t *testing.T) {
	created := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	root := Root{Path: "/srv/www", Dev: 2049, Ino: 128}
	tests := []struct {
		name    string
		data    string
		header  JournalHeader
		entries []JournalEntry
	}{
		{
			name:   "header alone",
			data:   testHeader,
			header: JournalHeader{Schema: journalSchemaV1, Version: "1.2.0", Created: created, Roots: []Root{root}},
		},
		{
			name:   "one entry",
			data:   testHeader + testEntry,
			header: JournalHeader{Schema: journalSchemaV1, Version: "1.2.0", Created: created, Roots: []Root{root}},
			entries: []JournalEntry{{
				Path: "/srv/www/index.php", Root: "/srv/www", Type: walk.TypeFile, Dev: 2049, Ino: 130,
				Old: mkState(0o666, 1000, 1000), New: mkState(0o640, 1000, 33), Line: 2,
			}},
		},
		{
			name: "an ancestor, with names and setuid",
			data: testHeader + `{"path":"/srv","root":"/srv/www","ancestor":true,"type":"dir","dev":2049,"ino":2,` +
				`"old":{"mode":"4700","uid":0,"gid":0,"owner":"root","group":"root"},"new":{"mode":"0711","uid":0,"gid":0}}` + "\n",
			header: JournalHeader{Schema: journalSchemaV1, Version: "1.2.0", Created: created, Roots: []Root{root}},
			entries: []JournalEntry{{
				Path: "/srv", Root: "/srv/www", Ancestor: true, Type: walk.TypeDir, Dev: 2049, Ino: 2,
				Old: mkState(fs.ModeSetuid|0o700, 0, 0), New: mkState(0o711, 0, 0), Line: 2,
			}},
		},
		{
			name:   "no roots",
			data:   `{"schema":"webperm/journal/v1","version":"","created":"2026-11-21T11:00:00+01:00","roots":[]}` + "\n",
			header: JournalHeader{Schema: journalSchemaV1, Created: created, Roots: []Root{}},
		},
		{
			name:   "v2: an entry marked done, one not, one with capabilities",
			data:   testHeaderV2 + testEntry + testDone + strings.Replace(testEntry, `"ino":130`, `"ino":132`, 1) + testCapEntry,
			header: JournalHeader{Schema: journalSchemaV2, Version: "1.3.0", Created: created, Roots: []Root{root}},
			entries: []JournalEntry{{
				Path: "/srv/www/index.php", Root: "/srv/www", Type: walk.TypeFile, Dev: 2049, Ino: 130,
				Old: mkState(0o666, 1000, 1000), New: mkState(0o640, 1000, 33), Line: 2,
				Done: &Done{Dev: 2049, Ino: 130, Ctime: time.Date(2026, 11, 21, 10, 0, 1, 2, time.UTC), Mtime: time.Date(2026, 11, 20, 9, 0, 0, 5e8, time.UTC)},
			}, {
				Path: "/srv/www/index.php", Root: "/srv/www", Type: walk.TypeFile, Dev: 2049, Ino: 132,
				Old: mkState(0o666, 1000, 1000), New: mkState(0o640, 1000, 33), Line: 4,
			}, {
				Path: "/srv/www/ping", Root: "/srv/www", Type: walk.TypeFile, Dev: 2049, Ino: 131,
				Old: mkState(fs.ModeSetuid|0o755, 0, 0), New: mkState(fs.ModeSetuid|0o750, 0, 33), Line: 5,
				Capability: walk.Capabilities{Version: 2, Permitted: 1 << 10, Effective: true}.Bytes(),
			}},
		},
		{
			name:   "v3: an access ACL",
			data:   testHeaderV3 + testACLEntry + testCapEntry,
			header: JournalHeader{Schema: JournalSchema, Version: "1.4.0", Created: created, Roots: []Root{root}},
			entries: []JournalEntry{{
				Path: "/srv/www/cache", Root: "/srv/www", Type: walk.TypeDir, Dev: 2049, Ino: 133,
				Old: mkState(0o664, 0, 0), New: mkState(0o644, 0, 0), Line: 2,
				ACL: []byte{2, 0, 0, 0, 1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff, 2, 0, 4, 0, 33, 0, 0, 0,
					4, 0, 6, 0, 0xff, 0xff, 0xff, 0xff, 0x10, 0, 6, 0, 0xff, 0xff, 0xff, 0xff, 0x20, 0, 4, 0, 0xff, 0xff, 0xff, 0xff},
			}, {
				Path: "/srv/www/ping", Root: "/srv/www", Type: walk.TypeFile, Dev: 2049, Ino: 131,
				Old: mkState(fs.ModeSetuid|0o755, 0, 0), New: mkState(fs.ModeSetuid|0o750, 0, 33), Line: 3,
				Capability: walk.Capabilities{Version: 2, Permitted: 1 << 10, Effective: true}.Bytes(),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, entries, err := ReadJournal("j", strings.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if !h.Created.Equal(tt.header.Created) {
				t.Errorf("created %v, want %v", h.Created, tt.header.Created)
			}
			h.Created = tt.header.Created
			if !reflect.DeepEqual(h, tt.header) {
				t.Errorf("header %+v, want %+v", h, tt.header)
			}
			if !reflect.DeepEqual(entries, tt.entries) {
				t.Errorf("entries %+v, want %+v", entries, tt.entries)
			}
		})
	}
}

// journalHostileNames are paths a journal must carry exactly: JSON escapes, a newline that would
// split a line, and bytes that are not UTF-8, which JSON strings cannot hold.
var journalHostileNames = []string{
	"new\nline",
	`quo"te`,
	"-rf",
	"--reference=x",
	"bad\xffutf8",
	"\xc3\x28",
	"back\\slash",
	"tab\there",
	"\u2028separator",
	"replacement\ufffdchar",
	"<html>&amp;",
	" ",
	"\x01\x7f",
}

// Every hostile name, in the path and in the root, comes back from the file exactly.
func TestJournalHostileNames(t *testing.T) {
	dir := diskTempDir(t)
	for _, name := range journalHostileNames {
		t.Run(strings.ToValidUTF8(name, "?"), func(t *testing.T) {
			root := Root{Path: "/srv/" + name, Dev: 1, Ino: 2}
			h := JournalHeader{Version: "test", Created: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Roots: []Root{root}}
			want := []JournalEntry{
				{Path: root.Path + "/" + name, Root: root.Path, Type: walk.TypeFile, Dev: 1, Ino: 3, Old: mkState(0o666, 0, 0), New: mkState(0o644, 0, 0), Line: 2},
				{Path: root.Path, Root: root.Path, Type: walk.TypeDir, Dev: 1, Ino: 2, Old: mkState(0o777, 0, 0), New: mkState(0o755, 0, 33), Line: 3},
				{Path: "/srv", Root: root.Path, Ancestor: true, Type: walk.TypeDir, Dev: 1, Ino: 1, Old: mkState(0o700, 0, 0), New: mkState(0o711, 0, 0), Line: 4},
			}
			path := filepath.Join(dir, strings.ReplaceAll(strings.ToValidUTF8(name, "?"), "/", "_")+".journal")
			j, err := CreateJournal(path, h)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range want {
				if err := j.record(e); err != nil {
					t.Fatal(err)
				}
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if n := bytes.Count(data, []byte("\n")); n != 4 {
				t.Errorf("journal has %d lines, want 4:\n%s", n, data)
			}
			gotH, got, err := ReadJournal(path, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotH.Roots, h.Roots) || !gotH.Created.Equal(h.Created) || gotH.Version != h.Version {
				t.Errorf("header %+v, want %+v", gotH, h)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("entries\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// The journal file is new, private, never a symlink's target, and starts with its header.
func TestCreateJournal(t *testing.T) {
	dir := diskTempDir(t)
	path := filepath.Join(dir, "journal")
	j, err := CreateJournal(path, JournalHeader{Version: "test", Created: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), Roots: []Root{{Path: "/srv/www", Dev: 1, Ino: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o600 {
		t.Errorf("journal mode %v, want -rw-------", fi.Mode())
	}
	data, _ := os.ReadFile(path)
	want := `{"schema":"webperm/journal/v3","version":"test","created":"2026-11-21T10:00:00Z","roots":[{"path":"/srv/www","dev":1,"ino":2}]}` + "\n"
	if string(data) != want {
		t.Errorf("journal:\n%s\nwant:\n%s", data, want)
	}
	if err := j.record(JournalEntry{}); err == nil || err.Error() != "journal "+path+" is closed" {
		t.Errorf("record after close: %v", err)
	}
}

func TestCreateJournalErrors(t *testing.T) {
	dir := diskTempDir(t)
	existing := filepath.Join(dir, "existing")
	if err := os.WriteFile(existing, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	victim := filepath.Join(dir, "victim")
	diskSymlink(t, victim, dangling)
	toExisting := filepath.Join(dir, "to-existing")
	diskSymlink(t, existing, toExisting)
	good := []Root{{Path: "/srv/www"}}
	tests := []struct {
		name, path string
		roots      []Root
		want       string
	}{
		{"exists", existing, good, "journal " + existing + " already exists: webperm never writes over a journal, so name a new one"},
		{"dangling symlink", dangling, good, "journal " + dangling + " already exists: webperm never writes over a journal, so name a new one"},
		{"symlink to a file", toExisting, good, "journal " + toExisting + " already exists: webperm never writes over a journal, so name a new one"},
		{"no directory", filepath.Join(dir, "missing", "journal"), good, "cannot create journal " + filepath.Join(dir, "missing", "journal") + ": no such file or directory"},
		{"relative root", filepath.Join(dir, "j1"), []Root{{Path: "www"}}, "journal " + filepath.Join(dir, "j1") + `: root "www" is relative: want an absolute path`},
		{"root twice", filepath.Join(dir, "j2"), []Root{{Path: "/a"}, {Path: "/a"}}, "journal " + filepath.Join(dir, "j2") + `: root "/a" is listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := CreateJournal(tt.path, JournalHeader{Roots: tt.roots})
			if err == nil {
				j.Close()
				t.Fatal("CreateJournal succeeded")
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tt.want)
			}
		})
	}
	if data, _ := os.ReadFile(existing); string(data) != "keep" {
		t.Errorf("existing file now holds %q", data)
	}
	if _, err := os.Lstat(victim); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dangling symlink's target was created: %v", err)
	}
	for _, p := range []string{filepath.Join(dir, "j1"), filepath.Join(dir, "j2")} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s was created for a header that is wrong", p)
		}
	}
}

// What ReadJournal would refuse, record refuses to write: a journal apply writes is always one
// undo can read.
func TestJournalRecordRefuses(t *testing.T) {
	dir := diskTempDir(t)
	path := filepath.Join(dir, "journal")
	j, err := CreateJournal(path, JournalHeader{Roots: []Root{{Path: "/srv/www", Dev: 1, Ino: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	good := JournalEntry{Path: "/srv/www/a", Root: "/srv/www", Type: walk.TypeFile, Old: mkState(0o666, 0, 0), New: mkState(0o644, 0, 0)}
	tests := []struct {
		name string
		edit func(e *JournalEntry)
		want string
	}{
		{"root not in header", func(e *JournalEntry) { e.Root, e.Path = "/srv/x", "/srv/x/a" }, `root "/srv/x" is not among the roots in the journal's header`},
		{"outside its root", func(e *JournalEntry) { e.Path = "/etc/shadow" }, `path "/etc/shadow" is neither its root "/srv/www" nor below it, and not marked "ancestor"`},
		{"a symlink", func(e *JournalEntry) { e.Type = walk.TypeSymlink }, `type "symlink": webperm changes only files and directories`},
		{"a type unknown", func(e *JournalEntry) { e.Type = 200 }, `type "type 200": webperm changes only files and directories`},
		{"type bits in a mode", func(e *JournalEntry) { e.New.Mode |= fs.ModeDir }, `new: mode drw-r--r-- has bits other than permissions, setuid, setgid and sticky`},
		{"no change", func(e *JournalEntry) { e.New = e.Old }, `old and new are the same state: a journal records only changes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good
			tt.edit(&e)
			err := j.record(e)
			want := "cannot record the change in journal " + path + ": " + tt.want
			if err == nil || err.Error() != want {
				t.Errorf("error:\n%v\nwant:\n%s", err, want)
			}
		})
	}
	if err := j.record(good); err != nil {
		t.Fatalf("a refused entry broke the journal: %v", err)
	}
	if _, entries := diskReadJournal(t, path); len(entries) != 1 {
		t.Errorf("journal holds %d entries, want the good one alone", len(entries))
	}
}

// Apply writes each change it makes, as the plan has it, before making it, and marks it done,
// with the inode's times as the change left them, after.
func TestApplyJournal(t *testing.T) {
	diskRequireRoot(t)
	at := newAttackTree(t)
	plan := at.plan(t)
	path := filepath.Join(diskTempDir(t), "journal")
	created := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	j, err := CreateJournal(path, JournalHeader{Version: "1.2.0", Created: created, Roots: plan.Roots})
	if err != nil {
		t.Fatal(err)
	}
	var seen []int // entries in the journal when each change was made
	diskStub(t, &crashHook, func(p crashPoint) {
		if p == crashChowned || p == crashChanged {
			_, entries := diskReadJournal(t, path)
			seen = append(seen, len(entries))
			if last := entries[len(entries)-1]; last.Done != nil {
				t.Errorf("%s is marked done before its change is made", last.Path)
			}
		}
		if p == crashDone {
			_, entries := diskReadJournal(t, path)
			if last := entries[len(entries)-1]; last.Done == nil {
				t.Errorf("%s is not marked done once its change is", last.Path)
			}
		}
	})
	sum := Apply(plan, Options{IncludeAncestors: true, Journal: j})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if sum != (Summary{Applied: 4}) {
		t.Fatalf("summary %+v, want 4 applied", sum)
	}
	// home: chmod; the others: chown, then chmod.
	if want := []int{1, 2, 2, 3, 3, 4, 4}; !reflect.DeepEqual(seen, want) {
		t.Errorf("journal entries when each change was made: %v, want %v", seen, want)
	}
	h, entries := diskReadJournal(t, path)
	if h.Version != "1.2.0" || !h.Created.Equal(created) || !reflect.DeepEqual(h.Roots, plan.Roots) {
		t.Errorf("header %+v", h)
	}
	var want []JournalEntry
	for i, a := range plan.Actions {
		want = append(want, JournalEntry{Path: a.Path, Root: a.Root, Ancestor: a.Ancestor, Type: a.Type, Dev: a.Dev, Ino: a.Ino, Old: a.Current, New: a.Target, Line: 2 * (i + 1)})
		// Nothing changed the inode since: its times are still those the done line records.
		st := diskStat(t, a.Path)
		ctime, mtime := time.Unix(st.Ctim.Unix()).UTC(), time.Unix(st.Mtim.Unix()).UTC()
		if d := entries[i].Done; d == nil || d.Dev != a.Dev || d.Ino != a.Ino || !d.Ctime.Equal(ctime) || !d.Mtime.Equal(mtime) {
			t.Errorf("%s: done %+v, want dev %d, ino %d, ctime %v, mtime %v", a.Path, d, a.Dev, a.Ino, ctime, mtime)
		}
		entries[i].Done = nil
	}
	if !reflect.DeepEqual(entries, want) {
		t.Errorf("entries\n%+v\nwant\n%+v", entries, want)
	}
}

// A journal whose header cannot be written (a full disk) is an error, and leaves no empty file
// behind to be taken for a journal.
func TestCreateJournalOnFullDisk(t *testing.T) {
	diskRequireRoot(t)
	dir := diskTempDir(t)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=16k,mode=0700"); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, 0) })
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = filler.Write(make([]byte, 4096))
	}
	filler.Close()
	if !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("filling the tmpfs: %v, want ENOSPC", err)
	}
	path := filepath.Join(dir, "journal.jsonl")
	if _, err := CreateJournal(path, JournalHeader{Version: "test"}); err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("CreateJournal on a full disk: %v, want no space left", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the journal without its header is left behind: %v", err)
	}
}
