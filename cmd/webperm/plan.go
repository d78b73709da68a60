package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/fixer"
	"github.com/webperm/webperm/internal/safefile"
	"github.com/webperm/webperm/policy"
)

// planFlags are plan's flags, and fix's where it only prints the plan.
type planFlags struct {
	scan   scanFlags
	format string
	output string
}

func (pf *planFlags) register(f *pflag.FlagSet) {
	f.StringVarP(&pf.format, "format", "f", "sh", "plan format: sh (a script to review and run) or json (for fix --apply --plan)")
	f.StringVarP(&pf.output, "output", "o", "", "write the plan to `FILE` (replaced atomically) instead of stdout")
	pf.scan.register(f)
}

const planHelp = `The plan holds one chown and one chmod at most per entry: a mode loses exactly the bits
beyond the policy's, a file the web server must read gets what it needs, and no fix takes away
access the policy requires (a 0640 wp-config.php also gets PHP's group where PHP must read it).
Findings no mode or owner change settles (an unknown owner, a symlink out of the root, a device
node, an SELinux label) are listed at the end, with the reason. Directories above a root, on
the web server's way to it (a 0700 home), are actions of their own, marked as such.`

func newPlanCommand() *cobra.Command {
	var fl planFlags
	c := &cobra.Command{
		Use:   "plan [flags] PATH...",
		Short: "print the chmod and chown that fix what audit reports; changes nothing",
		Long: `Plan audits each PATH and prints the changes that bring it to the policy, as a POSIX sh
script to review (--format sh, the default) or as JSON, both for 'webperm fix --apply --plan'.
It changes nothing. The script, run with sh as root, hands itself to the webperm that wrote it
(or $WEBPERM) as 'fix --apply --plan', with the arguments it was given (--journal FILE,
--include-ancestors): its chown and chmod lines are what webperm applies, with fix --apply's
checks, and sh runs none of them.

` + planHelp + `

` + exitCodesHelp,
		Example: `  webperm plan /var/www/html > fix.sh      # review, then: sh fix.sh
  webperm plan --format json -o plan.json /var/www/html`,
		RunE: func(c *cobra.Command, args []string) error {
			fl.scan.attach(c)
			return runPlan(c.Context(), "plan", c.OutOrStdout(), c.ErrOrStderr(), args, &fl)
		},
	}
	fl.register(c.Flags())
	return c
}

// runPlan prints the plan for command cmd: plan, or fix without --apply.
func runPlan(ctx context.Context, cmd string, stdout, stderr io.Writer, args []string, fl *planFlags) error {
	write, err := planWriter(fl.format)
	if err != nil {
		return err
	}
	unlock, err := fl.scan.takeLock()
	if err != nil {
		return err
	}
	defer unlock()
	p, rep, failOn, err := makePlan(ctx, cmd, args, &fl.scan)
	if err != nil {
		return err
	}
	defer rep.Close()
	var buf bytes.Buffer
	if err := write(&buf, p); err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	if err := writeOutput(stdout, stderr, fl.output, "the plan", safefile.Bytes(buf.Bytes()), safefile.PrivateMode); err != nil {
		return err
	}
	return auditOutcome(rep, failOn, nil)
}

func planWriter(format string) (func(io.Writer, *fixer.Plan) error, error) {
	switch format {
	case "sh":
		return fixer.WriteScript, nil
	case "json":
		return fixer.WriteJSON, nil
	}
	return nil, withHint(fmt.Errorf("unknown plan format %q", format), "use --format sh or --format json")
}

// makePlan audits args for a plan and makes it. An audit that could not read part of a tree
// still gives a plan, for what it read; the caller's outcome says it is incomplete. The audit
// spools its findings: the caller closes the report once it has its outcome.
func makePlan(ctx context.Context, cmd string, args []string, sf *scanFlags) (*fixer.Plan, *audit.Report, policy.Severity, error) {
	rep, failOn, err := sf.run(ctx, cmd, args, true, true)
	if err != nil {
		return nil, nil, 0, err
	}
	p, err := planOf(rep, sf)
	if err != nil {
		rep.Close()
		return nil, nil, 0, err
	}
	return p, rep, failOn, nil
}

// planOf makes the plan of rep, an audit for a plan with sf's flags.
func planOf(rep *audit.Report, sf *scanFlags) (*fixer.Plan, error) {
	p, err := fixer.New(rep, webpermVersion(), time.Now())
	if err != nil {
		return nil, err
	}
	if p.Settings.SysRoot, err = filepath.Abs(sf.system.sysroot); err != nil {
		return nil, err
	}
	if sf.policy.file != "" {
		if p.Settings.PolicyFile, err = filepath.Abs(sf.policy.file); err != nil {
			return nil, err
		}
	}
	if p.Settings.SiteOwner, err = lookupSiteOwner(rep.Accounts, sf.siteOwner); err != nil {
		return nil, err
	}
	p.Settings.Writable = sf.writable
	p.Webperm = rootsExecutable()
	return p, nil
}

// rootsExecutable is the absolute path of this webperm, for the sh plan to run as root: PATH may
// differ when it runs. Where anyone but root could replace the binary or a directory on its way,
// running it as root would run their code, so it is "" (the plan then runs "webperm" from PATH).
func rootsExecutable() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return rootOnly(exe)
}

// rootOnly is path, symlinks resolved, where only root can replace it: it and every directory
// above it are root's and writable by no one else (a sticky directory aside, where no one can
// replace another's entry); else "".
func rootOnly(path string) string {
	exe, err := filepath.EvalSymlinks(path)
	if err != nil {
		return ""
	}
	for p := exe; ; p = filepath.Dir(p) {
		fi, err := os.Lstat(p)
		if err != nil || safefile.ControlledBeside(fi, 0) != "" {
			return ""
		}
		if p == "/" {
			return exe
		}
	}
}
