package audit

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// Env is what a check knows of the audit beyond the entry.
type Env struct {
	Root     string           // the audited root, as entries' paths begin
	waivers  *waivers         // nil: none
	Accounts *access.Accounts // nil: owners cannot be named, unknown-owner is not checked
	Owners   *Owners          // nil: owner-mismatch and group-mismatch are not checked
	Packages *Packages        // the paths distribution packages installed; nil: none
	SysRoot  string           // the audited system's root ("" or "/": the host)
}

// Case is one entry as the checks see it: the entry, the policy's settings for its path, the
// audit's environment, and what the web server's identities can do on the way to it.
type Case struct {
	Entry    *walk.Entry
	Settings *policy.Settings
	Env      *Env
	// Web is the web server's user: it must search every directory down to what it serves and
	// read static files. PHP is the PHP-FPM pool's user where one is known apart from the web
	// user: it must read scripts. A Reach without Who is not checked.
	Web, PHP Reach
	// Private is set below a sensitive directory the policy keeps from both servers (.git/): the
	// web server is not meant to serve anything there, so nothing there is reported for being out
	// of its reach. Below a sensitive directory an application writes (DokuWiki's data/) it is
	// not: what the application cannot reach there breaks it.
	Private bool
	// Link is what the entry, a symlink, leads to; nil for any other entry and for a link the
	// walker could not follow.
	Link *LinkCase
}

// LinkCase is a symlink's target as the checks see it: a link serves what it leads to.
type LinkCase struct {
	Entry    *walk.Entry     // the target, at its real path
	Settings policy.Settings // the policy's settings for the target's path (its name, outside the root)
	// InRoot is set when the target lies in the audited root, where the walk judges it too.
	InRoot bool
	// SysPath is the target's path on the audited system (below --root, as if it were /).
	SysPath string
	Dirs    []walk.Entry // the directories on the target's real path, as LinkDest has them
	// Web and PHP are the identities' reach of the target, through the link's directory and
	// every directory of the target's real path.
	Web, PHP Reach
}

// Reach is what one identity can do to an entry and on the way to it.
type Reach struct {
	Who *access.WebUser
	// Way is set when the identity can search every directory from / down to the entry's parent.
	Way bool
	// ParentWritable is set when it can also add, replace and delete entries in the parent.
	ParentWritable bool
	Access         access.Verdict // its access to the entry itself
}

// reaches returns the case's known identities, the web server's first, then nil.
func (c *Case) reaches() (rs [2]*Reach) {
	n := 0
	for _, r := range []*Reach{&c.Web, &c.PHP} {
		if r.Who != nil {
			rs[n] = r
			n++
		}
	}
	return rs
}

// A check looks at one case and returns the finding's message and fix, or ok false. Checks are
// pure: no file system, no globals, no output.
type check func(c *Case) (msg string, fix *Fix, ok bool)

type ruleCheck struct {
	rule policy.RuleID
	fn   check
}

// harmlessWhere says, for a few rules, when the rule's finding on c's entry is at most info: it
// names a fault that serves nothing and harms nothing there.
var harmlessWhere = map[policy.RuleID]func(c *Case) bool{
	policy.ModeTooOpen: func(c *Case) bool { return idleExecBits(c) || c.Entry.Shipped },
	// An .htaccess that only denies, which the web server could replace anyway as it writes its
	// directory: the application's own protection, and no chown makes it safer.
	policy.WebWritableCode: replaceableDenyOnly,
	// A packaged application's link that waits for what its installer or an optional package
	// writes (MediaWiki's LocalSettings.php, a JavaScript library left out) breaks nothing yet.
	policy.DanglingSymlink: func(c *Case) bool {
		dest := linkDestination(c.Entry)
		return sameApp(c, dest) || missingSystemData(c, dest)
	},
}

