package audit

import (
	"io/fs"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// Finding is one rule an entry breaks.
type Finding struct {
	Rule     policy.RuleID
	Severity policy.Severity
	Entry    walk.Entry
	Message  string // lower-case; says what is wrong and what it allows
	Fix      *Fix   // nil where a human must decide
	// ExpiredWaiver is the waiver that covered this finding until its last day passed.
	ExpiredWaiver *policy.Waiver
	// Package is the distribution package that installed the entry, "" for none: a fix there
	// lasts only until the package's next upgrade.
	Package string
	// Entries is how many entries the finding stands for where it stands for more than its own:
	// a web-user-owns-tree finding counts the root and every entry it folds. 0 otherwise.
	Entries int
	// PackageManager is the package manager whose database names Package: ManagerDpkg or
	// ManagerRPM. dpkg-statoverride makes a change last; rpm has no such thing.
	PackageManager string
}

// Fix is the change that resolves a finding: the entry's target mode and, where Chown is set,
// its target owner and group. A Mode equal to the entry's asks no chmod.
type Fix struct {
	Mode     fs.FileMode // the target mode, in Entry.Mode's form
	Chown    bool
	UID, GID uint32
}
