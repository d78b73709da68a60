package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// fault is one Error a test expects: its exact place and key, a telling part of its message and,
// where one is expected, a telling part of its hint.
type fault struct {
	line, col int
	key       string
	msg       string
	hint      string
}

// waiverOK is a complete waiver's fields after its rule line, for cases that break one of them.
const waiverOK = "    paths: wp-content/cache/**\n    reason: the cache plugin rewrites its files (ops, ticket 42)\n    expires: 2027-03-31\n"

// parseErrorTests are small policy files, each with the faults Parse must report, in order.
// FuzzParse starts from them too.
var parseErrorTests = []struct {
	name string
	doc  string
	want []fault
}{
	// The document.
	{"empty file", "", []fault{{1, 1, "", "the policy file is empty", "webperm policy init"}}},
	{"only comments", "# my site\n\n# nothing yet\n", []fault{{1, 1, "", "the policy file is empty", "webperm policy init"}}},
	{"missing version", "rules: []\n", []fault{{1, 1, "", "missing version", "add 'version: 1' at the top"}}},
	{"missing version below comments", "# my site\n\npreset: wordpress\n", []fault{{3, 1, "", "missing version", "version: 1"}}},
	{"unsupported version", "version: 2\n", []fault{{1, 10, "version", `unsupported version "2": this webperm reads version 1`, ""}}},
	{"version written as a float", "version: 1.0\n", []fault{{1, 10, "version", `unsupported version "1.0"`, ""}}},
	{"version as a list", "version: [1]\n", []fault{{1, 10, "version", "want a single value", ""}}},
	{"unknown top-level key", "version: 1\nrule: []\n", []fault{{2, 1, "", `unknown key "rule" (want version, preset, identities, rules, waivers, exclude)`, ""}}},
	{"repeated top-level key", "version: 1\nrules: []\nversion: 1\n", []fault{{3, 1, "", `key "version" repeated: keep one`, ""}}},
	{"a second document", "version: 1\nrules: []\n---\nrules: [{paths: a, web: write}]\n", []fault{{3, 1, "", "a second YAML document", "remove the ---"}}},
	{"a list at the top", "- version: 1\n", []fault{{1, 1, "", "want a mapping of version, preset, identities, rules, waivers", ""}}},
	{"a scalar at the top", "hello\n", []fault{{1, 1, "", "want a mapping of version", ""}}},

	// YAML syntax: the library gives a line only.
	{"unclosed flow list", "version: 1\nrules:\n  - paths: [a, b\n    web: read\n", []fault{{3, 0, "", "not valid YAML: did not find expected ',' or ']'", ""}}},
	{"unclosed flow list further down", "version: 1\n\n\nrules:\n  - paths: [a\n", []fault{{5, 0, "", "not valid YAML: did not find expected ',' or ']'", ""}}},
	{"unclosed flow mapping", "version: 1\nrules:\n  - {paths: a\n", []fault{{3, 0, "", "not valid YAML: did not find expected ',' or '}'", ""}}},
	{"bad indentation in a list", "version: 1\nrules:\n  - paths: a\n   web: read\n", []fault{{3, 0, "", "not valid YAML: did not find expected '-' indicator", ""}}},
	{"bad indentation in a mapping", "version: 1\nidentities:\n  web_user: a\n    php_user: b\n", []fault{{4, 0, "", "not valid YAML: mapping values are not allowed in this context", ""}}},
	{"tab indentation", "version: 1\nrules:\n\t- paths: a\n", []fault{{3, 0, "", "not valid YAML: found character that cannot start any token", ""}}},
	{"unclosed quote", "version: 1\nrules:\n  - paths: \"abc\n", []fault{{3, 0, "", "not valid YAML: found unexpected end of stream", ""}}},
	{"syntax error in a second document", "version: 1\n---\n[\n", []fault{{4, 0, "", "not valid YAML: did not find expected node content", ""}}},
	{"unquoted glob starting with *", "version: 1\nrules:\n  - paths: *.key\n", []fault{{3, 0, "", "not valid YAML: did not find expected alphabetic or numeric character", `quote a glob that begins with *: paths: "*.key"`}}},
	{"unquoted glob starting with * in a list", "version: 1\nrules:\n  - paths: [\"*.php\", *.phtml]\n    web: none\n", []fault{{3, 0, "", "not valid YAML", "quote a glob that begins with *"}}},
	{"unquoted glob that reads as an alias", "version: 1\nrules:\n  - web: none\n    paths: *key\n", []fault{{4, 0, "", "not valid YAML: unknown anchor 'key' referenced", "quote a glob that begins with *"}}},

	// Anchors, aliases and merge keys.
	{"anchor on a rule", "version: 1\nrules:\n  - &base\n    paths: a\n", []fault{{3, 5, "rules[0]", "anchors, aliases and merge keys are not supported in policy files", "write the value out where it applies"}}},
	{"anchor and alias", "version: 1\nrules:\n  - &base\n    paths: a\n  - *base\n", []fault{
		{3, 5, "rules[0]", "anchors, aliases and merge keys are not supported", "write the value out"},
		{5, 5, "rules[1]", "anchors, aliases and merge keys are not supported", "write the value out"},
	}},
	{"anchor on identities", "version: 1\nidentities: &ids\n  web_user: www-data\n", []fault{{2, 13, "identities", "anchors, aliases and merge keys", ""}}},
	{"anchor on a value", "version: 1\nrules:\n  - paths: a\n    web: &r read\n    php: *r\n", []fault{
		{4, 10, "rules[0].web", "anchors, aliases and merge keys", ""},
		{5, 10, "rules[0].php", "anchors, aliases and merge keys", ""},
	}},
	{"merge key", "version: 1\nrules:\n  - <<: {paths: a}\n    web: read\n", []fault{{3, 5, "rules[0]", "anchors, aliases and merge keys", ""}}},

	// Wrong kinds of value.
	{"rules as a mapping", "version: 1\nrules:\n  paths: a\n", []fault{{3, 3, "rules", "want a list (items begin with '- ')", ""}}},
	{"rules as a scalar", "version: 1\nrules: none\n", []fault{{2, 8, "rules", "want a list", ""}}},
	{"rules left empty", "version: 1\nrules:\n", []fault{{2, 7, "rules", "want a list", ""}}},
	{"a rule as a list", "version: 1\nrules:\n  - - a\n", []fault{{3, 5, "rules[0]", "want a mapping of paths, file_mode, dir_mode, web, php, owner, group, sensitive, writable, severity", ""}}},
	{"identities as a list", "version: 1\nidentities: [www-data]\n", []fault{{2, 13, "identities", "want a mapping of web_user, web_group, php_user, owner, group", ""}}},
	{"waivers as a mapping", "version: 1\nwaivers:\n  rule: mode-too-open\n", []fault{{3, 3, "waivers", "want a list", ""}}},
	{"paths as a mapping", "version: 1\nrules:\n  - paths: {a: b}\n", []fault{{3, 12, "rules[0].paths", "want a single value", ""}}},
	{"a list inside paths", "version: 1\nrules:\n  - paths: [a, [b]]\n", []fault{{3, 16, "rules[0].paths[1]", "want a single value", ""}}},
	{"access as a list", "version: 1\nrules:\n  - web: [read]\n", []fault{{3, 10, "rules[0].web", "want a single value", ""}}},
	{"mode as a mapping", "version: 1\nrules:\n  - file_mode: {owner: rw}\n", []fault{{3, 16, "rules[0].file_mode", "want a single value", ""}}},
	{"preset as a list", "version: 1\npreset: [wordpress]\n", []fault{{2, 9, "preset", "want a single value", ""}}},
	{"web user as a list", "version: 1\nidentities:\n  web_user: [www-data]\n", []fault{{3, 13, "identities.web_user", "want a single value", ""}}},
	{"severity as a list", "version: 1\nrules:\n  - severity: [mode-too-open]\n", []fault{{3, 15, "rules[0].severity", "want a mapping of rule ids to severities", ""}}},
	{"a waiver's rule as a list", "version: 1\nwaivers:\n  - rule: [mode-too-open]\n" + waiverOK, []fault{{3, 11, "waivers[0].rule", "want a single value", ""}}},
	{"yes is not a boolean", "version: 1\nrules:\n  - sensitive: yes\n", []fault{{3, 16, "rules[0].sensitive", `"yes": want true or false`, ""}}},
	{"a quoted boolean", "version: 1\nrules:\n  - writable: \"true\"\n", []fault{{3, 15, "rules[0].writable", `"true": want true or false`, ""}}},

	// Keys.
	{"unknown rule key", "version: 1\nrules:\n  - paths: a\n    filemode: \"0644\"\n", []fault{{4, 5, "rules[0]", `unknown key "filemode" (want paths, file_mode`, ""}}},
	{"unknown rule key in the second rule", "version: 1\nrules:\n  - paths: a\n  - paths: b\n    mode: \"0644\"\n", []fault{{5, 5, "rules[1]", `unknown key "mode"`, ""}}},
	{"repeated rule key", "version: 1\nrules:\n  - paths: a\n    web: read\n    web: none\n", []fault{{5, 5, "rules[0]", `key "web" repeated: keep one`, ""}}},
	{"unknown identities key", "version: 1\nidentities:\n  user: www-data\n", []fault{{3, 3, "identities", `unknown key "user" (want web_user`, ""}}},
	{"unknown waiver key", "version: 1\nwaivers:\n  - rule: mode-too-open\n" + waiverOK + "    until: 2027-03-31\n", []fault{{7, 5, "waivers[0]", `unknown key "until" (want rule, paths, reason, expires)`, ""}}},

	// Modes.
	{"octal mode with an 8", "version: 1\nrules:\n  - file_mode: \"0648\"\n", []fault{{3, 16, "rules[0].file_mode", `mode "0648": want octal such as "0644" or symbolic such as "rw-r--r--"`, ""}}},
	{"octal mode of five digits", "version: 1\nrules:\n  - dir_mode: \"10000\"\n", []fault{{3, 15, "rules[0].dir_mode", `mode "10000"`, ""}}},
	{"symbolic mode of ten characters", "version: 1\nrules:\n  - file_mode: rw-r--r-x-\n", []fault{{3, 16, "rules[0].file_mode", `mode "rw-r--r-x-"`, ""}}},
	{"symbolic mode with setuid in the others' place", "version: 1\nrules:\n  - dir_mode: 'rwxr-xr-s'\n", []fault{{3, 15, "rules[0].dir_mode", `mode "rwxr-xr-s"`, ""}}},
	{"symbolic mode with a file type", "version: 1\nrules:\n  - dir_mode: drwxr-xr-x\n", []fault{{3, 15, "rules[0].dir_mode", `mode "drwxr-xr-x"`, ""}}},
	{"bare integer file mode", "version: 1\nrules:\n  - file_mode: 644\n", []fault{{3, 16, "rules[0].file_mode", "644 is a bare number, which YAML reads as decimal, not octal", `write modes as quoted strings: file_mode: "0644"`}}},
	{"bare integer dir mode", "version: 1\nrules:\n  - dir_mode: 755\n", []fault{{3, 15, "rules[0].dir_mode", "755 is a bare number", `dir_mode: "0755"`}}},
	{"bare integer with a leading zero", "version: 1\nrules:\n  - dir_mode: 0750\n", []fault{{3, 15, "rules[0].dir_mode", "0750 is a bare number", `dir_mode: "0750"`}}},
	{"bare integer with an 0o prefix", "version: 1\nrules:\n  - dir_mode: 0o2755\n", []fault{{3, 15, "rules[0].dir_mode", "0o2755 is a bare number", `dir_mode: "2755"`}}},
	{"bare integer with special bits", "version: 1\nrules:\n  - file_mode: 4755\n", []fault{{3, 16, "rules[0].file_mode", "4755 is a bare number", `file_mode: "4755"`}}},
	{"bare zero", "version: 1\nrules:\n  - file_mode: 0\n", []fault{{3, 16, "rules[0].file_mode", "0 is a bare number", `file_mode: "0000"`}}},

	// Globs.
	{"bad glob", "version: 1\nrules:\n  - paths: \"uploads/[a-\"\n", []fault{{3, 12, "rules[0].paths", `invalid glob "uploads/[a-"`, "globs are doublestar patterns"}}},
	{"bad glob in a list", "version: 1\nrules:\n  - paths: [a, \"b/{c,d\"]\n", []fault{{3, 16, "rules[0].paths[1]", `invalid glob "b/{c,d"`, "doublestar"}}},
	{"bad glob in a waiver", "version: 1\nwaivers:\n  - rule: mode-too-open\n    paths: \"[\"\n    reason: r\n    expires: 2027-03-31\n", []fault{{4, 12, "waivers[0].paths", `invalid glob "["`, "doublestar"}}},
	{"empty glob", "version: 1\nrules:\n  - paths: \"\"\n", []fault{{3, 12, "rules[0].paths", "empty value", ""}}},
	{"paths left empty", "version: 1\nrules:\n  - paths:\n    web: read\n", []fault{{3, 11, "rules[0].paths", "empty value", ""}}},
	{"empty paths list", "version: 1\nrules:\n  - paths: []\n", []fault{{3, 12, "rules[0].paths", "empty list: give at least one value", ""}}},

	// Access, owners, severities.
	{"unknown web access", "version: 1\nrules:\n  - web: all\n", []fault{{3, 10, "rules[0].web", `unknown access "all" (want none, search, read or write)`, ""}}},
	{"unknown php access", "version: 1\nrules:\n  - paths: a\n    php: rw\n", []fault{{4, 10, "rules[0].php", `unknown access "rw"`, ""}}},
	{"owner as a path", "version: 1\nrules:\n  - owner: /etc/passwd\n", []fault{{3, 12, "rules[0].owner", `"/etc/passwd" is not an owner: want site, web, php, a name or a number`, ""}}},
	{"group as an option", "version: 1\nrules:\n  - group: [site, \"-x\"]\n", []fault{{3, 19, "rules[0].group[1]", `"-x" is not an owner`, ""}}},
	{"identities owner with a space", "version: 1\nidentities:\n  owner: [web, \"a b\"]\n", []fault{{3, 16, "identities.owner[1]", `"a b" is not an owner`, ""}}},
	{"web user with a space", "version: 1\nidentities:\n  web_user: \"www data\"\n", []fault{{3, 13, "identities.web_user", `"www data" is not a user or group name or number`, ""}}},
	{"php user as a keyword", "version: 1\nidentities:\n  php_user: \"../php\"\n", []fault{{3, 13, "identities.php_user", `"../php" is not a user or group name or number`, ""}}},
	{"unknown rule id in severity", "version: 1\nrules:\n  - severity:\n      mode-to-open: low\n", []fault{{4, 7, "rules[0].severity", `unknown rule id "mode-to-open"`, "did you mean mode-too-open?"}}},
	{"unknown rule id far from any", "version: 1\nrules:\n  - severity:\n      frobnicate: low\n", []fault{{4, 7, "rules[0].severity", `unknown rule id "frobnicate"`, "'webperm policy show' lists every rule id"}}},
	{"unknown severity", "version: 1\nrules:\n  - severity:\n      mode-too-open: severe\n", []fault{{4, 22, "rules[0].severity.mode-too-open", `unknown severity "severe" (want one of: critical, high, medium, low, info)`, ""}}},
	{"repeated severity", "version: 1\nrules:\n  - severity:\n      mode-too-open: low\n      mode-too-open: high\n", []fault{{5, 7, "rules[0].severity", `rule "mode-too-open" repeated: keep one`, ""}}},

	// Content conditions and top-level rules.
	{"unknown content", "version: 1\nrules:\n  - paths: \"*.sql\"\n    content: dump\n", []fault{{4, 14, "rules[0].content", `unknown content "dump" (want sql-schema or php-include-only)`, "a content condition names what clears a secret's name"}}},
	{"content that would fail open", "version: 1\nrules:\n  - paths: \"*.sql\"\n    content: sql-data\n", []fault{{4, 14, "rules[0].content", `unknown content "sql-data"`, ""}}},
	{"content as a list", "version: 1\nrules:\n  - content: [sql-schema]\n", []fault{{3, 14, "rules[0].content", "want a single value", ""}}},
	{"content left empty", "version: 1\nrules:\n  - content:\n", []fault{{3, 13, "rules[0].content", "empty value", ""}}},
	{"top_level not a boolean", "version: 1\nrules:\n  - paths: \"*.log\"\n    top_level: root\n", []fault{{4, 16, "rules[0].top_level", `"root": want true or false`, ""}}},
	{"top_level quoted", "version: 1\nrules:\n  - top_level: \"true\"\n", []fault{{3, 16, "rules[0].top_level", `"true": want true or false`, ""}}},

	// Presets.
	{"unknown preset", "version: 1\npreset: typo3\n", []fault{{2, 9, "preset", `unknown preset "typo3" (want default, wordpress`, ""}}},
	{"unknown preset in a combination", "version: 1\npreset: cpanel+typo3\n", []fault{{2, 9, "preset", `unknown preset "cpanel+typo3"`, ""}}},
	{"preset left empty", "version: 1\npreset:\n", []fault{{2, 8, "preset", "empty value: give one, or leave the key out", ""}}},
	{"null glob", "version: 1\nrules:\n  - paths: ~\n", []fault{{3, 12, "rules[0].paths", "empty value", ""}}},

	// Waivers.
	{"waiver without reason", "version: 1\nwaivers:\n  - rule: mode-too-open\n    paths: a\n    expires: 2027-03-31\n", []fault{{3, 5, "waivers[0]", "waiver has no reason", "say why the finding is accepted, and who decided"}}},
	{"waiver with a blank reason", "version: 1\nwaivers:\n  - rule: mode-too-open\n    paths: a\n    reason: \"  \"\n    expires: 2027-03-31\n", []fault{{3, 5, "waivers[0]", "waiver has no reason", ""}}},
	{"waiver without expires", "version: 1\nwaivers:\n  - rule: mode-too-open\n    paths: a\n    reason: r\n", []fault{{3, 5, "waivers[0]", "waiver has no expires date", "give its last day, such as expires: 2027-03-31"}}},
	{"waiver without rule", "version: 1\nwaivers:\n  - paths: a\n    reason: r\n    expires: 2027-03-31\n", []fault{{3, 5, "waivers[0]", "waiver has no rule", "such as rule: mode-too-open"}}},
	{"waiver without paths", "version: 1\nwaivers:\n  - rule: mode-too-open\n    reason: r\n    expires: 2027-03-31\n", []fault{{3, 5, "waivers[0]", "waiver has no paths", "such as paths: wp-content/cache/**"}}},
	{"waiver with a bad date", "version: 1\nwaivers:\n  - rule: mode-too-open\n    paths: a\n    reason: r\n    expires: 2027-13-01\n", []fault{{6, 14, "waivers[0].expires", `"2027-13-01" is not a date`, "write the last day the waiver holds"}}},
	{"waiver with a date in another form", "version: 1\nwaivers:\n  - rule: mode-too-open\n    paths: a\n    reason: r\n    expires: 31/03/2027\n", []fault{{6, 14, "waivers[0].expires", `"31/03/2027" is not a date`, ""}}},
	{"waiver with a date and time", "version: 1\nwaivers:\n  - rule: mode-too-open\n    paths: a\n    reason: r\n    expires: 2027-03-31T12:00:00Z\n", []fault{{6, 14, "waivers[0].expires", "is not a date", ""}}},
	{"waiver with unknown rule id", "version: 1\nwaivers:\n  - rule: mode-too-opn\n" + waiverOK, []fault{{3, 11, "waivers[0].rule", `unknown rule id "mode-too-opn"`, "did you mean mode-too-open?"}}},
	{"empty waiver", "version: 1\nwaivers:\n  - {}\n", []fault{
		{3, 5, "waivers[0]", "waiver has no rule", ""},
		{3, 5, "waivers[0]", "waiver has no paths", ""},
		{3, 5, "waivers[0]", "waiver has no reason", ""},
		{3, 5, "waivers[0]", "waiver has no expires date", ""},
	}},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range parseErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("site.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse accepted\n%s\nas %+v", tt.doc, p)
			}
			if p != nil {
				t.Errorf("Parse returned a policy with its error: %+v", p)
			}
			checkFaults(t, err, tt.want)
		})
	}
}

