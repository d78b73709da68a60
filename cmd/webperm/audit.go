package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/rootpath"
	"github.com/webperm/webperm/internal/safefile"
	"github.com/webperm/webperm/policy"
	"golang.org/x/sys/unix"
)

type auditFlags struct {
	scan        scanFlags
	format      string
	output      string
	textfileDir string
	color       string
	quiet       bool
	expand      bool
	baseline    string
}

// registerNoXattrs registers --no-xattrs, audit's alone: a plan must judge access exactly, ACLs
// included, or it would open to everyone (chmod o+x) a home an ACL opens to the web server.
func (sf *scanFlags) registerNoXattrs(f *pflag.FlagSet) {
	f.BoolVar(&sf.noXattrs, "no-xattrs", false, "read no ACLs, SELinux labels or file capabilities (faster): access is judged by the mode bits alone, so a 403 an ACL or label causes or prevents is not seen, and acl-extends-access, selinux-label and capabilities never fire; the report's header says so")
}

// scanFlags say what an audit holds to what: audit, plan and fix share them.
type scanFlags struct {
	failOn    string
	jobs      int
	siteOwner string
	writable  []string
	oneFs     bool
	noXattrs  bool // audit only
	exclude   []string
	sitesFrom string
	lock      string
	system    systemFlags
	policy    policyFlags

	// stdin is what --sites-from - reads; progress is shown on stderr where it is a terminal.
	stdin  io.Reader
	stderr io.Writer
}

// attach gives sf the command's streams, for --sites-from - and the progress line.
func (sf *scanFlags) attach(c *cobra.Command) {
	sf.stdin, sf.stderr = c.InOrStdin(), c.ErrOrStderr()
}

func (sf *scanFlags) register(f *pflag.FlagSet) {
	f.StringVar(&sf.failOn, "fail-on", "low", "exit 1 on findings of this `SEVERITY` or above: critical, high, medium, low, info")
	f.IntVarP(&sf.jobs, "jobs", "j", runtime.NumCPU(), "read up to `N` directories at once")
	setWants(f, "jobs", "a number of directories")
	f.Lookup("jobs").DefValue = "the number of CPUs" // the help and the man page are the same on every machine
	f.StringVar(&sf.siteOwner, "site-owner", "", "whose the site is, `NAME|UID`, as owner expectations and fixes take it (default: the root's owner; where the web server owns the root, the owner of the home it lies in)")
	f.StringArrayVar(&sf.writable, "writable", nil, "a directory the app writes, `GLOB` relative to the root (wp-content/uploads, sites/*/files): there the web server or PHP may write and own what it wrote, and no fix takes write away; repeat for more")
	f.StringArrayVar(&sf.exclude, "exclude", nil, "leave out the entries `GLOB` names below each root, as a policy file's exclude: does: a name at any depth (cache, *.log), a path from the root (wp-content/cache, ./tmp), directories alone with a trailing slash (cache/); an excluded directory is not entered, and the report counts what was left out; repeat for more")
	f.StringVar(&sf.sitesFrom, "sites-from", "", "audit the roots `FILE` lists too, one absolute path a line after any PATH (# begins a comment; - reads stdin)")
	f.StringVar(&sf.lock, "lock", "", "hold an exclusive lock on `FILE` for the whole run: while one run holds it, another exits at once with status 2 (for cron: runs never overlap)")
	f.BoolVar(&sf.oneFs, "one-file-system", false, "stay on each PATH's file system, as find -xdev does: a directory on another device is checked but not entered, and listed as skipped (/proc, /sys and other pseudo file systems, and container layers, are never entered unless given as PATH)")
	sf.system.register(f)
	sf.policy.register(f)
}

// systemFlags say which system is audited and who its web server runs as; audit and explain
// share them.
type systemFlags struct {
	ids     access.IdentityFlags
	sysroot string
}

func (sf *systemFlags) register(f *pflag.FlagSet) {
	f.StringVar(&sf.ids.WebUser, "web-user", "", "the web server's user, `NAME|UID` (default: detected from running workers, then configuration, then the first of "+strings.Join(access.DefaultWebUsers, ", ")+")")
	f.StringVar(&sf.ids.WebGroup, "web-group", "", "the web server's group, `NAME|GID` (default: the web user's)")
	f.StringVar(&sf.ids.PHPUser, "php-user", "", "the PHP-FPM pool's user, `NAME|UID`, where it is not the web user: it must read scripts (default: detected)")
	f.StringVar(&sf.sysroot, "root", "/", "the audited system's root `DIR`: users, groups and server configuration come from below DIR")
}