// checks is the rule table: one function per rule id, run in this order on every entry.
var checks = []ruleCheck{
	{policy.WorldWritable, checkWorldWritable},
	{policy.SensitiveExposed, checkSensitiveExposed},
	{policy.WebWritableCode, checkWebWritableCode},
	{policy.ModeTooOpen, checkModeTooOpen},
	{policy.SetuidSetgid, checkSetuidSetgid},
	{policy.WebUntraversable, checkWebUntraversable},
	{policy.WebUnreadable, checkWebUnreadable},
	{policy.HtaccessUnreadable, checkHtaccessUnreadable},
	{policy.WebUnwritable, checkWebUnwritable},
	{policy.ScriptInWritable, checkScriptInWritableDir},
	{policy.WebUserOwns, checkWebUserOwns},
	{policy.ACLExtendsAccess, checkACLExtendsAccess},
	{policy.SELinuxLabel, checkSELinuxLabel},
	{policy.SpecialFile, checkSpecialFile},
	{policy.SymlinkEscapesRoot, checkSymlinkEscapesRoot},
	{policy.DanglingSymlink, checkDanglingSymlink},
	{policy.UnknownOwner, checkUnknownOwner},
	{policy.OwnerMismatch, checkOwnerMismatch},
	{policy.GroupMismatch, checkGroupMismatch},
}

// ancestorChecks are the rules for a directory above the audited root: webperm audits the way
// through it, not its contents.
var ancestorChecks = []ruleCheck{
	{policy.WebUntraversable, checkWebUntraversable},
}

// heldAncestorChecks are added for a directory above the root that an absolute glob of the
// policy names (a cPanel home): its mode and owner are held to the policy too.
var heldAncestorChecks = []ruleCheck{
	{policy.WorldWritable, checkWorldWritable},
	{policy.ModeTooOpen, checkModeTooOpen},
	{policy.WebUntraversable, checkWebUntraversable},
	{policy.OwnerMismatch, checkOwnerMismatch},
	{policy.GroupMismatch, checkGroupMismatch},
}

// Check appends to out the findings of every rule c's entry breaks.
func Check(c *Case, out []Finding) []Finding { return runChecks(checks, c, out) }

// CheckAncestor appends to out the findings of a directory above the audited root.
func CheckAncestor(c *Case, out []Finding) []Finding { return runChecks(ancestorTable(c), c, out) }

// ancestorTable is the rule table c's entry, a directory above the audited root, is held to.
func ancestorTable(c *Case) []ruleCheck {
	if c.Settings.Matched {
		return heldAncestorChecks
	}
	return ancestorChecks
}

// broken lists the findings of table's rules that c's entry breaks and no waiver accepts, each
// with the fix its check proposes (unsettled), without counting them to the waivers, as judging a
// state that is not the entry's must not.
func broken(table []ruleCheck, c *Case) []Finding {
	var out []Finding
	for _, rc := range table {
		if msg, fix, ok := rc.fn(c); ok && !c.Env.waivers.holds(rc.rule, c) {
			out = append(out, rc.finding(c, msg, fix))
		}
	}
	return out
}

func runChecks(table []ruleCheck, c *Case, out []Finding) []Finding {
	n := len(out)
	for _, rc := range table {
		if msg, fix, ok := rc.fn(c); ok {
			if f := rc.finding(c, msg, fix); c.Env.waivers.apply(&f, c) {
				out = append(out, f)
			}
		}
	}
	settleFixes(table, c, out[n:])
	return out
}

func newFinding(c *Case, rule policy.RuleID, msg string, fix *Fix) Finding {
	return Finding{Rule: rule, Severity: c.Settings.Severity(rule), Entry: *c.Entry, Message: msg, Fix: fix, Package: c.Env.Packages.Of(c.Entry.Path), PackageManager: c.Env.Packages.ManagerOf(c.Entry.Path)}
}

// finding is rc's finding on c's entry, at most info where harmlessWhere says it is harmless.
func (rc *ruleCheck) finding(c *Case, msg string, fix *Fix) Finding {
	f := newFinding(c, rc.rule, msg, fix)
	if harmless := harmlessWhere[rc.rule]; harmless != nil && harmless(c) {
		f.Severity = min(f.Severity, policy.Info)
	}
	return f
}

// hasMode reports whether an entry's own mode bits mean something: a symlink's do not, and a
// special file's faults are a human's call.
func hasMode(e *walk.Entry) bool { return e.Type == walk.TypeFile || e.Type == walk.TypeDir }

// allowedMode is the widest mode c's entry may have: the policy's maximum and, in a writable
// path whose group is the web server's or PHP's, group write.
func allowedMode(c *Case) fs.FileMode {
	e := c.Entry
	m := c.Settings.Max(e.Type == walk.TypeDir)
	if c.writable() && e.OwnerKnown {
		for _, r := range c.reaches() {
			if r != nil && r.Who.GID == e.GID {
				m |= 0o020
			}
		}
	}
	return m
}

