package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"
	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/fixer"
	"github.com/webperm/webperm/internal/safefile"
	"github.com/webperm/webperm/policy"
)

// errNotApplied is the outcome of a fix --apply or undo that left a change undone.
var errNotApplied = errors.New("some changes were not made")

// defaultJournalDir is where fix --apply keeps its journal unless --journal names one: root's,
// outside every web root.
const defaultJournalDir = "/var/lib/webperm"

type fixFlags struct {
	plan             planFlags
	apply            bool
	journal          string
	planFile         string
	planID           string
	includeAncestors bool
}

func newFixCommand() *cobra.Command {
	var fl fixFlags
	c := &cobra.Command{
		Use:   "fix [flags] PATH...",
		Short: "print the plan, as plan does; with --apply, make it safely and keep a journal",
		Long: `Fix without --apply prints the plan, as 'webperm plan' does, and changes nothing.

With --apply it makes the plan's changes: of a fresh audit of each PATH, or exactly those of a
saved and reviewed plan (--plan FILE, no PATH): the JSON of 'webperm plan --format json', or
the sh plan of 'webperm plan', which runs this itself when run ('sh fix.sh'). Each entry is
opened from its root without following any symlink (openat2 with RESOLVE_BENEATH and
RESOLVE_NO_SYMLINKS) and changed only if it is still the inode the audit saw, with the mode
and owner the audit saw; symlinks, devices, pipes, sockets and files with more than one hard
link are refused. The owner changes before the mode, since chown clears setuid bits.
Directories above a root change only with --include-ancestors. An entry that cannot be
changed is reported and the run goes on.

Before each change the journal gets a line and is synced to disk, so even a crash can be undone
with 'webperm undo JOURNAL'.

` + planHelp + `

` + exitCodesHelp,
		Example: `  webperm fix /var/www/html                       # the plan, as a script; changes nothing
  webperm fix --apply /var/www/html
  webperm plan -o /root/fix.sh /var/www/html   # review fix.sh, then:
  sh /root/fix.sh --journal /root/fix.jsonl     # runs webperm fix --apply --plan /root/fix.sh
  webperm plan --format json -o plan.json /var/www/html
  webperm fix --apply --plan plan.json --journal /root/fix.jsonl
  webperm undo /root/fix.jsonl`,
		RunE: func(c *cobra.Command, args []string) error {
			fl.plan.scan.attach(c)
			if !fl.apply {
				for _, name := range []string{"plan", "plan-id", "journal", "include-ancestors"} {
					if c.Flags().Changed(name) {
						return withHint(fmt.Errorf("--%s needs --apply", name), "webperm fix --apply --%s ...", name)
					}
				}
				return runPlan(c.Context(), "fix", c.OutOrStdout(), c.ErrOrStderr(), args, &fl.plan)
			}
			for _, name := range []string{"format", "output"} {
				if c.Flags().Changed(name) {
					return withHint(fmt.Errorf("--%s writes a plan: fix --apply prints what it changed", name), "save the plan with webperm plan --format json -o PLAN.json, then apply it with --plan PLAN.json")
				}
			}
			if fl.planID != "" && fl.planFile == "" {
				return withHint(errors.New("--plan-id needs --plan"), "a sh plan passes both: run it with sh FILE")
			}
			if fl.planFile != "" {
				for _, name := range []string{"policy", "preset", "web-user", "web-group", "php-user", "root", "fail-on", "jobs", "site-owner", "writable", "exclude", "sites-from"} {
					if c.Flags().Changed(name) {
						return withHint(fmt.Errorf("--%s has no say over a saved plan: --plan applies it as it is", name), "give --%s to the webperm plan that writes the plan", name)
					}
				}
			}
			return runApply(c.Context(), c.OutOrStdout(), c.ErrOrStderr(), args, &fl)
		},
	}
	f := c.Flags()
	fl.plan.register(f)
	f.BoolVar(&fl.apply, "apply", false, "make the changes (as root); without it, fix only prints the plan")
	f.StringVar(&fl.journal, "journal", "", "record each change in `FILE`, which must not exist (default: "+defaultJournalDir+"/journal-TIME.jsonl)")
	f.StringVar(&fl.planFile, "plan", "", "apply exactly the plan in `FILE` (sh or JSON, from webperm plan) instead of auditing PATH")
	f.StringVar(&fl.planID, "plan-id", "", "the plan-id the sh plan in --plan must have (the script passes its own)")
	_ = f.MarkHidden("plan-id")
	f.BoolVar(&fl.includeAncestors, "include-ancestors", false, "also change the directories above each root that the plan lists")
	return c
}