// load reads the audited system's accounts and decides who its web server and PHP run as.
func (sf *systemFlags) load(fsys afero.Fs) (*access.Accounts, *access.WebUser, *access.WebUser, error) {
	accounts, err := access.LoadAccounts(fsys, sf.sysroot)
	if err != nil {
		return nil, nil, nil, withHint(fmt.Errorf("reading the system's users: %w", err), "--root DIR must name a system root that has etc/passwd and etc/group")
	}
	var found access.Detected
	if sf.ids.WebUser == "" || sf.ids.PHPUser == "" {
		// Running processes are the host's: they say nothing about an image below another root.
		proc := ""
		if filepath.Clean(sf.sysroot) == "/" {
			proc = "/proc"
		}
		found = audit.Detect(fsys, sf.sysroot, proc)
	}
	web, php, err := access.ResolveIdentities(accounts, sf.ids, found)
	switch {
	case errors.Is(err, access.ErrNoSuchGroup):
		return nil, nil, nil, withHint(err, "give the web server's group as %s names it, or its number: --web-group www-data, --web-group 33", accounts.GroupPath)
	case err != nil:
		return nil, nil, nil, withHint(err, "give the users the web server and PHP run as, e.g. --web-user www-data --php-user deploy")
	}
	return accounts, web, php, nil
}

func newAuditCommand() *cobra.Command {
	var fl auditFlags
	c := &cobra.Command{
		Use:   "audit [flags] PATH...",
		Short: "report what in a web root is open too wide or broken",
		Long: `Audit walks each PATH, a web root directory, and reports every entry that breaks the
policy. It never follows a symlink below PATH (PATH itself may be one) and changes nothing.

` + exitCodesHelp,
		Example: `  webperm audit /var/www/html
  webperm audit --format json -o /var/log/webperm.json /srv/www/site
  webperm audit --quiet --fail-on high /home/*/public_html
  webperm audit --quiet --textfile-dir /var/lib/webperm /var/www/html
  webperm audit --format nagios --fail-on medium /var/www/html`,
		RunE: func(c *cobra.Command, args []string) error {
			fl.scan.attach(c)
			return runAudit(c.Context(), c.OutOrStdout(), c.ErrOrStderr(), args, &fl)
		},
	}
	f := c.Flags()
	f.StringVarP(&fl.format, "format", "f", "text", "report format: "+strings.Join(report.Formats(), ", "))
	f.StringVarP(&fl.output, "output", "o", "", "write the report to `FILE` (replaced atomically) instead of stdout")
	f.StringVar(&fl.textfileDir, "textfile-dir", "", "also write the audit's metrics, in the prometheus format, to `DIR`/"+textfileName+" for node_exporter's textfile collector (--collector.textfile.directory): replaced atomically, mode 0644, and written when the audit fails too (webperm_success 0); the report still goes to stdout or -o in --format")
	fl.scan.register(f)
	fl.scan.registerNoXattrs(f)
	f.StringVar(&fl.color, "color", "auto", "colour the text report: auto, always, never (auto honours NO_COLOR)")
	f.BoolVarP(&fl.quiet, "quiet", "q", false, "print nothing when there is nothing at or above --fail-on and the tree was read in full")
	f.StringVar(&fl.baseline, "baseline", "", "compare with `FILE`, an earlier JSON report of the same roots: findings it has are known, listed in neither the text report nor the exit status; the report says which are new and lists the baseline's resolved ones")
	f.BoolVar(&fl.expand, "expand", false, "list every finding in the text report, also where a whole subtree shares one (the JSON report always does)")
	return c
}

