package policy

import (
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// withoutOrigin returns copies of rules and waivers with Origin cleared: Format writes it as a
// comment, so a formatted policy read back has its own origins.
func withoutOrigin(rules []Rule, waivers []Waiver) ([]Rule, []Waiver) {
	var rs []Rule
	for _, r := range rules {
		r.Origin = ""
		rs = append(rs, r)
	}
	var ws []Waiver
	for _, w := range waivers {
		w.Origin = ""
		ws = append(ws, w)
	}
	return rs, ws
}

// checkRoundTrip formats p, reads it back and asserts it holds p's rules, waivers and
// identities, and returns what Format wrote.
func checkRoundTrip(t *testing.T, p *Policy, header string) string {
	t.Helper()
	out, err := Format(p, header)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("show.yaml", out)
	if err != nil {
		t.Fatalf("Format wrote what Parse rejects:\n%v\n%s", err, out)
	}
	rules, waivers := withoutOrigin(p.Rules, p.Waivers)
	gotRules, gotWaivers := withoutOrigin(back.Rules, back.Waivers)
	if !reflect.DeepEqual(gotRules, rules) {
		t.Errorf("rules differ after Format and Parse:\n%s\nwant\n%s\nformatted:\n%s", dump(back), dump(p), out)
	}
	if !reflect.DeepEqual(gotWaivers, waivers) || !reflect.DeepEqual(back.Identities, p.Identities) {
		t.Errorf("waivers or identities differ after Format and Parse: %+v %+v, want %+v %+v\nformatted:\n%s",
			back.Waivers, back.Identities, p.Waivers, p.Identities, out)
	}
	// The output stands alone: whatever base it names adds no rules.
	if back.Base != "" {
		resolved, err := Resolve(back.Base, back)
		if err != nil {
			t.Fatal(err)
		}
		if len(resolved.Rules) != len(back.Rules) {
			t.Errorf("Format wrote preset: %s, which adds %d rules", back.Base, len(resolved.Rules)-len(back.Rules))
		}
	}
	for _, r := range p.Rules {
		if r.Origin != "" && !strings.Contains(string(out), "# from "+r.Origin+"\n") {
			t.Errorf("no comment names the rule from %s", r.Origin)
		}
	}
	return string(out)
}

func TestFormatPresets(t *testing.T) {
	names := append(Presets(), "cpanel+wordpress", "plesk+laravel", "cpanel+drupal")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			p, err := Preset(name)
			if err != nil {
				t.Fatal(err)
			}
			out := checkRoundTrip(t, p, "webperm policy show --preset "+name)
			if !strings.HasPrefix(out, "# webperm policy show --preset "+name+"\n") {
				t.Errorf("the header is not a comment at the top:\n%s", out)
			}
		})
	}
}

func TestFormatRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		p    *Policy
		want []string // lines Format must write
	}{
		{"empty", &Policy{}, []string{"version: 1", "rules: []"}},
		{"identities", &Policy{Identities: Identities{WebUser: "www-data", WebGroup: "33", PHPUser: "php-fpm",
			Owner: []string{"deploy", "1000"}, Group: []string{"site", "web"}}},
			[]string{`  web_user: "www-data"`, `  web_group: "33"`, `  owner: ["deploy", "1000"]`}},
		{"every rule field", &Policy{Rules: []Rule{{
			Paths:   []string{"*.key", "/home/*/", "{a,b}/[c-d]?/**", ".", "~", "null", "yes", "0644", "#x", "a: b", `"q"`},
			FileMax: modePtr(0o640), DirMax: modePtr(0o750 | fs.ModeSetgid), Web: needPtr(NeedSearch), PHP: needPtr(NeedWrite),
			Owner: []string{"web"}, Group: []string{"php", "0"}, Sensitive: boolPtr(false), Writable: boolPtr(true),
			Severity: map[RuleID]Severity{UnknownOwner: Info, WorldWritable: Low, ModeTooOpen: Critical},
			Origin:   "site.yaml:7",
		}}}, []string{`    file_mode: "0640"`, `    dir_mode: "2750"`, "    web: search", "    php: write", "    writable: true",
			"      world-writable: low", "      mode-too-open: critical", "  # from site.yaml:7"}},
		{"special bits", &Policy{Rules: []Rule{
			{FileMax: modePtr(0o755 | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)},
			{DirMax: modePtr(0o777 | fs.ModeSticky)},
			{FileMax: modePtr(0)},
		}}, []string{`  - file_mode: "7755"`, `  - dir_mode: "1777"`, `  - file_mode: "0000"`}},
		{"a rule with no paths", &Policy{Rules: []Rule{{Web: needPtr(NeedNone)}, {Severity: map[RuleID]Severity{}}}},
			[]string{"  - web: none", "  - severity: {}"}},
		{"waivers", &Policy{Waivers: []Waiver{
			{Rule: ModeTooOpen, Paths: []string{"wp-content/cache/**", "*.log"}, Reason: `the "cache" plugin: see #42` + "\nand ops' note",
				Expires: "2027-03-31", Origin: "site.yaml:30"},
			{Rule: MissingIndex, Paths: []string{"."}, Reason: "*an API*", Expires: "2026-01-01"},
		}}, []string{"  - rule: mode-too-open", "    expires: 2027-03-31", "  # from site.yaml:30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := checkRoundTrip(t, tt.p, "")
			lines := strings.Split(out, "\n")
			for _, want := range tt.want {
				if !slices.Contains(lines, want) {
					t.Errorf("no line %q in\n%s", want, out)
				}
			}
		})
	}
}

func TestFormatHeader(t *testing.T) {
	out, err := Format(&Policy{}, "webperm policy show\n\nrules apply in order")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# webperm policy show\n\n# rules apply in order\n"; !strings.HasPrefix(string(out), want) {
		t.Errorf("Format header:\n%s\nwant it to begin\n%s", out, want)
	}
	if _, err := Parse("show.yaml", out); err != nil {
		t.Error(err)
	}
}