func runApply(ctx context.Context, stdout, stderr io.Writer, args []string, fl *fixFlags) error {
	unlock, err := fl.plan.scan.takeLock()
	if err != nil {
		return err
	}
	defer unlock()
	p, complete, err := planToApply(ctx, args, fl)
	if err != nil {
		return err
	}
	var refused map[string]string
	if fl.planFile != "" {
		if refused, err = judgePlan(ctx, p, fl.plan.scan.jobs); err != nil {
			return err
		}
	}
	// The journal is written even when there is nothing to change: a deploy that always undoes
	// with it then finds it, empty.
	journalPath, err := journalPath(fl.journal, p)
	if err != nil {
		return err
	}
	j, err := fixer.CreateJournal(journalPath, fixer.JournalHeader{Version: webpermVersion(), Created: time.Now(), Roots: p.Roots})
	if err != nil {
		return withHint(err, "name a new file outside every web root with --journal FILE")
	}
	sum := fixer.Apply(p, fixer.Options{
		IncludeAncestors: fl.includeAncestors,
		Journal:          j,
		Refused:          refused,
		Report: func(o fixer.Outcome) {
			fmt.Fprintf(stdout, "%-8s %s: %s\n", verb(o.Status, "changed"), report.Escape(o.Action.Path), actionNote(&o, p.Accounts))
		},
	})
	if err := j.Close(); err != nil {
		fmt.Fprintf(stderr, "webperm: closing the journal: %s\n", report.Visible(err.Error()))
	}
	fmt.Fprintf(stderr, "webperm: %d changed, %d skipped, %d failed; %d left for you to decide (webperm plan lists them)\n",
		sum.Applied, sum.Skipped, sum.Failed, len(p.Manual))
	fmt.Fprintf(stderr, "webperm: journal %s: 'webperm undo %s' puts back what changed\n", report.Escape(journalPath), report.Escape(journalPath))
	if sum.Skipped+sum.Failed > 0 {
		return errNotApplied
	}
	return incompleteOutcome(complete)
}

// planToApply returns the plan fix --apply makes: the saved one --plan names, or one of a fresh
// audit of args. complete is false where that audit could not read part of a tree.
func planToApply(ctx context.Context, args []string, fl *fixFlags) (p *fixer.Plan, complete bool, err error) {
	if fl.planFile == "" {
		p, rep, _, err := makePlan(ctx, "fix", args, &fl.plan.scan)
		if err != nil {
			return nil, false, err
		}
		rep.Close()
		return p, rep.Complete(), nil
	}
	if len(args) > 0 {
		return nil, false, withHint(errors.New("--plan applies a saved plan: give no PATH"), "the plan names its roots; to audit afresh, leave out --plan")
	}
	p, err = readPlanFile(fl.planFile)
	if err == nil && fl.planID != "" && p.ID != fl.planID {
		err = fmt.Errorf("the plan %s has plan-id %q, not %q", report.Escape(fl.planFile), p.ID, fl.planID)
	}
	if err != nil && fl.planID != "" {
		// The script passes "$0" as --plan: it is not the script when sh read it from stdin.
		return nil, false, withHint(fmt.Errorf("the sh plan with plan-id %s handed webperm --plan %s, which is not that script: %w", fl.planID, report.Escape(fl.planFile), err),
			"run the plan as a file, 'sh fix.sh' or 'sh /root/fix.sh', not 'sh < fix.sh' or through a pipe: webperm reads the plan from the file sh was given; nothing was changed")
	}
	if err != nil {
		return nil, false, withHint(err, "give the plan 'webperm plan' wrote (sh or JSON), as root; a reviewer may delete actions or change targets, nothing else")
	}
	if err := recheckRoots(p); err != nil {
		return nil, false, err
	}
	return p, true, nil
}

