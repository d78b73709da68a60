package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// Every name the HTML report shows is text: a root, the policy file, a path, a link's target, an
// owner, a path not read and its error, a directory not entered, a waiver. Control characters and
// invalid UTF-8 are escaped as the text report escapes them.
func TestHTMLEscapesEveryName(t *testing.T) {
	const img = `"><img src=x onerror=alert(1)>`
	r := sampleReport()
	r.Roots = []string{"/srv/" + img}
	r.Policy = "/root/<script>alert(1)</script>.yaml"
	r.Accounts = access.NewAccounts([]access.User{{Name: "<b>deploy", UID: 1000, GID: 1000}}, []access.Group{{Name: "g\x1b[2J", GID: 4242}})
	r.Findings = append(r.Findings,
		audit.Finding{Rule: policy.DanglingSymlink, Severity: policy.Low, Message: "target <i>gone</i>",
			Entry: walk.Entry{Path: "/srv/" + img + "/new\nline", Type: walk.TypeSymlink, LinkTarget: "</td><script>x()</script>", UID: 1000, GID: 4242, OwnerKnown: true}},
		audit.Finding{Rule: policy.WorldWritable, Severity: policy.Critical, Message: "m", ExpiredWaiver: &policy.Waiver{Reason: "<u>why</u>", Origin: "p.yaml:3", Expires: "2026-01-01"},
			Entry: walk.Entry{Path: "/srv/" + img + "/<script>alert(1)</script>.php", Type: walk.TypeFile, Mode: 0o666}})
	r.Errors = []audit.WalkError{{Path: "/srv/" + img + "/priv\xff", Err: errors.New("open <x>: permission denied")}}
	r.Skipped = []walk.Skip{{Path: "/srv/<s>", FsType: "<fs>", Reason: walk.SkipPseudo}}
	r.Waivers = []*audit.WaiverUse{{Waiver: policy.Waiver{Rule: policy.ModeTooOpen, Paths: []string{"<q>"}, Reason: "<em>ok</em>", Expires: "2099-01-01", Origin: "<o>"}, Findings: 1}}
	var buf bytes.Buffer
	if err := HTML(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, markup := range []string{"<img", "<b>", "<i>", "<u>", "<em>", "<q>", "<s>", "<fs>", "<o>", "<x>", "</script>.php", "x()</script>"} {
		if strings.Contains(page, markup) {
			t.Errorf("the page holds %s as markup", markup)
		}
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d script elements, want the page's own one", n)
	}
	if strings.Contains(page, "\x1b") || !utf8.ValidString(page) || strings.Contains(page, "new\nline") {
		t.Error("a control character or invalid UTF-8 reached the page as it is")
	}
	for _, want := range []string{
		`<td>/srv/&#34;&gt;&lt;img src=x onerror=alert(1)&gt;/&lt;script&gt;alert(1)&lt;/script&gt;.php</td>`,
		`<td>&#34;/srv/\&#34;&gt;&lt;img src=x onerror=alert(1)&gt;/new\nline&#34;</td>`,
		`<td>symlink → &lt;/td&gt;&lt;script&gt;x()&lt;/script&gt;</td>`,
		`<td>&lt;b&gt;deploy</td><td>&#34;g\x1b[2J&#34;</td>`,
		`<small>waiver expired 2026-01-01 (p.yaml:3): &lt;u&gt;why&lt;/u&gt;</small>`,
		`<td class="path">&#34;/srv/\&#34;&gt;&lt;img src=x onerror=alert(1)&gt;/priv\xff&#34;</td><td>open &lt;x&gt;: permission denied</td>`,
		`<td class="path">/srv/&lt;s&gt;</td><td>&lt;fs&gt;</td><td>pseudo file system</td>`,
		`<dt>policy</dt><dd>/root/&lt;script&gt;alert(1)&lt;/script&gt;.yaml</dd>`,
		`<dt>waiver</dt><dd>mode-too-open on &lt;q&gt; (&lt;o&gt;): waived 1 until 2099-01-01; &lt;em&gt;ok&lt;/em&gt;</dd>`,
		`<span id="count-errors" data-count="1">1</span> paths not read`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(page)
	}
}

// The page loads nothing, and its Content-Security-Policy allows its own style sheet and script,
// by their hashes, and nothing else.
func TestHTMLSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := HTML(&buf, sampleReport(), Options{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, external := range []string{"://", "src=", "href=", "@import", "url("} {
		if strings.Contains(page, external) {
			t.Errorf("the page holds %q: it must load nothing", external)
		}
	}
	hash := func(element string) string {
		m := regexp.MustCompile(`(?s)<` + element + `>(.*?)</` + element + `>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %s element", element)
		}
		sum := sha256.Sum256([]byte(m[1]))
		return "&#39;sha256-" + strings.ReplaceAll(base64.StdEncoding.EncodeToString(sum[:]), "+", "&#43;") + "&#39;"
	}
	want := `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src ` + hash("style") +
		`; script-src ` + hash("script") + `; base-uri &#39;none&#39;; form-action &#39;none&#39;">`
	if !strings.Contains(page, want) {
		t.Errorf("the page lacks %s", want)
	}
}

// The chart counts findings per top-level directory in a bounded map: a root with more
// top-level directories than it keeps still gets the right bars, and every finding is in one.
func TestHTMLChartBounded(t *testing.T) {
	roots := []string{"/srv/site"}
	tops := newTopDirs(false)
	total := 0
	const dirs = 10 * topDirsMax
	for d := range dirs {
		// Directory d has d%97+1 findings, but the ten marked big have 1,000 + d; the walk gives
		// each directory's findings one after the other.
		n := d%97 + 1
		if d%(dirs/10) == 5 {
			n = 1000 + d
		}
		for i := range n {
			f := audit.Finding{Entry: walk.Entry{Path: fmt.Sprintf("/srv/site/d%05d/f%d", d, i), Type: walk.TypeFile}}
			tops.add(&f, roots)
			total++
			if len(tops.counts) > topDirsMax {
				t.Fatalf("%d directories counted, more than %d", len(tops.counts), topDirsMax)
			}
		}
	}
	c := tops.chart(chartBars)
	if len(c.Bars) != chartBars || c.Other == nil {
		t.Fatalf("%d bars and other %v, want %d and other", len(c.Bars), c.Other, chartBars)
	}
	sum := c.Other.Count
	for i, b := range c.Bars {
		sum += b.Count
		if i < 10 {
			d := 9 - i // the big ones, most findings first
			if want := fmt.Sprintf("d%05d/", d*(dirs/10)+5); b.Label != want || b.Count != 1000+d*(dirs/10)+5 {
				t.Errorf("bar %d: %s %d, want %s %d", i, b.Label, b.Count, want, 1000+d*(dirs/10)+5)
			}
		} else if b.Count != 97 {
			t.Errorf("bar %d: %s %d, want one of the directories with 97", i, b.Label, b.Count)
		}
	}
	if sum != total || c.Other.Label != fmt.Sprintf("other (%s more)", thousands(dirs-chartBars)) {
		t.Errorf("the bars count %d findings, want %d; other is %q", sum, total, c.Other.Label)
	}
	// Bars are to one scale, other's included: here other has the most findings.
	if c.Other.Width != 1000 || c.Bars[0].Width != c.Bars[0].Count*1000/c.Other.Count || c.Bars[19].Width != max(1, 97*1000/c.Other.Count) {
		t.Errorf("widths: other %d, first %d, last %d", c.Other.Width, c.Bars[0].Width, c.Bars[19].Width)
	}
}

func TestTopDir(t *testing.T) {
	one := []string{"/srv/site"}
	two := []string{"/srv/a", "/srv/b"}
	for _, tc := range []struct {
		path  string
		typ   walk.Type
		roots []string
		want  string
	}{
		{"/srv/site", walk.TypeDir, one, ". (the root)"},
		{"/srv", walk.TypeDir, one, "(above the root)"},
		{"/srv/site/index.php", walk.TypeFile, one, "index.php"},
		{"/srv/site/wp-content", walk.TypeDir, one, "wp-content/"},
		{"/srv/site/wp-content/uploads/a.jpg", walk.TypeFile, one, "wp-content/"},
		{"/srv/site/new\nline/a", walk.TypeFile, one, `"new\nline/"`},
		{"/srv/b/x/y", walk.TypeFile, two, "/srv/b/x/"},
		{"/srv/a", walk.TypeDir, two, "/srv/a (the root)"},
	} {
		if got := topDir(&walk.Entry{Path: tc.path, Type: tc.typ}, tc.roots, len(tc.roots) > 1); got != tc.want {
			t.Errorf("topDir(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}
