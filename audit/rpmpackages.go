package audit

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/rpmdb"
	"github.com/webperm/webperm/internal/safefile"
)

// rpmDBs are where rpm (>= 4.16, its sqlite backend) keeps its database below a system's root,
// in the order looked at: Fedora since 36 keeps it in usr/lib/sysimage/rpm, var/lib/rpm a link
// there; RHEL 9 and Rocky 9 in var/lib/rpm. A system with only BerkeleyDB's Packages (RHEL 8,
// CentOS 7) or ndb's Packages.db (openSUSE) has no file here, and so no rpm packages to webperm:
// the internal/rpmdb reader reads no other format.
var rpmDBs = []string{"usr/lib/sysimage/rpm/rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite"}

// rpmDBLimit caps the database: a real one runs to a few hundred MB at most. It is read page by
// page, as its Packages table needs, never whole into memory.
const rpmDBLimit = 2 << 30

// loadRPM reads rpm's database below sysroot, keeping the paths in or above roots and the
// digests of those in roots, as loadDpkg does. It is believed only as dpkg's is: the file root's
// and writable by no one else, in directories that are too all the way from sysroot, looked at
// where it really is: a link on the way (var/lib/rpm on Fedora) is followed, inside sysroot only.
// A database that does not read whole, damaged or changing as it is read, is not believed in
// part: the system has no rpm packages.
//
// rpm keeps the database in SQLite's WAL mode: what a run of rpm still under way (or one that
// crashed) wrote is in rpmdb.sqlite-wal, which is not read; SQLite folds it into the main file
// when the last connection closes. An audit during an rpm run may so miss that run's changes.
func (p *Packages) loadRPM(fsys afero.Fs, sysroot string, roots []string) {
	path, ok := findRPMDB(fsys, sysroot)
	if !ok {
		return
	}
	f, err := safefile.OpenFs(fsys, path, rpmDBLimit, false)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return
	}
	owner, sums := map[string]string{}, map[string]fileSum{}
	// A file in or above a root lies in a directory in or above one: rpm's directories, some
	// thousands, are looked at once each, and its files, some 100,000s, only in those.
	inOrAbove := func(dir string) bool {
		host := hostPath(sysroot, dir)
		for _, r := range roots {
			if walk.Within(host, r) || walk.Within(r, host) {
				return true
			}
		}
		return false
	}
	err = rpmdb.Read(f, fi.Size(), func(dir string) bool { return strings.HasPrefix(dir, "/") && inOrAbove(dir) }, func(pkg rpmdb.Package) {
		for _, file := range pkg.Files {
			if !strings.HasPrefix(file.Path, "/") || file.Path == "/" {
				continue
			}
			host := hostPath(sysroot, file.Path)
			if _, ok := owner[host]; ok {
				continue // a directory many packages own, a file multilib packages share
			}
			for _, r := range roots {
				if in := walk.Within(host, r); in || walk.Within(r, host) {
					owner[host] = pkg.Name
					if sum, ok := rpmSum(pkg.DigestAlgo, file.Digest); ok && in {
						sums[host] = sum
					}
					break
				}
			}
		}
	})
	if err != nil {
		return
	}
	for host, pkg := range owner {
		if _, ok := p.owner[host]; !ok {
			p.owner[host], p.byRPM[host] = pkg, true
			if sum, ok := sums[host]; ok {
				p.sums[host] = sum
			}
		}
	}
}

// findRPMDB returns the real path of rpm's database below sysroot if it is there and only root
// can have written it, or put a link on the way to it.
func findRPMDB(fsys afero.Fs, sysroot string) (string, bool) {
	root := "/"
	if sysroot != "" {
		root = filepath.Clean(sysroot)
	}
	for _, rel := range rpmDBs {
		path, found := lookupWithin(fsys, root, rel)
		switch found {
		case walk.TargetMissing:
			continue
		case walk.TargetExists:
		default:
			// The first database there is rpm's: one that cannot be looked up makes no other
			// believed instead, nor does one that cannot be trusted, below.
			return "", false
		}
		e, err := walk.Examine(fsys, path)
		if err != nil || e.Type != walk.TypeFile || !rootOnly(&e) || !rootsDirs(fsys, root, filepath.Dir(path)) {
			return "", false
		}
		return path, true
	}
	return "", false
}

// lookupWithin returns the real path of rel, a path below root, every link on the way followed
// inside root (resolveWithin), each only where root alone could have made it: in a directory
// root's and writable by no one else, as are all above it. On a backend without links, it is
// root joined with rel.
func lookupWithin(fsys afero.Fs, root, rel string) (string, walk.Target) {
	if lr, ok := fsys.(afero.LinkReader); ok {
		return walk.ResolveWithin(fsys, lr, root, root, strings.Split(rel, "/"), func(dir string) bool { return rootsDirs(fsys, root, dir) })
	}
	path := filepath.Join(root, rel)
	if _, err := walk.Lstat(fsys, path); errors.Is(err, fs.ErrNotExist) {
		return "", walk.TargetMissing
	} else if err != nil {
		return "", walk.TargetUnchecked
	}
	return path, walk.TargetExists
}

// rpmSum decodes rpm's hex digest of a file made with algo; MD5 and SHA-256 only, the digests
// rpm makes by default (before 4.6, and since): a file of another has none, and is not Shipped.
func rpmSum(algo uint32, digest string) (fileSum, bool) {
	var s fileSum
	size := 16
	switch algo {
	case rpmdb.DigestMD5:
	case rpmdb.DigestSHA256:
		s.sha256, size = true, 32
	default:
		return s, false
	}
	if len(digest) != hex.EncodedLen(size) {
		return s, false
	}
	sum, err := hex.DecodeString(digest)
	if err != nil {
		return s, false
	}
	s.sum = string(sum)
	return s, true
}