// judgePlan judges the targets of a saved plan, which a reviewer may have edited, with the rules
// and access model of the audit that wrote it: it audits the plan's roots afresh, held to the
// policy file and presets the plan records, and returns why each action that would break a rule
// is refused (fixer.Refusals). A plan that records no presets, from before webperm recorded
// them, is judged with the presets chosen afresh.
func judgePlan(ctx context.Context, p *fixer.Plan, jobs int) (map[string]string, error) {
	if len(p.Actions) == 0 {
		return nil, nil
	}
	var file *policy.Policy
	if p.Settings.PolicyFile != "" {
		var err error
		if file, err = readTrustedPolicy(p.Settings.PolicyFile); err != nil {
			return nil, withHint(err, "the plan was made with this policy file, and its edits are judged by it: restore it, or make the plan anew")
		}
	}
	sys := systemFlags{sysroot: p.Settings.System()}
	for _, id := range []struct {
		flag *string
		who  *access.WebUser
	}{{&sys.ids.WebUser, p.WebUser}, {&sys.ids.PHPUser, p.PHPUser}} {
		if id.who != nil {
			*id.flag = strconv.FormatUint(uint64(id.who.UID), 10)
		}
	}
	if p.WebUser != nil {
		sys.ids.WebGroup = strconv.FormatUint(uint64(p.WebUser.GID), 10)
	}
	fsys := afero.NewOsFs()
	accounts, web, php, err := sys.load(fsys)
	if err != nil {
		return nil, err
	}
	extra, err := policy.WritableRules(p.Settings.Writable)
	if err != nil {
		return nil, err
	}
	judged, states := map[string][]audit.Finding{}, fixer.JudgeStates(p)
	for _, r := range p.Roots {
		a := &audit.Auditor{
			Fs: fsys, Preset: presetOf(p, r.Path), File: file, Accounts: accounts, WebUser: web, PHPUser: php,
			Jobs: jobs, SysRoot: sys.sysroot, AsFixed: true, Judge: states, SiteOwner: p.Settings.SiteOwner, Extra: extra,
		}
		rep, err := a.Run(ctx, []string{r.Path})
		if err != nil {
			return nil, withHint(fmt.Errorf("judging the plan's targets: %w", describeRootError(err)), "a plan applies to the tree it was made of: make it anew")
		}
		maps.Copy(judged, rep.Judged)
	}
	return fixer.Refusals(p, judged), nil
}

// presetOf is the preset the plan's audit held root to, or auto where the plan does not say.
func presetOf(p *fixer.Plan, root string) string {
	for _, rp := range p.Settings.Presets {
		if rp.Root == root {
			return rp.Preset
		}
	}
	return policy.Auto
}

