package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/webperm/webperm/internal/fixture"
	"golang.org/x/sys/unix"
)

// webpermWithin runs webperm as webperm does, but fails the test if it has not returned within
// hangBound: a run that blocks on a FIFO must fail, not hang. A blocked open never returns, so
// the bound only needs to be far above a refusal's few milliseconds, even under -race on a busy
// machine; it measures nothing.
func webpermWithin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	type result struct {
		code        int
		out, errOut string
	}
	done := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		done <- result{code, stdout.String(), stderr.String()}
	}()
	select {
	case r := <-done:
		return r.code, r.out, r.errOut
	case <-time.After(hangBound):
		t.Fatalf("webperm %s: still running after %v: it blocks", strings.Join(args, " "), hangBound)
		return 0, "", ""
	}
}

// hangBound is how long a run may take before a test takes it to hang.
const hangBound = 10 * time.Second

func requireRefused(t *testing.T, code int, out, errOut string, want ...string) {
	t.Helper()
	if code != exitError || out != "" {
		t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr %q does not contain %q", errOut, w)
		}
	}
}

// Character devices at -o are written through and stay devices: replacing /dev/null with a
// regular file would break the host. /dev/full says why nothing was written. As root the devices
// are the test's own nodes, so that a regression breaks nothing but the test.
func TestOutputToDevices(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\n")
	null, full := fixture.NullAndFull(t)
	for _, cmd := range []string{"audit", "plan"} {
		if code, out, errOut := webpermWithin(t, cmd, "--web-user", "www-data", "-o", null, site); code != exitFindings || out != "" || errOut != "" {
			t.Errorf("%s -o /dev/null: exit %d, stdout %q, stderr %q", cmd, code, out, errOut)
		}
		code, out, errOut := webpermWithin(t, cmd, "--web-user", "www-data", "-o", full, site)
		requireRefused(t, code, out, errOut, "webperm: writing the ", " to "+full+": no space left on device\n")
	}
	if code, out, errOut := webpermWithin(t, "policy", "init", "-o", null); code != exitClean || out != "" || errOut != "" {
		t.Errorf("policy init -o /dev/null: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, dev := range []string{null, full} {
		if st := fixture.Lstat(t, dev); st.Mode&unix.S_IFMT != unix.S_IFCHR {
			t.Fatalf("%s is no longer a character device: mode %o", dev, st.Mode)
		}
	}
}

// The standard streams' names write to the streams webperm was given.
func TestOutputToStreams(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\n")
	_, report, _ := webperm(t, "audit", "--format", "json", "--web-user", "www-data", site)
	for _, tc := range []struct{ output, stream string }{{"-", "stdout"}, {"/dev/stdout", "stdout"}, {"/dev/stderr", "stderr"}} {
		code, out, errOut := webperm(t, "audit", "--format", "json", "--web-user", "www-data", "-o", tc.output, site)
		got := map[string]string{"stdout": out, "stderr": errOut}
		if code != exitFindings || got[tc.stream] != report {
			t.Errorf("-o %s: exit %d, %s %q; want the report there", tc.output, code, tc.stream, got[tc.stream])
		}
	}
}

// A file at -o that another user owns and all may write is replaced by one of root's that no one
// else may write: 0644 for a report or policy, 0600 for a plan, whatever the umask.
func TestOutputReplacesAnotherUsersFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: makes a file of another user's")
	}
	site := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\n")
	dir := t.TempDir()
	old := unix.Umask(0)
	t.Cleanup(func() { unix.Umask(old) })
	for _, tc := range []struct {
		args []string
		mode uint32
		code int
	}{
		{[]string{"audit", "-o"}, 0o644, exitFindings},
		{[]string{"plan", "--web-user", "www-data", "-o"}, 0o600, exitFindings},
		{[]string{"plan", "--format", "json", "--web-user", "www-data", "-o"}, 0o600, exitFindings},
		{[]string{"policy", "init", "--force", "-o"}, 0o644, exitClean},
	} {
		out := filepath.Join(dir, "out")
		if err := os.WriteFile(out, []byte("planted"), 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(out, 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(out, 1001, 1001); err != nil {
			t.Fatal(err)
		}
		was := fixture.Lstat(t, out).Ino
		args := append(tc.args, out)
		if tc.args[0] != "policy" {
			args = append(args, site)
		}
		if code, _, errOut := webperm(t, args...); code != tc.code {
			t.Fatalf("%s: exit %d: %s", strings.Join(tc.args, " "), code, errOut)
		}
		st := fixture.Lstat(t, out)
		if st.Uid != 0 || st.Mode&0o7777 != tc.mode || st.Ino == was || st.Mode&unix.S_IFMT != unix.S_IFREG {
			t.Errorf("%s: mode %o, uid %d, inode %d (was %d); want a new regular file of root's, mode %04o", strings.Join(tc.args, " "), st.Mode, st.Uid, st.Ino, was, tc.mode)
		}
		if b, _ := os.ReadFile(out); bytes.Contains(b, []byte("planted")) {
			t.Errorf("%s: the planted content is still there", strings.Join(tc.args, " "))
		}
	}
}

// As root, -o into a directory another user can write or owns is refused, and nothing is
// written there; a sticky one, like /tmp, is fine.
func TestOutputIntoDirectoryOthersControl(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the rule is root's")
	}
	site := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\n")
	base := t.TempDir()
	open, theirs, sticky := filepath.Join(base, "open"), filepath.Join(base, "theirs"), filepath.Join(base, "sticky")
	for _, d := range []string{open, theirs, sticky} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 1001, 1001); err != nil {
		t.Fatal(err)
	}
	for dir, why := range map[string]string{open: open + " is writable by others (mode 0777)", theirs: theirs + " is owned by uid 1001"} {
		out := filepath.Join(dir, "report.txt")
		code, stdout, errOut := webpermWithin(t, "audit", "-o", out, site)
		requireRefused(t, code, stdout, errOut, "writing the report to "+out+": "+why, "hint: as root, write where no other user can change")
		if _, err := os.Lstat(out); err == nil {
			t.Errorf("a report was written into %s", dir)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
			t.Errorf("files left in %s: %v", dir, left)
		}
	}
	if code, _, errOut := webperm(t, "audit", "-o", filepath.Join(sticky, "report.txt"), site); code != exitFindings {
		t.Errorf("-o into a sticky directory: exit %d: %s", code, errOut)
	}
}

