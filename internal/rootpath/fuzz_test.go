package rootpath

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// FuzzResolve holds Resolve to the kernel: whatever path it is given below a tree of links (chains,
// loops, relative and absolute targets, ".." in them), it must lead to the directory the kernel's
// own lookup reaches, as a clean absolute path, or fail where the kernel finds no directory.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"", "a", "a/b", "up/c", "abs", "loop", "a/../a/b/..", "abs/./b//", "chain", "file", "file/x", "missing", "dangling", "../x"} {
		f.Add(s)
	}
	base := f.TempDir()
	for _, d := range []string{"a", "a/b", "c"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(base, "file"), nil, 0o644); err != nil {
		f.Fatal(err)
	}
	for link, target := range map[string]string{
		"up": "a/b/../..", "abs": base + "/a", "loop": "loop", "chain": "up/abs/b/../../c", "dangling": "nowhere", "a/b/back": "../../up",
	} {
		if err := os.Symlink(target, filepath.Join(base, link)); err != nil {
			f.Fatal(err)
		}
	}
	rv := &Resolver{}
	f.Fuzz(func(t *testing.T, rel string) {
		if strings.ContainsRune(rel, 0) || strings.Contains(rel, "proc") || strings.Contains(rel, "sys") || strings.Contains(rel, "dev") {
			t.Skip("the kernel's own directories have magic links webperm rightly does not follow")
		}
		given := base + "/" + rel
		r, err := rv.Resolve(given)
		var kernel syscall.Stat_t
		kerr := syscall.Stat(given, &kernel)
		isDir := kerr == nil && kernel.Mode&syscall.S_IFMT == syscall.S_IFDIR
		if err != nil {
			if isDir {
				t.Fatalf("Resolve(%q): %v, but the kernel reaches a directory", given, err)
			}
			return
		}
		var st syscall.Stat_t
		if serr := syscall.Lstat(r.Path, &st); serr != nil || !isDir || st.Dev != kernel.Dev || st.Ino != kernel.Ino {
			t.Fatalf("Resolve(%q) = %s (%v), not the directory the kernel reaches (%v)", given, r.Path, serr, kerr)
		}
		if !filepath.IsAbs(r.Path) || filepath.Clean(r.Path) != r.Path {
			t.Fatalf("Resolve(%q) = %q: not a clean absolute path", given, r.Path)
		}
	})
}
