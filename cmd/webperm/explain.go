package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"
	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/report"
)

// errDenied is explain's outcome when the web server cannot answer with the path.
var errDenied = errors.New("the web server cannot read the path")

type explainFlags struct {
	color  string
	system systemFlags
}

func newExplainCommand() *cobra.Command {
	var fl explainFlags
	c := &cobra.Command{
		Use:   "explain [flags] PATH",
		Short: "show why the web server can or cannot read one path",
		Long: `Explain walks from / down to PATH and shows, one line per component as namei -l does,
its mode, owner and group, and whether the web user may search it (directories) or read it (the
file), with the permission class that decides. It names the first component that blocks, the
lines nginx and Apache would write to their error logs, and an unreadable .htaccess on the way.

Where PATH is a symlink, explain shows the way to the link, then where it leads and the way to
that, link by link, down to the target: resolved from the link's directory as the system below
--root resolves it (an absolute target, or a .. that would climb above --root, stays below it).
A link that leads nowhere or loops says so.

Exit status:
  0  the web user can read PATH
  1  it cannot: a visitor gets 403 Forbidden (404 Not Found for a link that leads nowhere)
  2  PATH cannot be examined (see the error)`,
		Example: `  webperm explain /home/deploy/public_html/index.php
  webperm explain --web-user nginx /srv/www/site/wp-login.php`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return withHint(fmt.Errorf("explain takes one PATH, not %d", len(args)), "webperm explain /var/www/html/index.php")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return runExplain(c.OutOrStdout(), args[0], &fl)
		},
	}
	f := c.Flags()
	fl.system.register(f)
	f.StringVar(&fl.color, "color", "auto", "colour the output: auto, always, never (auto honours NO_COLOR)")
	return c
}

func runExplain(stdout io.Writer, path string, fl *explainFlags) error {
	color, err := colorWanted(fl.color, stdout, false)
	if err != nil {
		return err
	}
	osfs := afero.NewOsFs()
	accounts, web, php, err := fl.system.load(osfs)
	if err != nil {
		return err
	}
	x, err := audit.ExplainIn(osfs, fl.system.sysroot, path, web, php)
	if err != nil {
		return describeExplainError(path, err)
	}
	if err := report.Explain(stdout, x, accounts, report.Options{Color: color}); err != nil {
		return fmt.Errorf("writing the explanation: %w", err)
	}
	if !x.Allowed() {
		return errDenied
	}
	return nil
}

// describeExplainError names the path explain could not examine. As root every path can be
// examined; as another user, a directory on the way may hide what is below it.
func describeExplainError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = fmt.Errorf("%s: %w", report.Escape(pe.Path), pe.Err)
	} else {
		err = fmt.Errorf("%s: %w", report.Escape(path), err)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return withHint(err, "check the path; explain needs a file or directory that exists")
	case errors.Is(err, fs.ErrPermission):
		return withHint(err, "run webperm as root: it must see every directory on the way")
	}
	return err
}