// recheckRoots holds a saved plan's roots, before anything is changed, to the rule plan held them
// to: each must still lead to itself, with no symlink on the way, and no user besides root may
// control the way unless it stays within their own tree. Between the plan and now, the owner of
// a home may have made the site a link to /etc.
func recheckRoots(p *fixer.Plan) error {
	accounts, err := access.LoadAccounts(afero.NewOsFs(), "/")
	if err != nil {
		return withHint(fmt.Errorf("reading the system's users: %w", err), "fix --apply --plan judges who controls each root's way by /etc/passwd and /etc/group")
	}
	paths := make([]string, len(p.Roots))
	for i, r := range p.Roots {
		paths[i] = r.Path
	}
	resolved, err := resolveRoots(paths, accounts)
	if err != nil {
		return err
	}
	// The plan's system (an image below --root) has system directories of its own, as plan held them.
	if err := checkRootsToChange(resolved, p.Settings.System(), p.WebUser, p.PHPUser); err != nil {
		return err
	}
	for _, r := range resolved {
		if r.Path != r.Given {
			return withHint(fmt.Errorf("the plan's root %s now leads to %s: a symlink stands on its way since the plan was made", report.Escape(r.Given), report.Escape(r.Path)),
				"nothing was changed; make the plan again from the directory itself, and review it")
		}
	}
	return nil
}

// readPlanFile reads the saved plan at name, a sh plan or JSON (told apart by content), from a
// file only the user running webperm can have written.
func readPlanFile(name string) (*fixer.Plan, error) {
	f, err := openTrusted(name, "the plan")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := safefile.ReadAll(f, safefile.PlanLimit)
	if err != nil {
		return nil, fmt.Errorf("reading the plan %s: %w", fileName(name), err)
	}
	if fixer.IsScript(data) {
		return fixer.ReadScript(name, bytes.NewReader(data))
	}
	return fixer.ReadJSON(name, bytes.NewReader(data))
}

// journalPath returns where the journal goes: path, or a new file in defaultJournalDir. It is
// never inside a root, where the web server could hand out the list of what changed.
func journalPath(path string, p *fixer.Plan) (string, error) {
	if path == "" {
		if err := os.MkdirAll(defaultJournalDir, 0o700); err != nil {
			return "", withHint(err, "name the journal with --journal FILE")
		}
		path = filepath.Join(defaultJournalDir, "journal-"+time.Now().UTC().Format("20060102T150405.000000000Z")+".jsonl")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("%s: %w", report.Escape(pe.Path), pe.Err)
		}
		return "", withHint(fmt.Errorf("--journal %s: %w", report.Escape(path), err), "--journal FILE must be in a directory that exists")
	}
	// The way as given too: whoever owns a symlink on it chooses where root writes.
	if err := checkTrustedDir(filepath.Dir(abs), "the journal's directory"); err != nil {
		return "", withHint(err, "keep the journal where only root can write, e.g. under /root or %s", defaultJournalDir)
	}
	for _, r := range p.Roots {
		if walk.Within(dir, r.Path) {
			return "", withHint(fmt.Errorf("--journal %s: inside the web root %s, where the web server could serve it", report.Escape(path), report.Escape(r.Path)), "keep the journal outside every web root, e.g. under /root or %s", defaultJournalDir)
		}
	}
	return filepath.Join(dir, filepath.Base(abs)), nil
}

func incompleteOutcome(complete bool) error {
	if !complete {
		return errIncomplete
	}
	return nil
}

// verb names an outcome: done for applied, else the status.
func verb(s fixer.Status, done string) string {
	if s == fixer.Applied {
		return done
	}
	return s.String()
}

// actionNote says what an action did, or why it did not.
func actionNote(o *fixer.Outcome, acc *access.Accounts) string {
	if o.Status != fixer.Applied {
		return report.Escape(o.Reason)
	}
	a := o.Action
	return fmt.Sprintf("%s, was %s", a.Target.Describe(acc), a.Current.Describe(acc))
}

func newUndoCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "undo JOURNAL",
		Short: "put back what a fix --apply changed, from its journal",
		Long: `Undo reads the journal a 'webperm fix --apply' wrote and gives each entry it lists back its
old mode and owner, last change first, with fix's care: nothing is changed through a symlink or
outside its root, and only if it is still the inode the fix changed. An entry someone changed
since is left alone and reported. A journal that is corrupt or cut short is refused whole,
naming the line, and nothing is changed.

` + exitCodesHelp,
		Example: `  webperm undo /var/lib/webperm/journal-20261121T101500.000000000Z.jsonl`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return withHint(fmt.Errorf("undo takes one JOURNAL, not %d", len(args)), "webperm undo %s/journal-TIME.jsonl", defaultJournalDir)
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return runUndo(c.OutOrStdout(), c.ErrOrStderr(), args[0])
		},
	}
}