// checkFaults asserts err is a *ParseError holding exactly want, in order.
func checkFaults(t *testing.T, err error, want []fault) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T %q is not a *ParseError", err, err)
	}
	lines := strings.Split(pe.Error(), "\n")
	if len(pe.Errs) != len(want) || len(lines) != len(want) {
		t.Fatalf("got %d faults:\n%s\nwant %d", len(pe.Errs), pe, len(want))
	}
	for i, w := range want {
		e := pe.Errs[i]
		if e.File != "site.yaml" || e.Line != w.line || e.Column != w.col || e.Key != w.key {
			t.Errorf("fault %d at %s:%d:%d key %q, want site.yaml:%d:%d key %q (%s)", i, e.File, e.Line, e.Column, e.Key, w.line, w.col, w.key, e.Msg)
		}
		if !strings.Contains(e.Msg, w.msg) {
			t.Errorf("fault %d message %q, want it to contain %q", i, e.Msg, w.msg)
		}
		if !strings.Contains(e.Hint, w.hint) || e.HintText() != e.Hint {
			t.Errorf("fault %d hint %q, want it to contain %q", i, e.Hint, w.hint)
		}
		prefix := fmt.Sprintf("site.yaml:%d", w.line)
		if w.col > 0 {
			prefix += fmt.Sprintf(":%d", w.col)
		}
		if w.key != "" {
			prefix += ": " + w.key
		}
		if line := prefix + ": " + e.Msg; lines[i] != line || e.Error() != line {
			t.Errorf("fault %d reads %q, want %q", i, lines[i], line)
		}
	}
}

