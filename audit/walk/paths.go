package walk

import (
	"path/filepath"
	"strings"
)

// Within reports whether p is root or lies below it; both are clean absolute paths.
func Within(p, root string) bool {
	if root == "/" || p == root {
		return true
	}
	root = strings.TrimSuffix(root, "/")
	return len(p) > len(root) && p[len(root)] == '/' && strings.HasPrefix(p, root) // p below root/, with nothing allocated
}

// PathTo lists every directory from / down to dir, both included.
func PathTo(dir string) []string {
	dirs := []string{"/"}
	p := "/"
	for _, part := range strings.Split(strings.Trim(dir, "/"), "/") {
		if part == "" {
			continue
		}
		p = filepath.Join(p, part)
		dirs = append(dirs, p)
	}
	return dirs
}

// SystemPath is p as the audited system sees it: below sysroot, from its /.
func SystemPath(p, sysroot string) string {
	if sysroot == "" || sysroot == "/" {
		return p
	}
	if !Within(p, sysroot) {
		return p
	}
	return filepath.Join("/", strings.TrimPrefix(p, strings.TrimSuffix(sysroot, "/")))
}