// A FIFO at -o that no one reads is an error at once; webperm does not wait for a reader.
func TestOutputToFIFOWithoutReader(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\n")
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := webpermWithin(t, "audit", "-o", fifo, site)
	requireRefused(t, code, out, errOut, "writing the report to "+fifo+": no process reads the named pipe", "hint: start the reader first")
	if st := fixture.Lstat(t, fifo); st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("the FIFO was replaced: mode %o", st.Mode)
	}
}

// What webperm reads must be a regular file of sensible size: a FIFO, a device, a directory or a
// huge file given as --policy, --plan or the journal, or found as ROOT/etc/passwd or etc/group,
// is refused at once, naming it, and never opened.
func TestInputFilesMustBeRegular(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\n")
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, bytes.Repeat([]byte("# a comment\n"), 5<<20/12+1), 0o600); err != nil {
		t.Fatal(err)
	}
	// Systems whose etc/passwd or etc/group is a FIFO.
	sysroot := func(fifoName string) string {
		root := filepath.Join(t.TempDir(), "sys")
		if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"passwd", "group"} {
			p := filepath.Join(root, "etc", name)
			if name == fifoName {
				if err := unix.Mkfifo(p, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			data, err := os.ReadFile(filepath.Join(demoSysroot, "etc", name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return root
	}
	passwdFIFO, groupFIFO := sysroot("passwd"), sysroot("group")
	// An image whose etc/passwd leads to a file of the kernel's: /proc/kmsg would block, and
	// take the messages it read from the kernel's log.
	passwdProc := sysroot("")
	if err := os.Remove(filepath.Join(passwdProc, "etc", "passwd")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/self/status", filepath.Join(passwdProc, "etc", "passwd")); err != nil {
		t.Fatal(err)
	}
	const fifoWhy = ": a named pipe (FIFO), not a regular file"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"FIFO as --policy", []string{"audit", "--policy", fifo, site}, "reading the policy " + fifo + fifoWhy},
		{"/dev/zero as --policy", []string{"audit", "--policy", "/dev/zero", site}, "reading the policy /dev/zero: a character device, not a regular file"},
		{"directory as --policy", []string{"audit", "--policy", dir, site}, "reading the policy " + dir + ": a directory, not a regular file"},
		{"5 MiB --policy", []string{"audit", "--policy", huge, site}, "reading the policy " + huge + ": larger than 4 MiB, the most webperm reads of it"},
		{"FIFO to policy check", []string{"policy", "check", fifo}, "reading the policy " + fifo + fifoWhy},
		{"FIFO as --plan", []string{"fix", "--apply", "--plan", fifo}, "reading the plan " + fifo + fifoWhy},
		{"directory as --plan", []string{"fix", "--apply", "--plan", dir}, "reading the plan " + dir + ": a directory"},
		{"FIFO as the journal", []string{"undo", fifo}, "reading the journal " + fifo + fifoWhy},
		{"/dev/zero as the journal", []string{"undo", "/dev/zero"}, "reading the journal /dev/zero: a character device"},
		{"FIFO as etc/passwd", []string{"audit", "--root", passwdFIFO, site}, filepath.Join(passwdFIFO, "etc", "passwd") + fifoWhy},
		{"FIFO as etc/group", []string{"audit", "--root", groupFIFO, "--web-user", "www-data", site}, filepath.Join(groupFIFO, "etc", "group") + fifoWhy},
		{"/proc file as etc/passwd", []string{"audit", "--root", passwdProc, site}, filepath.Join(passwdProc, "etc", "passwd") + ": a file of the kernel's proc file system, not a file on disk"},
		{"/proc file as --policy", []string{"audit", "--policy", "/proc/self/status", site}, "reading the policy /proc/self/status: a file of the kernel's proc file system"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := webpermWithin(t, tc.args...)
			requireRefused(t, code, out, errOut, tc.want, "hint: ")
		})
	}
	if st := fixture.Lstat(t, fifo); st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("the FIFO was replaced: mode %o", st.Mode)
	}
}