// modeFix is the fix of every mode finding: the entry loses exactly the bits beyond what the
// policy allows, so one chmod resolves all of them.
func modeFix(c *Case) *Fix {
	return &Fix{Mode: c.Entry.Mode & allowedMode(c)}
}

func worldWritable(e *walk.Entry) bool { return e.Type != walk.TypeSymlink && e.Mode&0o002 != 0 }

func checkWorldWritable(c *Case) (string, *Fix, bool) {
	e := c.Entry
	if !worldWritable(e) {
		return "", nil, false
	}
	m := policy.OctalMode(e.Mode)
	switch {
	case e.Type == walk.TypeDir && e.Mode&fs.ModeSticky != 0:
		return fmt.Sprintf("any local user can add files here (mode %s): the sticky bit only stops them deleting others' files", m), modeFix(c), true
	case e.Type == walk.TypeDir:
		return fmt.Sprintf("any local user can add, replace or delete files here (mode %s)", m), modeFix(c), true
	case e.Type == walk.TypeFile:
		return fmt.Sprintf("any local user can change this file (mode %s)", m), modeFix(c), true
	}
	return fmt.Sprintf("any local user can write to this %s (mode %s)", e.Type, m), nil, true
}

// exposure says who may read a sensitive file, or enter or list a sensitive directory, that
// must not: others, by the mode; or the web server's user where the policy says it needs nothing
// there, since it would hand the secret out as plain text.
type exposure uint8

const (
	notExposed exposure = iota
	exposedToOthers
	exposedToWeb
)

func exposedTo(c *Case) exposure {
	e := c.Entry
	if !c.Settings.Sensitive || !hasMode(e) || e.Shipped {
		return notExposed
	}
	opens, others := walk.PermRead, e.Mode&0o004 != 0
	if e.Type == walk.TypeDir {
		opens, others = walk.PermRead|walk.PermExec, e.Mode&0o005 != 0
	}
	if others {
		return exposedToOthers
	}
	if w := &c.Web; w.known() && w.Way && c.need(w) == policy.NeedNone && w.Access.Perm&opens != 0 {
		return exposedToWeb
	}
	return notExposed
}

// linkExposure says who may read a secret through c's entry, a symlink named like a secret or
// leading to one (by the policy's rules for the target's path): a request for the link serves
// its target. It also returns the target's case. A target in the root that is a secret by its
// own path is reported there, with its fix, not again at every link to it.
func linkExposure(c *Case) (exposure, *Case) {
	l := c.Link
	if c.Entry.Type != walk.TypeSymlink || l == nil || l.InRoot && l.Settings.Sensitive {
		return notExposed, nil
	}
	s := &l.Settings
	if c.Settings.Sensitive {
		s = c.Settings // named like a secret: its own rule says who may read what it serves
	}
	if !s.Sensitive {
		return notExposed, nil
	}
	tc := Case{Entry: l.Entry, Settings: s, Env: c.Env, Web: l.Web, PHP: l.PHP, Private: c.Private}
	return exposedTo(&tc), &tc
}

func checkSensitiveLink(c *Case) (string, *Fix, bool) {
	how, tc := linkExposure(c)
	if how == notExposed {
		return "", nil, false
	}
	e, t := c.Entry, tc.Entry
	why := "named like a secret"
	if !c.Settings.Sensitive {
		why = "leading to a secret"
	}
	what := "file"
	if t.Type == walk.TypeDir {
		what = "directory"
	}
	// No fix: a plan never changes anything through a link; a person decides between the
	// target's mode and the link.
	switch how {
	case exposedToOthers:
		return fmt.Sprintf("symlink %s, %s: its target %s %s is readable by others (mode %s): at most %s",
			e.Path, why, what, t.Path, policy.OctalMode(t.Mode), policy.OctalMode(tc.Settings.Max(t.Type == walk.TypeDir))), nil, true
	default:
		return fmt.Sprintf("symlink %s, %s: %s can read its target %s %s, which the policy keeps from the web server: a request for the link is answered with its contents (%s)",
			e.Path, why, tc.Web.who(), what, t.Path, tc.Web.Access.Reason(t, c.Env.Accounts)), nil, true
	}
}

