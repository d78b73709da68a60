package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/webperm/webperm/internal/fixture"
)

// packagedApps are the web applications CI installs from Debian's packages, each with the trees
// the package lays out: the one its Apache configuration serves first.
var packagedApps = []struct {
	pkg   string
	trees []string
}{
	{"wordpress", []string{"/usr/share/wordpress", "/var/lib/wordpress", "/etc/wordpress"}},
	{"phpmyadmin", []string{"/usr/share/phpmyadmin", "/var/lib/phpmyadmin", "/etc/phpmyadmin"}},
	{"mediawiki", []string{"/var/lib/mediawiki", "/usr/share/mediawiki", "/etc/mediawiki"}},
	{"dokuwiki", []string{"/usr/share/dokuwiki", "/var/lib/dokuwiki", "/etc/dokuwiki"}},
	{"roundcube-core", []string{"/var/lib/roundcube", "/usr/share/roundcube", "/etc/roundcube"}},
}

// dpkgFiles reads the paths every installed package lists, as dpkg records them.
func dpkgFiles(t *testing.T) map[string]bool {
	t.Helper()
	lists, err := filepath.Glob("/var/lib/dpkg/info/*.list")
	if err != nil || len(lists) == 0 {
		fixture.Unavailable(t, "no dpkg database in /var/lib/dpkg/info")
	}
	files := map[string]bool{}
	for _, l := range lists {
		f, err := os.Open(l)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			files[sc.Text()] = true
		}
		f.Close()
	}
	return files
}

// On the applications as Debian's packages install them, webperm audits every tree through,
// reports nothing above info (--preset auto is the default), and its plan changes nothing a
// package installed: the package's next upgrade would put it back, so
// each such change is left to a person, with the package named in the audit.
func TestPackagedAppsPlansLeavePackageFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		fixture.Unavailable(t, "needs root: audits trees only root can read")
	}
	bin := buildWebperm(t)
	packaged := dpkgFiles(t)
	for _, app := range packagedApps {
		if _, err := os.Stat("/var/lib/dpkg/info/" + app.pkg + ".list"); err != nil {
			fixture.Unavailable(t, app.pkg+" is not installed: .ci/run installs it")
		}
		for _, tree := range app.trees {
			t.Run(app.pkg+tree, func(t *testing.T) {
				r := runWebperm(t, bin, "audit", "--format", "json", "--web-user", webUser, tree)
				if r.code != 0 && r.code != 1 {
					t.Fatalf("audit %s: exit %d\n%s", tree, r.code, r.stderr)
				}
				var rep struct {
					Complete bool `json:"complete"`
					Findings []struct {
						Path, Rule, Package, Severity, Message string
					} `json:"findings"`
				}
				if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
					t.Fatal(err)
				}
				if !rep.Complete {
					t.Errorf("audit %s did not read the whole tree", tree)
				}
				for _, f := range rep.Findings {
					if f.Severity != "info" {
						t.Errorf("%s: %s %s on a correctly installed application: %s", f.Path, f.Severity, f.Rule, f.Message)
					}
					if packaged[f.Path] && f.Package == "" {
						t.Errorf("%s: %s on a file a package installed names no package", f.Path, f.Rule)
					}
				}
				r = runWebperm(t, bin, "plan", "--format", "json", "--web-user", webUser, tree)
				if r.code != 0 && r.code != 1 {
					t.Fatalf("plan %s: exit %d\n%s", tree, r.code, r.stderr)
				}
				var plan struct {
					Actions []struct{ Path string }         `json:"actions"`
					Manual  []struct{ Path, Reason string } `json:"manual"`
				}
				if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
					t.Fatal(err)
				}
				for _, a := range plan.Actions {
					if packaged[a.Path] {
						t.Errorf("the plan changes %s, which a package installed", a.Path)
					}
				}
				for _, m := range plan.Manual {
					if packaged[m.Path] && !strings.Contains(m.Reason, "dpkg-statoverride") && strings.Contains(m.Reason, "package") {
						t.Errorf("%s is left to a person without the dpkg-statoverride that would keep a change: %s", m.Path, m.Reason)
					}
				}
			})
		}
	}
}

// On MediaWiki and DokuWiki as Debian's packages install them, webperm finds nothing above info:
// the .htaccess each puts in a directory the web server writes (images/, cache/, data/) only
// denies, and www-data could replace it anyway, so it is info with no fix, not a chown to make.
func TestPackagedWikisNothingAboveInfo(t *testing.T) {
	if os.Geteuid() != 0 {
		fixture.Unavailable(t, "needs root: audits trees only root can read")
	}
	wikis := []struct {
		pkg, tree string
		htaccess  []string
	}{
		{"mediawiki", "/var/lib/mediawiki", []string{"/var/lib/mediawiki/images/.htaccess", "/var/lib/mediawiki/cache/.htaccess"}},
		{"dokuwiki", "/var/lib/dokuwiki", []string{"/var/lib/dokuwiki/data/.htaccess"}},
	}
	bin := buildWebperm(t)
	for _, w := range wikis {
		t.Run(w.pkg, func(t *testing.T) {
			if _, err := os.Stat("/var/lib/dpkg/info/" + w.pkg + ".list"); err != nil {
				fixture.Unavailable(t, w.pkg+" is not installed: .ci/run installs it")
			}
			r := runWebperm(t, bin, "audit", "--format", "json", "--preset", "auto", "--web-user", webUser, w.tree)
			if r.code != 0 && r.code != 1 {
				t.Fatalf("audit %s: exit %d\n%s", w.tree, r.code, r.stderr)
			}
			var rep struct {
				Complete bool `json:"complete"`
				Findings []struct {
					Path, Rule, Severity, Message string
					Fix                           json.RawMessage `json:"fix"`
				} `json:"findings"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			if !rep.Complete {
				t.Errorf("audit %s did not read the whole tree", w.tree)
			}
			seen := map[string]bool{}
			for _, f := range rep.Findings {
				if f.Severity != "info" {
					t.Errorf("%s: %s %s: %s", f.Path, f.Severity, f.Rule, f.Message)
				}
				if f.Rule == "web-writable-code" && slices.Contains(w.htaccess, f.Path) {
					seen[f.Path] = true
					if len(f.Fix) != 0 && string(f.Fix) != "null" {
						t.Errorf("%s: fix %s, but www-data can replace the file whatever its owner", f.Path, f.Fix)
					}
					if !strings.Contains(f.Message, "AllowOverride None") {
						t.Errorf("%s: message %q does not name what closes it", f.Path, f.Message)
					}
				}
			}
			// Each is still reported where www-data owns it, as the package installs it: the
			// server's configuration, not the file, keeps it safe.
			u, err := user.Lookup(webUser)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range w.htaccess {
				var st syscall.Stat_t
				if err := syscall.Lstat(p, &st); err == nil && strconv.Itoa(int(st.Uid)) == u.Uid && !seen[p] {
					t.Errorf("%s: no web-writable-code finding", p)
				}
			}
		})
	}
}
