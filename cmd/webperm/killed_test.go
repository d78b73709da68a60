package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// openIn lists the descriptors process pid holds on files in dir.
func openIn(pid int, dir string) []string {
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, _ := os.ReadDir(fdDir)
	var out []string
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && strings.HasPrefix(target, dir+"/") {
			out = append(out, target)
		}
	}
	return out
}

// A report streamed to -o takes as long to write as the findings take to read back: webperm
// stopped meanwhile (Ctrl-C, timeout(1) in a cron job, systemd stopping it) must leave the old
// report as it was and nothing beside it, not a partial hidden temp file per run.
func TestAuditKilledWhileWritingLeavesNothing(t *testing.T) {
	site := tree(t, manyFiles(20, 500, "0666")+"f 0644 0:0 index.html\n")
	out := t.TempDir()
	report := filepath.Join(out, "report.txt")
	if err := os.WriteFile(report, []byte("yesterday's"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "audit", "--expand", "--root", demoSysroot, "--web-user", "www-data", "-o", report, site)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Stop it once it writes the report: it then holds a file in the report's directory.
	writing := false
	for deadline := time.Now().Add(time.Minute); !writing && time.Now().Before(deadline); {
		select {
		case err := <-done:
			t.Fatalf("webperm ended (%v) before the test saw it write: make the tree larger", err)
		default:
		}
		writing = len(openIn(cmd.Process.Pid, out)) > 0
	}
	if !writing {
		t.Fatal("webperm never wrote the report")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	<-done
	names, _ := os.ReadDir(out)
	var left []string
	for _, n := range names {
		left = append(left, n.Name())
	}
	if len(left) != 1 {
		t.Errorf("stopped while writing, webperm left %q beside the report", left)
	}
	if got, _ := os.ReadFile(report); string(got) != "yesterday's" {
		t.Errorf("the old report became %d bytes", len(got))
	}
}