func checkSensitiveExposed(c *Case) (string, *Fix, bool) {
	if c.Entry.Type == walk.TypeSymlink {
		return checkSensitiveLink(c)
	}
	e, s := c.Entry, c.Settings
	exposed := exposedTo(c)
	if exposed == notExposed {
		return "", nil, false // most entries: nothing is formatted for them
	}
	what := "can read this sensitive file"
	switch e.Content {
	case policy.ContentSQLDump:
		what = "can read this database dump"
	case policy.ContentSQLData:
		what = "can read this file of database rows"
	}
	if e.Type == walk.TypeDir {
		what = "can enter this sensitive directory"
	}
	switch exposed {
	case exposedToOthers:
		return fmt.Sprintf("others %s (mode %s): at most %s", what, policy.OctalMode(e.Mode), policy.OctalMode(s.Max(e.Type == walk.TypeDir))), modeFix(c), true
	case exposedToWeb:
		return fmt.Sprintf("%s %s, which the policy keeps from the web server: a request for it is answered with its contents (%s)",
			c.Web.who(), what, c.Web.Access.Reason(e, c.Env.Accounts)), nil, true
	}
	return "", nil, false
}

// checkModeTooOpen reports permission bits beyond the policy's maximum. An entry that is
// world-writable or sensitive and exposed is reported by those rules alone: their fix removes
// the same excess bits.
func checkModeTooOpen(c *Case) (string, *Fix, bool) {
	e := c.Entry
	if !hasMode(e) || worldWritable(e) || exposedTo(c) == exposedToOthers || codeWriter(c) != nil {
		return "", nil, false
	}
	allowed := allowedMode(c)
	excess := e.Mode.Perm() &^ allowed.Perm()
	if excess == 0 {
		return "", nil, false
	}
	return fmt.Sprintf("mode %s gives %s beyond the policy's %s", policy.OctalMode(e.Mode), describeBits(excess), policy.OctalMode(allowed.Perm())), modeFix(c), true
}

// idleExecBits reports whether the only bits c's entry, a regular file, has beyond the policy's
// maximum are execute bits, where no CGI handler runs files: there they serve nothing (the web
// server reads a PHP file, it does not execute it) and open nothing. In a cgi-bin directory, or
// on a name CGI handlers are set up for (.cgi, .fcgi, .pl), the server may run it, and a stray
// execute bit is a program on the web.
func idleExecBits(c *Case) bool {
	e := c.Entry
	if e.Type != walk.TypeFile {
		return false
	}
	excess := e.Mode.Perm() &^ allowedMode(c).Perm()
	if excess == 0 || excess&^0o111 != 0 {
		return false
	}
	switch strings.ToLower(path.Ext(e.Path)) {
	case ".cgi", ".fcgi", ".pl":
		return false
	}
	return !slices.Contains(strings.Split(e.Path, "/"), "cgi-bin")
}

// describeBits names permission bits as "group write; owner, group and others execute".
func describeBits(m fs.FileMode) string {
	var parts []string
	for _, perm := range []struct {
		name string
		bit  fs.FileMode
	}{{"read", 4}, {"write", 2}, {"execute", 1}} {
		var who []string
		for _, class := range []struct {
			name  string
			shift uint
		}{{"owner", 6}, {"group", 3}, {"others", 0}} {
			if m&(perm.bit<<class.shift) != 0 {
				who = append(who, class.name)
			}
		}
		if len(who) > 0 {
			parts = append(parts, access.JoinAnd(who)+" "+perm.name)
		}
	}
	return strings.Join(parts, "; ")
}