// runAudit audits, writes with --textfile-dir the metrics, then the report. A run that fails
// leaves writing the metrics of its failure to run (auditFailed), as failures are known there.
func runAudit(ctx context.Context, stdout, stderr io.Writer, args []string, fl *auditFlags) error {
	started := time.Now()
	write, err := report.Lookup(fl.format)
	if err != nil {
		return withHint(err, "use --format %s", strings.Join(report.Formats(), " or --format "))
	}
	unlock, err := fl.scan.takeLock()
	if err != nil {
		return err
	}
	defer unlock()
	toStdout := writesStdout(fl.output)
	color, err := colorWanted(fl.color, stdout, !toStdout)
	if err != nil {
		return err
	}
	if fl.baseline != "" && !report.ComparesWithBaseline(fl.format) {
		return withHint(fmt.Errorf("--format %s does not compare with a baseline", fl.format), "use --format %s with --baseline", strings.Join(report.BaselineFormats(), " or --format "))
	}
	if fl.textfileDir != "" {
		if err := checkTextfileDir(fl.textfileDir); err != nil {
			return err
		}
	}
	if fl.baseline != "" {
		if err := checkBaselineTrusted(fl.baseline); err != nil {
			return withHint(err, "keep the baseline where only you can write, e.g. /var/lib/webperm/baseline.json")
		}
		// Before the audit, which may take hours: the roots are compared once it is done.
		if err := report.CheckBaseline(fl.baseline); err != nil {
			return withHint(err, "--baseline names a JSON report of the same roots, as webperm audit --format json -o FILE PATH... writes it")
		}
	}
	rep, failOn, err := fl.scan.run(ctx, "audit", args, false, true)
	if err != nil {
		return err
	}
	defer rep.Close()
	base, err := openBaseline(fl.baseline, rep)
	if err != nil {
		return err
	}
	defer base.Close()
	opt := report.Options{Color: color, Expand: fl.expand, Baseline: base, ToolVersion: webpermVersion(), FailOn: failOn, Run: report.Run{Started: started, Finished: time.Now()}}
	var outcome error
	if fl.format == "nagios" {
		outcome = nagiosOutcome(rep, failOn, base)
	} else {
		outcome = auditOutcome(rep, failOn, base)
	}
	// The metrics first: a run whose metrics cannot be written fails (exit 2, or a nagios
	// plugin's one UNKNOWN line) before its report is out, so it writes no report to disagree.
	if fl.textfileDir != "" {
		if err := writeTextfile(fl.textfileDir, func(w io.Writer) error { return report.Prometheus(w, rep, opt) }); err != nil {
			return err
		}
	}
	// A monitoring plugin always says its state, even OK.
	quiet := toStdout && fl.quiet && outcome == nil && fl.format != "nagios"
	if !quiet {
		content := func(w io.Writer) error {
			if err := write(w, rep, opt); err != nil {
				return fmt.Errorf("the %s report: %w", fl.format, err)
			}
			return nil
		}
		if err := writeOutput(stdout, stderr, fl.output, "the report", content, safefile.ReportMode); err != nil {
			return err
		}
	}
	return outcome
}

