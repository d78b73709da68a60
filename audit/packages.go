package audit

import (
	"bufio"
	"bytes"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/internal/safefile"
)

// Packages says which of the audited paths a distribution package installed: a chmod or chown of
// such a path lasts until the package's next upgrade puts its own mode and owner back, so a fix
// there is a person's to make the lasting way (dpkg-statoverride) or the packager's.
type Packages struct {
	owner map[string]string // host path → package
}

// dpkgInfo is where dpkg lists each package's files, one absolute path a line, in PKG.list or
// PKG:ARCH.list.
const dpkgInfo = "var/lib/dpkg/info"

// packageListLimit caps one package's file list: the largest real ones list some 100,000 paths.
const packageListLimit = 64 << 20

// LoadPackages reads dpkg's database below sysroot, without running dpkg, keeping only the paths
// that lie in one of roots or above one (a root's ancestors). A system without dpkg has no
// packages; a list that cannot be read is skipped, as dpkg itself would not vouch for it.
func LoadPackages(fsys afero.Fs, sysroot string, roots []string) *Packages {
	p := &Packages{owner: map[string]string{}}
	dir := filepath.Join(sysroot, dpkgInfo)
	lists, err := afero.Glob(fsys, filepath.Join(dir, "*.list"))
	if err != nil {
		return p
	}
	for _, list := range lists {
		data, err := safefile.ReadFs(fsys, list, packageListLimit)
		if err != nil {
			continue
		}
		pkg, _, _ := strings.Cut(strings.TrimSuffix(path.Base(list), ".list"), ":")
		p.add(pkg, data, sysroot, roots)
	}
	return p
}

// add records the paths of pkg's list, data, that lie in or above a root.
func (p *Packages) add(pkg string, data []byte, sysroot string, roots []string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "/") || line == "/." {
			continue
		}
		host := filepath.Join(sysroot, filepath.Clean(line))
		for _, r := range roots {
			if Within(host, r) || Within(r, host) {
				p.owner[host] = pkg
				break
			}
		}
	}
}

// Of returns the package that installed path, or "" where none did; a nil Packages knows none.
func (p *Packages) Of(path string) string {
	if p == nil {
		return ""
	}
	return p.owner[path]
}
