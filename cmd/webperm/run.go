package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/webperm/webperm/audit/report"
)

// Exit statuses. Each means one thing; scripts and monitoring rely on them.
const (
	exitClean      = 0 // nothing at or above --fail-on
	exitFindings   = 1 // findings at or above --fail-on
	exitError      = 2 // nothing was audited: bad flag, bad path, unreadable account files
	exitIncomplete = 3 // the audit finished, but part of the tree could not be read
	exitNotApplied = 4 // fix --apply or undo left changes undone: each is listed
)

const exitCodesHelp = `Exit status:
  0  no finding at or above --fail-on (with --baseline: no new one)
  1  findings at or above --fail-on (with --baseline: new ones only)
  2  nothing audited: a bad flag, path or account file (see the error)
  3  audit finished, but part of the tree could not be read (listed in the report);
     takes precedence over 1, because the findings may not be all there are
  4  fix --apply or undo left changes undone: an entry changed since the audit, was
     refused or failed (each is listed); takes precedence over 3
audit --format nagios exits as a Nagios plugin instead:
  0  OK: no finding at or above --fail-on
  1  WARNING: medium, low or info findings at or above --fail-on
  2  CRITICAL: critical or high findings at or above --fail-on
  3  UNKNOWN: nothing audited (a bad flag, path or account file), or part of the tree
     not read; the one line on stdout says which`

// errFindings and errIncomplete are how a command that ran reports its outcome.
var (
	errFindings   = errors.New("findings at or above --fail-on")
	errIncomplete = errors.New("part of the tree could not be read")
)

// nagiosState carries the state of an audit under --format nagios, which is its exit status.
type nagiosState report.NagiosState

func (s nagiosState) Error() string { return "nagios state " + report.NagiosState(s).String() }

// hintError is an error with advice for the user, printed on its own line.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, format string, args ...any) error {
	return &hintError{err: err, hint: fmt.Sprintf(format, args...)}
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "webperm",
		Short: "audit the permissions and ownership of web roots",
		Long: `webperm walks a web root and holds every entry's mode and ownership against a
least-privilege policy: directories 0755, files 0644, nothing world-writable, secrets
closed to others. It never follows a symlink, and changes nothing unless 'fix --apply' is
asked to: 'plan' prints the changes as a script to review first.

` + exitCodesHelp,
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: refuseEmptyPaths,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(describeFlagError)
	root.AddCommand(newAuditCommand(), newExplainCommand(), newPlanCommand(), newFixCommand(), newUndoCommand(), newPolicyCommand(), newVersionCommand(), newManCommand())
	// cobra adds help and completion when it runs; added now, they are webperm's own to word.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Short = "show the help of any command"
			c.Run, c.RunE = nil, helpTopic
		case "completion":
			c.Short = "print the script that completes webperm's commands in bash, zsh, fish or powershell"
			asGroup(c)
		}
	}
	return asGroup(root)
}

// asGroup makes c, a command that only holds others, refuse to run alone or with a command it
// does not have: cobra would print its help and exit 0, which hides a typo in a script.
func asGroup(c *cobra.Command) *cobra.Command {
	c.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		return unknownCommand(c, args[0])
	}
	c.RunE = func(c *cobra.Command, _ []string) error {
		return &usageError{cmd: c}
	}
	// A group runs only to say it needs a command: its usage shows no "webperm policy [flags]".
	c.SetUsageTemplate(strings.Replace(c.UsageTemplate(), "{{if .Runnable}}", "{{if and .Runnable (not .HasAvailableSubCommands)}}", 1))
	return c
}

// helpTopic shows the help of the command args name, and refuses a command there is not: cobra
// would show the help of the command above it, and exit 0.
func helpTopic(c *cobra.Command, args []string) error {
	target, rest, err := c.Root().Find(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 && target.HasAvailableSubCommands() {
		return unknownCommand(target, rest[0])
	}
	return target.Help()
}

// usageError is a command given without the subcommand it needs: its usage goes to stderr.
type usageError struct{ cmd *cobra.Command }

func (e *usageError) Error() string { return e.cmd.CommandPath() + " needs a command" }

// unknownCommand is the error for name, which is none of c's commands, with cobra's suggestions.
func unknownCommand(c *cobra.Command, name string) error {
	err := fmt.Errorf("unknown command %q for %q", name, c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	var quoted []string
	for _, s := range c.SuggestionsFor(name) {
		quoted = append(quoted, "'"+c.CommandPath()+" "+s+"'")
	}
	if len(quoted) == 0 {
		return withHint(err, "see '%s --help' for its commands", c.CommandPath())
	}
	return withHint(err, "did you mean %s?", strings.Join(quoted, " or "))
}

// run executes webperm with args and returns the exit status. It is the one place where errors
// become exit statuses.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	c, err := root.ExecuteC()
	if status, ran := ranStatus(err); ran {
		return status
	}
	var usage *usageError
	if errors.As(err, &usage) {
		fmt.Fprint(stderr, usage.cmd.UsageString())
		return exitError
	}
	printError(stderr, err)
	// An audit for monitoring says it failed where the monitoring looks: its metrics file, its
	// plugin line. Under --format nagios, a failure is UNKNOWN.
	if c != nil && c.Name() == "audit" && c.Parent() == root && auditFailed(c.Flags(), args, stdout, stderr, err) {
		return int(report.NagiosUnknown)
	}
	return exitError
}

// ranStatus is the exit status of a command that ran to its end with outcome err, and false for
// an error that stopped it (exit 2).
func ranStatus(err error) (status int, ran bool) {
	var state nagiosState
	switch {
	case err == nil:
		return exitClean, true
	case errors.As(err, &state):
		return int(state), true
	case errors.Is(err, errNotApplied):
		return exitNotApplied, true
	case errors.Is(err, errIncomplete):
		return exitIncomplete, true
	case errors.Is(err, errFindings), errors.Is(err, errDenied):
		return exitFindings, true
	}
	return exitError, false
}

// printError writes err for the user, one fault per line, each followed by its hint: a policy
// file with three faults gets three lines, each with its file:line:column.
func printError(w io.Writer, err error) {
	type multi = interface{ Unwrap() []error }
	if h, ok := err.(*hintError); ok {
		if _, ok := h.err.(multi); ok {
			printError(w, h.err)
			fmt.Fprintf(w, "webperm: hint: %s\n", report.Visible(h.hint))
			return
		}
	}
	if m, ok := err.(multi); ok {
		for _, e := range m.Unwrap() {
			printError(w, e)
		}
		return
	}
	// Names in errors are escaped where they are made; Visible sees to any that are not.
	fmt.Fprintf(w, "webperm: %s\n", report.Visible(err.Error()))
	var h *hintError
	var ht interface{ HintText() string }
	switch {
	case errors.As(err, &h):
		fmt.Fprintf(w, "webperm: hint: %s\n", report.Visible(h.hint))
	case errors.As(err, &ht) && ht.HintText() != "":
		fmt.Fprintf(w, "webperm: hint: %s\n", report.Visible(ht.HintText()))
	}
}
