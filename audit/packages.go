package audit

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/safefile"
)

// Packages says which of the audited paths a distribution package installed: a chmod or chown of
// such a path lasts until the package's next upgrade puts its own mode and owner back, so a fix
// there is a person's to make the lasting way (dpkg-statoverride, rpm's %attr) or the packager's.
type Packages struct {
	owner map[string]string  // host path → package
	byRPM map[string]bool    // the paths of owner that rpm's database names, not dpkg's
	sums  map[string]fileSum // host path → the digest of the file as its package ships it
	// md5sums names each package's md5sums file, read only when a file of the package is asked
	// about (Shipped): all of them together run to megabytes, and an audit needs few.
	md5sums map[string]string
	read    map[string]bool // the packages whose md5sums are read
	sysroot string
	roots   []string
}

// dpkgInfo is where dpkg lists each package's files, one absolute path a line, in PKG.list or
// PKG:ARCH.list.
const dpkgInfo = "var/lib/dpkg/info"

// packageListLimit caps one package's file list: the largest real ones list some 100,000 paths.
const packageListLimit = 64 << 20

// LoadPackages reads dpkg's database and rpm's (loadRPM) below sysroot, without running dpkg or
// rpm, keeping only the paths that lie in one of roots or above one (a root's ancestors). A
// system without either has no packages; a dpkg list that cannot be read is skipped, as dpkg
// itself would not vouch for it. Where both name a path, dpkg's package is the one named.
//
// The database says which secrets are public and which paths a plan leaves alone, so it is
// believed only where root alone can have written it: every directory from sysroot down to
// var/lib/dpkg/info (or to rpm's database) root's and writable by no one else, and no file in it
// read through a link. An image's tree whose database someone else could edit has no packages.
func LoadPackages(fsys afero.Fs, sysroot string, roots []string) *Packages {
	p := &Packages{owner: map[string]string{}, byRPM: map[string]bool{}, sums: map[string]fileSum{}, md5sums: map[string]string{}, read: map[string]bool{}, sysroot: sysroot, roots: roots}
	p.loadDpkg(fsys, sysroot, roots)
	p.loadRPM(fsys, sysroot, roots)
	return p
}

// loadDpkg reads dpkg's lists below sysroot.
func (p *Packages) loadDpkg(fsys afero.Fs, sysroot string, roots []string) {
	dir := filepath.Join(sysroot, dpkgInfo)
	if !rootsDirs(fsys, sysroot, dir) {
		return
	}
	lists, err := afero.Glob(fsys, filepath.Join(dir, "*.list"))
	if err != nil {
		return
	}
	for _, list := range lists {
		data, ok := readPackageFile(fsys, list)
		if !ok {
			continue
		}
		pkg, _, _ := strings.Cut(strings.TrimSuffix(path.Base(list), ".list"), ":")
		p.add(pkg, data, sysroot, roots)
		p.md5sums[pkg] = strings.TrimSuffix(list, ".list") + ".md5sums"
	}
}

// rootsDirs reports whether every directory from top down to dir is root's and writable by no
// one else, as a trustworthy dpkg or rpm database's are.
func rootsDirs(fsys afero.Fs, top, dir string) bool {
	for d := dir; ; d = filepath.Dir(d) {
		e, err := walk.Examine(fsys, d)
		if err != nil || e.Type != walk.TypeDir || !rootOnly(&e) {
			return false
		}
		if d == filepath.Clean(top) || d == filepath.Dir(d) {
			return true
		}
	}
}

// readPackageFile reads one of dpkg's files whole, never through a link, or says it could not.
func readPackageFile(fsys afero.Fs, name string) ([]byte, bool) {
	data, err := safefile.ReadHeadFs(fsys, name, packageListLimit)
	return data, err == nil && len(data) < packageListLimit
}

// addSums records the checksums of a package's md5sums file, data ("MD5  path", the path
// relative to /), for the files that lie in a root.
func (p *Packages) addSums(data []byte, sysroot string, roots []string) {
	eachLine(data, func(line string) {
		sum, rel, ok := strings.Cut(line, "  ")
		var md [16]byte
		// hex.Decode writes past a too short md rather than fail: the length is checked first.
		if !ok || len(sum) != hex.EncodedLen(len(md)) || rel == "" {
			return
		}
		if _, err := hex.Decode(md[:], []byte(sum)); err != nil {
			return
		}
		host := hostPath(sysroot, "/"+rel)
		for _, r := range roots {
			if walk.Within(host, r) {
				p.sums[host] = fileSum{sum: string(md[:])}
				break
			}
		}
	})
}

