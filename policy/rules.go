package policy

// RuleID names a rule. Ids are a contract: reports, waivers and scripts refer to them, so an id is
// never renamed or reused.
type RuleID string

// The rules webperm checks today. DESIGN.md's catalog lists the ones still to come.
const (
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
	{SpecialFile, Medium, "a device, FIFO or socket inside a web root"},
	{SymlinkEscapesRoot, Medium, "a symlink whose target lies outside the audited root"},
	{DanglingSymlink, Low, "a symlink whose target does not exist"},
	{UnknownOwner, Medium, "a uid or gid with no name in the audited system's /etc/passwd or /etc/group"},
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
