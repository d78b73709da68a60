package audit

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// The checks of the web server's access: what answers 403, and what a break-in through the site
// could change.

// configNames are files the web server or PHP read as configuration: writing one is running code.
var configNames = []string{".htaccess", ".user.ini", "php.ini"}

// IndexNames are the files nginx and Apache answer a directory's URL with, in their usual
// configurations (index, DirectoryIndex).
var IndexNames = []string{"index.html", "index.htm", "index.php", "index.xhtml", "index.shtml", "index.cgi", "index.pl"}

// isCode reports whether a file is code: a script, or configuration that can run one.
func isCode(name string) bool { return access.IsScript(name) || slices.Contains(configNames, name) }

// writable reports whether the policy has the web server or PHP write c's entry. Never the
// servers' own configuration (.htaccess, .user.ini), even in a writable path such as uploads/:
// whoever writes it chooses what the server runs there (AddHandler, auto_prepend_file).
func (c *Case) writable() bool {
	e := c.Entry
	return c.Settings.Writable && !(e.Type == walk.TypeFile && slices.Contains(configNames, e.Name()))
}

// who names the identity in a message: "www-data", or "PHP's user deploy".
func (r *Reach) who() string {
	name := r.Who.Name
	if name == "" {
		name = fmt.Sprintf("uid %d", r.Who.UID)
	}
	if r.Who.Role == access.RolePHP {
		return "PHP's user " + name
	}
	return name
}

func (r *Reach) known() bool { return r.Who != nil && r.Access.Class != access.ClassUnknown }

// need returns what r's identity needs of c's entry. Where PHP runs as the web server's user
// (c.PHP has no Who), that user needs what the policy asks of both.
func (c *Case) need(r *Reach) policy.Need {
	if r == &c.PHP {
		return c.Settings.PHP
	}
	if c.PHP.Who == nil {
		return max(c.Settings.Web, c.Settings.PHP)
	}
	return c.Settings.Web
}

// denied returns the identities that need at least min of c's entry, can reach it, and are
// denied want on it.
func (c *Case) denied(min policy.Need, want walk.Perm) []*Reach {
	var out []*Reach
	for _, r := range c.reaches() {
		if r != nil && r.known() && r.Way && c.need(r) >= min && !r.can(c.Entry, want) {
			out = append(out, r)
		}
	}
	return out
}

// can reports whether r's identity has every right in want on e: one right is its verdict's,
// several are decided together, as the kernel does for an ACL's group entries.
func (r *Reach) can(e *walk.Entry, want walk.Perm) bool {
	if want == walk.PermRead || want == walk.PermWrite || want == walk.PermExec {
		return r.Access.Can(want)
	}
	id := r.Who.Identity()
	return access.Allows(&id, e, want)
}

// blockedFinding words one finding for the identities in rs, each denied want, and the fix that
// grants it to all of them where a mode change can.
func blockedFinding(c *Case, rs []*Reach, want walk.Perm, effect func(r *Reach) string) (string, *Fix, bool) {
	if len(rs) == 0 {
		return "", nil, false
	}
	why := make([]string, len(rs))
	fixes := make([]*Fix, 0, len(rs))
	fixable := true
	for i, r := range rs {
		why[i] = fmt.Sprintf("%s %s (%s)", r.who(), effect(r), r.Access.Reason(c.Entry, c.Env.Accounts))
		f := grantFix(c, r, want)
		fixable = fixable && f != nil
		fixes = append(fixes, f)
	}
	var fix *Fix
	if fixable {
		fix = combine(c.Entry, fixes)
	}
	return strings.Join(why, "; "), fix, true
}

func checkWebUntraversable(c *Case) (string, *Fix, bool) {
	if c.Entry.Type != walk.TypeDir || c.Private || c.Settings.Sensitive {
		return "", nil, false
	}
	return blockedFinding(c, c.denied(policy.NeedSearch, walk.PermExec), walk.PermExec, func(r *Reach) string {
		if r.Who.Role == access.RolePHP {
			return "cannot search this directory: PHP scripts below it fail with 403"
		}
		return "cannot search this directory: every request below it answers 403"
	})
}