// "" names no file: as a path flag's value or the journal it is refused, never taken for the
// flag's default or the current directory.
func TestEmptyPaths(t *testing.T) {
	site := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.html\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--policy", "", site}, "--policy: empty path"},
		{[]string{"audit", "-o", "", site}, "--output: empty path"},
		{[]string{"plan", "--output=", site}, "--output: empty path"},
		{[]string{"policy", "init", "-o", ""}, "--output: empty path"},
		{[]string{"policy", "show", "--policy", ""}, "--policy: empty path"},
		{[]string{"fix", "--apply", "--plan", ""}, "--plan: empty path"},
		{[]string{"fix", "--apply", "--journal", "", site}, "--journal: empty path"},
		{[]string{"undo", ""}, `JOURNAL "": empty path`},
		{[]string{"policy", "check", ""}, `FILE "": empty path`},
		{[]string{"audit", ""}, `PATH "": empty path`},
		{[]string{"explain", ""}, `PATH "": empty path`},
		{[]string{"policy", "show", ""}, `PATH "": empty path`},
		{[]string{"audit", "--root", "", site}, "--root: empty path"},
	} {
		code, out, errOut := webpermWithin(t, tc.args...)
		requireRefused(t, code, out, errOut, "webperm: "+tc.want)
	}
}