func checkSetuidSetgid(c *Case) (string, *Fix, bool) {
	e := c.Entry
	if !hasMode(e) {
		return "", nil, false
	}
	bits := e.Mode & (fs.ModeSetuid | fs.ModeSetgid) &^ c.Settings.Max(e.Type == walk.TypeDir)
	if e.Type == walk.TypeDir {
		// Linux ignores setuid on a directory; setgid makes new files inherit its group.
		bits &= fs.ModeSetgid
		if bits == 0 {
			return "", nil, false
		}
		return fmt.Sprintf("setgid directory (mode %s): new files take its group, gid %d, which the policy forbids here", policy.OctalMode(e.Mode), e.GID), modeFix(c), true
	}
	var who []string
	if bits&fs.ModeSetuid != 0 {
		who = append(who, fmt.Sprintf("setuid: whoever runs it runs as uid %d", e.UID))
	}
	if bits&fs.ModeSetgid != 0 {
		who = append(who, fmt.Sprintf("setgid: whoever runs it runs with gid %d", e.GID))
	}
	if e.Capabilities.Has() {
		who = append(who, "file capabilities "+e.Capabilities.String()+": whoever runs it gains them, as a setuid bit would give them")
	}
	if len(who) == 0 {
		return "", nil, false
	}
	fix := modeFix(c)
	if e.Capabilities.Has() {
		fix = nil // no plan changes capabilities: setcap -r is a person's decision, like the bits beside it
	}
	return fmt.Sprintf("%s (mode %s)", strings.Join(who, "; "), policy.OctalMode(e.Mode)), fix, true
}

func checkSpecialFile(c *Case) (string, *Fix, bool) {
	switch c.Entry.Type {
	case walk.TypeFIFO:
		return "a named pipe in a web root: a request that opens it hangs until something writes to it", nil, true
	case walk.TypeSocket:
		return "a unix socket in a web root: it belongs in /run, away from served content", nil, true
	case walk.TypeCharDevice, walk.TypeBlockDevice:
		return fmt.Sprintf("a %s in a web root: device nodes give access to hardware and never belong here", c.Entry.Type), nil, true
	}
	return "", nil, false
}

// linkDestination is where a symlink's target lies, resolved lexically from the link's directory.
func linkDestination(e *walk.Entry) string {
	t := e.LinkTarget
	if !filepath.IsAbs(t) {
		t = filepath.Join(filepath.Dir(e.Path), t)
	}
	return filepath.Clean(t)
}

func checkSymlinkEscapesRoot(c *Case) (string, *Fix, bool) {
	e := c.Entry
	if e.Type != walk.TypeSymlink || e.LinkTarget == "" {
		return "", nil, false
	}
	dest, shown := linkDestination(e), ""
	if e.Dest != nil {
		// The kernel takes a ".." after the links before it: x/up/../y leaves the root where
		// x/up leads to it, whatever the text of the target says.
		dest, shown = e.Dest.Path, walk.SystemPath(e.Dest.Path, c.Env.SysRoot)
	}
	if walk.Within(dest, c.Env.Root) || publicSystemFile(c.Link) || closedSystemSecret(c) || sameApp(c, dest) || missingSystemData(c, dest) {
		return "", nil, false
	}
	if how, _ := linkExposure(c); how != notExposed {
		// sensitive-exposed names the link and its target: one fault, one finding.
		return "", nil, false
	}
	if shown == "" {
		shown = dest
	}
	return fmt.Sprintf("symlink leads outside the audited root, to %s: a server that follows symlinks serves it", shown), nil, true
}

// appTreeDirs are where a distribution's package of a web application lays out its trees, each
// in a directory named for the application: the code in /usr/share/APP, what it writes in
// /var/lib/APP, its configuration in /etc/APP, linked to one another (Debian's wordpress,
// mediawiki, dokuwiki, roundcube, phpmyadmin).
var appTreeDirs = []string{"/usr/share/", "/var/lib/", "/etc/", "/var/log/", "/var/cache/"}

// packagedApp names the application whose packaged trees p (a path on the audited system) lies
// in, or "" where it lies in none.
func packagedApp(p string) string {
	for _, d := range appTreeDirs {
		if rest, ok := strings.CutPrefix(p, d); ok {
			app, _, _ := strings.Cut(rest, "/")
			return app
		}
	}
	return ""
}

// sameApp reports whether dest, where c's link leads (it need not exist: a packaged
// LocalSettings.php waits for the installer), lies in the trees of the packaged application
// c's root lies in, and the link is root's: a package's layout is, and a link the site's user or
// the web server made there is none of it (/var/lib/tomcat9/webapps/ROOT/users.txt leading to
// /etc/tomcat9/tomcat-users.xml).
func sameApp(c *Case, dest string) bool {
	if !rootsLink(c.Entry) {
		return false
	}
	app := packagedApp(walk.SystemPath(c.Env.Root, c.Env.SysRoot))
	return app != "" && packagedApp(walk.SystemPath(dest, c.Env.SysRoot)) == app
}

