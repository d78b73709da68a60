package server

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"
)

// countingFs is the host's file system below a temporary root, counting the directories opened.
type countingFs struct {
	*afero.OsFs
	dirOpens int
}

func (c *countingFs) count(name string) {
	if fi, err := os.Stat(name); err == nil && fi.IsDir() {
		c.dirOpens++
	}
}

func (c *countingFs) Open(name string) (afero.File, error) {
	c.count(name)
	return c.OsFs.Open(name)
}

func (c *countingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	c.count(name)
	return c.OsFs.OpenFile(name, flag, perm)
}

// manyIncludes is n include lines, line(i) each.
func manyIncludes(n int, line func(i int) string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(line(i))
		b.WriteByte('\n')
	}
	return b.String()
}

// A hostile image repeating an include pattern over a large directory must not make webperm list
// that directory once per include: the listings are capped across the whole reading.
func TestReadNginxGlobListingsCapped(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"/etc/nginx/nginx.conf": manyIncludes(30000, func(int) string { return "include /x/nomatch*;" }),
	}
	for i := 0; i < 10; i++ {
		files[fmt.Sprintf("/x/f%d", i)] = ""
	}
	writeBelow(t, root, files)
	fsys := &countingFs{OsFs: &afero.OsFs{}}
	_, ws := ReadNginx(fsys, root)
	if fsys.dirOpens > 2*nginxCaps.listings {
		t.Errorf("%d directories listed for 30000 includes, want at most about %d", fsys.dirOpens, nginxCaps.listings)
	}
	if !strings.Contains(warningsText(ws), "directories listed") {
		t.Errorf("no warning of the cap on listings:\n%s", warningsText(ws))
	}
}

// The same for PHP-FPM: a pool file repeating an include over a large directory is listed a
// bounded number of times, and its warnings are bounded too.
func TestReadFPMGlobListingsCapped(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"/etc/php/8.2/fpm/php-fpm.conf": "[global]\n" + manyIncludes(30000, func(int) string { return "include=/x/nomatch*" }),
	}
	for i := 0; i < 10; i++ {
		files[fmt.Sprintf("/x/f%d", i)] = ""
	}
	writeBelow(t, root, files)
	fsys := &countingFs{OsFs: &afero.OsFs{}}
	_, ws := ReadFPMConfigs(fsys, root)
	if fsys.dirOpens > 2*fpmMaxListings {
		t.Errorf("%d directories listed for 30000 includes, want at most about %d", fsys.dirOpens, fpmMaxListings)
	}
	if len(ws) > fpmMaxWarnings+10 {
		t.Errorf("%d warnings kept, want at most about %d", len(ws), fpmMaxWarnings)
	}
	if !strings.Contains(warningsText(ws), "directories listed") {
		t.Errorf("no warning of the cap on listings:\n%s", warningsText(ws[:min(len(ws), 5)]))
	}
}

// countingFiles counts the regular files opened below a temporary root.
type countingFiles struct {
	*afero.OsFs
	files int
}

func (c *countingFiles) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
		c.files++
	}
	return c.OsFs.OpenFile(name, flag, perm)
}

func (c *countingFiles) Open(name string) (afero.File, error) {
	return c.OpenFile(name, os.O_RDONLY, 0)
}

// Many main files (one per /etc/php/*/fpm) each including many pool files: the cap on files
// holds across them all, not per main file, else a hostile image makes webperm read
// fpmMaxFiles² files (a terabyte where each is safefile.ConfigLimit).
func TestReadFPMFilesCappedAcrossMains(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"/main.conf": "include=/x/*.conf\n",
		"/pool.conf": "[p]\nuser = www-data\nlisten = /run/p.sock\n",
	}
	writeBelow(t, root, files)
	for i := 0; i < 30; i++ {
		dir := filepath.Join(root, "etc/php", fmt.Sprint(i), "fpm")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/main.conf", filepath.Join(dir, "php-fpm.conf")); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < fpmMaxFiles-1; i++ {
		if err := os.Symlink("/pool.conf", filepath.Join(root, "x", fmt.Sprintf("%04d.conf", i))); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		} else if err != nil {
			if err := os.MkdirAll(filepath.Join(root, "x"), 0o755); err != nil {
				t.Fatal(err)
			}
			i--
		}
	}
	fsys := &countingFiles{OsFs: &afero.OsFs{}}
	_, ws := ReadFPMConfigs(fsys, root)
	if fsys.files > fpmMaxTotalFiles+10 {
		t.Errorf("%d files read, want at most about %d", fsys.files, fpmMaxTotalFiles)
	}
	if !strings.Contains(warningsText(ws), "files read in all") {
		t.Errorf("no warning of the cap on files:\n%s", warningsText(ws[:min(len(ws), 5)]))
	}
}

