package server

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
)

// copyTree copies the host's directory src to the same path below sysroot, symlinks as symlinks.
func copyTree(t *testing.T, src, sysroot string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(sysroot, p)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case d.Type().IsRegular():
			return copyFile(p, dst)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// debianApps are the Apache snippets Debian's packages of web applications install, and the
// package each comes with.
var debianApps = []struct{ pkg, name, file string }{
	{"phpmyadmin", "phpmyadmin", "/etc/phpmyadmin/apache.conf"},
	{"dokuwiki", "dokuwiki", "/etc/dokuwiki/apache.conf"},
	{"roundcube-core", "roundcube", "/etc/roundcube/apache.conf"},
	{"mediawiki", "mediawiki", "/etc/apache2/conf-available/mediawiki.conf"},
}

// snippetLine is a line of an app's snippet that the reader must give as a directive.
type snippetLine struct {
	line int
	name string
	args []string
}

// activeLines finds, in the host's snippet, the Alias, AliasMatch and <Directory> lines that are
// not comments, with their line numbers: what the reader must give, found without it.
func activeLines(t *testing.T, file string) []snippetLine {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []snippetLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "Alias", "AliasMatch":
			out = append(out, snippetLine{n, fields[0], fields[1:]})
		case "<Directory":
			out = append(out, snippetLine{n, "Directory", []string{strings.TrimSuffix(strings.Join(fields[1:], " "), ">")}})
		}
	}
	return out
}

// TestApacheDebian reads Debian's stock configuration, copied from this host into a temporary
// sysroot, with the packaged applications' snippets enabled by symlinks with absolute targets
// (resolved inside the sysroot, as a2enconf makes them for roundcube).
func TestApacheDebian(t *testing.T) {
	if _, err := os.Stat("/etc/apache2/apache2.conf"); err != nil {
		fixture.Unavailable(t, "no /etc/apache2/apache2.conf: Debian's apache2 package is not installed")
	}
	for _, app := range debianApps {
		if _, err := os.Stat(app.file); err != nil {
			fixture.Unavailable(t, "no "+app.file+": Debian's "+app.pkg+" package is not installed")
		}
	}
	sysroot := t.TempDir()
	copyTree(t, "/etc/apache2", sysroot)
	enabled := filepath.Join(sysroot, "/etc/apache2/conf-enabled")
	for _, app := range debianApps {
		if err := copyFile(app.file, filepath.Join(sysroot, app.file)); err != nil {
			t.Fatal(err)
		}
		// Whatever this host enabled of the app goes: the test's own link must be what is read.
		if err := os.Remove(filepath.Join(enabled, app.name+".conf")); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if err := os.Symlink(app.file, filepath.Join(enabled, "webperm-"+app.name+".conf")); err != nil {
			t.Fatal(err)
		}
	}
	cfg, warnings := ReadApache(afero.NewOsFs(), sysroot)
	if cfg == nil {
		t.Fatal("nothing read")
	}
	noWarnings(t, warnings)
	if cfg.Main != "/etc/apache2/apache2.conf" || cfg.ServerRoot != "/etc/apache2" {
		t.Errorf("main %q, server root %q", cfg.Main, cfg.ServerRoot)
	}
	if u, g := cfg.EffectiveUser(); u != "www-data" || g != "www-data" || cfg.UserPos.File != "/etc/apache2/apache2.conf" {
		t.Errorf("user %q group %q at %s, want www-data from envvars", u, g, cfg.UserPos)
	}
	listen80 := false
	for _, d := range find(cfg.Root, "Listen") {
		if reflect.DeepEqual(d.Args, []string{"80"}) && d.Pos.File == "/etc/apache2/ports.conf" {
			listen80 = true
		}
	}
	if !listen80 {
		t.Errorf("no Listen 80 from ports.conf: %v", find(cfg.Root, "Listen"))
	}
	var def *Site
	for i, s := range cfg.Sites {
		if s.Pos == (Pos{"/etc/apache2/sites-enabled/000-default.conf", 1}) {
			def = &cfg.Sites[i]
		}
		if s.Pos.File == "/etc/apache2/ports.conf" && contains(s.Listen, "80") {
			t.Errorf("a main-server site on port 80, which 000-default is for: %+v", s)
		}
	}
	if def == nil {
		t.Fatalf("no site for 000-default.conf: %+v", cfg.Sites)
	}
	if def.Root != "/var/www/html" || !reflect.DeepEqual(def.Listen, []string{"*:80"}) || def.User != "www-data" ||
		!def.Autoindex || !contains(def.Index, "index.html") {
		t.Errorf("000-default: %+v", *def)
	}
	for _, app := range debianApps {
		link := "/etc/apache2/conf-enabled/webperm-" + app.name + ".conf"
		want := activeLines(t, app.file)
		if len(want) == 0 {
			t.Errorf("%s: no Alias or Directory line found in the snippet itself", app.file)
		}
		for _, w := range want {
			found := false
			for _, d := range find(cfg.Root, w.name) {
				if d.Pos == (Pos{link, w.line}) && reflect.DeepEqual(d.Args, w.args) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: %s %q at %s:%d not read", app.name, w.name, w.args, link, w.line)
			}
			if w.name == "Alias" && !hasAlias(def.Aliases, w.args[0], Pos{link, w.line}) {
				t.Errorf("000-default lacks the alias %s of %s:%d: %+v", w.args[0], link, w.line, def.Aliases)
			}
		}
	}
	// phpMyAdmin's <Directory> holds its DirectoryIndex and two <IfModule mod_php...> sections,
	// kept or dropped as mod_php is loaded.
	for _, d := range find(cfg.Root, "Directory") {
		if d.Arg(0) != "/usr/share/phpmyadmin" {
			continue
		}
		if idx := find(d, "DirectoryIndex"); len(idx) != 1 || idx[0].Arg(0) != "index.php" {
			t.Errorf("phpMyAdmin's DirectoryIndex: %v", idx)
		}
		php := contains(cfg.Modules, "mod_php.c")
		if got := len(find(d, "php_admin_value")); php && got != 2 || !php && got != 0 {
			t.Errorf("%d php_admin_value lines with mod_php loaded %v", got, php)
		}
	}
}

func hasAlias(aliases []Alias, url string, pos Pos) bool {
	for _, a := range aliases {
		if a.URL == url && a.Pos == pos {
			return true
		}
	}
	return false
}
