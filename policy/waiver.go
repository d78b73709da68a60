package policy

import "time"

// Waiver accepts the findings of one rule on some paths until a date, for a reason a person
// wrote down. Once that date has passed the waiver stops waiving: its findings are reported again,
// and the report says the waiver expired.
type Waiver struct {
	Rule    RuleID
	Paths   []string // globs, matched as a Rule's are
	Reason  string
	Expires string // the last day it waives, YYYY-MM-DD
	Origin  string // where it was written ("site.yaml:30")
}

// DateLayout is how policy files write dates.
const DateLayout = "2006-01-02"

// Covers reports whether the waiver applies to a finding of rule id on rel (abs on the audited
// system; rel is "" for a directory above the root).
func (w *Waiver) Covers(id RuleID, rel, abs string, isDir bool) bool {
	return id == w.Rule && matchAny(w.Paths, rel, abs, isDir)
}

// Expired reports whether the waiver's last day lies before today, in today's location.
func (w *Waiver) Expired(today time.Time) bool {
	return today.Format(DateLayout) > w.Expires
}
