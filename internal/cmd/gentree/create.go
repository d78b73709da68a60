package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// create makes the planned tree at dir, which must be missing (its parent must exist) or an
// empty directory. Directories of one depth are filled in parallel by jobs workers, each
// creating its directory's entries relative to the directory's descriptor: a million entries
// take about three system calls each and no process. With chown false (not root), every entry
// keeps the caller's ownership.
func create(dir string, nodes []node, jobs int, chown bool) error {
	if err := emptyDir(dir); err != nil {
		return err
	}
	// The planned modes are exact: the umask is the process's, and this program does nothing
	// else meanwhile.
	old := unix.Umask(0)
	defer unix.Umask(old)

	// children[start[i]:start[i+1]] are the indexes of node i's children.
	start := make([]int32, len(nodes)+1)
	for _, n := range nodes[1:] {
		start[n.parent+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	children := make([]int32, len(nodes)-1)
	next := append([]int32(nil), start[:len(nodes)]...)
	for i, n := range nodes[1:] {
		children[next[n.parent]] = int32(i + 1)
		next[n.parent]++
	}

	level := []int32{0}
	for len(level) > 0 {
		var (
			mu       sync.Mutex
			nextLvl  []int32
			firstErr error
			taken    atomic.Int64
			wg       sync.WaitGroup
		)
		for range min(jobs, len(level)) {
			wg.Go(func() {
				var subdirs []int32
				for {
					k := int(taken.Add(1) - 1)
					if k >= len(level) {
						break
					}
					d := level[k]
					err := fillDir(dir, nodes, d, children[start[d]:start[d+1]], chown)
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						taken.Store(int64(len(level)))
						break
					}
					for _, c := range children[start[d]:start[d+1]] {
						if nodes[c].kind == dirKind {
							subdirs = append(subdirs, c)
						}
					}
				}
				mu.Lock()
				nextLvl = append(nextLvl, subdirs...)
				mu.Unlock()
			})
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		level = nextLvl
	}
	root := nodes[0]
	if chown {
		if err := os.Lchown(dir, int(root.uid), int(root.gid)); err != nil {
			return err
		}
	}
	return os.Chmod(dir, os.FileMode(root.mode))
}

// emptyDir makes dir, or checks that it is an empty directory: the generator never mixes its
// tree with files it did not make.
func emptyDir(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if err == nil || !errors.Is(err, os.ErrExist) {
		return err
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if len(names) > 0 {
		return fmt.Errorf("%s is not empty: give a new or empty directory", dir)
	}
	if err != nil && err != io.EOF {
		return fmt.Errorf("%s: %w", dir, err)
	}
	return nil
}

// path is node i's path relative to the tree's root.
func path(nodes []node, i int32) string {
	if i == 0 {
		return "."
	}
	var parts []string
	for ; i > 0; i = nodes[i].parent {
		parts = append(parts, nodes[i].name)
	}
	for l, r := 0, len(parts)-1; l < r; l, r = l+1, r-1 {
		parts[l], parts[r] = parts[r], parts[l]
	}
	return filepath.Join(parts...)
}

// fillDir creates directory d's children, relative to a descriptor of d.
func fillDir(root string, nodes []node, d int32, children []int32, chown bool) error {
	if len(children) == 0 {
		return nil
	}
	dpath := filepath.Join(root, path(nodes, d))
	fd, err := unix.Open(dpath, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", dpath, err)
	}
	defer unix.Close(fd)
	for _, c := range children {
		if err := createEntry(fd, &nodes[c], chown); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dpath, nodes[c].name), err)
		}
	}
	return nil
}

func createEntry(dirfd int, n *node, chown bool) error {
	switch n.kind {
	case dirKind:
		if err := unix.Mkdirat(dirfd, n.name, uint32(n.mode)); err != nil {
			return err
		}
		if chown {
			return unix.Fchownat(dirfd, n.name, int(n.uid), int(n.gid), unix.AT_SYMLINK_NOFOLLOW)
		}
	case linkKind:
		if err := unix.Symlinkat(n.target, dirfd, n.name); err != nil {
			return err
		}
		if chown {
			return unix.Fchownat(dirfd, n.name, int(n.uid), int(n.gid), unix.AT_SYMLINK_NOFOLLOW)
		}
	case fileKind:
		fd, err := unix.Openat(dirfd, n.name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(n.mode))
		if err != nil {
			return err
		}
		if n.data != "" {
			if w, err := unix.Write(fd, []byte(n.data)); err != nil || w != len(n.data) {
				unix.Close(fd)
				if err == nil {
					err = io.ErrShortWrite
				}
				return err
			}
		}
		if chown {
			if err := unix.Fchown(fd, int(n.uid), int(n.gid)); err != nil {
				unix.Close(fd)
				return err
			}
		}
		return unix.Close(fd)
	}
	return nil
}
