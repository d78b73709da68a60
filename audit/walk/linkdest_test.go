package walk

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
)

// The walker follows a link inside --root, as the server chrooted there would, and never past it.
func TestFollowLinkStaysInSysRoot(t *testing.T) {
	sys := fixture.TempDir(t)
	root := filepath.Join(sys, "srv")
	for _, d := range []string{root, filepath.Join(sys, "etc")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(sys, "etc", "passwd"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"abs": "/etc/passwd", "up": "../../../../../../etc/passwd", "chain": "abs", "loop": "loop", "through-file": "abs/x", "host-only": "/proc/self"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	for link, want := range map[string]string{"abs": sys + "/etc/passwd", "up": sys + "/etc/passwd", "chain": sys + "/etc/passwd", "loop": "", "through-file": "", "host-only": ""} {
		d, _ := followLink(afero.NewOsFs(), filepath.Join(root, link), sys, DirCache{}, true)
		switch {
		case want == "" && d != nil:
			t.Errorf("%s: followed to %s, want nowhere", link, d.Path)
		case want != "" && (d == nil || d.Path != want || d.Entry.Type != TypeFile || len(d.Dirs) != 2):
			t.Errorf("%s: followed to %+v, want the file %s with its 2 directories in the system", link, d, want)
		}
	}
}