func TestParseErrorsInDocumentOrder(t *testing.T) {
	doc := `version: 3
preset: typo3
identities:
  web_user: "www data"
  shell: /bin/sh
rules:
  - paths: "**"
    file_mode: 644
    web: all
  - paths: ["uploads/[", ok]
    severity:
      mode-to-open: low
waivers:
  - rule: mode-too-open
    paths: wp-content/cache/**
    expires: 2027-02-30
colour: blue
`
	_, err := Parse("site.yaml", []byte(doc))
	checkFaults(t, err, []fault{
		{1, 10, "version", `unsupported version "3"`, ""},
		{2, 9, "preset", `unknown preset "typo3"`, ""},
		{4, 13, "identities.web_user", `"www data" is not a user`, ""},
		{5, 3, "identities", `unknown key "shell"`, ""},
		{8, 16, "rules[0].file_mode", "644 is a bare number", `"0644"`},
		{9, 10, "rules[0].web", `unknown access "all"`, ""},
		{10, 13, "rules[1].paths[0]", `invalid glob "uploads/["`, ""},
		{12, 7, "rules[1].severity", `unknown rule id "mode-to-open"`, "did you mean mode-too-open?"},
		{14, 5, "waivers[0]", "waiver has no reason", ""}, // the waiver's own fault comes at its first line
		{16, 14, "waivers[0].expires", `"2027-02-30" is not a date`, ""},
		{17, 1, "", `unknown key "colour"`, ""},
	})
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{"line, column and key", Error{File: "site.yaml", Line: 4, Column: 5, Key: "rules[0]", Msg: "unknown key"}, "site.yaml:4:5: rules[0]: unknown key"},
		{"no key", Error{File: "site.yaml", Line: 2, Column: 1, Msg: "unknown key"}, "site.yaml:2:1: unknown key"},
		{"line only", Error{File: "site.yaml", Line: 3, Msg: "not valid YAML: x"}, "site.yaml:3: not valid YAML: x"},
		{"line only with a key", Error{File: "a/b.yaml", Line: 3, Key: "rules", Msg: "m"}, "a/b.yaml:3: rules: m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	pe := &ParseError{Errs: []*Error{&tests[0].err, &tests[2].err}}
	if got, want := pe.Error(), tests[0].want+"\n"+tests[2].want; got != want {
		t.Errorf("ParseError.Error() = %q, want %q", got, want)
	}
	var e *Error
	if !errors.As(error(pe), &e) || e != &tests[0].err {
		t.Errorf("errors.As(ParseError) = %v, want the first fault", e)
	}
}

func TestParse(t *testing.T) {
	doc := `# a site's policy
version: 1
preset: wordpress
identities:
  web_user: www-data
  web_group: www-data
  php_user: site-php
  owner: deploy
  group: [www-data, "1001"]
rules:
  - file_mode: "0640"
    dir_mode: rwxr-s---
  - paths: [".env.*", "*.{key,pem}"]
    sensitive: true
    web: none
    php: search
    owner: site
    group: [site, web]
    severity:
      sensitive-exposed: CRITICAL
      mode-too-open: low
  - paths: "/home/*/"
    dir_mode: '0711'
    writable: false
  - paths: "wp-content/cache/**"
    writable: true
    php: write
    owner: [php, "33"]
waivers:
  - rule: world-writable
    paths: [wp-content/cache/**, "/tmp/*/"]
    reason: "  the cache plugin needs it: ops, ticket #42  "
    expires: 2027-03-31
  - rule: missing-index
    paths: .
    reason: an API, no index
    expires: "2026-12-31"
`
	p, err := Parse("site.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := &Policy{
		Name: "site.yaml",
		Base: "wordpress",
		Identities: Identities{WebUser: "www-data", WebGroup: "www-data", PHPUser: "site-php",
			Owner: []string{"deploy"}, Group: []string{"www-data", "1001"}},
		Rules: []Rule{
			{FileMax: modePtr(0o640), DirMax: modePtr(0o750 | fs.ModeSetgid), Origin: "site.yaml:11"},
			{Paths: []string{".env.*", "*.{key,pem}"}, Sensitive: boolPtr(true), Web: needPtr(NeedNone), PHP: needPtr(NeedSearch),
				Owner: []string{"site"}, Group: []string{"site", "web"},
				Severity: map[RuleID]Severity{SensitiveExposed: Critical, ModeTooOpen: Low}, Origin: "site.yaml:13"},
			{Paths: []string{"/home/*/"}, DirMax: modePtr(0o711), Writable: boolPtr(false), Origin: "site.yaml:22"},
			{Paths: []string{"wp-content/cache/**"}, Writable: boolPtr(true), PHP: needPtr(NeedWrite),
				Owner: []string{"php", "33"}, Origin: "site.yaml:25"},
		},
		Waivers: []Waiver{
			{Rule: WorldWritable, Paths: []string{"wp-content/cache/**", "/tmp/*/"},
				Reason: "the cache plugin needs it: ops, ticket #42", Expires: "2027-03-31", Origin: "site.yaml:30"},
			{Rule: MissingIndex, Paths: []string{"."}, Reason: "an API, no index", Expires: "2026-12-31", Origin: "site.yaml:34"},
		},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Parse =\n%s\nwant\n%s", dump(p), dump(want))
	}
}

// dump shows a policy with the values behind its pointers.
func dump(p *Policy) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name %q base %q identities %+v\n", p.Name, p.Base, p.Identities)
	for _, r := range p.Rules {
		fmt.Fprintf(&b, "  rule %s paths %q owner %q group %q severity %v", r.Origin, r.Paths, r.Owner, r.Group, r.Severity)
		for _, f := range []struct {
			name string
			v    any
		}{{"file", r.FileMax}, {"dir", r.DirMax}, {"web", r.Web}, {"php", r.PHP}, {"sensitive", r.Sensitive}, {"writable", r.Writable}} {
			if v := reflect.ValueOf(f.v); !v.IsNil() {
				fmt.Fprintf(&b, " %s %v", f.name, v.Elem())
			}
		}
		b.WriteString("\n")
	}
	for _, w := range p.Waivers {
		fmt.Fprintf(&b, "  waiver %+v\n", w)
	}
	return b.String()
}

