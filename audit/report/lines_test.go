package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/policy"
)

// hostileNames are file names a user who may upload to a site can choose: what a spreadsheet
// runs as a formula, what CSV and XML quote, line breaks, control characters, invalid UTF-8.
var hostileNames = []string{
	"=HYPERLINK(\"x\";\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "'=quoted",
	"a,b.php", `q"u"ote.php`, "new\nline.php", "crlf\r\n.php", "<script>alert(1)<\\script>",
	"a&amp;b", "]]>", "ctl\x1b[31m\x07", "bad\xff\xfeutf8", "rtl\u202eoverride", "\"=lead",
	"plain.php",
}

// hostileTree writes each of names as a world-writable file in a fresh root, so each is a
// finding, and audits it.
func hostileTree(t *testing.T, names []string) (*audit.Report, string) {
	t.Helper()
	root := site(t, t.TempDir(), names)
	return auditRoots(t, root), root
}

// site makes dir/site, with each of names a world-writable file in it, and returns its path.
func site(t *testing.T, dir string, names []string) string {
	t.Helper()
	root := filepath.Join(dir, "site")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o666); err != nil { // the umask lies
			t.Fatal(err)
		}
	}
	return root
}

// auditRoots audits roots as www-data. The running user and its group are named as a
// spreadsheet would run them, as a hostile /etc/passwd of an audited system may name them.
func auditRoots(t *testing.T, roots ...string) *audit.Report {
	t.Helper()
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	accounts := access.NewAccounts(
		[]access.User{{Name: "@evil", UID: uid, GID: gid}, {Name: "www-data", UID: 33, GID: 33}},
		[]access.Group{{Name: "-evil", GID: gid}, {Name: "www-data", GID: 33}})
	web := &access.WebUser{Name: "www-data", UID: 33, GID: 33, Groups: []uint32{33}, Source: "flag", Role: access.RoleWeb}
	a := &audit.Auditor{Fs: afero.NewOsFs(), Policy: policy.Default(), Accounts: accounts, WebUser: web, Jobs: 1}
	r, err := a.Run(context.Background(), roots)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// write writes r in a format.
func write(t *testing.T, format string, r *audit.Report) []byte {
	t.Helper()
	w, err := Lookup(format)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := w(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jsonReportOf is the JSON report of r, as a program reads it.
func jsonReportOf(t *testing.T, r *audit.Report) (doc struct {
	Summary  map[string]any   `json:"summary"`
	Findings []map[string]any `json:"findings"`
	Errors   []map[string]any `json:"errors"`
	Skipped  []map[string]any `json:"skipped"`
}) {
	t.Helper()
	if err := json.Unmarshal(write(t, "json", r), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// Hostile file names on a real tree make CSV rows that a CSV reader parses whole, where no cell
// begins with what a spreadsheet runs as a formula, and each path is given back exactly.
func TestCSVInjection(t *testing.T) {
	r, root := hostileTree(t, hostileNames)
	out := write(t, "csv", r)
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll() // fails on a row of another length
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if strings.Join(rows[0], ",") != "rule,severity,path,type,mode,owner,group,message,fingerprint" {
		t.Errorf("header row %q", rows[0])
	}
	if lines := bytes.Count(out, []byte("\n")); lines != len(rows) {
		t.Errorf("%d lines for %d rows: a cell holds a line break", lines, len(rows))
	}
	want := map[string]bool{}
	for _, name := range hostileNames {
		want[filepath.Join(root, name)] = true
	}
	got := map[string]bool{}
	for _, row := range rows[1:] {
		for i, cell := range row {
			if cell != "" && strings.ContainsAny(cell[:1], "=+-@\t\r") {
				t.Errorf("row %q: %s %q begins with a formula character", row, rows[0][i], cell)
			}
			if strings.ContainsFunc(cell, func(c rune) bool { return c < ' ' || c == 0x7f }) {
				t.Errorf("row %q: %s %q holds a control character", row, rows[0][i], cell)
			}
		}
		path := row[2]
		if strings.HasPrefix(path, `"`) {
			if path, err = strconv.Unquote(path); err != nil {
				t.Errorf("path cell %s: %v", row[2], err)
			}
		}
		if row[0] == string(policy.WorldWritable) {
			got[path] = true
			if row[5] != "'@evil" || row[6] != "'-evil" {
				t.Errorf("%q: owner %q, group %q; want '@evil and '-evil", path, row[5], row[6])
			}
		}
	}
	for p := range want {
		if !got[p] {
			t.Errorf("no world-writable row gives back the path %q", p)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d world-writable paths, want %d", len(got), len(want))
	}
	if n := len(rows) - 1; n != r.NumFindings() {
		t.Errorf("%d rows, %d findings", n, r.NumFindings())
	}
}

// A path that is not absolute, as an archive audit gives one, is quoted where a spreadsheet
// would run it or where it begins with the quote that marks a quoted path, and given back.
func TestCSVPath(t *testing.T) {
	for _, p := range []string{"=1+1", "+x", "-x", "@x", "\tx", "\rx", `"x"`, "'=x", "a/b", "/srv/a\nb", "x\xff"} {
		cell := csvCell(csvPath(p))
		switch {
		case strings.ContainsAny(cell[:1], formulaStart):
			t.Errorf("%q: cell %q begins with a formula character", p, cell)
		case strings.HasPrefix(cell, `"`):
			if back, err := strconv.Unquote(cell); err != nil || back != p {
				t.Errorf("%q: cell %q unquotes to %q, %v", p, cell, back, err)
			}
		case cell != p:
			t.Errorf("%q: cell %q, neither quoted nor the path", p, cell)
		}
	}
	if c := csvPath("plain/a b,c.php"); c != "plain/a b,c.php" {
		t.Errorf("a plain path is written %q", c)
	}
}

// jsonLines reads a JSON lines report line by line, each line one whole JSON object.
func jsonLines(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var records []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("line %d: %v: %q", len(records)+1, err, sc.Text())
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("line %d holds more than one object: %q", len(records)+1, sc.Text())
		}
		records = append(records, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return records
}

// The JSON lines report, read line by line, is a header, the JSON report's findings, errors and
// skipped directories with the same fields, and a summary that counts them, last: on a real tree
// with hostile names, and on reports every string of which is hostile.
func TestJSONLines(t *testing.T) {
	tree, root := hostileTree(t, hostileNames)
	reports := map[string]*audit.Report{"real tree": tree}
	for _, n := range []int{0, 1, 7} {
		j := 0
		reports["hostile "+strconv.Itoa(n)] = hostileReport(n, func() string { j = (j + 1) % len(hostile); return hostile[j] })
	}
	for name, r := range reports {
		t.Run(name, func(t *testing.T) {
			out := write(t, "jsonl", r)
			records := jsonLines(t, out)
			doc := jsonReportOf(t, r)
			if len(records) < 2 || records[0]["record"] != "header" || records[len(records)-1]["record"] != "summary" {
				t.Fatalf("records do not run from a header to a summary:\n%s", out)
			}
			head, sum := records[0], records[len(records)-1]
			if head["schema"] != LinesSchema || head["policy"] != r.Policy || head["complete"] != r.Complete() {
				t.Errorf("header %v", head)
			}
			for _, key := range []string{"findings", "errors", "summary", "skipped"} {
				if _, ok := head[key]; ok {
					t.Errorf("the header has %q", key)
				}
			}
			want := []any{"finding", "error", "skipped"}
			parts := [][]map[string]any{doc.Findings, doc.Errors, doc.Skipped}
			at := 1
			for k, part := range parts {
				for i, jf := range part {
					rec := records[at]
					if rec["record"] != want[k] {
						t.Fatalf("record %d is a %v, want the %s %d of the JSON report", at, rec["record"], want[k], i)
					}
					delete(rec, "record")
					if a, b := mustJSON(t, rec), mustJSON(t, jf); a != b {
						t.Errorf("%s %d:\n%s\nJSON report:\n%s", want[k], i, a, b)
					}
					at++
				}
			}
			if at != len(records)-1 {
				t.Errorf("%d records between the header and the summary, want %d", len(records)-2, at-1)
			}
			if sum["findings"] != float64(len(doc.Findings)) || sum["findings"] != float64(r.NumFindings()) || sum["complete"] != r.Complete() {
				t.Errorf("summary %v; %d findings", sum, len(doc.Findings))
			}
			delete(sum, "record")
			delete(sum, "complete")
			if a, b := mustJSON(t, sum), mustJSON(t, doc.Summary); a != b {
				t.Errorf("summary %s, JSON report's %s", a, b)
			}
			if bytes.Contains(out, []byte(`\u003c`)) {
				t.Error("HTML characters are escaped")
			}
		})
	}
	// A name with a line break is one record on one line, its path whole.
	records := jsonLines(t, write(t, "jsonl", tree))
	found := false
	for _, rec := range records {
		found = found || rec["path"] == filepath.Join(root, "new\nline.php")
	}
	if !found {
		t.Error("no record of new\\nline.php")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
