package report

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/walk"
)

// JUnit writes the report as JUnit XML, which CI systems (GitLab, Jenkins, GitHub's test
// reporters) list as test results: a <testsuite> per root, since a job audits one site or
// several and each is then a line of its own with its counts; in it a <testcase> per finding,
// classname the rule (Jenkins and GitLab group and filter by it) and name the path relative to
// the root, failed with the finding's message, its severity as the type, and what the text
// report says of it (type, mode, owner, fix) and its fingerprint in the body. A path not read is
// a test case in error (classname not-read), a directory not entered a skipped one (classname
// not-entered), and a root with neither findings nor errors has one passing test case, so a
// clean audit shows as a green run. Every name and message is shown with control characters,
// invalid UTF-8 and characters that print as nothing escaped (Escape, Visible), as XML cannot
// carry them even escaped, and the rest escaped as XML.
//
// Against a baseline (opt.Baseline) only a new finding fails: a known one is a skipped test
// case whose message says so, so that a CI job stays green on what was accepted and still shows
// it, and a root without new findings or errors has its passing case ("no new findings"). The
// baseline's resolved findings are no test cases, as nothing was tested of them: each suite's
// <properties> give the baseline's file and the root's new, known and resolved counts.
//
// The counts a <testsuite> begins with come from a first reading of the findings, which keeps
// only a count per root; the second writes them as it reads them.
func JUnit(w io.Writer, r *audit.Report, opt Options) error {
	b := opt.Baseline
	suites := newJUnitSuites(r)
	at := rootCursor{roots: r.Roots}
	err := r.EachFinding(func(i int, f *audit.Finding) error {
		s := &suites[at.of(f.Entry.Path)]
		if b.State(i) == "known" {
			s.known++
		} else {
			s.failures++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if b != nil {
		at = rootCursor{roots: r.Roots}
		err = b.EachResolved(func(f *audit.Finding) error {
			suites[at.of(f.Entry.Path)].resolved++
			return nil
		})
		if err != nil {
			return err
		}
	}
	var total junitSuite
	for i := range suites {
		if s := &suites[i]; s.failures == 0 && s.errors == 0 {
			s.passed = 1
		}
		total.add(&suites[i])
	}
	x := &junitWriter{bw: bufio.NewWriterSize(w, 64<<10), st: newTextStyles(io.Discard, false), baseline: b}
	x.bw.WriteString(xml.Header)
	x.bw.WriteString("<testsuites")
	x.attr("name", "webperm")
	x.counts(&total)
	x.bw.WriteString(">\n")
	open := 0
	x.openSuite(&suites[0])
	at = rootCursor{roots: r.Roots}
	err = r.EachFinding(func(i int, f *audit.Finding) error {
		for k := at.of(f.Entry.Path); open < k; open++ {
			x.closeSuite(&suites[open], r.Roots)
			x.openSuite(&suites[open+1])
		}
		if b.State(i) == "known" {
			x.known(f, r)
		} else {
			x.finding(f, r)
		}
		return x.err()
	})
	if err != nil {
		return err
	}
	for ; ; open++ {
		x.closeSuite(&suites[open], r.Roots)
		if open+1 == len(suites) {
			break
		}
		x.openSuite(&suites[open+1])
	}
	x.bw.WriteString("</testsuites>\n")
	return x.bw.Flush()
}

// junitSuite is one root's <testsuite>: its name, its counts, and the paths it did not read or
// enter, which the report holds already.
type junitSuite struct {
	root                      string
	failures, errors, skipped int // skipped: the directories not entered
	passed                    int // 1 for the passing case of a root without findings or errors
	// known are the findings in the baseline, skipped cases too; resolved the baseline's
	// findings the audit no longer has, no cases.
	known, resolved int
	notRead         []*audit.WalkError
	notEntered      []*walk.Skip
}

func (s *junitSuite) tests() int { return s.failures + s.errors + s.skipped + s.known + s.passed }

func (s *junitSuite) add(o *junitSuite) {
	s.failures += o.failures
	s.errors += o.errors
	s.skipped += o.skipped
	s.passed += o.passed
	s.known += o.known
	s.resolved += o.resolved
}

// newJUnitSuites makes a suite per root (one for the report where it names none) with the paths
// not read or entered below it; the findings are counted by the caller.
func newJUnitSuites(r *audit.Report) []junitSuite {
	suites := make([]junitSuite, max(len(r.Roots), 1))
	for i, root := range r.Roots {
		suites[i].root = root
	}
	at := rootCursor{roots: r.Roots}
	for i := range r.Errors {
		s := &suites[at.of(r.Errors[i].Path)]
		s.notRead = append(s.notRead, &r.Errors[i])
		s.errors++
	}
	at = rootCursor{roots: r.Roots}
	for i := range r.Skipped {
		s := &suites[at.of(r.Skipped[i].Path)]
		s.notEntered = append(s.notEntered, &r.Skipped[i])
		s.skipped++
	}
	return suites
}

// rootCursor follows the walk from root to root: findings, errors and skipped directories come
// root by root, in the roots' order, each root's ancestors first.
type rootCursor struct {
	roots []string
	at    int
}

// of is the index of the root a path of the walk belongs to: the root being walked, or the next
// root that holds the path or lies below it, where the walk has gone on to that one.
func (c *rootCursor) of(p string) int {
	for j := c.at; j < len(c.roots); j++ {
		if walk.Within(p, c.roots[j]) || walk.Within(c.roots[j], p) {
			c.at = j
			break
		}
	}
	return c.at
}

// junitWriter writes the XML, escaping every string it is given.
type junitWriter struct {
	bw       *bufio.Writer
	st       textStyles
	body     strings.Builder
	baseline *Baseline // where the findings were compared with one
}

// err is the first error writing met: a bufio.Writer keeps it, and an empty write returns it.
func (x *junitWriter) err() error {
	_, err := x.bw.Write(nil)
	return err
}

// text writes s as XML character data, each character XML cannot carry escaped visibly first.
func (x *junitWriter) text(s string) {
	xml.EscapeText(x.bw, []byte(Visible(s)))
}

// attr writes ` name="value"`, value escaped as text is.
func (x *junitWriter) attr(name, value string) {
	x.bw.WriteString(" " + name + `="`)
	x.text(value)
	x.bw.WriteByte('"')
}

func (x *junitWriter) counts(s *junitSuite) {
	fmt.Fprintf(x.bw, ` tests="%d" failures="%d" errors="%d" skipped="%d"`, s.tests(), s.failures, s.errors, s.skipped+s.known)
}

// openSuite opens a root's <testsuite>, with its counts against the baseline where there is one.
func (x *junitWriter) openSuite(s *junitSuite) {
	x.bw.WriteString("  <testsuite")
	x.attr("name", Escape(s.root))
	x.counts(s)
	x.bw.WriteString(">\n")
	if b := x.baseline; b != nil {
		x.bw.WriteString("    <properties>\n")
		x.property("baseline", Escape(b.File))
		x.property("baseline.new", strconv.Itoa(s.failures))
		x.property("baseline.known", strconv.Itoa(s.known))
		x.property("baseline.resolved", strconv.Itoa(s.resolved))
		x.bw.WriteString("    </properties>\n")
	}
}

func (x *junitWriter) property(name, value string) {
	x.bw.WriteString("      <property")
	x.attr("name", name)
	x.attr("value", value)
	x.bw.WriteString("/>\n")
}

// closeSuite writes the suite's paths not read or entered, and its passing case if it has one.
func (x *junitWriter) closeSuite(s *junitSuite, roots []string) {
	for _, e := range s.notRead {
		x.testcase("not-read", audit.RootRelative(e.Path, roots))
		x.bw.WriteString(`      <error`)
		x.attr("message", e.Err.Error())
		x.bw.WriteString(` type="not-read">`)
		x.text(Escape(e.Path) + ": neither it nor anything below it was audited")
		x.bw.WriteString("</error>\n    </testcase>\n")
	}
	for _, sk := range s.notEntered {
		x.testcase("not-entered", audit.RootRelative(sk.Path, roots))
		x.bw.WriteString(`      <skipped`)
		fs := sk.FsType
		if fs == "" {
			fs = "file system unknown"
		}
		x.attr("message", fs+", "+sk.Reason)
		x.bw.WriteString("/>\n    </testcase>\n")
	}
	if s.passed > 0 && x.baseline != nil {
		x.bw.WriteString(`    <testcase classname="webperm" name="no new findings"/>` + "\n")
	} else if s.passed > 0 {
		x.bw.WriteString(`    <testcase classname="webperm" name="no findings"/>` + "\n")
	}
	x.bw.WriteString("  </testsuite>\n")
}

// testcase opens a <testcase> of a path, named by the path relative to its root.
func (x *junitWriter) testcase(class, rel string) {
	x.bw.WriteString("    <testcase")
	x.attr("classname", class)
	x.attr("name", Escape(rel))
	x.bw.WriteString(">\n")
}

// finding writes a finding's test case: failed, with what the text report says of it.
func (x *junitWriter) finding(f *audit.Finding, r *audit.Report) {
	x.testcase(string(f.Rule), audit.RootRelative(f.Entry.Path, r.Roots))
	x.bw.WriteString(`      <failure`)
	x.attr("message", f.Message)
	x.attr("type", f.Severity.String())
	x.bw.WriteString(">")
	x.body.Reset()
	writeFinding(&x.body, f, r.Accounts, x.st)
	fmt.Fprintf(&x.body, "    fingerprint: %s\n", r.Fingerprint(f))
	// Line by line, as EscapeText would write each line break as a character reference, and
	// without the text report's indent.
	for line := range strings.Lines(x.body.String()) {
		x.text(strings.TrimLeft(strings.TrimSuffix(line, "\n"), " "))
		x.bw.WriteByte('\n')
	}
	x.bw.WriteString("</failure>\n    </testcase>\n")
}

// known writes the test case of a finding the baseline has: skipped, and the message says why.
func (x *junitWriter) known(f *audit.Finding, r *audit.Report) {
	x.testcase(string(f.Rule), audit.RootRelative(f.Entry.Path, r.Roots))
	x.bw.WriteString(`      <skipped`)
	x.attr("message", "known: in the baseline "+Escape(x.baseline.File)+": "+f.Message)
	x.bw.WriteString("/>\n    </testcase>\n")
}
