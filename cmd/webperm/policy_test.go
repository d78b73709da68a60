package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// withoutComments drops comment lines, so two policy files can be compared by their rules.
func withoutComments(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// policy init writes each preset as a file that policy check accepts and that, fed back with
// --policy, is the preset itself.
func TestPolicyInitCheckShowRoundTrip(t *testing.T) {
	for _, name := range policy.Presets() {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), name+".yaml")
			if code, out, errOut := webperm(t, "policy", "init", "--preset", name, "-o", file); code != exitClean || out != "" || errOut != "" {
				t.Fatalf("init: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			code, out, errOut := webperm(t, "policy", "check", file)
			if code != exitClean || !strings.HasPrefix(out, file+": valid") || errOut != "" {
				t.Fatalf("check: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			_, fromPreset, _ := webperm(t, "policy", "show", "--preset", name)
			code, fromFile, errOut := webperm(t, "policy", "show", "--policy", file)
			if code != exitClean {
				t.Fatalf("show --policy: exit %d: %s", code, errOut)
			}
			if withoutComments(fromFile) != withoutComments(fromPreset) {
				t.Errorf("the init file, read back, differs from preset %s:\n%s\nwant\n%s", name, fromFile, fromPreset)
			}
			// What show prints is itself a valid policy that stands alone.
			shown := filepath.Join(t.TempDir(), "shown.yaml")
			if err := os.WriteFile(shown, []byte(fromFile), 0o600); err != nil {
				t.Fatal(err)
			}
			if code, _, errOut := webperm(t, "policy", "check", shown); code != exitClean {
				t.Errorf("show output does not check: %s", errOut)
			}
		})
	}
	dir := t.TempDir()
	existing := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(existing, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := webperm(t, "policy", "init", "-o", existing); code != exitError || !strings.Contains(errOut, "already exists") {
		t.Errorf("init over a file: exit %d, stderr %q; want 2 and a refusal", code, errOut)
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep" {
		t.Errorf("init replaced %s without --force", existing)
	}
}

func TestPolicyCheckReportsEveryFault(t *testing.T) {
	file := filepath.Join(t.TempDir(), "site.yaml")
	src := "version: 1\nrules:\n  - paths: uploads/**\n    file_mode: 644\n    colour: red\nwaivers:\n  - rule: mode-too-open\n    paths: cache/**\n"
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := webperm(t, "policy", "check", file)
	if code != exitError || out != "" {
		t.Fatalf("exit %d, stdout %q; want 2 and nothing", code, out)
	}
	for _, want := range []string{
		"webperm: " + file + ":4:16: rules[0].file_mode: 644 is a bare number, which YAML reads as decimal, not octal\n",
		`webperm: hint: write modes as quoted strings: file_mode: "0644"` + "\n",
		"webperm: " + file + ":5:5: rules[0]: unknown key \"colour\"",
		"webperm: " + file + ":7:5: waivers[0]: waiver has no reason\n",
		"webperm: " + file + ":7:5: waivers[0]: waiver has no expires date\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// The same file stops an audit before anything is read.
	site := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\n")
	if code, out, errOut := webperm(t, "audit", "--policy", file, site); code != exitError || out != "" || !strings.Contains(errOut, file+":4:16") {
		t.Errorf("audit with a bad policy: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := webperm(t, "audit", "--policy", filepath.Join(t.TempDir(), "none.yaml"), site); code != exitError || !strings.Contains(errOut, "reading the policy") {
		t.Errorf("audit with a missing policy: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := webperm(t, "audit", "--preset", "typo3", site); code != exitError || !strings.Contains(errOut, `--preset "typo3": no such preset`) {
		t.Errorf("audit with an unknown preset: exit %d, stderr %q", code, errOut)
	}
}

// A policy file's waivers, severities and identities, end to end through the JSON report.
func TestAuditWithPolicyFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the site's owners (deploy, www-data) can only be set as root")
	}
	site := tree(t, `
d 0755 1000:1000 .
f 0644 1000:1000 index.html
d 0775 1000:1000 cache
f 0664 1000:1000 cache/page.html
d 0755 1000:1000 legacy
f 0664 1000:1000 legacy/old.html
f 0644 1000:33 group-web.html
f 0644 1000:0 group-other.html
`)
	yesterday := time.Now().AddDate(0, 0, -1).Format(policy.DateLayout)
	nextYear := time.Now().AddDate(1, 0, 0).Format(policy.DateLayout)
	file := filepath.Join(t.TempDir(), "site.yaml")
	src := `version: 1
preset: default
identities:
  web_user: www-data
rules:
  - paths: legacy/**
    severity:
      mode-too-open: low
waivers:
  - rule: mode-too-open
    paths: cache/**
    reason: the page cache plugin writes 0664; OPS-42
    expires: ` + nextYear + `
  - rule: mode-too-open
    paths: legacy/**
    reason: old site, retired last month
    expires: ` + yesterday + `
`
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := webperm(t, "audit", "--root", demoSysroot, "--format", "json", "--policy", file, site)
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Policy  string `json:"policy"`
		Presets []struct {
			Root, Preset string
		} `json:"presets"`
		WebUser struct{ Name string } `json:"web_user"`
		Summary struct {
			Findings, Waived int
		} `json:"summary"`
		Waivers []struct {
			Paths    []string `json:"paths"`
			Expired  bool     `json:"expired"`
			Findings int      `json:"findings"`
		} `json:"waivers"`
		Findings []struct {
			Rule, Severity, Path string
			ExpiredWaiver        *struct{ Expires string } `json:"expired_waiver"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Policy != file || len(rep.Presets) != 1 || rep.Presets[0].Preset != "default" || rep.WebUser.Name != "www-data" {
		t.Errorf("policy %q, presets %+v, web user %q; want the file, preset default, www-data from the file", rep.Policy, rep.Presets, rep.WebUser.Name)
	}
	got := map[string]string{}
	for _, f := range rep.Findings {
		rel, _ := filepath.Rel(site, f.Path)
		got[rel+" "+f.Rule] = f.Severity
		if rel == "legacy/old.html" && (f.ExpiredWaiver == nil || f.ExpiredWaiver.Expires != yesterday) {
			t.Errorf("legacy/old.html does not say its waiver expired: %+v", f.ExpiredWaiver)
		}
	}
	want := map[string]string{
		"cache mode-too-open":             "", // waived, with cache/page.html
		"legacy/old.html mode-too-open":   "low",
		"group-other.html group-mismatch": "medium",
	}
	delete(want, "cache mode-too-open")
	if len(got) != len(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	for k, sev := range want {
		if got[k] != sev {
			t.Errorf("%s: severity %q, want %q (all: %v)", k, got[k], sev, got)
		}
	}
	if rep.Summary.Waived != 2 || len(rep.Waivers) != 2 || rep.Waivers[0].Findings != 2 || rep.Waivers[0].Expired ||
		!rep.Waivers[1].Expired || rep.Waivers[1].Findings != 1 {
		t.Errorf("waived %d, waivers %+v; want the cache waiver holding 2 findings and the legacy one expired with 1", rep.Summary.Waived, rep.Waivers)
	}
	// The text report says what each waiver did.
	_, text, _ := webperm(t, "audit", "--root", demoSysroot, "--policy", file, site)
	for _, want := range []string{"waived 2 until " + nextYear, "expired " + yesterday + ": 1 reported again", "waiver expired " + yesterday} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
}

func TestPolicyOwnerMustExist(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\n")
	file := filepath.Join(t.TempDir(), "site.yaml")
	if err := os.WriteFile(file, []byte("version: 1\nrules:\n  - paths: \"**\"\n    owner: [site, mallory]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := webperm(t, "audit", "--root", demoSysroot, "--policy", file, site)
	if code != exitError || out != "" || !strings.Contains(errOut, file+`:3: owner "mallory": no such user in`) {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2 naming the rule's line", code, out, errOut)
	}
}

// policy show names the root it detected a preset in, and the marker it found, in a comment: a
// name holding a terminal escape or a newline must reach neither the terminal nor the YAML raw.
func TestPolicyShowEscapesNames(t *testing.T) {
	dir := filepath.Join(fixture.TempDir(t), "site\x1b]0;title\x07\nrules: []")
	if err := os.MkdirAll(filepath.Join(dir, "wp-includes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wp-includes", "version.php"), []byte("<?php\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := webperm(t, "policy", "show", dir)
	if code != exitClean {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("policy show printed a raw control byte:\n%q", out)
	}
	shown := filepath.Join(t.TempDir(), "shown.yaml")
	if err := os.WriteFile(shown, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := webperm(t, "policy", "check", shown); code != exitClean {
		t.Errorf("a newline in the root's name broke out of the header comment: %s", errOut)
	}
}