func checkWebUnreadable(c *Case) (string, *Fix, bool) {
	e := c.Entry
	if e.Type != walk.TypeFile || c.Private || e.Name() == ".htaccess" {
		return "", nil, false
	}
	return blockedFinding(c, c.denied(policy.NeedRead, walk.PermRead), walk.PermRead, func(r *Reach) string {
		viaPHP := r.Who.Role == access.RolePHP || c.Settings.Web < policy.NeedRead
		switch {
		case !viaPHP:
			return "cannot read this file: nginx and Apache answer 403"
		case access.IsScript(e.Name()) && !c.Settings.Sensitive:
			return "cannot read this script: requests for it answer 403"
		}
		return "cannot read this file, which PHP loads: the site fails wherever it does"
	})
}

// htaccess403 is how a refused .htaccess ends for the request: Apache cannot tell what its
// directory allows, so it allows nothing.
const htaccess403 = "where AllowOverride lets Apache read it, Apache answers 403 for this directory and everything below (AH00529)"

// checkHtaccessUnreadable reports an .htaccess Apache cannot read as a file: unreadable by the
// web user, a directory, or a symlink whose target is one of those or loops. Apache opens it
// following links; a dangling link is as no .htaccess at all (ENOENT), so it is no 403.
func checkHtaccessUnreadable(c *Case) (string, *Fix, bool) {
	e := c.Entry
	r := &c.Web
	if e.Name() != ".htaccess" || r.Who == nil || !r.Way || c.need(r) < policy.NeedRead {
		return "", nil, false
	}
	switch e.Type {
	case walk.TypeDir:
		return "this .htaccess is a directory, not a regular file (AH00554): " + htaccess403, nil, true
	case walk.TypeFile:
		if !r.known() || r.Access.Can(walk.PermRead) {
			return "", nil, false
		}
		return fmt.Sprintf("%s cannot read this .htaccess: %s (%s)", r.who(), htaccess403, r.Access.Reason(e, c.Env.Accounts)), grantFix(c, r, walk.PermRead), true
	case walk.TypeSymlink:
	default:
		return "", nil, false
	}
	if e.Target == walk.TargetLoop {
		return fmt.Sprintf("this .htaccess is a symlink to %s, which loops back on itself: %s", e.LinkTarget, htaccess403), nil, true
	}
	l := c.Link
	if l == nil {
		return "", nil, false
	}
	t, lr := l.Entry, &l.Web
	// No fix on the link: a plan never changes anything through one. Where the target is in the
	// root, its own finding carries the fix.
	switch {
	case t.Type != walk.TypeFile:
		return fmt.Sprintf("this .htaccess is a symlink to %s, a %s, not a regular file (AH00554): %s", t.Path, t.Type, htaccess403), nil, true
	case !lr.known():
		return "", nil, false
	case !lr.Way:
		return fmt.Sprintf("this .htaccess is a symlink to %s, and %s cannot search a directory on the way to it: %s", t.Path, r.who(), htaccess403), nil, true
	case !lr.Access.Can(walk.PermRead):
		return fmt.Sprintf("this .htaccess is a symlink to %s, which %s cannot read: %s (%s)", t.Path, r.who(), htaccess403, lr.Access.Reason(t, c.Env.Accounts)), nil, true
	}
	return "", nil, false
}

func checkWebUnwritable(c *Case) (string, *Fix, bool) {
	e := c.Entry
	want := walk.PermRead | walk.PermWrite
	if e.Type == walk.TypeDir {
		want = walk.PermWrite | walk.PermExec
	}
	if !hasMode(e) || c.Private {
		return "", nil, false
	}
	return blockedFinding(c, c.denied(policy.NeedWrite, want), want, func(r *Reach) string {
		if e.Type == walk.TypeDir {
			return "cannot write this directory, where the policy has it write: uploads and caches here fail"
		}
		return "cannot write this file, where the policy has it write"
	})
}

