package walk

import (
	"os"
	"testing"
)

// Audited is what the walk's tests read of an audit of a tree they walked.
type Audited struct {
	Report   any // the whole report, for two audits to be compared field by field
	Entries  int
	Errors   []Unread
	Findings []Found
}

// Unread is a path the audit could not read, and why.
type Unread struct {
	Path string
	Err  error
}

// Found is one finding of an audit: its path and rule.
type Found struct{ Path, Rule string }

// Audit audits root on the operating system's file system, with the default policy and jobs
// directories read at once, as the walk now reads them. The tests of package walk cannot import
// the audit, which imports walk: audit_test.go, of package walk_test, sets it.
var Audit func(tb testing.TB, root string, jobs int) Audited

// asRoot says whether tests can set owners.
var asRoot = os.Geteuid() == 0
