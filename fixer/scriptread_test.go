package fixer

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// escapeNames are names a site user can give a file to reach the terminal of whoever reads a
// plan: a window title (OSC 0, ended by BEL), the clipboard (OSC 52), a hyperlink (OSC 8), a
// newline, a byte that is not UTF-8, a right-to-left override.
var escapeNames = []string{
	"\x1b]0;owned\x07title.php",
	"\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07clip.php",
	"\x1b]8;;https:evil.example\x1b\\link\x1b]8;;\x1b\\.php",
	"new\nline.php",
	"lone\xff.php",
	"rtl\u202egnp.php",
}

// everyControlByte is a name with each byte from 1 to 31, DEL, bytes that are not UTF-8 and
// trailing newlines, which command substitution would strip.
func everyControlByte() string {
	var b []byte
	for c := byte(1); c < 32; c++ {
		b = append(b, 'a', c)
	}
	return string(append(b, "\x7f\xff\xfe\xc3(é'\"$(x)`\\\n\n"...))
}

// Every name, written as a word of the plan, is read back as the same bytes by dash and by
// readShellWord, and the word itself is visible text on one line.
func TestShellWordRoundTrip(t *testing.T) {
	dash, err := exec.LookPath("dash")
	if err != nil {
		t.Skip("needs dash, Debian's /bin/sh")
	}
	names := append([]string{everyControlByte(), "", "'", "''", "a'b", "\n", "é", "\u00a0"}, escapeNames...)
	names = append(names, hostileNames...)
	for _, name := range names {
		word := shellWord(name)
		if escape(word) != word || strings.Contains(word, "\n") {
			t.Errorf("%q is written %q: not visible text on one line", name, word)
		}
		got, rest, err := readShellWord(word + " # x")
		if err != nil || got != name || rest != " # x" {
			t.Errorf("%q, written %s, read back as %q, rest %q, err %v", name, word, got, rest, err)
		}
		for _, sh := range []string{dash, "sh"} {
			out, err := exec.Command(sh, "-c", "set -eu\n"+nlDefinition+"\nprintf %s "+word).Output()
			if err != nil || string(out) != name {
				t.Errorf("%s read %q, written %s, as %q (%v)", sh, name, word, out, err)
			}
		}
	}
}

// A word is read only in the form shellWord writes.
func TestReadShellWordRefuses(t *testing.T) {
	for _, word := range []string{
		`'a''b'`,                   // two quotes where one does
		`'a'"$(printf '\141')"`,    // a printable byte from printf
		`"$(printf '\012')"`,       // a newline, which is "$nl"
		`"$(printf '\000')"`,       // NUL
		`"$(printf '\400')"`,       // not a byte
		`"$(printf '\33')"`,        // two digits
		`'a`,                       // not closed
		`a`,                        // not quoted
		"'a\x1bb'",                 // a raw control byte
		"'\xff'",                   // a raw byte that is not UTF-8
		`"$nl"'x'"$(printf '\n')"`, // printf's \n
		`""`,
		`''''`,
	} {
		if got, rest, err := readShellWord(word); err == nil && rest == "" {
			t.Errorf("%q read as %q", word, got)
		}
	}
}

// plansForTests are plans of every fixture manifest's tree, and samplePlan with hostile names.
func plansForTests(t *testing.T) map[string]*Plan {
	t.Helper()
	manifests, _ := filepath.Glob(filepath.Join("..", "testdata", "presets", "*", "*.manifest"))
	manifests = append(manifests, filepath.Join("..", "testdata", "demo", "site.manifest"))
	plans := map[string]*Plan{"sample": samplePlan()}
	for _, m := range manifests {
		entries, err := fixture.Load(m)
		if err != nil {
			t.Fatal(err)
		}
		root := filepath.Join(fixture.TempDir(t), "site")
		if err := fixture.Materialise(afero.NewOsFs(), root, entries, fixture.Options{Chown: os.Geteuid() == 0}); err != nil {
			t.Fatal(err)
		}
		plans[m] = planFor(t, root)
	}
	hostile := samplePlan()
	for i, name := range append(escapeNames, everyControlByte()) {
		a := hostile.Actions[1]
		a.Path, a.Ino = "/var/www/site/"+name, uint64(1000+i)
		hostile.Actions = append(hostile.Actions, a)
		hostile.Manual = append(hostile.Manual, Manual{Path: a.Path, Type: walk.TypeSocket, Reason: "why " + name,
			Findings: []audit.Finding{{Rule: policy.SpecialFile, Severity: policy.High, Message: "msg " + name}}})
	}
	hostile.Unread = []string{"/var/www/site/" + escapeNames[0]}
	hostile.PHPUser = &access.WebUser{Name: "php\x1b", UID: 7, GID: 8, Groups: []uint32{8, 9}, Source: "config", Evidence: "/etc/x:\n3"}
	hostile.Version, hostile.Policy = "v\x07", "pol'icy"
	plans["hostile"] = hostile
	return plans
}

