package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestUndoGivesNoSetIDToARewrittenFile mounts attack 4 of issue 12 on a shared host. A site user
// owns a file the host made setgid www-data (mode 2750): whoever runs it runs with the web
// server's group, which can read every site's secrets. The fix takes the setgid bit away and
// leaves the file the user's, as the policy wants; the user then writes a program of their own
// into it. Undo must not give the setgid bit back to that program: it restores the rest, names
// the file, and exits 4. Untouched, the file gets its bit back.
func TestUndoGivesNoSetIDToARewrittenFile(t *testing.T) {
	bin := buildWebperm(t)
	for _, tt := range []struct {
		name     string
		rewrite  bool
		wantCode int
		wantMode os.FileMode
	}{
		{"untouched since the fix", false, 0, os.ModeSetgid | 0o750},
		{"rewritten by its owner since the fix", true, 4, 0o750},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHostile(t)
			webGID := lookupGID(t, webUser)
			tool := filepath.Join(h.site, "tool")
			if err := os.WriteFile(tool, []byte("#!/bin/sh\necho the host's tool\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(tool, h.uid, webGID); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(tool, os.ModeSetgid|0o750); err != nil {
				t.Fatal(err)
			}
			journal := filepath.Join(t.TempDir(), "journal.jsonl")

			r := runWebperm(t, bin, "fix", "--apply", "--journal", journal, "--web-user", webUser, h.site)
			if r.code != 0 {
				t.Fatalf("fix --apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			requireMode(t, tool, 0o640, h.uid, webGID) // the fix took the setgid bit, and the user kept it

			if tt.rewrite {
				h.run(t, "printf '#!/bin/sh\\nexec cat /srv/*/wp-config.php\\n' > "+tool)
			}
			r = runWebperm(t, bin, "undo", journal)
			if r.code != tt.wantCode {
				t.Fatalf("undo: exit %d, want %d\n%s%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			requireMode(t, tool, tt.wantMode, h.uid, webGID)
			left := fmt.Sprintf("%s: put back as mode 0750, owner %d:%d but without its setgid bit: it was written to or changed since the fix", tool, h.uid, webGID)
			listed := strings.Contains(r.stdout, left)
			if listed != tt.rewrite {
				t.Errorf("undo lists the file as left without its setgid bit: %v, want %v\n%s", listed, tt.rewrite, r.stdout)
			}

			// Undo again: nothing changes, and a bit left off is still left off, and said so.
			before := snapshot(t, h.home)
			r = runWebperm(t, bin, "undo", journal)
			requireUnchanged(t, before, snapshot(t, h.home))
			if r.code != tt.wantCode || strings.Contains(r.stdout, left) != tt.rewrite {
				t.Errorf("second undo: exit %d, want %d, listing the file: %v\n%s%s", r.code, tt.wantCode, tt.rewrite, r.stdout, r.stderr)
			}
		})
	}
}

// requireMode fails t unless p has mode m (permissions and set-id bits) and owner uid:gid.
func requireMode(t *testing.T, p string, m os.FileMode, uid, gid int) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if got := fi.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid); got != m || int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("%s is %v %d:%d, want %v %d:%d", p, got, st.Uid, st.Gid, m, uid, gid)
	}
}
