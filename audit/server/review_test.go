package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
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
	writeFiles(t, root, files)
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
	writeFiles(t, root, files)
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
	writeFiles(t, root, files)
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