// WriteScript then ReadScript gives the plan WriteJSON then ReadJSON gives, for every plan.
func TestScriptRoundTrip(t *testing.T) {
	for name, p := range plansForTests(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			var js, sh bytes.Buffer
			if err := WriteJSON(&js, p); err != nil {
				t.Fatal(err)
			}
			want, err := ReadJSON("plan.json", &js)
			if err != nil {
				t.Fatal(err)
			}
			if err := WriteScript(&sh, p); err != nil {
				t.Fatal(err)
			}
			got, err := ReadScript("fix.sh", bytes.NewReader(sh.Bytes()))
			if err != nil {
				t.Fatalf("%v\n%s", err, sh.String())
			}
			if len(got.ID) != 32 {
				t.Errorf("plan-id %q", got.ID)
			}
			got.ID, got.Webperm = "", ""
			g, w := reflect.ValueOf(normalPlan(got)).Elem(), reflect.ValueOf(normalPlan(want)).Elem()
			for i := range g.NumField() {
				if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
					t.Errorf("%s: the sh plan reads back\n%#v\nthe JSON plan\n%#v", g.Type().Field(i).Name, g.Field(i).Interface(), w.Field(i).Interface())
				}
			}
			for i, line := range strings.Split(sh.String(), "\n") {
				if escape(line) != line {
					t.Errorf("line %d is not visible text: %q", i+1, line)
				}
			}
		})
	}
}

// normalPlan is p with empty lists as nil, the created time in UTC, and the bytes of manual
// entries' text that are not UTF-8 as U+FFFD: JSON tells them apart differently or not at all
// (the sh plan keeps them), and none matters to apply.
func normalPlan(p *Plan) *Plan {
	q := *p
	q.Created = q.Created.UTC()
	q.Actions = append([]Action(nil), p.Actions...)
	for i := range q.Actions {
		if len(q.Actions[i].Rules) == 0 {
			q.Actions[i].Rules = nil
		}
	}
	for _, u := range []**access.WebUser{&q.WebUser, &q.PHPUser} {
		if *u != nil {
			c := **u
			if len(c.Groups) == 0 {
				c.Groups = nil
			}
			*u = &c
		}
	}
	q.Manual = append([]Manual(nil), p.Manual...)
	for i := range q.Manual {
		m := &q.Manual[i]
		m.Reason = replaceInvalidUTF8(m.Reason)
		m.Findings = append([]audit.Finding(nil), m.Findings...)
		for j := range m.Findings {
			m.Findings[j].Message = replaceInvalidUTF8(m.Findings[j].Message)
		}
	}
	return &q
}

