package audit

// SpoolEverything makes every audit that spools keep no finding in memory between entries, for
// the tests of package audit_test; the returned function undoes it.
func SpoolEverything() (undo func()) {
	old := spoolWindow
	spoolWindow = 0
	return func() { spoolWindow = old }
}

// SpoolWindow makes every audit that spools keep at most n findings in memory between entries,
// for the tests of package audit_test; the returned function undoes it.
func SpoolWindow(n int) (undo func()) {
	old := spoolWindow
	spoolWindow = n
	return func() { spoolWindow = old }
}