func TestPresets(t *testing.T) {
	for _, name := range Presets() {
		t.Run(name, func(t *testing.T) {
			src, err := PresetSource(name)
			if err != nil {
				t.Fatal(err)
			}
			file, err := Parse(name+".yaml", src)
			if err != nil {
				t.Fatalf("the preset's own file does not parse:\n%v", err)
			}
			if err := file.Validate(); err != nil {
				t.Fatal(err)
			}
			if len(file.Rules) == 0 {
				t.Fatal("the preset has no rules")
			}
			// Every rule's origin names the line of its "- ".
			lines := strings.Split(string(src), "\n")
			for _, r := range file.Rules {
				var line int
				if _, err := fmt.Sscanf(strings.TrimPrefix(r.Origin, name+".yaml:"), "%d", &line); err != nil ||
					line < 1 || line > len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[line-1]), "- ") {
					t.Errorf("rule origin %q does not name a rule's first line", r.Origin)
				}
			}
			// What 'webperm policy init' writes, read back and resolved, is the preset.
			resolved := file
			if file.Base != "" {
				if resolved, err = Resolve(file.Base, file); err != nil {
					t.Fatal(err)
				}
			}
			preset, err := Preset(name)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(resolved.Rules, preset.Rules) {
				t.Errorf("rules differ:\n%s\nwant\n%s", dump(resolved), dump(preset))
			}
			if !reflect.DeepEqual(resolved.Waivers, preset.Waivers) || !reflect.DeepEqual(resolved.Identities, preset.Identities) {
				t.Errorf("waivers or identities differ: %+v %+v, want %+v %+v", resolved.Waivers, resolved.Identities, preset.Waivers, preset.Identities)
			}
			if name != "default" && !reflect.DeepEqual(preset.Rules[:len(Default().Rules)], Default().Rules) {
				t.Error("the preset does not begin with the default's rules")
			}
		})
	}
}