// systemDataDirs hold what distributions install for everyone to read, such as the JavaScript
// and PHP libraries packaged applications link to (/usr/share/javascript, /usr/share/php), and
// the public CA certificates (WordPress's ca-bundle.crt).
var systemDataDirs = []string{"/usr/share", "/usr/lib", "/etc/ssl/certs"}

// missingSystemData reports whether c's entry is a dangling link into systemDataDirs (a packaged
// app's link to a library package that is not installed): dangling-symlink says it all, as
// nothing is there to serve and only root could put something there.
func missingSystemData(c *Case, dest string) bool {
	sys := walk.SystemPath(dest, c.Env.SysRoot)
	return c.Entry.Target == walk.TargetMissing && slices.ContainsFunc(systemDataDirs, func(d string) bool { return walk.Within(sys, d) })
}

// publicSystemFile reports whether a link leads to a file or directory a distribution installed
// for everyone: in systemDataDirs, owned by root, readable by others, written by root alone, on
// a way root alone writes, and no secret by the policy. Serving it gives nothing away.
func publicSystemFile(l *LinkCase) bool {
	if l == nil || l.Settings.Sensitive || !slices.ContainsFunc(systemDataDirs, func(d string) bool { return walk.Within(l.SysPath, d) }) {
		return false
	}
	return rootsAlone(l) && l.Entry.Mode&0o004 != 0
}

// closedSystemSecret reports whether c's entry links to a secret (by its name or its target's)
// that root alone can change and that sensitive-exposed judged closed, as a packaged
// application's link into /etc/APP: the link has been followed and judged, nothing escapes. The
// link must be root's too: one the site's user made to a secret PHP reads serves it as text.
func closedSystemSecret(c *Case) bool {
	l := c.Link
	if l == nil || !rootsLink(c.Entry) || !c.Settings.Sensitive && !l.Settings.Sensitive {
		return false
	}
	how, _ := linkExposure(c)
	return how == notExposed && rootsAlone(l)
}

// rootsLink reports whether root made the link e, as a package's maintainer scripts do: no one
// else can give a link root's owner.
func rootsLink(e *walk.Entry) bool {
	return e.OwnerKnown && e.UID == 0
}

// rootsAlone reports whether root alone can change a link's target, a file or directory, and
// the way to it.
func rootsAlone(l *LinkCase) bool {
	t := l.Entry
	if !rootOnly(t) || t.Type != walk.TypeFile && t.Type != walk.TypeDir {
		return false
	}
	for i := range l.Dirs {
		if !rootOnly(&l.Dirs[i]) {
			return false
		}
	}
	return true
}

// rootOnly reports whether root alone can change e: root owns it, and its group and others may
// not write it.
func rootOnly(e *walk.Entry) bool { return e.OwnerKnown && e.UID == 0 && e.Mode&0o022 == 0 }

func checkDanglingSymlink(c *Case) (string, *Fix, bool) {
	e := c.Entry
	switch {
	case e.Type != walk.TypeSymlink:
		return "", nil, false
	case e.Target == walk.TargetMissing:
		return fmt.Sprintf("symlink target %s does not exist", e.LinkTarget), nil, true
	case e.Target == walk.TargetLoop:
		return fmt.Sprintf("symlink target %s loops back on itself", e.LinkTarget), nil, true
	}
	return "", nil, false
}

func checkUnknownOwner(c *Case) (string, *Fix, bool) {
	e, env := c.Entry, c.Env
	if !e.OwnerKnown || env.Accounts == nil {
		return "", nil, false
	}
	var missing []string
	if _, ok := env.Accounts.UserName(e.UID); !ok {
		missing = append(missing, fmt.Sprintf("uid %d has no entry in %s", e.UID, env.Accounts.PasswdPath))
	}
	if _, ok := env.Accounts.GroupName(e.GID); !ok {
		missing = append(missing, fmt.Sprintf("gid %d has no entry in %s", e.GID, env.Accounts.GroupPath))
	}
	if len(missing) == 0 {
		return "", nil, false
	}
	return strings.Join(missing, "; ") + ": a user created later with that id would own this", nil, true
}
