package main

import (
	"os"
	"path/filepath"
	"testing"
)

// spoolFiles lists the descriptors of this process open on a file in dir: the audit's spool,
// unnamed or removed, shows there as dir's "#inode (deleted)" or "webperm-spool-… (deleted)".
func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd")
	}
	return openIn(os.Getpid(), dir)
}

// webperm audit lets its spool go on every way out: a report written, one not written (--quiet),
// a report that cannot be written (-o in a directory that is not there), and an audit that fails
// after the spool is made (a root that is not there).
func TestAuditClosesItsSpool(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\nf 0666 0:0 open.html\n")
	clean := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\n")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	common := []string{"audit", "--root", demoSysroot, "--web-user", "www-data"}
	for _, tt := range []struct {
		name string
		args []string
		code int
	}{
		{"report", []string{site}, exitFindings},
		{"json report", []string{"--format", "json", site}, exitFindings},
		{"quiet, clean", []string{"--quiet", clean}, 0},
		{"quiet, findings", []string{"--quiet", site}, exitFindings},
		{"-o nowhere", []string{"-o", filepath.Join(tmp, "missing", "report.txt"), site}, exitError},
		{"-o file", []string{"-o", filepath.Join(t.TempDir(), "report.txt"), site}, exitFindings},
		{"no such root", []string{site, filepath.Join(site, "missing")}, exitError},
	} {
		code, _, stderr := webperm(t, append(common, tt.args...)...)
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d; stderr %q", tt.name, code, tt.code, stderr)
		}
		if open := spoolFiles(t, tmp); len(open) > 0 {
			t.Errorf("%s: still open after the command: %q", tt.name, open)
		}
	}
}