// codeWriter returns the identity that can change c's entry, a file of code outside the
// policy's writable paths, by owning it or through a write bit or ACL entry; nil if none can. A
// world-writable file is the world-writable rule's alone.
func codeWriter(c *Case) *Reach {
	e := c.Entry
	if e.Type != walk.TypeFile || c.writable() || worldWritable(e) || !isCode(e.Name()) {
		return nil
	}
	for _, r := range c.reaches() {
		switch {
		case r == nil || expectedOwner(c, r):
		case r.Access.Class == access.ClassOwner || r.Access.Can(walk.PermWrite):
			return r
		}
	}
	return nil
}

// linkedCodeWriter reports a link named as a script (wp-admin/x.php) whose target the web
// server's user can rewrite, as an upload it wrote: the server runs what the link leads to, so a
// break-in that writes there has its code run through the link, whatever the link's own owner.
// Nothing is changed through a link: a person removes it or the target's write access.
func linkedCodeWriter(c *Case) (string, *Fix, bool) {
	e, l := c.Entry, c.Link
	// A package's own link between its trees is its layout, not a planted one: Debian's
	// /etc/dokuwiki/users.auth.php leads to the user list DokuWiki writes, as a data file.
	if e.Type != walk.TypeSymlink || l == nil || l.Entry.Type != walk.TypeFile || !access.IsScript(e.Name()) || c.writable() || c.Private || sameApp(c, l.Entry.Path) {
		return "", nil, false
	}
	r := &l.Web
	if !r.known() || !(r.Access.Class == access.ClassOwner || r.Access.Can(walk.PermWrite)) {
		return "", nil, false
	}
	how := r.Access.Reason(l.Entry, c.Env.Accounts)
	if r.Access.Class == access.ClassOwner {
		how = "it owns it"
	}
	return fmt.Sprintf("this link is named as a script, so the server runs what it leads to, %s, which %s can rewrite (%s): a break-in that writes there has its code run through this link", l.SysPath, r.who(), how), nil, true
}

// expectedOwner reports whether r is PHP's own user (not the web server's) and owns c's entry
// as the policy expects: PHP-FPM, suPHP or suEXEC running as the site's own user, as cPanel and
// Plesk set them up. That user writing its own files is the platform's design, not a fault; it
// is still held to everything else, and where the policy expects another owner, owning is a
// fault again. The web server's user owning content is always one, even where it owns the root.
func expectedOwner(c *Case, r *Reach) bool {
	o := c.Env.Owners
	return r == &c.PHP && r.Access.Class == access.ClassOwner && o != nil && o.allows(c.Settings.Owner, false, false, r.Who.UID)
}

func checkWebWritableCode(c *Case) (string, *Fix, bool) {
	r := codeWriter(c)
	if r == nil {
		return linkedCodeWriter(c)
	}
	e := c.Entry
	how := r.Access.Reason(e, c.Env.Accounts)
	if r.Access.Class == access.ClassOwner {
		how = "it owns it, so it can change its mode and content"
	}
	fix := modeFix(c)
	switch {
	case r.Access.Class == access.ClassOwner:
		// The owner goes back to the site, and the bits mode-too-open would have asked for go too.
		if chown := chownFix(c); chown != nil {
			chown.Mode = fix.Mode
			fix = chown
		} else {
			fix = nil
		}
	case e.ACL != nil || verdictAfter(r, e, &Fix{Mode: fix.Mode}).Can(walk.PermWrite):
		fix = nil
	}
	if replaceableDenyOnly(c) {
		// No fix: the web server's user would recreate the file as it pleases after a chown.
		return fmt.Sprintf("%s can rewrite this .htaccess, which only denies (%s); it could as well replace it, as it writes its directory, so a chown or chmod would change nothing: only the server's configuration (AllowOverride None for this directory) closes that", r.who(), how), nil, true
	}
	if slices.Contains(configNames, e.Name()) {
		msg := fmt.Sprintf("%s can rewrite this server configuration: a break-in through the site can make the server run what it uploads (AddHandler, auto_prepend_file) (%s)", r.who(), how)
		if r.ParentWritable {
			msg += "; it can also replace the file, as it can write its directory: only the server's configuration (AllowOverride None, user_ini.filename) closes that"
		}
		return msg, fix, true
	}
	return fmt.Sprintf("%s can rewrite this code: a break-in through the site can plant a backdoor in it (%s)", r.who(), how), fix, true
}

