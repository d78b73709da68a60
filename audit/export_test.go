package audit

// SpoolEverything makes every audit that spools keep no finding in memory between entries, for
// the tests of package audit_test; the returned function undoes it.
func SpoolEverything() (undo func()) {
	old := spoolWindow
	spoolWindow = 0
	return func() { spoolWindow = old }
}