// sampleScript is samplePlan as a sh plan, with a fixed plan-id and webperm.
func sampleScript(t testing.TB) string {
	p := samplePlan()
	p.ID, p.Webperm = "0123456789abcdef0123456789abcdef", "/usr/bin/webperm"
	var b bytes.Buffer
	if err := WriteScript(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// What a reviewer may do to a sh plan is read as meant: delete a chown or chmod, or a whole
// entry, change an owner or a mode, add comments.
func TestReadScriptEdited(t *testing.T) {
	good := sampleScript(t)
	for _, tc := range []struct {
		name, old, new string
		check          func(p *Plan) bool
	}{
		{"chown deleted", "chown -h -- '1000:33' '/var/www/site/wp-config.php' # 1000:33, was 1000:1000\n", "",
			func(p *Plan) bool { a := p.Actions[1]; return !a.Chown() && a.Target.Mode == 0o640 }},
		{"chmod deleted", "chmod -- 0640 '/var/www/site/wp-config.php' # was 0644; fixes sensitive-exposed\n", "",
			func(p *Plan) bool { a := p.Actions[1]; return a.Chown() && !a.Chmod() }},
		{"both deleted", "chown -h -- '1000:33' '/var/www/site/wp-config.php' # 1000:33, was 1000:1000\nchmod -- 0640 '/var/www/site/wp-config.php' # was 0644; fixes sensitive-exposed\n", "",
			func(p *Plan) bool { return len(p.Actions) == 2 && p.Actions[1].Path != "/var/www/site/wp-config.php" }},
		{"mode changed", "chmod -- 0640 '/var/www/site/wp-config.php'", "chmod -- 0600 '/var/www/site/wp-config.php'",
			func(p *Plan) bool { return p.Actions[1].Target.Mode == 0o600 }},
		{"owner changed", "chown -h -- '1000:33'", "chown -h -- '0:33'",
			func(p *Plan) bool { return p.Actions[1].Target.UID == 0 }},
		{"comment added", "#: in '/var/www/site'\n", "#: in '/var/www/site'\n# ok by me\n\n",
			func(p *Plan) bool { return len(p.Actions) == 3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("the sample lacks %q", tc.old)
			}
			p, err := ReadScript("fix.sh", strings.NewReader(strings.Replace(good, tc.old, tc.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(p) {
				t.Errorf("read as %+v", p.Actions)
			}
		})
	}
}

// A sh plan that is not exactly one webperm could have written, less what a reviewer may
// delete or change, is refused whole, naming the line.
func TestReadScriptRefuses(t *testing.T) {
	good := sampleScript(t)
	const chmodLine = "chmod -- 0640 '/var/www/site/wp-config.php' # was 0644; fixes sensitive-exposed"
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"cut short", good, good[:len(good)/2], "fix.sh: ends before the plan does"},
		{"cut at a line", "\n#: end of plan\n", "\n", `fix.sh: ends before the plan does: no "#: end of plan" line`},
		{"empty", good, "", "fix.sh: ends before the plan does"},
		{"not a plan", "#!/bin/sh\n", "#!/bin/bash\n", `fix.sh:1: the first line is "#!/bin/bash"`},
		{"a command added", chmodLine, chmodLine + "\nrm -rf /", `fix.sh:43: rm -rf /: not a line webperm writes`},
		{"a command in the header", "set -eu\n", "chmod 0777 /etc/shadow\nset -eu\n", "fix.sh:27: chmod 0777 /etc/shadow: not a line webperm writes"},
		{"exec changed", `--plan "$0"`, `--plan /root/other.sh`, `fix.sh:30: exec "$webperm" fix --apply --plan /root/other.sh`},
		{"plan-id changed", "0123456789abcdef0123456789abcdef", "0123", "fix.sh:30:"},
		{"set -eu gone", "set -eu\n", "", "fix.sh:27: nl=$(printf '\\nx'); nl=${nl%x}: not a line webperm writes"},
		{"chmod of another path", chmodLine, "chmod -- 0640 '/var/www/site/index.php'", `fix.sh:42: chmod of /var/www/site/index.php under the entry for /var/www/site/wp-config.php (line 40)`},
		{"chmod with a symlink-ish path", chmodLine, "chmod -- 0640 '/var/www/site/wp-config.php/../../../etc/shadow'", "fix.sh:42: chmod of"},
		{"path with ..", "'/var/www/site/wp-config.php'", "'/var/www/site/../../../etc/shadow'", "fix.sh:40: the entry for /var/www/site/../../../etc/shadow: path \"/var/www/site/../../../etc/shadow\" is not clean"},
		{"path outside its root", "'/var/www/site/wp-config.php'", "'/etc/shadow'", "fix.sh:40: the entry for /etc/shadow: path \"/etc/shadow\" is neither its root"},
		{"chmod before chown", "chown -h -- '1000:33' '/var/www/site/wp-config.php' # 1000:33, was 1000:1000\n" + chmodLine, chmodLine + "\nchown -h -- '1000:33' '/var/www/site/wp-config.php'", "fix.sh:42: a chown after the entry's chmod (line 41)"},
		{"chmod twice", chmodLine, chmodLine + "\n" + chmodLine, "fix.sh:43: a chmod after the entry's chmod (line 42)"},
		{"chmod without entry", "#: file '/var/www/site/wp-config.php' 2049:99 0644 1000:1000 sensitive-exposed\n", "", "fix.sh:40: a chown with no entry"},
		{"chmod to the same mode", "0640 '/var/www/site/wp-config.php'", "0644 '/var/www/site/wp-config.php'", "fix.sh:42: the chmod gives the mode 0644 the entry has: delete the line"},
		{"mode of five digits for a file", "0640 '/var/www/site/wp-config.php'", "00640 '/var/www/site/wp-config.php'", "fix.sh:42: chmod 00640: write 0640"},
		{"mode of three digits", "0640 '/var/www/site/wp-config.php'", "640 '/var/www/site/wp-config.php'", `fix.sh:42: chmod: mode "640": want four octal digits`},
		{"symbolic mode", "0640 '/var/www/site/wp-config.php'", "o-r '/var/www/site/wp-config.php'", "fix.sh:42: chmod:"},
		{"chown by name", "'1000:33'", "'deploy:www-data'", `fix.sh:41: chown: "deploy:www-data": want two numbers`},
		{"path unquoted", "chmod -- 0640 '/var/www/site/wp-config.php'", "chmod -- 0640 /var/www/site/wp-config.php", `fix.sh:42: chmod: "/var/www/site/wp-con": want a quoted word`},
		{"path followed by more", "chmod -- 0640 '/var/www/site/wp-config.php'", "chmod -- 0640 '/var/www/site/wp-config.php' /etc/shadow", "fix.sh:42: chmod:  /etc/shadow # was 0644; fixes sensitive-exposed after the path"},
		{"path in another form", "#: file '/var/www/site/wp-config.php'", `#: file '/var/www/site/wp-''config.php'`, `fix.sh:40: "'/var/www/site/wp-''config.php'" is not written as webperm writes it: want "'/var/www/site/wp-config.php'"`},
		{"unknown data line", "#: in '/var/www/site'\n", "#: in '/var/www/site'\n#: chmod-all\n", "fix.sh:40: #: chmod-all: not a data line webperm writes"},
		{"data line without space", "#: in '/var/www/site'\n", "#: in '/var/www/site'\n#:file\n", `fix.sh:40: "#:file": a data line begins "#: "`},
		{"unknown root", "#: in '/var/www/site'", "#: in '/etc'", "fix.sh:39: root /etc is not among the plan's roots"},
		{"root twice", "#: root '/var/www/site' 2049:12\n", "#: root '/var/www/site' 2049:12\n#: root '/var/www/site' 2049:12\n", "fix.sh:19: root /var/www/site is listed twice"},
		{"a fifo", "#: file '/var/www/site/wp-config.php'", "#: fifo '/var/www/site/wp-config.php'", `fix.sh:40: the entry for /var/www/site/wp-config.php: type "fifo": webperm changes only files and directories`},
		{"unknown rule", "1000:1000 sensitive-exposed", "1000:1000 sensitive-exposd", `fix.sh:40: the entry for /var/www/site/wp-config.php: unknown rule "sensitive-exposd"`},
		{"inode not a number", "2049:99 ", "2049:x ", `fix.sh:40: "2049:x": want two numbers`},
		{"two spaces", "2049:99 0644", "2049:99  0644", `fix.sh:40: "  0644 1000:1000 sensitive-exposed": fields are separated by one space`},
		{"entry twice", "#: in '/var/www/site'\n", "#: in '/var/www/site'\n#: file '/var/www/site/wp-config.php' 2049:99 0644 1000:1000 sensitive-exposed\n" + chmodLine + "\n", "fix.sh:42: the entry for /var/www/site/wp-config.php: a second action for this path"},
		{"a line after the end", "#: end of plan\n", "#: end of plan\nchmod 0777 /\n", `fix.sh:49: a line after "#: end of plan"`},
		{"header data in the body", "#: in '/var/www/site'\n", "#: in '/var/www/site'\n#: root '/etc' 1:2\n", "fix.sh:40: #: root belongs in the header"},
		{"CRLF", chmodLine + "\n", chmodLine + "\r\n", `fix.sh:42: "chmod -- 0640 '/var/www/site/wp-config.php' # was 0644; fixes sensitive-exposed\r": a control character or bytes that are not UTF-8`},
		{"escape in a comment", "# Review it", "# \x1b]0;x\aReview it", `fix.sh:10: "# \x1b]0;x\aReview it`},
		{"set-id dropped by a chown without chmod", "#: file '/srv/'\"$(printf '\\377')\"' odd/new'\"$nl\"'line'\\''s' 2049:100 4755 0:0 mode-too-open,setuid-setgid\nchmod -- 0644",
			"#: file '/srv/'\"$(printf '\\377')\"' odd/new'\"$nl\"'line'\\''s' 2049:100 4755 0:0 mode-too-open,setuid-setgid\nchown -h -- '5:5' '/srv/'\"$(printf '\\377')\"' odd/new'\"$nl\"'line'\\''s'\n#chmod -- 0644", "fix.sh:45: the entry for \"/srv/\\xff odd/new\\nline's\": the chown clears the entry's set-id bits (mode 4755)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("the sample lacks %q:\n%s", tc.old, good)
			}
			_, err := ReadScript("fix.sh", strings.NewReader(strings.ReplaceAll(good, tc.old, tc.new)))
			switch {
			case err == nil:
				t.Errorf("accepted; want %q", tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}