func TestPresetCombination(t *testing.T) {
	combined, err := Preset("cpanel+wordpress")
	if err != nil {
		t.Fatal(err)
	}
	var want []Rule
	want = append(want, Default().Rules...)
	for _, name := range []string{"cpanel", "wordpress"} {
		own, err := presetOwn(name)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, own.Rules...)
	}
	if !reflect.DeepEqual(combined.Rules, want) {
		t.Errorf("cpanel+wordpress:\n%s\nwant the default's rules, then cpanel's, then wordpress's", dump(combined))
	}
	if s := combined.For("wp-config.php", "/home/alice/public_html/wp-config.php", false); s.Severity(ModeTooOpen) != High || s.PHP != NeedRead {
		t.Errorf("wp-config.php: mode-too-open %s php %s; want wordpress's high and read", s.Severity(ModeTooOpen), s.PHP)
	}
	if s := combined.ForAncestor("/home/alice"); !s.Matched || s.DirMax != 0o711 {
		t.Errorf("/home/alice: matched %v dir max %04o; want cpanel's 0711", s.Matched, s.DirMax)
	}
}

func TestPresetNames(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"default", true},
		{"wordpress", true},
		{"cpanel+wordpress", true},
		{"typo3", false},
		{"", false},
		{"cpanel+", false},
		{"+wordpress", false},
		{"Wordpress", false},
		{"auto", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsPreset(tt.name); got != tt.ok {
				t.Errorf("IsPreset(%q) = %v, want %v", tt.name, got, tt.ok)
			}
			if _, err := Preset(tt.name); (err == nil) != tt.ok {
				t.Errorf("Preset(%q) error %v, want ok %v", tt.name, err, tt.ok)
			}
			if _, err := Resolve(tt.name, nil); (err == nil) != tt.ok {
				t.Errorf("Resolve(%q, nil) error %v, want ok %v", tt.name, err, tt.ok)
			}
		})
	}
	if _, err := PresetSource("cpanel+wordpress"); err == nil {
		t.Error("PresetSource gave a file for a combination")
	}
}

