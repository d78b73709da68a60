package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webperm/webperm/internal/fixture"
)

// contribSystemd holds the systemd units the README offers for a nightly audit.
var contribSystemd = filepath.Join("..", "..", "contrib", "systemd")

// execStart returns the arguments of the service's ExecStart=, after the program.
func execStart(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(contribSystemd, "webperm-audit.service"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "ExecStart=/usr/local/bin/webperm "); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatal("the service has no ExecStart=/usr/local/bin/webperm")
	return nil
}

// The service's command line is one webperm takes: run with its paths moved into a temporary
// directory, it audits the sites its file lists, under its lock, into its report.
func TestSystemdServiceCommandRuns(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\n")
	dir := t.TempDir()
	sites := filepath.Join(dir, "sites")
	if err := os.WriteFile(sites, []byte(site+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	moved := strings.NewReplacer("/etc/webperm/sites", sites, "/run/webperm/", dir+"/", "/var/lib/webperm/", dir+"/")
	var args []string
	for _, a := range execStart(t) {
		args = append(args, moved.Replace(a))
	}
	for _, want := range []string{"--lock", "--sites-from", "--fail-on", "-o"} {
		if !strings.Contains(" "+strings.Join(args, " ")+" ", " "+want+" ") {
			t.Errorf("ExecStart has no %s: %q", want, args)
		}
	}
	code, out, errOut := webperm(t, append(args, "--root", demoSysroot, "--web-user", "www-data")...)
	if code != exitClean || out != "" || errOut != "" {
		t.Fatalf("webperm %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "audit.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r := decode(t, string(b)); len(r.Roots) != 1 || r.Roots[0] != site {
		t.Errorf("the report's roots are %q, want the sites file's %q", r.Roots, site)
	}
}

// systemd-analyze verify finds no fault in the units (with ExecStart= naming a binary that is
// there: verify checks it is executable).
func TestSystemdUnitsVerify(t *testing.T) {
	analyze := fixture.Tool(t, "systemd-analyze", "systemd")
	dir := t.TempDir()
	for _, name := range []string{"webperm-audit.service", "webperm-audit.timer"} {
		b, err := os.ReadFile(filepath.Join(contribSystemd, name))
		if err != nil {
			t.Fatal(err)
		}
		unit := strings.ReplaceAll(string(b), "/usr/local/bin/webperm", os.Args[0])
		if err := os.WriteFile(filepath.Join(dir, name), []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(analyze, "verify", "webperm-audit.service", "webperm-audit.timer")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