// Apache's mod_dir takes "disabled" as clearing the list only where it is a DirectoryIndex's only
// argument; with other arguments, before or after, it is a file name like any other.
func TestApacheDirectoryIndexDisabled(t *testing.T) {
	root := writeSys(t, map[string]string{
		debMain: `LoadModule dir_module mod_dir.so
Listen 80
Listen 8080
DocumentRoot /var/www/main
DirectoryIndex index.html disabled
IncludeOptional sites-enabled/*.conf
`,
		"/etc/apache2/sites-enabled/a.conf": `<VirtualHost *:80>
  ServerName a.example
  DocumentRoot /srv/a
  DirectoryIndex index.html
  DirectoryIndex disabled
  DirectoryIndex index.php
  <Directory /srv/a/sub>
    DirectoryIndex disabled default.html
  </Directory>
</VirtualHost>
`,
	})
	cfg, warnings := readSys(t, root)
	noWarnings(t, warnings)
	var a, m *Site
	for i := range cfg.Sites {
		switch cfg.Sites[i].Root {
		case "/srv/a":
			a = &cfg.Sites[i]
		case "/var/www/main":
			m = &cfg.Sites[i]
		}
	}
	if a == nil || m == nil {
		t.Fatalf("sites %+v", cfg.Sites)
	}
	if want := []string{"index.html", "disabled"}; !reflect.DeepEqual(m.Index, want) {
		t.Errorf("main server's index %q, want %q", m.Index, want)
	}
	if want := []string{"index.php"}; !reflect.DeepEqual(a.Index, want) {
		t.Errorf("site a's index %q, want %q", a.Index, want)
	}
	if idx, _ := directoryIndexAt([]*Directive{{Children: []*Directive{{Name: "DirectoryIndex", Args: []string{"disabled", "default.html"}}}}}); !reflect.DeepEqual(idx, []string{"disabled", "default.html"}) {
		t.Errorf("<Directory>'s index %q, want disabled and default.html", idx)
	}
}

// A relative DocumentRoot is taken from ServerRoot, as Apache does (ap_server_root_relative):
// left relative, the site's root would be looked up from webperm's working directory, on the
// host, not below the audited system's root.
func TestApacheRelativeDocumentRoot(t *testing.T) {
	root := writeSys(t, map[string]string{
		debMain: `Listen 80
Listen 8080
DocumentRoot htdocs
<VirtualHost *:80>
  ServerName a.example
  DocumentRoot "sites/a"
</VirtualHost>
`,
	})
	cfg, warnings := readSys(t, root)
	noWarnings(t, warnings)
	var roots []string
	for _, s := range cfg.Sites {
		roots = append(roots, s.Root)
	}
	if want := []string{"/etc/apache2/sites/a", "/etc/apache2/htdocs"}; !reflect.DeepEqual(roots, want) {
		t.Errorf("roots %q, want %q", roots, want)
	}
}

// An envvars that doubles a variable again and again must not make webperm build a value of
// gigabytes: a value longer than apacheMaxLine is not taken.
func TestEnvvarsDoublingCapped(t *testing.T) {
	text := "export A=0123456789abcdef\n" + strings.Repeat("A=$A$A\n", 20)
	vars := parseEnvvars("/etc/apache2/envvars", text, nil)
	if n := len(vars["A"].value); n > apacheMaxLine {
		t.Errorf("A is %d bytes, want at most %d", n, apacheMaxLine)
	}
}

