package audit

import (
	"io/fs"

	"github.com/webperm/webperm/policy"
)

// Finding is one rule an entry breaks.
type Finding struct {
	Rule     policy.RuleID
	Severity policy.Severity
	Entry    Entry
	Message  string // lower-case; says what is wrong and what it allows
	Fix      *Fix   // nil where a human must decide
}

// Fix is the change that resolves a finding.
type Fix struct {
	Mode fs.FileMode // the target mode, in Entry.Mode's form
}
