package main

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"

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
  0  no finding at or above --fail-on
  1  findings at or above --fail-on
  2  nothing audited: a bad flag, path or account file (see the error)
  3  audit finished, but part of the tree could not be read (listed in the report);
     takes precedence over 1, because the findings may not be all there are
  4  fix --apply or undo left changes undone: an entry changed since the audit, was
     refused or failed (each is listed); takes precedence over 3`

// errFindings and errIncomplete are how a command that ran reports its outcome.
var (
	errFindings   = errors.New("findings at or above --fail-on")
	errIncomplete = errors.New("part of the tree could not be read")
)

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

// version is set at build time with -ldflags "-X main.version=..."; otherwise the module's.
var version = ""

func webpermVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
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
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withHint(err, "see 'webperm %s --help'", c.Name())
	})
	root.AddCommand(newAuditCommand(), newExplainCommand(), newPlanCommand(), newFixCommand(), newUndoCommand(), newPolicyCommand(), newVersionCommand())
	return root
}

// run executes webperm with args and returns the exit status. It is the one place where errors
// become exit statuses.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	switch {
	case err == nil:
		return exitClean
	case errors.Is(err, errNotApplied):
		return exitNotApplied
	case errors.Is(err, errIncomplete):
		return exitIncomplete
	case errors.Is(err, errFindings), errors.Is(err, errDenied):
		return exitFindings
	}
	printError(stderr, err)
	return exitError
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

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print webperm's version",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(c.OutOrStdout(), "webperm %s\n", webpermVersion())
			return err
		},
	}
}
