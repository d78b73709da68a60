package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/internal/fixture"
)

// As root, the spool holds every finding of the audit, which the report then trusts: it is
// made only where no other user can change what a directory holds, as a report written with -o
// is (safefile.CheckDir). A TMPDIR another user controls (su without -, sudo -E) is refused,
// before anything is written there: on a file system without O_TMPFILE the spool has a name
// there for a moment, which that user can rename to keep it past webperm's end, and on a mount
// that user serves (FUSE, a vfat stick mounted uid=) they read and rewrite the findings. /tmp,
// root's and sticky, is fine.
func TestSpoolRefusesTMPDIROthersControl(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: the directories must belong to another user")
	}
	root := fixture.Tree(t, afero.NewOsFs(), "d 0755 0:0 .\nf 0644 0:0 index.html\nf 0666 0:0 open.html\n")
	base := fixture.TempDir(t)
	mkdir := func(rel string, mode os.FileMode, uid int) string {
		d := filepath.Join(base, rel)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, uid, uid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
		return d
	}
	users := mkdir("users", 0o755, 1000)
	for _, tt := range []struct {
		name, dir, why string
	}{
		{"another user's", mkdir("deploy", 0o700, 1000), "owned by uid 1000"},
		{"writable by all, not sticky", mkdir("open", 0o777, 0), "writable by others"},
		{"root's, in another user's", mkdir("users/tmp", 0o700, 0), users + " is owned by uid 1000"},
		{"root's and sticky", mkdir("sticky", os.ModeSticky|0o777, 0), ""},
		{"root's", mkdir("root", 0o700, 0), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("TMPDIR", tt.dir)
			a := &Auditor{Fs: afero.NewOsFs(), Preset: "default", Accounts: testAccounts(), WebUser: webUser(), Spool: true}
			rep, err := a.Run(context.Background(), []string{root})
			if tt.why == "" {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				rep.Close()
				return
			}
			if err == nil {
				rep.Close()
				t.Fatalf("Run spooled the findings in %s, which %s", tt.dir, tt.why)
			}
			if !errors.Is(err, ErrSpool) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("Run: %v, want a spool error saying %q", err, tt.why)
			}
		})
	}
}
