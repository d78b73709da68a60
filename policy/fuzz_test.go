package policy

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	for _, name := range Presets() {
		src, err := PresetSource(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
		p, err := Preset(name)
		if err != nil {
			f.Fatal(err)
		}
		out, err := Format(p, "webperm policy show")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(out)
	}
	for _, tt := range parseErrorTests {
		f.Add([]byte(tt.doc))
	}
	f.Add([]byte("version: 1\nidentities: {web_user: www-data, owner: [deploy, \"1000\"]}\n" +
		"rules:\n  - {paths: [\"*.key\", /home/*/], file_mode: rw-r-----, dir_mode: \"2750\", web: search, severity: {mode-too-open: LOW}}\n" +
		"waivers:\n  - {rule: missing-index, paths: ., reason: \" an API \", expires: 2027-03-31}\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			checkParseError(t, err)
			return
		}
		if p == nil {
			t.Fatal("Parse returned neither a policy nor an error")
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid glob: %v", err)
		}
		out, err := Format(p, "fuzz")
		if err != nil {
			t.Fatalf("Format: %v", err)
		}
		back, err := Parse("fuzz.yaml", out)
		if err != nil {
			t.Fatalf("Parse rejects what Format wrote:\n%v\ninput:\n%q\nformatted:\n%s", err, data, out)
		}
		rules, waivers := withoutOrigin(p.Rules, p.Waivers)
		gotRules, gotWaivers := withoutOrigin(back.Rules, back.Waivers)
		if !reflect.DeepEqual(gotRules, rules) {
			t.Fatalf("rules differ after Format and Parse:\n%s\nwant\n%s\ninput:\n%q\nformatted:\n%s", dump(back), dump(p), data, out)
		}
		if !reflect.DeepEqual(gotWaivers, waivers) || !reflect.DeepEqual(back.Identities, p.Identities) {
			t.Fatalf("waivers or identities differ after Format and Parse: %+v %+v, want %+v %+v\ninput:\n%q\nformatted:\n%s",
				back.Waivers, back.Identities, p.Waivers, p.Identities, data, out)
		}
	})
}

// checkParseError asserts err is a *ParseError whose every fault has a place and a lower-case
// message, in document order, and whose text is the faults' texts, one a line.
func checkParseError(t *testing.T, err error) {
	t.Helper()
	pe, ok := err.(*ParseError)
	if !ok {
		t.Fatalf("error %T %q is not a *ParseError", err, err)
	}
	if len(pe.Errs) == 0 {
		t.Fatal("a ParseError with no faults")
	}
	texts := make([]string, len(pe.Errs))
	for i, e := range pe.Errs {
		if e.File != "fuzz.yaml" || e.Line < 1 || e.Column < 0 || e.Msg == "" {
			t.Fatalf("fault %d: file %q line %d column %d message %q", i, e.File, e.Line, e.Column, e.Msg)
		}
		if r, _ := utf8.DecodeRuneInString(e.Msg); unicode.IsUpper(r) {
			t.Errorf("fault %d message begins with a capital: %q", i, e.Msg)
		}
		if i > 0 {
			prev := pe.Errs[i-1]
			if e.Line < prev.Line || e.Line == prev.Line && e.Column < prev.Column {
				t.Errorf("fault %d at %d:%d comes after one at %d:%d", i, e.Line, e.Column, prev.Line, prev.Column)
			}
		}
		prefix := fmt.Sprintf("fuzz.yaml:%d", e.Line)
		if e.Column > 0 {
			prefix += fmt.Sprintf(":%d", e.Column)
		}
		if e.Key != "" {
			prefix += ": " + e.Key
		}
		if texts[i] = e.Error(); texts[i] != prefix+": "+e.Msg {
			t.Errorf("fault %d reads %q, want %q", i, texts[i], prefix+": "+e.Msg)
		}
	}
	if got, want := pe.Error(), strings.Join(texts, "\n"); got != want {
		t.Errorf("ParseError reads %q, want %q", got, want)
	}
}

func FuzzParseMode(f *testing.F) {
	for _, s := range []string{"0644", "644", "4755", "7777", "0", "", "0648", "10000", "0o644",
		"rw-r--r--", "rwsr-sr-t", "rwSr-S--T", "--x--x--x", "rw-r--r-s", "drwxr-xr-x", "rw-r--r–"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMode(s)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, fmt.Sprintf("mode %q: ", s)) {
				t.Fatalf("ParseMode(%q) error %q does not name the mode", s, msg)
			}
			return
		}
		if m&^ModeBits != 0 {
			t.Fatalf("ParseMode(%q) = %v: bits beyond permissions and special bits", s, m)
		}
		// Each form reads back, and the input was already in one of them.
		octal, symbolic := OctalMode(m), SymbolicMode(m)
		if back, err := ParseMode(octal); err != nil || back != m {
			t.Fatalf("ParseMode(%q) = %v -> %q -> %v, %v", s, m, octal, back, err)
		}
		if back, err := ParseMode(symbolic); err != nil || back != m {
			t.Fatalf("ParseMode(%q) = %v -> %q -> %v, %v", s, m, symbolic, back, err)
		}
		if s != symbolic && (len(s) > 4 || octal != strings.Repeat("0", 4-len(s))+s) {
			t.Fatalf("ParseMode(%q) = %v, which is neither %q nor %q", s, m, octal, symbolic)
		}
	})
}
