package server

import (
	"fmt"
	"os"
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