// A $NAME a megabyte long is read in linear time: checking every prefix of it anew took hours.
func TestEnvvarsLongNameLinear(t *testing.T) {
	text := "export A=$" + strings.Repeat("a", 300_000) + "\n"
	done := make(chan map[string]envvar, 1)
	go func() { done <- parseEnvvars("/etc/apache2/envvars", text, nil) }()
	select {
	case vars := <-done:
		if v, ok := vars["A"]; !ok || v.value != "" {
			t.Errorf("A = %+v, %v; want the empty value of an unset variable", v, ok)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a 300 KB variable name took more than 5 s")
	}
}

func TestEnvvarsNameWithDigits(t *testing.T) {
	vars := parseEnvvars("/etc/apache2/envvars", "A1=x\nB2c=y\nexport C=$A1-$B2c-$9\n", nil)
	if got := vars["C"].value; got != "x-y-$9" {
		t.Errorf("C = %q, want x-y-$9", got)
	}
}

// An include pattern whose directory part matches a symlink to a FIFO: listing it must not
// open the FIFO, which blocks until a writer comes (for ever, in an image).
func TestReadNginxGlobThroughFIFO(t *testing.T) {
	root := t.TempDir()
	writeBelow(t, root, map[string]string{"/etc/nginx/nginx.conf": "include conf.d/*/*.conf;\n"})
	if err := os.MkdirAll(filepath.Join(root, "etc/nginx/conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/fifo", filepath.Join(root, "etc/nginx/conf.d/x")); err != nil {
		t.Fatal(err)
	}
	done := make(chan []Warning, 1)
	go func() {
		_, ws := ReadNginx(afero.NewOsFs(), root)
		done <- ws
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		// Unblock the reader so the test binary can end.
		if f, err := os.OpenFile(filepath.Join(root, "fifo"), os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatal("listing a symlink to a FIFO blocked")
	}
}

// lyingFs reports the FIFO at fifo as a directory, as a directory replaced by a FIFO between
// webperm's stat and its open would look.
type lyingFs struct {
	afero.OsFs
	fifo string
}

type dirInfo struct{ os.FileInfo }

func (dirInfo) IsDir() bool       { return true }
func (dirInfo) Mode() os.FileMode { return os.ModeDir | 0o755 }

func (l *lyingFs) Stat(name string) (os.FileInfo, error) {
	fi, err := l.OsFs.Stat(name)
	if err == nil && name == l.fifo {
		return dirInfo{fi}, nil
	}
	return fi, err
}

// Apache's directory listings, too, never open a FIFO, even one swapped in after the stat.
func TestApacheListRacingFIFO(t *testing.T) {
	root := writeSys(t, map[string]string{debMain: "IncludeOptional conf.d/*/*.conf\n", "/etc/apache2/conf.d/.keep": ""})
	fifo := filepath.Join(root, "etc/apache2/conf.d/x")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan []Warning, 1)
	go func() {
		_, ws := ReadApache(&lyingFs{fifo: fifo}, root)
		done <- ws
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		if f, err := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatal("listing a FIFO taken for a directory blocked")
	}
}

// A relative root is taken by nginx from its prefix, which the configuration does not say
// (Debian's is /usr/share/nginx, nginx.org's /etc/nginx): webperm says so where it reads one.
func TestReadNginxRelativeRootWarned(t *testing.T) {
	fsys := memFiles(t, map[string]string{"/etc/nginx/nginx.conf": "http {\n  server {\n    listen 80;\n    root html;\n  }\n}\n"})
	cfg, ws := ReadNginx(fsys, "/")
	if cfg == nil || len(cfg.Sites) != 1 || cfg.Sites[0].Root != "html" {
		t.Fatalf("config %+v", cfg)
	}
	found := false
	for _, w := range ws {
		if w.Pos == (Pos{"/etc/nginx/nginx.conf", 4}) && strings.Contains(w.Msg, "prefix") {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning at nginx.conf:4 of the relative root; got %v", ws)
	}
}

// One directory an include pattern lists gives at most nginxCaps.entries names: an image's
// directory of millions of files would otherwise be held in memory whole.
func TestReadNginxListingEntriesCapped(t *testing.T) {
	defer func(old int) { nginxCaps.entries = old }(nginxCaps.entries)
	nginxCaps.entries = 50
	files := map[string]string{"/etc/nginx/nginx.conf": "include /x/*.conf;\n"}
	for i := 0; i < 200; i++ {
		files[fmt.Sprintf("/x/%03d.conf", i)] = "# empty\n"
	}
	root := t.TempDir()
	writeBelow(t, root, files)
	cfg, ws := ReadNginx(afero.NewOsFs(), root)
	if cfg == nil {
		t.Fatal("nothing read")
	}
	if n := len(cfg.Files); n > nginxCaps.entries+1 {
		t.Errorf("%d files read from a listing capped at %d names", n, nginxCaps.entries)
	}
	if !strings.Contains(warningsText(ws), "more than 50 names") {
		t.Errorf("no warning of the cap on names: %s", warningsText(ws))
	}
}
