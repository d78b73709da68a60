package policy

// RuleID names a rule. Ids are a contract: reports, waivers and scripts refer to them, so an id is
// never renamed or reused.
type RuleID string

// The rules webperm checks.
const (
	WebUnreadable      RuleID = "web-unreadable"
	WebUntraversable   RuleID = "web-untraversable"
	HtaccessUnreadable RuleID = "htaccess-unreadable"
	WebWritableCode    RuleID = "web-writable-code"
	ScriptInWritable   RuleID = "script-in-writable-dir"
	WebUserOwns        RuleID = "web-user-owns"
	WebUserOwnsTree    RuleID = "web-user-owns-tree"
	ACLExtendsAccess   RuleID = "acl-extends-access"
	SELinuxLabel       RuleID = "selinux-label"
	MissingIndex       RuleID = "missing-index"
	WebUnwritable      RuleID = "web-unwritable"
	OwnerMismatch      RuleID = "owner-mismatch"
	GroupMismatch      RuleID = "group-mismatch"

	WorldWritable      RuleID = "world-writable"
	ModeTooOpen        RuleID = "mode-too-open"
	SetuidSetgid       RuleID = "setuid-setgid"
	SensitiveExposed   RuleID = "sensitive-exposed"
	SpecialFile        RuleID = "special-file"
	SymlinkEscapesRoot RuleID = "symlink-escapes-root"
	DanglingSymlink    RuleID = "dangling-symlink"
	UnknownOwner       RuleID = "unknown-owner"
)

// RuleInfo describes a rule for reports, --help and documentation.
type RuleInfo struct {
	ID       RuleID
	Severity Severity // the default; a policy may change it
	Summary  string   // when the rule fires, in a few words
}

// Catalog lists every rule webperm checks, in the order documentation shows them.
var Catalog = []RuleInfo{
	{WorldWritable, Critical, "others may write (0777, 0666; a world-writable directory even with the sticky bit)"},
	{ModeTooOpen, Medium, "permission bits beyond the policy's maximum for that path (0664, 0775, 0755 on a plain file)"},
	{SetuidSetgid, High, "setuid or setgid on a file (setgid on a directory only where the policy forbids it)"},
	{SensitiveExposed, High, "a sensitive path (wp-config.php, .env, *.key, .htpasswd, .git/, dumps, backups) others can read"},
	{WebWritableCode, High, "the web user can modify code outside the policy's writable paths (owns it, or group, other or ACL write)"},
	{ScriptInWritable, High, "a script (.php, .phtml, .cgi…) inside a directory the web user can write"},
	{WebUnreadable, High, "a file the web server must serve and the web user cannot read: 403"},
	{WebUntraversable, High, "a directory, in the root or above it, the web user cannot search: 403 for everything below; reported once, at the blocking directory"},
	{HtaccessUnreadable, High, "an .htaccess Apache cannot read as a file (unreadable, a directory, a link to one or that loops): Apache answers 403 for its directory and everything below"},
	{WebUnwritable, Medium, "a path the policy says the web server or PHP writes (uploads, caches) that it cannot write: uploads and caching fail"},
	{OwnerMismatch, Medium, "an owner other than the one the policy expects for the path (default: the owner of the audited root)"},
	{GroupMismatch, Medium, "a group other than the one the policy expects for the path (default: the site owner's primary group or the web server's)"},
	{SpecialFile, Medium, "a device, FIFO or socket inside a web root"},
	{SymlinkEscapesRoot, Medium, "a symlink whose target lies outside the audited root"},
	{DanglingSymlink, Low, "a symlink whose target does not exist"},
	{ACLExtendsAccess, Medium, "a POSIX ACL grants access the mode bits do not show"},
	{SELinuxLabel, High, "on an SELinux system, content whose type httpd may not read"},
	{MissingIndex, Info, "the web root has no index file: 403 for / where autoindex is off"},
	{UnknownOwner, Medium, "a uid or gid with no name in the audited system's /etc/passwd or /etc/group"},
	{WebUserOwns, High, "the web server's user owns content outside the policy's writable paths"},
	{WebUserOwnsTree, High, "the web server's user owns the root and, outside the writable paths, the tree (chown -R www-data): one finding for the tree, not one per entry"},
}

// Lookup returns the catalog entry of id.
func Lookup(id RuleID) (RuleInfo, bool) {
	for _, r := range Catalog {
		if r.ID == id {
			return r, true
		}
	}
	return RuleInfo{}, false
}
