package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

type junitCounts struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
}

type junitDoc struct {
	XMLName xml.Name `xml:"testsuites"`
	junitCounts
	Suites []struct {
		Name string `xml:"name,attr"`
		junitCounts
		Cases []struct {
			Class   string `xml:"classname,attr"`
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// readJUnit parses a JUnit report, checks that each count it gives is the number of test cases
// it lists, and that it holds only what XML 1.0 may carry.
func readJUnit(t *testing.T, out []byte) junitDoc {
	t.Helper()
	var doc junitDoc
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if !utf8.Valid(out) || bytes.ContainsFunc(out, func(c rune) bool { return c < ' ' && c != '\n' }) {
		t.Errorf("the document holds bytes XML cannot carry:\n%q", out)
	}
	var all junitCounts
	for _, s := range doc.Suites {
		var n junitCounts
		for _, c := range s.Cases {
			n.Tests++
			switch {
			case c.Failure != nil:
				n.Failures++
			case c.Error != nil:
				n.Errors++
			case c.Skipped != nil:
				n.Skipped++
			}
		}
		if n != s.junitCounts {
			t.Errorf("suite %s says %+v, lists %+v", s.Name, s.junitCounts, n)
		}
		all.Tests += n.Tests
		all.Failures += n.Failures
		all.Errors += n.Errors
		all.Skipped += n.Skipped
	}
	if all != doc.junitCounts {
		t.Errorf("testsuites says %+v, its suites list %+v", doc.junitCounts, all)
	}
	return doc
}

// The JUnit report of a real tree with hostile names parses as XML, counts what the JSON report
// counts, and names each file, escaped, as text.
func TestJUnitHostileNames(t *testing.T) {
	r, root := hostileTree(t, hostileNames)
	doc := readJUnit(t, write(t, "junit", r))
	sum := jsonReportOf(t, r).Summary
	if float64(doc.Failures) != sum["findings"] || float64(doc.Errors) != sum["errors"] || len(doc.Suites) != 1 || doc.Suites[0].Name != root {
		t.Errorf("failures %d errors %d, suites %d; JSON summary %v", doc.Failures, doc.Errors, len(doc.Suites), sum)
	}
	names := map[string]bool{}
	for _, c := range doc.Suites[0].Cases {
		if c.Failure == nil || c.Failure.Message == "" || c.Failure.Type == "" || !strings.Contains(c.Failure.Body, "fix: ") {
			t.Errorf("%s %s: failure %+v", c.Class, c.Name, c.Failure)
			continue
		}
		if c.Class == "world-writable" {
			names[c.Name] = true
			if c.Failure.Type != "critical" || !strings.Contains(c.Failure.Body, "file 0666 (rw-rw-rw-) @evil:-evil\n") {
				t.Errorf("%s: type %s, body %q", c.Name, c.Failure.Type, c.Failure.Body)
			}
		}
	}
	for _, name := range hostileNames {
		if !names[Escape(name)] {
			t.Errorf("no world-writable test case named %s", Escape(name))
		}
	}
	for _, name := range []string{"<script>alert(1)<\\script>", "]]>", "a&amp;b", `q"u"ote.php`} {
		if !names[name] {
			t.Errorf("%q is not a test case's name as it is", name)
		}
	}
}

// A clean audit is a green run: a passing test case per root. Roots with findings are suites
// of their own, counted apart; the paths not read are errors, the directories not entered
// skipped; every string of the report hostile.
func TestJUnitSuites(t *testing.T) {
	// Two sites in a directory the web server may search, one without findings.
	tmp := t.TempDir()
	for _, dir := range []string{tmp, filepath.Dir(tmp)} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	clean := site(t, tmp, nil)
	index := filepath.Join(clean, "index.html")
	if err := os.WriteFile(index, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(index, 0o644); err != nil {
		t.Fatal(err)
	}
	dirtyRoot := site(t, t.TempDir(), []string{"index.html", "b.php"})
	if err := os.Chmod(filepath.Dir(dirtyRoot), 0o700); err != nil {
		t.Fatal(err)
	}
	doc := readJUnit(t, write(t, "junit", auditRoots(t, clean)))
	if len(doc.Suites) != 1 || doc.Tests != 1 || doc.Failures+doc.Errors+doc.Skipped != 0 || doc.Suites[0].Cases[0].Name != "no findings" {
		t.Errorf("clean audit: %+v", doc)
	}

	// The second site's directory is not the web server's to search, a finding of the second
	// root's walk, and its own files are world-writable.
	both := auditRoots(t, clean, dirtyRoot)
	doc = readJUnit(t, write(t, "junit", both))
	dirty := auditRoots(t, dirtyRoot).NumFindings()
	if len(doc.Suites) != 2 || doc.Suites[0].Name != clean || doc.Suites[0].Tests != 1 || doc.Suites[0].Failures != 0 ||
		doc.Suites[1].Name != dirtyRoot || doc.Suites[1].Failures != dirty || doc.Suites[1].Tests != dirty || dirty != 3 || dirty != both.NumFindings() {
		t.Errorf("a clean root and one with %d findings: %+v", dirty, doc)
	}

	for _, n := range []int{0, 1, 7} {
		j := 0
		r := hostileReport(n, func() string { j = (j + 1) % len(hostile); return hostile[j] })
		doc = readJUnit(t, write(t, "junit", r))
		sum := jsonReportOf(t, r).Summary
		if float64(doc.Failures) != sum["findings"] || float64(doc.Errors) != sum["errors"] || doc.Skipped != len(r.Skipped) {
			t.Errorf("hostile report of %d findings: %+v, JSON summary %v", n, doc.junitCounts, sum)
		}
		for _, s := range doc.Suites {
			for _, c := range s.Cases {
				if c.Error != nil && (c.Class != "not-read" || c.Error.Message != Visible(r.Errors[0].Err.Error())) {
					t.Errorf("error case %s %s: %q", c.Class, c.Name, c.Error.Message)
				}
			}
		}
		if t.Failed() {
			t.Logf("report %d: roots %s", n, strconv.Quote(strings.Join(r.Roots, "|")))
		}
	}
}