// run audits the roots args name, for command cmd, and returns the report and the severity
// --fail-on names. asFixed audits for a plan (audit.Auditor.AsFixed); spool keeps the findings
// in a temp file (audit.Auditor.Spool), for a report that is only written out: the caller
// closes it.
func (sf *scanFlags) run(ctx context.Context, cmd string, args []string, asFixed, spool bool) (*audit.Report, policy.Severity, error) {
	failOn, err := policy.ParseSeverity(sf.failOn)
	if err != nil {
		return nil, 0, withHint(err, "--fail-on low reports everything but info")
	}
	if sf.jobs < 1 {
		return nil, 0, withHint(fmt.Errorf("--jobs %d: must be at least 1", sf.jobs), "--jobs 1 reads one directory at a time")
	}
	if sf.sitesFrom != "" {
		sites, err := readSites(sf.sitesFrom, sf.stdin, asFixed)
		if err != nil {
			return nil, 0, err
		}
		args = append(slices.Clip(args), sites...)
	}
	if len(args) == 0 {
		return nil, 0, withHint(fmt.Errorf("%s needs at least one PATH", cmd), "webperm %s /var/www/html, or --sites-from FILE", cmd)
	}
	exclusions, err := sf.exclusions()
	if err != nil {
		return nil, 0, err
	}
	osfs := afero.NewOsFs()
	file, preset, err := sf.policy.load(asFixed)
	if err != nil {
		return nil, 0, err
	}
	fromFile := applyIdentities(&sf.system.ids, file)
	accounts, webUser, phpUser, err := sf.system.load(osfs)
	if err != nil {
		if fromFile {
			return nil, 0, withHint(err, "%s's identities stand for --web-user, --web-group and --php-user where those are not given", file.Name)
		}
		return nil, 0, err
	}
	sysroot, err := filepath.Abs(sf.system.sysroot)
	if err != nil {
		return nil, 0, err
	}
	// The roots' ways are the host's, and so are the users who can change them, whatever
	// system --root names: fix --apply --plan judges them by the host's accounts too.
	hostAccounts := accounts
	if sysroot != "/" {
		if hostAccounts, err = access.LoadAccounts(osfs, "/"); err != nil {
			return nil, 0, withHint(fmt.Errorf("reading the host's users: %w", err), "webperm judges who controls each root's way by the host's /etc/passwd and /etc/group")
		}
	}
	resolved, err := resolveRoots(args, hostAccounts)
	if err != nil {
		return nil, 0, err
	}
	roots, origins := rootPaths(resolved)
	if asFixed {
		if err := checkRootsToChange(resolved, sysroot, webUser, phpUser); err != nil {
			return nil, 0, err
		}
		if err := checkDisjoint(roots); err != nil {
			return nil, 0, err
		}
	}
	siteOwner, err := lookupSiteOwner(accounts, sf.siteOwner)
	if err != nil {
		return nil, 0, err
	}
	extra, err := policy.WritableRules(sf.writable)
	if err != nil {
		return nil, 0, withHint(err, "--writable wp-content/uploads marks that directory and all below it")
	}
	if file != nil {
		exclusions = append(exclusions, file.Exclude...)
	}
	progress, stopProgress := startProgress(sf.stderr)
	a := &audit.Auditor{
		Fs: osfs, Preset: preset, File: file, Accounts: accounts, WebUser: webUser, PHPUser: phpUser,
		Jobs: sf.jobs, SysRoot: sysroot, AsFixed: asFixed, SiteOwner: siteOwner, Extra: extra,
		OneFileSystem: sf.oneFs, NoXattrs: sf.noXattrs, Spool: spool, Exclude: exclusions,
		Progress: progress,
	}
	rep, err := a.Run(ctx, roots)
	stopProgress()
	if err != nil {
		switch {
		case errors.Is(err, audit.ErrPolicy) && preset == policy.Auto:
			return nil, 0, withHint(err, "'webperm policy show --root %s %s' shows the presets --preset auto picked and why; give --preset NAME to choose, or the name as the audited system's /etc/passwd or /etc/group has it",
				report.Escape(sf.system.sysroot), report.Escape(args[0]))
		case errors.Is(err, audit.ErrPolicy):
			return nil, 0, withHint(err, "give the name as it is in the audited system's /etc/passwd or /etc/group, or a number")
		case errors.Is(err, audit.ErrSpool):
			return nil, 0, withHint(err, "set TMPDIR to a directory of your own with room for a few hundred bytes a finding")
		}
		return nil, 0, describeRootError(err)
	}
	rep.Origins = origins
	return rep, failOn, nil
}

// exclusions are the --exclude globs, checked.
func (sf *scanFlags) exclusions() ([]policy.Exclusion, error) {
	var out []policy.Exclusion
	for _, g := range sf.exclude {
		if err := policy.CheckExclude(g); err != nil {
			return nil, withHint(fmt.Errorf("--%w", err), "--exclude cache/ leaves out every directory named cache; --exclude ./tmp only the root's tmp")
		}
		out = append(out, policy.Exclusion{Glob: g, Origin: "--exclude"})
	}
	return out, nil
}

// takeLock takes --lock's lock, where it is given, and returns what lets it go.
func (sf *scanFlags) takeLock() (unlock func(), err error) {
	if sf.lock == "" {
		return func() {}, nil
	}
	l, err := acquireLock(sf.lock)
	if err != nil {
		return nil, err
	}
	return l.release, nil
}

