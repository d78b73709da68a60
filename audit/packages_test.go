package audit

import (
	"testing"

	"github.com/spf13/afero"
)

// dpkg's lists are read below the audited system's root, keeping only what lies in or above a
// root, by package, with PKG:ARCH.list named PKG.
func TestLoadPackages(t *testing.T) {
	fsys := afero.NewMemMapFs()
	lists := map[string]string{
		"/img/var/lib/dpkg/info/wordpress.list":    "/.\n/usr\n/usr/share\n/usr/share/wordpress\n/usr/share/wordpress/index.php\n/usr/share/wordpress/wp-admin\n",
		"/img/var/lib/dpkg/info/libc6:amd64.list":  "/.\n/usr/lib/x86_64-linux-gnu/libc.so.6\n",
		"/img/var/lib/dpkg/info/wordpress.md5sums": "d41d8cd98f00b204e9800998ecf8427e  usr/share/wordpress/secret.php\n",
		"/img/var/lib/dpkg/info/odd.list":          "relative/path\n/usr/share/wordpress/../wordpress/readme.html\n",
	}
	for name, text := range lists {
		if err := afero.WriteFile(fsys, name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := LoadPackages(fsys, "/img", []string{"/img/usr/share/wordpress"})
	for path, want := range map[string]string{
		"/img/usr/share/wordpress/index.php":      "wordpress",
		"/img/usr/share/wordpress/wp-admin":       "wordpress",
		"/img/usr/share":                          "wordpress", // above the root: its way
		"/img/usr/share/wordpress/readme.html":    "odd",       // cleaned
		"/img/usr/lib/x86_64-linux-gnu/libc.so.6": "",          // neither in nor above the root
		"/img/usr/share/wordpress/secret.php":     "",          // in md5sums only, which is no list
		"/usr/share/wordpress/index.php":          "",          // the host's, not the image's
		"/img/usr/share/wordpress/uploads":        "",          // made after the install
	} {
		if got := p.Of(path); got != want {
			t.Errorf("Of(%s) = %q, want %q", path, got, want)
		}
	}
	if got := (*Packages)(nil).Of("/x"); got != "" {
		t.Errorf("a nil Packages knows %q", got)
	}
	if got := LoadPackages(fsys, "/nodpkg", []string{"/nodpkg/srv"}).Of("/nodpkg/srv"); got != "" {
		t.Errorf("a system without dpkg has packages: %q", got)
	}
}
