package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newManCommand is the hidden command make install writes the manual page with: one page,
// webperm(1), made from the commands' own help, so the page and --help never disagree.
func newManCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "man",
		Short:  "print webperm's manual page, webperm(1), in roff",
		Args:   cobra.NoArgs,
		Hidden: true,
		RunE: func(c *cobra.Command, _ []string) error {
			var b strings.Builder
			writeManPage(&b, c.Root(), currentRelease().version)
			_, err := io.WriteString(c.OutOrStdout(), b.String())
			return err
		},
	}
}

// writeManPage writes root's manual page: NAME, SYNOPSIS, DESCRIPTION, then every command with
// its help, examples and flags, and the exit statuses once at the end.
func writeManPage(b *strings.Builder, root *cobra.Command, version string) {
	name := root.Name()
	fmt.Fprintf(b, ".TH %s 1 \"\" %s \"User Commands\"\n", strings.ToUpper(name), roffQuote(name+" "+version))
	b.WriteString(".nh\n.ad l\n") // no hyphenation, no justification: options and paths stay whole
	fmt.Fprintf(b, ".SH NAME\n%s \\- %s\n", name, roffText(root.Short))
	fmt.Fprintf(b, ".SH SYNOPSIS\n.B %s\n.I command\n.RI [ flags ] \" \" [ argument ...]\n", name)
	b.WriteString(".SH DESCRIPTION\n")
	writeRoffBlock(b, manLong(root))
	b.WriteString(".SH COMMANDS\n")
	for _, c := range availableCommands(root) {
		writeManCommand(b, c)
	}
	b.WriteString(".SH EXIT STATUS\n")
	writeRoffBlock(b, strings.TrimPrefix(exitCodesHelp, "Exit status:\n"))
	b.WriteString(".SH SEE ALSO\n.BR chmod (1),\n.BR chown (1),\n.BR namei (1)\n")
}

// availableCommands lists the commands below c that help lists, each before its own.
func availableCommands(c *cobra.Command) []*cobra.Command {
	var all []*cobra.Command
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			all = append(all, sub)
			all = append(all, availableCommands(sub)...)
		}
	}
	return all
}

func writeManCommand(b *strings.Builder, c *cobra.Command) {
	use := c.CommandPath()
	if c.Runnable() {
		use = c.UseLine()
	}
	fmt.Fprintf(b, ".SS %s\n", roffQuote(use))
	writeRoffBlock(b, manLong(c))
	if c.Example != "" {
		b.WriteString(".PP\nExamples:\n")
		writeRoffBlock(b, c.Example)
	}
	first := true
	c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
		}
		if first {
			b.WriteString(".PP\nFlags:\n")
			first = false
		}
		writeManFlag(b, f)
	})
}

// manLong is c's description without the exit statuses, which the page gives once.
func manLong(c *cobra.Command) string {
	long := c.Long
	if long == "" {
		long = c.Short
	}
	return strings.TrimSpace(strings.ReplaceAll(long, exitCodesHelp, ""))
}

func writeManFlag(b *strings.Builder, f *pflag.Flag) {
	b.WriteString(".TP\n")
	if f.Shorthand != "" {
		fmt.Fprintf(b, "\\fB\\-%s\\fR, ", roffText(f.Shorthand))
	}
	fmt.Fprintf(b, "\\fB\\-\\-%s\\fR", roffText(f.Name))
	name, usage := pflag.UnquoteUsage(f)
	if name != "" {
		fmt.Fprintf(b, " \\fI%s\\fR", roffText(name))
	}
	b.WriteString("\n")
	writeRoffBlock(b, usage+flagDefault(f))
}

// flagDefault is the "(default …)" help shows after a flag's usage, where the default is not
// the type's zero.
func flagDefault(f *pflag.Flag) string {
	switch {
	case f.DefValue == "", f.Value.Type() == "bool" && f.DefValue == "false":
		return ""
	case f.Value.Type() == "string":
		return fmt.Sprintf(" (default %q)", f.DefValue)
	}
	return " (default " + f.DefValue + ")"
}

// writeRoffBlock writes help text as roff: a blank line starts a paragraph, indented lines
// (examples, lists) keep their layout, the rest is filled.
func writeRoffBlock(b *strings.Builder, text string) {
	literal := false
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		indented := strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")
		if indented != literal {
			if indented {
				b.WriteString(".nf\n")
			} else {
				b.WriteString(".fi\n")
			}
			literal = indented
		}
		if strings.TrimSpace(line) == "" {
			b.WriteString(".PP\n")
			continue
		}
		b.WriteString(roffLine(line) + "\n")
	}
	if literal {
		b.WriteString(".fi\n")
	}
}

// roffLine escapes one line of text, so that a line starting with . or ' is not a request.
func roffLine(s string) string {
	s = roffText(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffQuote makes s one quoted argument of a request.
func roffQuote(s string) string {
	return `"` + strings.ReplaceAll(roffText(s), `"`, `\(dq`) + `"`
}

// roffText escapes s for roff: backslashes, hyphens (an option's dashes must stay ASCII when
// copied from the page), tabs, and every character outside ASCII, as \[uXXXX]; other control
// characters are dropped.
func roffText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r == '\t':
			b.WriteString("        ")
		case r > unicode.MaxASCII:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		case r < ' ' || r == 0x7f:
			// no help text has one, and roff has no escape for it
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
