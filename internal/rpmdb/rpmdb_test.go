package rpmdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fixture is the database scripts/mkrpmdb.sh made with Debian's rpm 4.18: testapp (306 files,
// SHA-256, a header of 47 KB over overflow pages) and oldapp (3 files, MD5).
const fixture = "../../audit/testdata/rpm/rpmdb.sqlite"

func readFixture(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readAll(data []byte) ([]Package, error) {
	var pkgs []Package
	err := Read(bytes.NewReader(data), int64(len(data)), nil, func(p Package) { pkgs = append(pkgs, p) })
	return pkgs, err
}

// The database rpm wrote reads as rpm -ql and rpm -q --dump show it.
func TestReadFixture(t *testing.T) {
	pkgs, err := readAll(readFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 {
		t.Fatalf("%d packages, want 2", len(pkgs))
	}
	files := map[string]map[string]string{}
	for _, p := range pkgs {
		files[p.Name] = map[string]string{}
		for _, f := range p.Files {
			files[p.Name][f.Path] = f.Digest
		}
	}
	if got := pkgs[0].Name + " " + pkgs[1].Name; got != "testapp oldapp" {
		t.Errorf("packages %s, want testapp oldapp", got)
	}
	if pkgs[0].DigestAlgo != DigestSHA256 || pkgs[1].DigestAlgo != DigestMD5 {
		t.Errorf("digest algorithms %d and %d, want %d and %d", pkgs[0].DigestAlgo, pkgs[1].DigestAlgo, DigestSHA256, DigestMD5)
	}
	if n := len(files["testapp"]); n != 306 {
		t.Errorf("testapp has %d files, want 306", n)
	}
	for path, want := range map[string]string{
		"/usr/share/testapp":           "",
		"/usr/share/testapp/lib":       "",
		"/usr/share/testapp/index.php": "997a5870d35aa4833a67c56ad8c1cfa640d73156ddd17c39482ffc613e9eeee4", // sha256sum
		"/usr/share/testapp/locale/messages-with-a-long-name-300.txt": "981a7a55809f39ae4479b0c15360ac1bb2d538966469858a67c50bd3aa263470",
	} {
		if got, ok := files["testapp"][path]; !ok || got != want {
			t.Errorf("testapp's %s: digest %q (listed %v), want %q", path, got, ok, want)
		}
	}
	if got := files["oldapp"]["/usr/share/oldapp/readme.txt"]; got != "6697c8281b16fcb831d40033e1ccff7f" { // md5sum
		t.Errorf("oldapp's readme.txt: digest %q", got)
	}
}

// A database cut short, or with any byte of its first pages changed, fails or reads; it never
// panics, and one cut short of a page its Packages table needs fails.
func TestReadDamaged(t *testing.T) {
	data := readFixture(t)
	whole, err := readAll(data)
	if err != nil {
		t.Fatal(err)
	}
	// The last page the table's rows need.
	db, err := openSQLite(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	root, err := db.tableRoot("Packages")
	if err != nil {
		t.Fatal(err)
	}
	s := &scan{db: db, seen: visits{}, fn: func([]byte) error { return nil }}
	if err := s.tree(root, 0); err != nil {
		t.Fatal(err)
	}
	last := int(slices.Max(slices.Collect(maps.Keys(s.seen))))
	if last < 4 {
		t.Fatalf("the table's last page is %d: the fixture has no overflow pages", last)
	}
	for n := 0; n <= len(data); n += db.pageSize / 2 {
		pkgs, err := readAll(data[:n])
		switch {
		case n < last*db.pageSize && err == nil:
			t.Errorf("cut at %d bytes, short of page %d, the database reads", n, last)
		case err == nil && !reflect.DeepEqual(pkgs, whole):
			t.Errorf("cut at %d bytes, the database reads otherwise: %v", n, pkgs)
		}
	}
	for off := 0; off < 3*db.pageSize; off += 7 {
		bad := slices.Clone(data)
		bad[off] ^= 0xa5
		_, _ = readAll(bad) // only that it returns is tested
	}
}

// db builds a small database file of pages of 512 bytes, for the shapes of damage the fixture
// does not have.
type db struct{ pages [][]byte }

const testPage = 512

// add appends a page and returns its number.
func (d *db) add(p []byte) uint32 {
	d.pages = append(d.pages, p)
	return uint32(len(d.pages))
}

func (d *db) bytes() []byte {
	out := make([]byte, 0, len(d.pages)*testPage)
	for _, p := range d.pages {
		out = append(out, p...)
	}
	h := out[:100]
	copy(h, sqliteMagic)
	binary.BigEndian.PutUint16(h[16:], testPage)
	h[18], h[19] = 1, 1
	binary.BigEndian.PutUint32(h[28:], uint32(len(d.pages)))
	binary.BigEndian.PutUint32(h[56:], 1)
	return out
}

// page lays out a b-tree page of kind with cells; first leaves room for the file's header;
// right is an interior page's right-most child.
func page(kind byte, first bool, right uint32, cells ...[]byte) []byte {
	p := make([]byte, testPage)
	hdr := 0
	if first {
		hdr = 100
	}
	p[hdr] = kind
	binary.BigEndian.PutUint16(p[hdr+3:], uint16(len(cells)))
	ptrs := hdr + 8
	if kind == 0x05 {
		binary.BigEndian.PutUint32(p[hdr+8:], right)
		ptrs = hdr + 12
	}
	end := testPage
	for i, c := range cells {
		end -= len(c)
		copy(p[end:], c)
		binary.BigEndian.PutUint16(p[ptrs+2*i:], uint16(end))
	}
	binary.BigEndian.PutUint16(p[hdr+5:], uint16(end))
	return p
}

func putVarint(b []byte, v uint64) []byte {
	// Values under 2^56 only: seven bits a byte, the high bit on all but the last.
	var tmp []byte
	for {
		tmp = append(tmp, byte(v&0x7f))
		v >>= 7
		if v == 0 {
			break
		}
	}
	for i := len(tmp) - 1; i >= 0; i-- {
		c := tmp[i]
		if i > 0 {
			c |= 0x80
		}
		b = append(b, c)
	}
	return b
}

// record encodes columns: nil, int64 (as 4 bytes), string or []byte.
func record(cols ...any) []byte {
	var types, body []byte
	for _, c := range cols {
		switch v := c.(type) {
		case nil:
			types = putVarint(types, 0)
		case int64:
			types = putVarint(types, 4)
			body = binary.BigEndian.AppendUint32(body, uint32(v))
		case string:
			types = putVarint(types, uint64(13+2*len(v)))
			body = append(body, v...)
		case []byte:
			types = putVarint(types, uint64(12+2*len(v)))
			body = append(body, v...)
		}
	}
	return append(append(putVarint(nil, uint64(len(types)+1)), types...), body...)
}

// leafCell is a table leaf cell of rowid holding rec whole.
func leafCell(rowid uint64, rec []byte) []byte {
	return append(putVarint(putVarint(nil, uint64(len(rec))), rowid), rec...)
}

// schema is page 1 naming the table Packages at page root.
func schema(root uint32) []byte {
	return page(0x0d, true, 0, leafCell(1, record("table", "Packages", "Packages", int64(root), "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)")))
}

// entry is one tag of a header being built.
type entry struct {
	tag, typ, count uint32
	data            []byte
}

// buildHeader lays out a header of entries, data in their order.
func buildHeader(entries ...entry) []byte {
	var index, data []byte
	for _, e := range entries {
		for e.typ == typeInt32 && len(data)%4 != 0 {
			data = append(data, 0)
		}
		for _, v := range []uint32{e.tag, e.typ, uint32(len(data)), e.count} {
			index = binary.BigEndian.AppendUint32(index, v)
		}
		data = append(data, e.data...)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(len(entries)))
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	return append(append(out, index...), data...)
}

func str(tag uint32, s string) entry {
	return entry{tag, typeString, 1, append([]byte(s), 0)}
}

func strs(tag uint32, ss ...string) entry {
	var b []byte
	for _, s := range ss {
		b = append(append(b, s...), 0)
	}
	return entry{tag, typeStringArray, uint32(len(ss)), b}
}

func ints(tag uint32, vs ...uint32) entry {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return entry{tag, typeInt32, uint32(len(vs)), b}
}

// appHeader is a header of two files in two directories.
func appHeader() []byte {
	return buildHeader(
		str(tagName, "app"),
		strs(tagBasenames, "index.php", "app"),
		strs(tagDirnames, "/srv/app/", "/srv/"),
		ints(tagDirIndexes, 0, 1),
		strs(tagFileDigests, strings.Repeat("ab", 32), ""),
		ints(tagFileDigestAlgo, DigestSHA256),
	)
}

// smallDB is a database of one package, app, whose header fits a page.
func smallDB() []byte {
	var d db
	d.add(schema(2))
	d.add(page(0x0d, false, 0, leafCell(1, record(nil, appHeader()))))
	return d.bytes()
}

func TestReadBuilt(t *testing.T) {
	pkgs, err := readAll(smallDB())
	if err != nil || len(pkgs) != 1 {
		t.Fatalf("%v, %v", pkgs, err)
	}
	want := []File{{"/srv/app/index.php", strings.Repeat("ab", 32)}, {"/srv/app", ""}}
	if p := pkgs[0]; p.Name != "app" || p.DigestAlgo != DigestSHA256 || !slices.Equal(p.Files, want) {
		t.Errorf("got %+v", p)
	}
}

// Damage to the file's structure fails the read with ErrCorrupt: no loop, no panic, no page
// read twice.
func TestReadCorrupt(t *testing.T) {
	big := bytes.Repeat([]byte{'x'}, 3*testPage) // a header too large for one page
	for name, build := range map[string]func() []byte{
		"overflow chain loops": func() []byte {
			var d db
			d.add(schema(2))
			rec := record(nil, big)
			local := (&sqliteDB{usable: testPage}).localPayload(len(rec))
			cell := append(putVarint(putVarint(nil, uint64(len(rec))), 1), rec[:local]...)
			cell = binary.BigEndian.AppendUint32(cell, 3)
			d.add(page(0x0d, false, 0, cell))
			over := make([]byte, testPage)
			binary.BigEndian.PutUint32(over, 3) // itself
			d.add(over)
			d.add(make([]byte, testPage))
			d.add(make([]byte, testPage))
			d.add(make([]byte, testPage))
			return d.bytes()
		},
		"interior page its own child": func() []byte {
			var d db
			d.add(schema(2))
			d.add(page(0x05, false, 2))
			return d.bytes()
		},
		"child page past the file": func() []byte {
			var d db
			d.add(schema(2))
			d.add(page(0x05, false, 99))
			return d.bytes()
		},
		"table's root past the file": func() []byte {
			var d db
			d.add(schema(7))
			return d.bytes()
		},
		"no Packages table": func() []byte {
			var d db
			d.add(page(0x0d, true, 0, leafCell(1, record("table", "Names", "Names", int64(1), ""))))
			return d.bytes()
		},
		"index page in a table": func() []byte {
			var d db
			d.add(schema(2))
			d.add(page(0x0a, false, 0))
			return d.bytes()
		},
		"row without a blob": func() []byte {
			var d db
			d.add(schema(2))
			d.add(page(0x0d, false, 0, leafCell(1, record(nil, "text"))))
			return d.bytes()
		},
		"cell pointer in the header": func() []byte {
			var d db
			d.add(schema(2))
			p := page(0x0d, false, 0, leafCell(1, record(nil, appHeader())))
			binary.BigEndian.PutUint16(p[8:], 2)
			d.add(p)
			return d.bytes()
		},
		"page size not a power of 2": func() []byte {
			b := smallDB()
			binary.BigEndian.PutUint16(b[16:], 1000)
			return b
		},
		"UTF-16": func() []byte {
			b := smallDB()
			binary.BigEndian.PutUint32(b[56:], 2)
			return b
		},
		"not sqlite": func() []byte { return append([]byte("SQLite format 2\x00"), make([]byte, 1000)...) },
	} {
		t.Run(name, func(t *testing.T) {
			pkgs, err := readAll(build())
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("%d packages, error %v; want ErrCorrupt", len(pkgs), err)
			}
		})
	}
}

// A deep but sound tree reads whole; past maxDepth it is refused, not recursed into.
func TestReadDepth(t *testing.T) {
	for _, levels := range []int{3, maxDepth + 2} {
		var d db
		d.add(schema(2))
		for i := range levels {
			d.add(page(0x05, false, uint32(3+i)))
		}
		d.add(page(0x0d, false, 0, leafCell(1, record(nil, appHeader()))))
		pkgs, err := readAll(d.bytes())
		if levels <= maxDepth && (err != nil || len(pkgs) != 1) {
			t.Errorf("%d levels: %d packages, %v", levels, len(pkgs), err)
		}
		if levels > maxDepth && !errors.Is(err, ErrCorrupt) {
			t.Errorf("%d levels: %v, want ErrCorrupt", levels, err)
		}
	}
}

func TestParseHeader(t *testing.T) {
	name := str(tagName, "app")
	for _, tc := range []struct {
		name    string
		blob    []byte
		want    []File // nil: an error
		wantErr bool
	}{
		{"no files", buildHeader(name), nil, false},
		{"no digests", buildHeader(name, strs(tagBasenames, "a"), strs(tagDirnames, "/d/"), ints(tagDirIndexes, 0)), []File{{"/d/a", ""}}, false},
		{"dribble replaces", buildHeader(name, strs(tagBasenames, "a"), strs(tagDirnames, "/d/"), ints(tagDirIndexes, 0), strs(tagDirnames, "/e/")), []File{{"/e/a", ""}}, false},
		{"directory index past the names", buildHeader(name, strs(tagBasenames, "a"), strs(tagDirnames, "/d/"), ints(tagDirIndexes, 1)), nil, true},
		{"fewer indexes than files", buildHeader(name, strs(tagBasenames, "a", "b"), strs(tagDirnames, "/d/"), ints(tagDirIndexes, 0)), nil, true},
		{"fewer digests than files", buildHeader(name, strs(tagBasenames, "a", "b"), strs(tagDirnames, "/d/"), ints(tagDirIndexes, 0, 0), strs(tagFileDigests, "")), nil, true},
		{"no name", buildHeader(strs(tagBasenames, "a")), nil, true},
		{"name of the wrong type", buildHeader(strs(tagName, "app")), nil, true},
		{"count past the data", buildHeader(name, entry{tagBasenames, typeStringArray, 1 << 30, []byte("a\x00")}), nil, true},
		{"unterminated", buildHeader(name, entry{tagBasenames, typeStringArray, 1, []byte("a")}), nil, true},
		{"integers past the data", buildHeader(name, entry{tagDirIndexes, typeInt32, 1 << 30, make([]byte, 4)}, strs(tagBasenames, "a"), strs(tagDirnames, "/")), nil, true},
		{"intro longer than the blob", buildHeader(name)[:20], nil, true},
		{"no tags", []byte{0, 0, 0, 0, 0, 0, 0, 0}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseHeader(tc.blob, nil)
			if tc.wantErr {
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("%+v, %v; want ErrCorrupt", p, err)
				}
				return
			}
			if err != nil || p.Name != "app" || !slices.Equal(p.Files, tc.want) {
				t.Errorf("%+v, %v; want the files %v", p, err, tc.want)
			}
		})
	}
}