// lookupSiteOwner resolves --site-owner on the audited system: nil where it is not given.
func lookupSiteOwner(accounts *access.Accounts, spec string) (*uint32, error) {
	if spec == "" {
		return nil, nil
	}
	u, ok := accounts.LookupUser(spec)
	if !ok {
		if uid, err := strconv.ParseUint(spec, 10, 32); err == nil {
			id := uint32(uid)
			return &id, nil // a uid the system has no name for: the site's files may still be its
		}
		return nil, withHint(fmt.Errorf("--site-owner %q: no such user in %s", spec, report.Escape(accounts.PasswdPath)), "give the site's owner as the audited system's /etc/passwd names it, or a uid")
	}
	return &u.UID, nil
}

// auditOutcome is the error that carries an audit's exit status: incomplete first, since the
// findings of an incomplete audit may not be all there are.
func auditOutcome(rep *audit.Report, failOn policy.Severity, base *report.Baseline) error {
	if !rep.Complete() {
		return errIncomplete
	}
	counts, err := report.CountedBySeverity(rep, base)
	if err != nil {
		return err // the spooled findings could not be read back
	}
	for sev, n := range counts {
		if sev >= failOn && n > 0 {
			return errFindings
		}
	}
	return nil
}

// checkBaselineTrusted checks that no one but the user running webperm could have written the
// baseline at file: whoever writes it decides which findings are known, which no exit status,
// --quiet mail or alert then counts, so a site's user who could write a nightly job's baseline
// could hide what is wrong in the site. It must not be a symlink, must be the running user's and
// writable by no one else, in a directory no one else can change (safefile.CheckDir).
func checkBaselineTrusted(file string) error {
	const stake = "could hide findings from the report"
	fi, err := os.Lstat(file)
	switch {
	case err != nil:
		return nil // report.CheckBaseline says what is wrong
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("--baseline %s: a symlink: webperm compares only with a file of its own, as whoever can change where it leads %s", report.Escape(file), stake)
	}
	if err := checkOwnedFor(fi, file, "--baseline", stake); err != nil {
		return err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	return checkDirFor(filepath.Dir(abs), "--baseline's directory", stake)
}

// openBaseline compares rep with the JSON report in file, where --baseline names one.
func openBaseline(file string, rep *audit.Report) (*report.Baseline, error) {
	if file == "" {
		return nil, nil
	}
	base, err := report.OpenBaseline(file, rep)
	if errors.Is(err, report.ErrNestedRoots) {
		return nil, withHint(err, "leave the inner root out (the outer one's walk audits it), or audit it on its own with a baseline of its own")
	}
	if err != nil {
		return nil, withHint(err, "a baseline is a JSON report of the same roots; accept the current state as the new one with: webperm audit --format json -o %s %s", report.Escape(file), report.Escape(strings.Join(rep.Roots, " ")))
	}
	return base, nil
}

// nagiosOutcome is auditOutcome under --format nagios, whose exit status is the plugin's state:
// nil for OK, else a nagiosState. Against a baseline the state is that of the new findings.
func nagiosOutcome(rep *audit.Report, failOn policy.Severity, base *report.Baseline) error {
	counts, err := report.CountedBySeverity(rep, base)
	if err != nil {
		return err
	}
	if state := report.NagiosStateOf(counts, rep.Complete(), failOn); state != report.NagiosOK {
		return nagiosState(state)
	}
	return nil
}

// resolveRoots resolves every PATH one component at a time (rootpath), so that a web root reached
// through a link (/var/www/html -> /srv/site) is audited where it really is, and says who besides
// root controls the way there. Nothing is audited unless every PATH is a directory. A root given
// twice is audited once.
func resolveRoots(args []string, accounts *access.Accounts) ([]*rootpath.Resolution, error) {
	rv := &rootpath.Resolver{Accounts: accounts}
	if euid := uint32(os.Geteuid()); euid != 0 {
		rv.Trusted = []uint32{euid}
	}
	out := make([]*rootpath.Resolution, 0, len(args))
	for _, arg := range args {
		r, err := rv.Resolve(arg)
		if err != nil {
			return nil, describeRootError(err)
		}
		if !slices.ContainsFunc(out, func(o *rootpath.Resolution) bool { return o.Path == r.Path }) {
			out = append(out, r)
		}
	}
	return out, nil
}

// emptyPathError refuses "" as an argument of c, named as c's usage names it (PATH, JOURNAL,
// FILE): it must never come to mean the current directory.
func emptyPathError(c *cobra.Command) error {
	arg := strings.TrimSuffix(strings.Trim(c.Use[strings.LastIndexByte(c.Use, ' ')+1:], "[]"), "...")
	return withHint(fmt.Errorf(`%s "": %w`, arg, safefile.ErrEmptyPath), "name it; . is the current directory")
}

// rootPaths returns the resolved roots, and what each was given as.
func rootPaths(resolved []*rootpath.Resolution) ([]string, []audit.Origin) {
	roots := make([]string, len(resolved))
	origins := make([]audit.Origin, len(resolved))
	for i, r := range resolved {
		roots[i] = r.Path
		origins[i] = audit.Origin{Given: r.Given, Note: r.Followed()}
	}
	return roots, origins
}

// checkRootsToChange refuses, for plan and fix, a system directory (the host's, or that of the
// system at sysroot) as a root, and a root whose way
// a user besides root controls, unless it stays within that user's own tree (rootpath). The root
// itself may belong to the web server's users.
func checkRootsToChange(resolved []*rootpath.Resolution, sysroot string, users ...*access.WebUser) error {
	var owners []uint32
	for _, u := range users {
		if u != nil {
			owners = append(owners, u.UID)
		}
	}
	for _, r := range resolved {
		if err := checkRootToChange(r, sysroot, owners); err != nil {
			return err
		}
	}
	return nil
}

func checkRootToChange(r *rootpath.Resolution, sysroot string, owners []uint32) error {
	if err := r.Check(owners...); err != nil {
		var ref *rootpath.Refusal
		if errors.As(err, &ref) && ref.Control.Anyone {
			return withHint(err, "no one but root should be able to write a directory on a root's way: chmod o-w it, or make it sticky (chmod +t)")
		}
		return withHint(err, "plan and fix take a root only where no one but root can redirect its way, or where it stays in the tree of whoever can; if the way is meant, give the directory it leads to; webperm audit follows it and changes nothing")
	}
	if rootpath.SystemDir(r.Path, sysroot) {
		what := report.Escape(r.Path)
		if r.Path != filepath.Clean(r.Given) {
			what = report.Escape(r.Given) + ": leads to " + what + ", which"
		}
		return withHint(fmt.Errorf("%s is a system directory: plan and fix never change one to a web root's policy", what),
			"give the web root below it, e.g. /var/www/html; webperm audit %s reports and changes nothing", report.Escape(r.Path))
	}
	return nil
}

// checkDisjoint refuses roots that nest, before a plan audits them: an entry below two roots
// would be planned twice, and its second change refused.
func checkDisjoint(roots []string) error {
	for _, a := range roots {
		for _, b := range roots {
			if a != b && walk.Within(b, a) {
				return withHint(fmt.Errorf("roots nest: %s holds %s", report.Escape(a), report.Escape(b)), "give %s alone: a plan of it covers both", report.Escape(a))
			}
		}
	}
	return nil
}

// describeRootError turns a failure to reach a PATH into a message that names it, and a hint.
func describeRootError(err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return err
	}
	msg := fmt.Errorf("%s: %w", report.Escape(pe.Path), pe.Err)
	switch {
	case errors.Is(pe.Err, fs.ErrNotExist):
		return withHint(msg, "check the path; webperm audits a web root directory such as /var/www/html")
	case errors.Is(pe.Err, walk.ErrNotDir), errors.Is(pe.Err, unix.ENOTDIR):
		return withHint(msg, "webperm audits directories; to check one file, audit the directory that holds it")
	case errors.Is(pe.Err, fs.ErrPermission):
		return withHint(msg, "run webperm as a user that can read the whole web root, usually root")
	}
	return msg
}

// colorWanted decides once whether the text report may use colour: --color always or never wins;
// auto colours only a terminal on stdout, and never with NO_COLOR set or TERM=dumb.
func colorWanted(mode string, stdout io.Writer, toFile bool) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		if toFile || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
			return false, nil
		}
		f, ok := stdout.(*os.File)
		if !ok {
			return false, nil
		}
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		return err == nil, nil
	}
	return false, withHint(fmt.Errorf("unknown --color %q", mode), "use --color auto, always or never")
}