// replaceableDenyOnly reports whether c's entry is an .htaccess that holds nothing but
// restrictions (ContentHtaccessDenyOnly), and every identity that can change it can also write
// its directory: as a packaged application installs one in a directory its web server writes
// (MediaWiki's images/, DokuWiki's data/). Owning it gives that identity nothing it lacks: it
// could unlink the file and write another. The file as it is harms nothing; only the server's
// configuration, not a chown, keeps a rewritten one from being read. A deny-only .htaccess the
// web server can change in a directory it cannot write is not: there a chown closes the way.
func replaceableDenyOnly(c *Case) bool {
	e := c.Entry
	if e.Type != walk.TypeFile || e.Name() != ".htaccess" || e.Content != policy.ContentHtaccessDenyOnly {
		return false
	}
	writers := 0
	for _, r := range c.reaches() {
		switch {
		case r == nil || expectedOwner(c, r):
		case r.Access.Class == access.ClassOwner || r.Access.Can(walk.PermWrite):
			if !r.ParentWritable {
				return false
			}
			writers++
		}
	}
	return writers > 0
}

// checkScriptInWritableDir reports a script in a directory the web or PHP user can write. A
// script that user can itself rewrite is web-writable-code's alone: one fault, one finding.
func checkScriptInWritableDir(c *Case) (string, *Fix, bool) {
	e := c.Entry
	if e.Type != walk.TypeFile || !access.IsScript(e.Name()) || codeWriter(c) != nil {
		return "", nil, false
	}
	for _, r := range c.reaches() {
		if r != nil && r.ParentWritable {
			return fmt.Sprintf("%s can write this script's directory: it can replace the script or put another beside it that the server runs", r.who()), nil, true
		}
	}
	return "", nil, false
}

// serverOwner returns the web server's or PHP's identity where it owns c's entry outside the
// writable paths, which web-user-owns or web-writable-code then report; nil otherwise.
func serverOwner(c *Case) *Reach {
	if c.Entry.Type == walk.TypeSymlink || c.writable() {
		return nil
	}
	return ownedByServer(c)
}

func checkWebUserOwns(c *Case) (string, *Fix, bool) {
	r := serverOwner(c)
	if r == nil || codeWriter(c) != nil {
		return "", nil, false
	}
	return fmt.Sprintf("owned by %s, outside the policy's writable paths: a break-in through the site can change it; content belongs to the site's owner", r.who()), chownFix(c), true
}

func checkACLExtendsAccess(c *Case) (string, *Fix, bool) {
	e := c.Entry
	if e.ACL == nil || e.Type == walk.TypeSymlink {
		return "", nil, false
	}
	grants := access.DescribeACLGrants(e.ACL, c.Env.Accounts)
	if grants == "" {
		return "", nil, false
	}
	return fmt.Sprintf("an ACL grants %s, which mode %s does not show (ls -l marks it with +; getfacl lists it)", grants, policy.OctalMode(e.Mode)), nil, true
}