// FuzzRPMDB reads anything as a database: no panic, and every package read has a name.
func FuzzRPMDB(f *testing.F) {
	f.Add(readFixture(f))
	f.Add(smallDB())
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := readAll(data) // anything may fail; nothing may panic
		for _, p := range pkgs {
			if p.Name == "" {
				t.Fatalf("a package without a name: %+v", p)
			}
		}
	})
}

// FuzzRPMHeader parses anything as a header: no panic, and every file it finds is named from
// the header's own strings.
func FuzzRPMHeader(f *testing.F) {
	data := readFixture(f)
	db, err := openSQLite(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		f.Fatal(err)
	}
	root, err := db.tableRoot("Packages")
	if err != nil {
		f.Fatal(err)
	}
	if err := db.scanTable(root, func(rec []byte) error {
		cols, err := columns(rec, 2)
		if err == nil {
			blob, _ := cols[1].blob()
			f.Add(slices.Clone(blob))
		}
		return err
	}); err != nil {
		f.Fatal(err)
	}
	f.Add(appHeader())
	f.Fuzz(func(t *testing.T, blob []byte) {
		p, err := ParseHeader(blob, nil)
		if err != nil {
			return
		}
		if p.Name == "" {
			t.Fatal("a package without a name")
		}
		for _, file := range p.Files {
			if len(file.Path)+len(file.Digest) > len(blob) {
				t.Fatalf("file %q, digest %q: more than the header holds", file.Path, file.Digest)
			}
		}
	})
}

// keep picks the directories whose files are made into paths; the header is checked whole all
// the same, so a damaged entry in a directory not kept still fails it.
func TestParseHeaderKeep(t *testing.T) {
	var asked []string
	keep := func(dir string) bool { asked = append(asked, dir); return dir == "/srv/" }
	p, err := ParseHeader(appHeader(), keep)
	if err != nil {
		t.Fatal(err)
	}
	if want := []File{{"/srv/app", ""}}; !slices.Equal(p.Files, want) {
		t.Errorf("files %v, want %v", p.Files, want)
	}
	if want := []string{"/srv/app/", "/srv/"}; !slices.Equal(asked, want) {
		t.Errorf("asked about %q, want each directory once: %q", asked, want)
	}
	bad := buildHeader(str(tagName, "app"), strs(tagBasenames, "a", "b"), strs(tagDirnames, "/srv/", "/usr/"), ints(tagDirIndexes, 0, 2))
	if _, err := ParseHeader(bad, keep); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a directory index past the names, in a file not kept: %v", err)
	}
}