func TestResolve(t *testing.T) {
	file, err := Parse("site.yaml", []byte(`version: 1
preset: laravel
identities:
  web_user: nginx
  owner: [deploy]
rules:
  - paths: storage/logs/**
    writable: false
waivers:
  - rule: world-writable
    paths: storage/**
    reason: r
    expires: 2027-01-01
`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Resolve(file.Base, file)
	if err != nil {
		t.Fatal(err)
	}
	laravel, _ := Preset("laravel")
	if p.Name != "site.yaml" || len(p.Rules) != len(laravel.Rules)+1 || len(p.Waivers) != 1 {
		t.Fatalf("Resolve = name %q, %d rules, %d waivers; want site.yaml, %d, 1", p.Name, len(p.Rules), len(p.Waivers), len(laravel.Rules)+1)
	}
	if p.Identities.WebUser != "nginx" || p.Identities.PHPUser != "" || fmt.Sprint(p.Identities.Owner) != "[deploy]" || p.Identities.Group != nil {
		t.Errorf("identities %+v, want the file's web user and owner", p.Identities)
	}
	if s := p.For("storage/logs/a.log", "/srv/app/storage/logs/a.log", false); s.Writable || s.PHP != NeedRead {
		t.Errorf("storage/logs/a.log: writable %v php %s; want the file's rule last, laravel's php read kept", s.Writable, s.PHP)
	}
	if s := p.For("storage/cache/a", "/srv/app/storage/cache/a", false); !s.Writable || s.PHP != NeedRead {
		t.Errorf("storage/cache/a: writable %v php %s; want laravel's writable and read", s.Writable, s.PHP)
	}
	if again, _ := Preset("laravel"); !reflect.DeepEqual(again.Rules, laravel.Rules) {
		t.Error("Resolve changed the preset it started from")
	}
}

func TestParseContentAndTopLevel(t *testing.T) {
	doc := `version: 1
preset: none
rules:
  - paths: ["*.sql", wp-config.php, "*.log"]
    file_mode: "0640"
    sensitive: true
  - paths: "*.sql"
    content: sql-schema
    file_mode: "0644"
    sensitive: false
  - paths: wp-config.php
    content: php-include-only
    sensitive: false
  - paths: "*.log"
    top_level: true
    web: none
`
	p, err := Parse("site.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Rules[1].Content; got != ContentSQLSchema {
		t.Errorf("rules[1].Content = %v, want sql-schema", got)
	}
	if got := p.Rules[2].Content; got != ContentPHPIncludeOnly {
		t.Errorf("rules[2].Content = %v, want php-include-only", got)
	}
	if !p.Rules[3].TopLevel || p.Rules[0].TopLevel {
		t.Errorf("TopLevel: rules[3] %v, rules[0] %v; want true, false", p.Rules[3].TopLevel, p.Rules[0].TopLevel)
	}
	tests := []struct {
		rel       string
		content   Content
		sensitive bool
		sniff     Sniff
		web       Need
	}{
		{"db/schema.sql", ContentUnread, true, SniffSQL, NeedRead},
		{"db/schema.sql", ContentSQLSchema, false, SniffSQL, NeedRead},
		{"db/dump.sql", ContentSQLDump, true, SniffSQL, NeedRead},
		{"db/rows.sql", ContentSQLData, true, SniffSQL, NeedRead},
		// A content of the other reader does not clear it.
		{"db/odd.sql", ContentPHPIncludeOnly, true, SniffSQL, NeedRead},
		{"wp-config.php", ContentUnread, true, SniffPHPInclude, NeedRead},
		{"wp-config.php", ContentPHPIncludeOnly, false, SniffPHPInclude, NeedRead},
		{"wp-config.php", ContentPHPCode, true, SniffPHPInclude, NeedRead},
		{"debug.log", ContentUnread, true, 0, NeedNone},
		{"app/debug.log", ContentUnread, true, 0, NeedRead},
		{"index.php", ContentUnread, false, 0, NeedRead},
	}
	for _, tt := range tests {
		t.Run(tt.rel+"/"+tt.content.String(), func(t *testing.T) {
			// Base web: read, so that top_level's web: none shows where it applied.
			read := NeedRead
			p := &Policy{Rules: append([]Rule{{Web: &read}}, p.Rules...)}
			s := p.ForContent(tt.rel, "", false, tt.content)
			if s.Sensitive != tt.sensitive || s.Sniff != tt.sniff || s.Web != tt.web {
				t.Errorf("sensitive %v, sniff %v, web %v; want %v, %v, %v", s.Sensitive, s.Sniff, s.Web, tt.sensitive, tt.sniff, tt.web)
			}
		})
	}
	t.Run("a directory is never sniffed", func(t *testing.T) {
		if s := p.ForContent("x.sql", "", true, ContentSQLSchema); s.Sniff != 0 || !s.Sensitive {
			t.Errorf("sniff %v, sensitive %v; want 0, true", s.Sniff, s.Sensitive)
		}
	})
	t.Run("formats and reads back", func(t *testing.T) {
		out, err := Format(p, "")
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse("formatted.yaml", out)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		for i := range p.Rules {
			if q.Rules[i].Content != p.Rules[i].Content || q.Rules[i].TopLevel != p.Rules[i].TopLevel {
				t.Errorf("rule %d reads back as content %v top_level %v", i, q.Rules[i].Content, q.Rules[i].TopLevel)
			}
		}
	})
}
