package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
	"golang.org/x/sys/unix"
)

// randomAuditor audits the random trees of fixture.RandomRoots on fsys as www-data, with the
// default policy, a directory at a time.
func randomAuditor(fsys afero.Fs) *audit.Auditor {
	web := &access.WebUser{Name: "www-data", UID: 33, GID: 33, Groups: []uint32{33}, Source: "flag", Role: access.RoleWeb}
	accounts := access.NewAccounts([]access.User{{Name: "root"}, {Name: "www-data", UID: 33, GID: 33}, {Name: "deploy", UID: 1000, GID: 1000}},
		[]access.Group{{Name: "root"}, {Name: "www-data", GID: 33}, {Name: "deploy", GID: 1000}})
	return &audit.Auditor{Fs: fsys, Policy: policy.Default(), Accounts: accounts, WebUser: web, Jobs: 1}
}

// baselineAuditor is randomAuditor, spooling findings as webperm audit does.
func baselineAuditor(fsys afero.Fs) *audit.Auditor {
	a := randomAuditor(fsys)
	a.Spool = true
	return a
}

// writeBaseline writes r's JSON report to a file in dir and returns its path.
func writeBaseline(t *testing.T, dir string, r *audit.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := JSON(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "baseline.json")
	if err := os.WriteFile(name, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// mutate changes some entries below roots as a site changes between two nightly audits: modes
// and owners changed, files removed, files added.
func mutate(t *testing.T, rng *rand.Rand, fsys afero.Fs, roots []string) {
	t.Helper()
	var paths []string
	for _, root := range roots {
		err := afero.Walk(fsys, root, func(p string, _ fs.FileInfo, err error) error {
			if err == nil && p != root {
				paths = append(paths, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	modes := []fs.FileMode{0o644, 0o600, 0o666, 0o755, 0o777, 0o700}
	for _, p := range paths {
		switch rng.IntN(12) {
		case 0:
			fsys.Chmod(p, modes[rng.IntN(len(modes))])
		case 1:
			fsys.Chown(p, []int{0, 33, 1000}[rng.IntN(3)], []int{0, 33, 1000}[rng.IntN(3)])
		case 2:
			if fi, err := fsys.Stat(p); err == nil && !fi.IsDir() {
				fsys.Remove(p)
			}
		case 3:
			if fi, err := fsys.Stat(p); err == nil && fi.IsDir() {
				n := filepath.Join(p, fmt.Sprintf("new%d.php", rng.IntN(1000)))
				afero.WriteFile(fsys, n, nil, 0o666)
				fsys.Chmod(n, 0o666)
			}
		}
	}
}

// baselineKey is what a finding is matched by: its path and fingerprint.
func baselineKey(path, fp string) string { return path + "\x00" + fp }

// TestBaselineAgreesWithSets compares the streaming merge with the plain answer, sets of findings
// held in memory, on random sites audited one to three roots at a time, changed, and audited
// again: each finding known or new, the counts, and the resolved ones listed.
func TestBaselineAgreesWithSets(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 1))
	dir := t.TempDir()
	var seen [3]int
	for n := range 300 {
		fsys := fixture.NewMemFs()
		roots := fixture.RandomRoots(t, rng, fsys)
		a := baselineAuditor(fsys)
		before, err := a.Run(context.Background(), roots)
		if err != nil {
			t.Fatalf("tree %d: %v", n, err)
		}
		file := writeBaseline(t, dir, before)
		before.Close()
		mutate(t, rng, fsys, roots)
		after, err := a.Run(context.Background(), roots)
		if err != nil {
			t.Fatalf("tree %d: %v", n, err)
		}
		b, err := OpenBaseline(file, after)
		if err != nil {
			t.Fatalf("tree %d: %v", n, err)
		}
		checkAgainstSets(t, n, file, after, b)
		seen[0] += b.New
		seen[1] += b.Known
		seen[2] += b.Resolved
		b.Close()
		after.Close()
	}
	if seen[0] < 300 || seen[1] < 300 || seen[2] < 300 {
		t.Errorf("new %d, known %d, resolved %d in all: the random sites do not exercise the merge", seen[0], seen[1], seen[2])
	}
}

func checkAgainstSets(t *testing.T, n int, file string, r *audit.Report, b *Baseline) {
	t.Helper()
	var doc struct {
		Findings []jsonFinding `json:"findings"`
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	left := map[string]int{}
	for _, f := range doc.Findings {
		left[baselineKey(f.Path, f.Fingerprint)]++
	}
	known := 0
	err = r.EachFinding(func(i int, f *audit.Finding) error {
		k := baselineKey(f.Entry.Path, r.Fingerprint(f))
		want := left[k] > 0
		if want {
			left[k]--
			known++
		}
		if b.IsKnown(i) != want {
			t.Errorf("tree %d: %s %s: known %v, want %v", n, f.Rule, f.Entry.Path, b.IsKnown(i), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	resolved := 0
	for _, c := range left {
		resolved += c
	}
	if b.Known != known || b.New != r.NumFindings()-known || b.Resolved != resolved {
		t.Errorf("tree %d: new %d, known %d, resolved %d; want %d, %d, %d", n, b.New, b.Known, b.Resolved, r.NumFindings()-known, known, resolved)
	}
	listed := 0
	err = b.EachResolved(func(f *audit.Finding) error {
		k := baselineKey(f.Entry.Path, (&audit.Report{Roots: r.Roots}).Fingerprint(f))
		if left[k] == 0 {
			t.Errorf("tree %d: %s %s listed resolved, and it is not", n, f.Rule, f.Entry.Path)
		}
		left[k]--
		listed++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if listed != resolved {
		t.Errorf("tree %d: %d listed resolved, want %d", n, listed, resolved)
	}
}

// TestBaselineOfTheSameTreeKnowsAll audits a tree twice: every finding of the second audit is
// known, none is resolved, and none of the first report's fingerprints had to differ from the
// second's.
func TestBaselineOfTheSameTreeKnowsAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 2))
	for n := range 50 {
		fsys := fixture.NewMemFs()
		roots := fixture.RandomRoots(t, rng, fsys)
		a := baselineAuditor(fsys)
		first, err := a.Run(context.Background(), roots)
		if err != nil {
			t.Fatal(err)
		}
		file := writeBaseline(t, t.TempDir(), first)
		second, err := a.Run(context.Background(), roots)
		if err != nil {
			t.Fatal(err)
		}
		b, err := OpenBaseline(file, second)
		if err != nil {
			t.Fatal(err)
		}
		if b.New != 0 || b.Resolved != 0 || b.Known != second.NumFindings() {
			t.Errorf("tree %d: new %d, known %d, resolved %d of %d findings: want all known", n, b.New, b.Known, b.Resolved, second.NumFindings())
		}
		b.Close()
	}
}

// TestBaselineRefusals checks each baseline that cannot be compared with: an error that wraps
// ErrBaseline, names the file, and says what is wrong, at which line where it can.
func TestBaselineRefusals(t *testing.T) {
	fsys := fixture.NewMemFs()
	root := "/srv/site"
	if err := afero.WriteFile(fsys, root+"/a.php", nil, 0o666); err != nil {
		t.Fatal(err)
	}
	fsys.Chmod(root+"/a.php", 0o666)
	fsys.Chmod(root, 0o755)
	a := baselineAuditor(fsys)
	r, err := a.Run(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dir := t.TempDir()
	good := writeBaseline(t, dir, r)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, content string
		file          string // instead of content
		want          string
	}{
		{name: "missing", file: filepath.Join(dir, "none.json"), want: "no such file"},
		{name: "fifo", file: fifo, want: "not a regular file"},
		{name: "empty", content: "", want: "truncated"},
		{name: "not json", content: "webperm audit\n  roots /srv/site\n", want: ":1: not JSON"},
		{name: "a list", content: "[]", want: "want a JSON report, an object"},
		{name: "other schema", content: `{"schema": "sarif", "roots": ["/srv/site"], "findings": []}`, want: `schema "sarif"`},
		{name: "no findings", content: `{"schema": "webperm/report/v1", "roots": ["/srv/site"]}`, want: "no findings"},
		{name: "truncated", content: doc[:len(doc)*2/3], want: "truncated"},
		{name: "trailing garbage", content: doc + "{}", want: "more after the report's end"},
		{name: "renamed root", content: strings.Replace(doc, `"/srv/site"`, `"/srv/old-site"`, 1), want: `made for the roots "/srv/old-site", and this audit's are "/srv/site"`},
		{name: "finding without a path", content: strings.Replace(doc, `"path": "/srv/site/a.php"`, `"path": ""`, 1), want: "finding 1: rule, path, type and mode are all needed"},
		{name: "bad mode", content: strings.Replace(doc, `"mode": "0666"`, `"mode": "rw-rw-rw-"`, 1), want: "finding 1: mode"},
		{name: "mode a number", content: strings.Replace(doc, `"mode": "0666"`, `"mode": 666`, 1), want: "mode: want a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = filepath.Join(t.TempDir(), "baseline.json")
				if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			b, err := OpenBaseline(file, r)
			if err == nil {
				b.Close()
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrBaseline) || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q: want ErrBaseline naming %s and saying %q", err, file, tc.want)
			}
		})
	}
}

// TestBaselineOfNestedRoots refuses roots one of which holds another: their walks overlap.
func TestBaselineOfNestedRoots(t *testing.T) {
	fsys := fixture.NewMemFs()
	for _, d := range []string{"/srv/site/lib"} {
		if err := fsys.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	roots := []string{"/srv/site", "/srv/site/lib"}
	r, err := baselineAuditor(fsys).Run(context.Background(), roots)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	file := writeBaseline(t, t.TempDir(), r)
	if _, err := OpenBaseline(file, r); !errors.Is(err, ErrBaseline) || !strings.Contains(err.Error(), "lies in the root") {
		t.Errorf("error %v: want the nested roots refused", err)
	}
}

func TestComparePaths(t *testing.T) {
	ordered := []string{"/", "/a", "/a/b", "/a/b/c", "/a.txt", "/a0", "/ab", "/b"}
	for i := range ordered {
		for j := range ordered {
			got := comparePaths(ordered[i], ordered[j])
			if (got < 0) != (i < j) || (got == 0) != (i == j) {
				t.Errorf("comparePaths(%q, %q) = %d", ordered[i], ordered[j], got)
			}
		}
	}
	if !slices.IsSortedFunc(ordered, comparePaths) {
		t.Error("not sorted by comparePaths")
	}
}

func mkfifo(path string) error { return unix.Mkfifo(path, 0o600) }

// TestBaselineKnowsFactsTheJSONCarries audits nothing but compares a report with its own JSON
// report: every finding must be known, whatever facts its fingerprint holds. A finding whose rule
// judges an entry's ACL, SELinux label or a symlink's target (a name of any bytes, as a site user
// may give one) was new every night and resolved every night, since the baseline's findings were
// rebuilt without them.
func TestBaselineKnowsFactsTheJSONCarries(t *testing.T) {
	dir := t.TempDir()
	root := "/srv/site"
	acl := &walk.ACL{Entries: []walk.ACLEntry{
		{Tag: walk.ACLUserObj, Perm: 6}, {Tag: walk.ACLUser, ID: 33, Perm: 7}, {Tag: walk.ACLGroupObj, Perm: 4},
		{Tag: walk.ACLGroup, ID: 1000, Perm: 2}, {Tag: walk.ACLMask, Perm: 7}, {Tag: walk.ACLOther, Perm: 0},
	}}
	entry := func(name string, typ walk.Type) walk.Entry {
		return walk.Entry{Path: root + "/" + name, Type: typ, Mode: 0o644, UID: 1000, GID: 1000, OwnerKnown: true}
	}
	withACL := entry("acl.php", walk.TypeFile)
	withACL.ACL = acl
	labelled := entry("label.php", walk.TypeFile)
	labelled.Label = "system_u:object_r:httpd_sys_rw_content_t:s0"
	capable := entry("cap.bin", walk.TypeFile)
	capable.ACL = acl
	dangling := entry("link-bad", walk.TypeSymlink)
	dangling.LinkTarget = "/nowhere/\xff\xfe\n\"x"
	escaping := entry("link-out", walk.TypeSymlink)
	escaping.LinkTarget = "../../etc/\x80passwd"
	r := &audit.Report{Roots: []string{root}, Findings: []audit.Finding{
		{Rule: policy.ACLExtendsAccess, Severity: policy.High, Entry: withACL, Message: "acl"},
		{Rule: policy.SensitiveExposed, Severity: policy.High, Entry: capable, Message: "facts of every kind"},
		{Rule: policy.SELinuxLabel, Severity: policy.Medium, Entry: labelled, Message: "label"},
		{Rule: policy.DanglingSymlink, Severity: policy.Low, Entry: dangling, Message: "dangling"},
		{Rule: policy.SymlinkEscapesRoot, Severity: policy.Medium, Entry: escaping, Message: "escapes"},
	}}
	r.Findings[1].Rule = "some-rule-of-a-later-version" // held to every fact
	b, err := OpenBaseline(writeBaseline(t, dir, r), r)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i, f := range r.Findings {
		if !b.IsKnown(i) {
			t.Errorf("%s of %q is new against its own report", f.Rule, f.Entry.Path)
		}
	}
	if b.New != 0 || b.Known != len(r.Findings) || b.Resolved != 0 {
		t.Errorf("against its own report: %d new, %d known, %d resolved; want 0, %d, 0", b.New, b.Known, b.Resolved, len(r.Findings))
	}
}

// TestBaselineUnreadIsNotResolved compares a run that could not read a directory, or one file,
// with a baseline that has findings there: the audit cannot say they are gone, so they are not
// resolved (SARIF's "absent" closes a code scanning alert; monitoring counts them fixed), while a
// finding of a path it read and no longer has is.
func TestBaselineUnreadIsNotResolved(t *testing.T) {
	root := "/srv/site"
	finding := func(name string) audit.Finding {
		return audit.Finding{Rule: policy.WorldWritable, Severity: policy.Critical, Message: "world-writable",
			Entry: walk.Entry{Path: name, Type: walk.TypeFile, Mode: 0o666, OwnerKnown: true}}
	}
	before := &audit.Report{Roots: []string{root}, Findings: []audit.Finding{
		finding("/srv"), finding(root + "/a.php"), finding(root + "/fixed.php"), finding(root + "/locked/b.php"),
		finding(root + "/locked/deep/c.php"), finding(root + "/lost.php"), finding(root + "/locked.php"),
	}}
	file := writeBaseline(t, t.TempDir(), before)
	after := &audit.Report{Roots: []string{root}, Findings: []audit.Finding{finding(root + "/a.php")},
		Errors: []audit.WalkError{
			{Path: "/srv", Err: unix.EACCES}, // on the way: only itself unread
			{Path: root + "/locked", Err: unix.EACCES},
			{Path: root + "/lost.php", Err: unix.EIO},
		}}
	b, err := OpenBaseline(file, after)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var resolved []string
	if err := b.EachResolved(func(f *audit.Finding) error {
		resolved = append(resolved, f.Entry.Path)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{root + "/fixed.php", root + "/locked.php"}
	if !slices.Equal(resolved, want) || b.Resolved != len(want) || b.Known != 1 || b.New != 0 {
		t.Errorf("%d new, %d known, %d resolved %q; want 0, 1, %d %q", b.New, b.Known, b.Resolved, resolved, len(want), want)
	}
}

// TestBaselineOfARootNotUTF8 compares a report of a root whose name is not UTF-8 (a Latin-1
// "café" of an old host) with its own JSON report: the roots are the same, and so are the
// findings. The JSON report's roots held U+FFFD in the name's place, so such a root's baseline
// was refused as one of other roots on every run, and a root that is named with U+FFFD itself
// took another's baseline for its own.
func TestBaselineOfARootNotUTF8(t *testing.T) {
	root := "/srv/caf\xe9"
	finding := audit.Finding{Rule: policy.WorldWritable, Severity: policy.Critical, Message: "world-writable",
		Entry: walk.Entry{Path: root + "/index.html", Type: walk.TypeFile, Mode: 0o666}}
	r := &audit.Report{Roots: []string{"/srv/plain", root}, Findings: []audit.Finding{finding}}
	file := writeBaseline(t, t.TempDir(), r)
	b, err := OpenBaseline(file, r)
	if err != nil {
		t.Fatal(err)
	}
	if b.Known != 1 || b.New != 0 || b.Resolved != 0 {
		t.Errorf("against its own report: %d new, %d known, %d resolved; want 0, 1, 0", b.New, b.Known, b.Resolved)
	}
	b.Close()
	other := &audit.Report{Roots: []string{"/srv/plain", "/srv/caf\uFFFD"}}
	if b, err := OpenBaseline(file, other); !errors.Is(err, ErrBaseline) {
		b.Close()
		t.Errorf("a baseline of %q taken for one of %q: %v", root, other.Roots[1], err)
	}
}
