package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"
	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// errDenied is explain's outcome when the web server cannot answer with the path.
var errDenied = errors.New("the web server cannot read the path")

type explainFlags struct {
	color  string
	in     string
	system systemFlags
	policy policyFlags
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

With --in DIR, the web root PATH lies in, explain also lists PATH's findings in full, as
'webperm audit DIR' reports them (with the same --policy and --preset): also where the audit's
text report shows them as one line for a whole subtree. For a link, they are the link's own.

Exit status:
  0  the web user can read PATH
  1  it cannot: a visitor gets 403 Forbidden (404 Not Found for a link that leads nowhere)
  2  PATH cannot be examined (see the error)`,
		Example: `  webperm explain /home/deploy/public_html/index.php
  webperm explain --web-user nginx /srv/www/site/wp-login.php
  webperm explain --in /var/www/html /var/www/html/wp-content/uploads/a.php`,
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
	f.StringVar(&fl.in, "in", "", "the web root `DIR` PATH lies in: list PATH's findings as 'webperm audit DIR' reports them")
	fl.policy.register(f)
	f.StringVar(&fl.color, "color", "auto", "colour the output: auto, always, never (auto honours NO_COLOR)")
	return c
}

func runExplain(stdout io.Writer, path string, fl *explainFlags) error {
	color, err := colorWanted(fl.color, stdout, false)
	if err != nil {
		return err
	}
	osfs := afero.NewOsFs()
	var file *policy.Policy
	preset := fl.policy.preset
	if fl.in != "" {
		if file, preset, err = fl.policy.load(false); err != nil {
			return err
		}
		applyIdentities(&fl.system.ids, file)
	}
	accounts, web, php, err := fl.system.load(osfs)
	if err != nil {
		return err
	}
	x, err := access.ExplainIn(osfs, fl.system.sysroot, path, web, php)
	if err != nil {
		return describeExplainError(path, err)
	}
	var found *report.Found
	if fl.in != "" {
		a := &audit.Auditor{Fs: osfs, Preset: preset, File: file, Accounts: accounts, WebUser: web, PHPUser: php, Jobs: 1}
		found = &report.Found{}
		if found.Root, found.Findings, err = findingsIn(a, fl.system.sysroot, fl.in, path); err != nil {
			return err
		}
	}
	if err := report.Explain(stdout, x, found, accounts, report.Options{Color: color}); err != nil {
		return fmt.Errorf("writing the explanation: %w", err)
	}
	if !x.Allowed() {
		return errDenied
	}
	return nil
}

// findingsIn returns the findings of path, as an audit of the web root in reports them, and the
// root as that audit names it: both with the symlinks among their directories resolved, as the
// audit resolves its roots; path's last component is not followed, since the audit never does.
func findingsIn(a *audit.Auditor, sysroot, in, path string) (string, []audit.Finding, error) {
	root, err := filepath.EvalSymlinks(in)
	if err == nil {
		root, err = filepath.Abs(root)
	}
	if err != nil {
		return "", nil, withHint(fmt.Errorf("--in %s: %w", report.Escape(in), unwrapPathError(err)), "--in names the web root PATH lies in, as webperm audit is given it")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, err
	}
	if abs != "/" {
		dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
		if err != nil {
			return "", nil, describeExplainError(path, err)
		}
		abs = filepath.Join(dir, filepath.Base(abs))
	}
	if !walk.Within(abs, root) {
		return "", nil, withHint(fmt.Errorf("%s is not in --in %s", report.Escape(abs), report.Escape(root)), "give the web root that holds PATH")
	}
	if a.SysRoot, err = filepath.Abs(sysroot); err != nil {
		return "", nil, err
	}
	found, err := a.Findings(context.Background(), root, abs)
	if err != nil {
		if errors.Is(err, audit.ErrPolicy) {
			return "", nil, withHint(err, "give --preset NAME, or the name as the audited system's /etc/passwd or /etc/group has it")
		}
		return "", nil, describeExplainError(abs, err)
	}
	return root, found, nil
}

// unwrapPathError is err without the *fs.PathError around it, whose path the caller names.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
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
