package policy

import "io/fs"

// SensitiveGlobs are the paths the default policy treats as secrets: credentials, keys, database
// dumps, version-control trees and editor or backup copies of code, which a server hands out as
// plain text.
var SensitiveGlobs = []string{
	"wp-config.php", ".env", ".env.*", "*.key", "*.pem", ".htpasswd", "id_rsa*",
	"*.sql", "*.sql.gz", ".git/", ".svn/", "*.bak", "*~", "*.old", "*.orig", "*.swp",
}

// Default is the least-privilege policy webperm applies when no other is given: directories at most
// 0755 (setgid allowed, for shared group directories), files at most 0644, sensitive paths at most
// 0750/0640 and never readable by others. A closed .git/ or .svn/ directory closes the tree below
// it, so only the directory itself is held to the sensitive maximum.
func Default() *Policy {
	return &Policy{
		Name: "default",
		Rules: []Rule{
			{FileMax: mode(0o644), DirMax: mode(0o755 | fs.ModeSetgid), Sensitive: boolean(false)},
			{Paths: SensitiveGlobs, FileMax: mode(0o640), DirMax: mode(0o750), Sensitive: boolean(true)},
		},
	}
}

func mode(m fs.FileMode) *fs.FileMode { return &m }
func boolean(b bool) *bool            { return &b }
