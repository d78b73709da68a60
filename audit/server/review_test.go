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