// eachLine calls fn with each line of data, split as bufio.ScanLines splits them, all cut from
// one copy of data: a host's package lists hold hundreds of thousands of lines, and a string for
// each was a third of the time it took to read them.
func eachLine(data []byte, fn func(line string)) {
	for s := string(data); len(s) > 0; {
		line, rest, _ := strings.Cut(s, "\n")
		fn(strings.TrimSuffix(line, "\r"))
		s = rest
	}
}

// shippedLimit is the largest file whose content is compared with its package's: secrets by
// name are small, and a larger file is simply not vouched for.
const shippedLimit = 16 << 20

// Shipped reports whether the regular file at path is exactly as its package ships it, by the
// package's digest of it (dpkg's MD5; rpm's MD5 or SHA-256): then it is in the distribution's
// archive for anyone to read, and holds no secret of the site's, whatever its name. A file that
// cannot be read whole says no. It is not safe for concurrent use: the walk asks from one
// goroutine.
func (p *Packages) Shipped(fsys afero.Fs, path string) bool {
	if p == nil {
		return false
	}
	if pkg := p.owner[path]; pkg != "" && p.md5sums[pkg] != "" && !p.read[pkg] {
		p.read[pkg] = true
		if sums, ok := readPackageFile(fsys, p.md5sums[pkg]); ok {
			p.addSums(sums, p.sysroot, p.roots)
		}
	}
	want, ok := p.sums[path]
	if !ok {
		return false
	}
	data, err := safefile.ReadHeadFs(fsys, path, shippedLimit)
	return err == nil && len(data) < shippedLimit && want.matches(data)
}

// fileSum is the digest of a file as its package ships it.
type fileSum struct {
	sha256 bool   // SHA-256 (rpm's since 4.6 on most systems); else MD5
	sum    string // the digest's bytes
}

// matches reports whether data has the digest s.
func (s fileSum) matches(data []byte) bool {
	if s.sha256 {
		sum := sha256.Sum256(data)
		return string(sum[:]) == s.sum
	}
	sum := md5.Sum(data)
	return string(sum[:]) == s.sum
}

// add records the paths of pkg's list, data, that lie in or above a root.
func (p *Packages) add(pkg string, data []byte, sysroot string, roots []string) {
	eachLine(data, func(line string) {
		if !strings.HasPrefix(line, "/") || line == "/." {
			return
		}
		host := hostPath(sysroot, line)
		for _, r := range roots {
			if walk.Within(host, r) || walk.Within(r, host) {
				p.owner[host] = pkg
				break
			}
		}
	})
}

// hostPath is the host's path of sys, a path on the system at sysroot as dpkg writes it. dpkg's
// paths are clean, and a database lists hundreds of thousands: only one that is not is cleaned.
func hostPath(sysroot, sys string) string {
	if !isClean(sys) {
		sys = filepath.Clean(sys)
	}
	if sysroot == "" || sysroot == "/" {
		return sys
	}
	if sys == "/" {
		return filepath.Clean(sysroot)
	}
	return filepath.Clean(sysroot) + sys
}

// isClean reports whether p, absolute, is as filepath.Clean leaves it, without cleaning it.
func isClean(p string) bool {
	if p == "/" {
		return true
	}
	if strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		return false
	}
	// No . or .. part, in the middle or at the end, and nothing allocated to find out: a host's
	// package lists hold hundreds of thousands of paths.
	return !strings.Contains(p, "/./") && !strings.Contains(p, "/../") && !strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..")
}

// Of returns the package that installed path, or "" where none did; a nil Packages knows none.
func (p *Packages) Of(path string) string {
	if p == nil {
		return ""
	}
	return p.owner[path]
}

// Package managers, as Finding.PackageManager names them.
const (
	ManagerDpkg = "dpkg"
	ManagerRPM  = "rpm"
)

// ManagerOf returns the package manager whose database says a package installed path
// (ManagerDpkg or ManagerRPM), or "" where none does: what makes a change there last differs.
func (p *Packages) ManagerOf(path string) string {
	switch {
	case p.Of(path) == "":
		return ""
	case p.byRPM[path]:
		return ManagerRPM
	}
	return ManagerDpkg
}
