package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestRoffText(t *testing.T) {
	for in, want := range map[string]string{
		`--jobs N`:           `\-\-jobs N`,
		`C:\dir`:             `C:\edir`,
		"naïve — dash":       `na\[u00EF]ve \[u2014] dash`,
		"tab\there":          "tab        here",
		"bell\a":             "bell",
		`'quoted' "double"`:  `'quoted' "double"`,
		".starts with a dot": `.starts with a dot`,
		"plain words, 0644.": "plain words, 0644.",
	} {
		if got := roffText(in); got != want {
			t.Errorf("roffText(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{".TH evil": `\&.TH evil`, "'br": `\&'br`, "a.b": "a.b"} {
		if got := roffLine(in); got != want {
			t.Errorf("roffLine(%q) = %q, want %q", in, got, want)
		}
	}
	if got, want := roffQuote(`say "hi"`), `"say \(dqhi\(dq"`; got != want {
		t.Errorf("roffQuote = %q, want %q", got, want)
	}
}

// The manual page has every command that help lists, each with every flag, and is valid roff.
func TestManPage(t *testing.T) {
	code, page, errOut := webperm(t, "man")
	if code != exitClean || errOut != "" {
		t.Fatalf("webperm man: exit %d, stderr %q", code, errOut)
	}
	if !strings.HasPrefix(page, ".TH WEBPERM 1 ") {
		t.Errorf("the page does not start with .TH WEBPERM 1:\n%.200s", page)
	}
	for _, section := range []string{".SH NAME\nwebperm \\- ", ".SH SYNOPSIS\n", ".SH DESCRIPTION\n", ".SH COMMANDS\n", ".SH EXIT STATUS\n", ".SH SEE ALSO\n"} {
		if !strings.Contains(page, section) {
			t.Errorf("the page has no %q", section)
		}
	}
	if n := strings.Count(page, "takes precedence over 1"); n != 1 {
		t.Errorf("the exit statuses are on the page %d times, want once", n)
	}
	root := allCommands(t)[0]
	for _, c := range availableCommands(root) {
		at := strings.Index(page, ".SS "+roffQuote(c.UseLine())+"\n")
		if at < 0 && c.HasAvailableSubCommands() {
			at = strings.Index(page, ".SS "+roffQuote(c.CommandPath())+"\n")
		}
		if at < 0 {
			t.Errorf("the page has no section for %s", c.CommandPath())
			continue
		}
		section := page[at+1:]
		if next := strings.Index(section, "\n.SS "); next >= 0 {
			section = section[:next]
		}
		c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
			shown := strings.Contains(section, `\fB\-\-`+roffText(f.Name)+`\fR`)
			switch {
			case f.Name == "help":
			case f.Hidden && shown:
				t.Errorf("the section for %s shows the hidden --%s", c.CommandPath(), f.Name)
			case !f.Hidden && !shown:
				t.Errorf("the section for %s has no --%s", c.CommandPath(), f.Name)
			}
		})
	}
	for _, hidden := range []string{"webperm man", "__complete"} {
		if strings.Contains(page, roffText(hidden)) {
			t.Errorf("the page lists the hidden %s", hidden)
		}
	}
	text := checkRoff(t, page)
	for _, want := range []string{"WEBPERM(1)", "webperm audit [flags] PATH...", "-j, --jobs N", "webperm policy check FILE..."} {
		if !strings.Contains(text, want) {
			t.Errorf("the formatted page has no %q", want)
		}
	}
}

// checkRoff formats page with groff's man macros, every warning on, fails the test on any
// warning or error, and returns the page as plain text. It skips the test where groff is
// missing.
func checkRoff(t *testing.T, page string) string {
	t.Helper()
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff is not installed (apt-get install groff-base): the page's roff is not checked")
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-P-cbou", "-rLL=200n")
	cmd.Stdin = strings.NewReader(page)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("groff -man -ww: %v\n%s", err, stderr.String())
	}
	return stdout.String()
}