// httpdTypes are the SELinux types httpd may read (httpd_selinux(8)); Fedora and RHEL spell the
// writable ones httpd_sys_rw_content_t, Debian's reference policy httpd_sys_content_rw_t.
var httpdTypes = []string{
	"httpd_sys_content_t", "httpd_sys_rw_content_t", "httpd_sys_content_rw_t",
	"httpd_sys_ra_content_t", "httpd_sys_content_ra_t", "httpd_sys_script_exec_t",
	"httpd_user_content_t", "httpd_user_rw_content_t", "httpd_user_ra_content_t",
	"httpd_user_script_exec_t", "public_content_t", "public_content_rw_t",
}

// labelType returns the type field of an SELinux context, user:role:type:level.
func labelType(label string) string {
	parts := strings.SplitN(label, ":", 4)
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

func checkSELinuxLabel(c *Case) (string, *Fix, bool) {
	e := c.Entry
	if e.Label == "" || !hasMode(e) || c.Private || slices.Contains(httpdTypes, labelType(e.Label)) {
		return "", nil, false
	}
	return fmt.Sprintf("the SELinux type %q is not one httpd may read (context %s): the server gets 403 whatever the mode; label it httpd_sys_content_t with semanage fcontext and restorecon",
		labelType(e.Label), e.Label), nil, true
}

// ownedByServer returns the web server's or PHP's identity where it owns c's entry and the
// policy expects another owner; root is not counted, since the servers' workers never run as
// root.
func ownedByServer(c *Case) *Reach {
	e := c.Entry
	for _, r := range c.reaches() {
		if r != nil && e.OwnerKnown && r.Who.UID == e.UID && r.Who.UID != 0 && !expectedOwner(c, r) {
			return r
		}
	}
	return nil
}

// checkMissingIndex is called once per root, after its walk, with whether an index file was met.
func checkMissingIndex(c *Case, hasIndex bool) (string, *Fix, bool) {
	if hasIndex || c.Settings.Web < policy.NeedRead || !c.Web.known() || !c.Web.Way || !c.Web.Access.Can(walk.PermExec) {
		return "", nil, false
	}
	return fmt.Sprintf("the web root has none of %s: where autoindex is off, a request for / answers 403", strings.Join(IndexNames, ", ")), nil, true
}

// verdictAfter is r's access to e as fix would leave it.
func verdictAfter(r *Reach, e *walk.Entry, fix *Fix) access.Verdict {
	t := fix.after(e)
	id := r.Who.Identity()
	return access.Decide(&id, &t)
}

// grantFix returns the change that gives r the rights want on c's entry. In the root the entry
// gets the policy's mode (the bits it lacks of the maximum: a 0600 page becomes 0644); above the
// root, where the policy sets no mode, only the bits want names, for every class (a 0700 home
// becomes 0711). Where the maximum withholds them from the class r falls in, the entry's group
// also becomes r's, where the policy lets that group own it (PHP's group on a 0640
// wp-config.php). It returns nil where no such change grants them: an ACL decides, or a person
// must change the owner.
func grantFix(c *Case, r *Reach, want walk.Perm) *Fix {
	e := c.Entry
	if e.ACL != nil {
		return nil
	}
	grant := func(c *Case) fs.FileMode {
		bits := allowedMode(c).Perm()
		if e.Rel == "" {
			bits &= fs.FileMode(want) * 0o111
		}
		return e.Mode | bits
	}
	fix := &Fix{Mode: grant(c), UID: e.UID, GID: e.GID}
	if verdictAfter(r, e, fix).Can(want) {
		return &Fix{Mode: fix.Mode}
	}
	o, s, gid := c.Env.Owners, c.Settings, r.Who.GID
	if o == nil || !e.OwnerKnown || gid == e.GID || !o.allows(s.Group, c.writable(), true, gid) {
		return nil
	}
	// The group's maximum may differ: a writable path lets the web server's group write.
	t := *e
	t.GID = gid
	tc := *c
	tc.Entry = &t
	fix = &Fix{Mode: grant(&tc), Chown: true, UID: e.UID, GID: gid}
	if !verdictAfter(r, e, fix).Can(want) {
		return nil
	}
	return fix
}
