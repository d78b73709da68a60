package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/webperm/webperm/internal/fixture"
)

// runWebpermBounded runs webperm as runWebperm does, under timeout(1), which kills it after limit:
// a run that blocks on a FIFO fails the test instead of hanging it.
func runWebpermBounded(t *testing.T, limit time.Duration, bin string, args ...string) webpermRun {
	t.Helper()
	timeout, err := fixture.FindTool("timeout")
	if err != nil {
		fixture.Unavailable(t, err.Error())
	}
	r := runWebperm(t, timeout, append([]string{"--signal=KILL", fmt.Sprintf("%.3fs", limit.Seconds()), bin}, args...)...)
	if r.code == 124 || r.code == 128+int(syscall.SIGKILL) { // timeout(1) says it timed out, or was killed
		t.Fatalf("webperm %s: still running after %v, killed", strings.Join(args, " "), limit)
	}
	return r
}

// TestHostileFilesAtOutputAndInput mounts attack 3 of issue 12 and its kin: a site user plants, in
// a shared sticky directory, a 0666 report and plan of its own where root will write them, a
// FIFO where root writes or reads, and a symlink to a file of root's; it offers its own home as a
// place to write, and a system root whose etc/passwd is a FIFO. Root's webperm must replace the
// planted files with its own that the user cannot write, and refuse the rest at once, changing
// nothing.
func TestHostileFilesAtOutputAndInput(t *testing.T) {
	h := newHostile(t)
	bin := buildWebperm(t)
	base := filepath.Dir(h.home)
	shared := filepath.Join(base, "shared") // /srv/shared: all may write, sticky like /tmp
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	decoy := filepath.Join(base, "decoy") // a file of root's the symlink points at
	if err := os.WriteFile(decoy, []byte("root's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	at := func(name string) string { return filepath.Join(shared, name) }
	h.run(t, "umask 0 && cd "+shared+
		" && echo planted > report.txt && echo planted > plan.json && chmod 0666 report.txt plan.json"+
		" && mkfifo out.pipe policy.yaml plan.fifo journal.fifo && ln -s "+decoy+" link.txt"+
		" && mkdir -p "+h.home+"/sys/etc && mkfifo "+h.home+"/sys/etc/passwd && echo 'root:x:0:' > "+h.home+"/sys/etc/group")
	common := []string{"--web-user", "www-data"}

	t.Run("planted 0666 files are replaced by root's", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			file string
			mode uint32
		}{
			{[]string{"audit", "-o", at("report.txt")}, at("report.txt"), 0o644},
			{[]string{"plan", "--format", "json", "-o", at("plan.json")}, at("plan.json"), 0o600},
		} {
			var before syscall.Stat_t
			if err := syscall.Lstat(tc.file, &before); err != nil || before.Uid != uint32(h.uid) || before.Mode&0o777 != 0o666 {
				t.Fatalf("%s was not planted as the user's 0666 file: %v", tc.file, err)
			}
			r := runWebpermBounded(t, 10*time.Second, bin, append(append(tc.args, common...), h.site)...)
			if r.code > 1 {
				t.Fatalf("%s: exit %d: %s", strings.Join(tc.args, " "), r.code, r.stderr)
			}
			var st syscall.Stat_t
			if err := syscall.Lstat(tc.file, &st); err != nil {
				t.Fatal(err)
			}
			if st.Uid != 0 || st.Gid != 0 || st.Mode&0o7777 != tc.mode || st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Ino == before.Ino {
				t.Errorf("%s: uid %d gid %d mode %o inode %d (the planted one %d); want a new regular file of root's, %04o", tc.file, st.Uid, st.Gid, st.Mode, st.Ino, before.Ino, tc.mode)
			}
			if out, err := h.command("/bin/sh", "-c", "echo appended >> "+tc.file).CombinedOutput(); err == nil {
				t.Errorf("%s could still append to %s: %s", h.name, tc.file, out)
			}
			if data, _ := os.ReadFile(tc.file); bytes.Contains(data, []byte("planted")) || bytes.Contains(data, []byte("appended")) {
				t.Errorf("%s holds the user's text: %q", tc.file, data)
			}
		}
	})

	t.Run("planted FIFOs, symlinks and places are refused", func(t *testing.T) {
		beforeShared, beforeHome := snapshot(t, shared), snapshot(t, h.home)
		sys := filepath.Join(h.home, "sys")
		uid := strconv.Itoa(h.uid)
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"FIFO at -o", []string{"audit", "-o", at("out.pipe"), h.site}, "writing the report to " + at("out.pipe") + ": a named pipe (FIFO), owned by uid " + uid},
			{"symlink at -o", []string{"plan", "-o", at("link.txt"), h.site}, "writing the plan to " + at("link.txt") + ": a symlink"},
			{"-o into the user's home", []string{"audit", "-o", filepath.Join(h.home, "report.txt"), h.site}, h.home + " is owned by uid " + uid},
			{"-o into the user's site", []string{"plan", "-o", filepath.Join(h.site, "fix.sh"), h.site}, h.site + " is owned by uid " + uid},
			{"FIFO as --policy", []string{"audit", "--policy", at("policy.yaml"), h.site}, "reading the policy " + at("policy.yaml") + ": a named pipe (FIFO), not a regular file"},
			{"FIFO as --plan", []string{"fix", "--apply", "--plan", at("plan.fifo")}, "reading the plan " + at("plan.fifo") + ": a named pipe (FIFO)"},
			{"FIFO as the journal", []string{"undo", at("journal.fifo")}, "reading the journal " + at("journal.fifo") + ": a named pipe (FIFO)"},
			{"FIFO as ROOT/etc/passwd", []string{"audit", "--root", sys, h.site}, filepath.Join(sys, "etc", "passwd") + ": a named pipe (FIFO)"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				args := tc.args
				if args[0] != "fix" && args[0] != "undo" {
					args = append(append([]string(nil), args[:len(args)-1]...), append(common, args[len(args)-1])...)
				}
				r := runWebpermBounded(t, 10*time.Second, bin, args...) // a refusal takes some 10ms; a blocked open, forever
				if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "webperm: hint: ") {
					t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, and %q with a hint", r.code, r.stdout, r.stderr, tc.want)
				}
			})
		}
		requireUnchanged(t, beforeShared, snapshot(t, shared))
		requireUnchanged(t, beforeHome, snapshot(t, h.home))
		if data, _ := os.ReadFile(decoy); string(data) != "root's\n" {
			t.Errorf("the symlink's target now holds %q", data)
		}
	})
}