func runUndo(stdout, stderr io.Writer, name string) error {
	f, err := openTrusted(name, "the journal")
	if err != nil {
		return withHint(err, "give the journal fix --apply wrote (by default under %s)", defaultJournalDir)
	}
	defer f.Close()
	h, entries, err := fixer.ReadJournal(name, f)
	if err != nil {
		return withHint(err, "undo takes the journal fix --apply wrote, whole; nothing was changed")
	}
	sum := fixer.Undo(h, entries, func(o fixer.UndoOutcome) {
		note := report.Escape(o.Reason)
		if o.Status == fixer.Applied {
			note = "back to " + o.Entry.Old.Describe(nil)
			if o.Reason != "" {
				note += " (" + report.Escape(o.Reason) + ")"
			}
		}
		fmt.Fprintf(stdout, "%-8s %s: %s\n", verb(o.Status, "restored"), report.Escape(o.Entry.Path), note)
	})
	fmt.Fprintf(stderr, "webperm: %d restored, %d skipped, %d failed\n", sum.Applied, sum.Skipped, sum.Failed)
	if sum.Skipped+sum.Failed > 0 {
		return errNotApplied
	}
	return nil
}

// openTrusted opens the plan or journal (what) that webperm, as root, is to act on. Whoever can
// write it, or replace it, could have it change anything: it must be a regular file of at most
// safefile.PlanLimit, not a symlink, owned by the user running webperm and writable by no one else, in a
// directory that no one else can change either (unless sticky, like /tmp). It is looked at before
// it is opened, so a FIFO or device there is refused unopened.
func openTrusted(name, what string) (*os.File, error) {
	f, err := safefile.OpenRegular(name, safefile.PlanLimit, false)
	if err != nil {
		if errors.Is(err, safefile.ErrSymlink) {
			return nil, fmt.Errorf("%s %s: a symlink: webperm reads %s only from a file of its own", what, report.Escape(name), what)
		}
		return nil, fmt.Errorf("reading %s %s: %w", what, fileName(name), err)
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkOwned(fi, name, what)
	}
	if err == nil {
		err = checkTrustedDir(filepath.Dir(name), what+"'s directory")
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkTrustedDir checks that no one but the user running webperm (or root) can replace what is
// in dir, or dir itself (safefile.CheckDir).
func checkTrustedDir(dir, what string) error {
	return checkDirFor(dir, what, "could have it change anything")
}

// checkDirFor is checkTrustedDir for a file whose writer could do what stake says with it.
func checkDirFor(dir, what, stake string) error {
	err := safefile.CheckDir(dir)
	var de *safefile.DirError
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &de):
		return fmt.Errorf("%s %s: %w", what, report.Escape(dir), err)
	case de.Path == dir:
		return fmt.Errorf("%s %s %s: whoever can write it %s", what, report.Escape(dir), de.Reason, stake)
	}
	return fmt.Errorf("%s %s lies in %s, which %s: whoever can change that %s", what, report.Escape(dir), report.Escape(de.Path), de.Reason, stake)
}

// checkOwned checks fi, the plan or journal at path: owned by the user running webperm and
// writable by no one else.
func checkOwned(fi os.FileInfo, path, what string) error {
	return checkOwnedFor(fi, path, what, "could have it change anything, so webperm acts only on its own")
}

// checkOwnedFor is checkOwned for a file whose writer could do what stake says with it.
func checkOwnedFor(fi os.FileInfo, path, what, stake string) error {
	if why := safefile.Controlled(fi); why != "" {
		return fmt.Errorf("%s %s %s: whoever can write it %s", what, report.Escape(path), why, stake)
	}
	return nil
}
