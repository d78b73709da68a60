package audit

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"

	"github.com/spf13/afero"
)

// Walker visits every entry below a root exactly once, never following a symlink, in a fixed
// order: depth first, each directory's entries sorted by name (as find -s and filepath.WalkDir
// do). Directories are read by up to Jobs goroutines at once, ahead of the visitor, but the
// visitor is called from a single goroutine in that fixed order, so two walks of the same tree
// give the same sequence whatever Jobs is.
//
// Memory grows with the depth of the tree and the width of its largest directories, never with
// the number of entries: a bounded number of directory listings is read ahead of the visitor.
type Walker struct {
	Fs   afero.Fs
	Jobs int // directories read at once; below 1 means 1
	// SysRoot is the audited system's root ("" or "/": the host's): symlinks are followed, to
	// record their Dest, as if it were /.
	SysRoot string
}

// Visitor receives a walk's results. Both functions are called from one goroutine, in walk order.
type Visitor struct {
	Entry func(Entry)
	// Error receives an entry or directory that could not be read; the walk goes on without it.
	Error func(path string, err error)
}

// ErrNotDir is returned by Walk for a root that is not a directory.
var ErrNotDir = errors.New("not a directory")

// Walk visits root and everything below it. It returns an error only when root itself cannot be
// walked: it does not exist, cannot be read, or is not a directory. Errors below the root go to
// v.Error and the walk continues. Walk stops early when ctx is cancelled and returns ctx.Err().
func (w *Walker) Walk(ctx context.Context, root string, v Visitor) error {
	fi, err := lstat(w.Fs, root)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "walk", Path: root, Err: ErrNotDir}
	}
	jobs := max(w.Jobs, 1)
	s := &scheduler{fs: w.Fs, sysroot: w.SysRoot, limit: 8 * jobs, prefetch: jobs > 1}
	s.cond = sync.NewCond(&s.mu)
	var workers sync.WaitGroup
	for range jobs - 1 {
		workers.Go(s.work)
	}
	defer func() {
		s.close()
		workers.Wait()
	}()

	e := NewEntry(root, ".", fi)
	if err := readAttrs(w.Fs, &e, nil); err != nil {
		v.Error(root, err)
	}
	v.Entry(e)
	s.walkDir(ctx, newDirJob(root, ".", ""), v)
	return ctx.Err()
}

// listing is what reading one directory produced: its entries sorted by name, and the errors met
// on the way, each at its place in that order.
type listing struct {
	items []item
	err   error // the directory itself could not be opened or read (items may be partial)
}

type item struct {
	entry Entry
	err   error // this entry could not be examined; entry.Path is still set
	// attrErr is set when the entry's ACL or label could not be read: it is still visited, with
	// its mode bits, and the error is reported beside it.
	attrErr error
}

// dirJob is one directory to read. It is claimed exactly once, by a worker or by the visiting
// goroutine, whichever comes first; claims happen under the scheduler's lock.
type dirJob struct {
	path, rel string
	key       string // orders jobs as the visit will need them: rel with '/' as 0x00
	index     int    // position in the queue, -1 when not queued
	claimed   bool
	done      chan struct{} // closed when a worker has read the directory
	result    listing
}

func newDirJob(path, rel, key string) *dirJob {
	return &dirJob{path: path, rel: rel, key: key, index: -1, done: make(chan struct{})}
}

type scheduler struct {
	fs       afero.Fs
	sysroot  string
	prefetch bool // workers run; with one job the visiting goroutine reads every directory
	mu       sync.Mutex
	cond     *sync.Cond
	queue    jobQueue
	ahead    int // listings read by workers and not yet consumed
	limit    int
	shut     bool
}

// work is a prefetching goroutine: it reads the queued directory the visit will need soonest, as
// long as fewer than limit listings wait to be consumed.
func (s *scheduler) work() {
	for {
		s.mu.Lock()
		for !s.shut && (s.queue.Len() == 0 || s.ahead >= s.limit) {
			s.cond.Wait()
		}
		if s.shut {
			s.mu.Unlock()
			return
		}
		j := heap.Pop(&s.queue).(*dirJob)
		j.claimed = true
		s.ahead++
		s.mu.Unlock()
		j.result = readDir(s.fs, j.path, j.rel, s.sysroot)
		close(j.done)
	}
}

func (s *scheduler) enqueue(jobs []*dirJob) {
	if !s.prefetch || len(jobs) == 0 {
		return
	}
	s.mu.Lock()
	for _, j := range jobs {
		heap.Push(&s.queue, j)
	}
	s.mu.Unlock()
	s.cond.Broadcast()
}

// await returns j's listing, reading it here if no worker has claimed it.
func (s *scheduler) await(j *dirJob) listing {
	s.mu.Lock()
	mine := !j.claimed
	if mine {
		j.claimed = true
		if j.index >= 0 {
			heap.Remove(&s.queue, j.index)
		}
	}
	s.mu.Unlock()
	if mine {
		return readDir(s.fs, j.path, j.rel, s.sysroot)
	}
	<-j.done
	res := j.result
	j.result = listing{}
	s.mu.Lock()
	s.ahead--
	s.mu.Unlock()
	s.cond.Signal()
	return res
}

func (s *scheduler) close() {
	s.mu.Lock()
	s.shut = true
	s.mu.Unlock()
	s.cond.Broadcast()
}

// walkDir visits the entries of j in order, descending into each subdirectory as it is met. Its
// subdirectories are queued for the workers before the first entry is visited.
func (s *scheduler) walkDir(ctx context.Context, j *dirJob, v Visitor) {
	l := s.await(j)
	if l.err != nil {
		v.Error(j.path, l.err)
	}
	subs := make([]*dirJob, len(l.items))
	var queued []*dirJob
	for i, it := range l.items {
		if it.err == nil && it.entry.Type == TypeDir {
			subs[i] = newDirJob(it.entry.Path, it.entry.Rel, childKey(j.key, it.entry.Rel))
			queued = append(queued, subs[i])
		}
	}
	s.enqueue(queued)
	for i, it := range l.items {
		if ctx.Err() != nil {
			return
		}
		if it.err != nil {
			v.Error(it.entry.Path, it.err)
			continue
		}
		if it.attrErr != nil {
			v.Error(it.entry.Path, it.attrErr)
		}
		v.Entry(it.entry)
		if subs[i] != nil {
			s.walkDir(ctx, subs[i], v)
		}
	}
}

func childKey(parentKey, rel string) string {
	name := filepath.Base(rel)
	if parentKey == "" {
		return name
	}
	return parentKey + "\x00" + name
}

// readDir lists one directory and examines each entry. An entry that cannot be examined becomes
// an error item; the rest of the directory is still read.
func readDir(fsys afero.Fs, dir, rel, sysroot string) listing {
	d, names, err := openListing(fsys, dir, rel)
	if d == nil {
		return listing{err: err}
	}
	defer d.close()
	l := listing{err: err}
	sort.Strings(names)
	l.items = make([]item, 0, len(names))
	scratch := make([]byte, attrScratch)
	var dirs dirCache
	for _, name := range names {
		p := filepath.Join(dir, name)
		r := childRel(p, rel, name)
		e, attrErr, err := d.examine(name, p, r, scratch)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the directory was read
		}
		if err == nil && e.Type == TypeSymlink {
			if dirs == nil {
				dirs = dirCache{}
			}
			e.follow(fsys, sysroot, dirs)
		}
		l.items = append(l.items, item{entry: e, err: err, attrErr: attrErr})
	}
	return l
}

// readNames lists dir through afero: nil and the error when it cannot be opened, the names read
// and the error when reading stopped early.
func readNames(fsys afero.Fs, dir string) (names []string, opened bool, err error) {
	f, err := fsys.OpenFile(dir, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, false, unwrapPath(err)
	}
	names, err = f.Readdirnames(-1)
	f.Close()
	return names, true, unwrapPath(err)
}

// examine builds the Entry of one path without following it, with its ACL and SELinux label; for
// a symlink it also reads the link and looks up its target. attrErr says the ACL or label could
// not be read: the entry still holds its mode bits. scratch may be nil (see readAttrs).
func examine(fsys afero.Fs, path, rel string, scratch []byte) (e Entry, attrErr, err error) {
	fi, err := lstat(fsys, path)
	if err != nil {
		return Entry{Path: path, Rel: rel}, nil, unwrapPath(err)
	}
	e = NewEntry(path, rel, fi)
	attrErr = readAttrs(fsys, &e, scratch)
	if e.Type != TypeSymlink {
		return e, attrErr, nil
	}
	lr, ok := fsys.(afero.LinkReader)
	if !ok {
		return e, attrErr, nil
	}
	if e.LinkTarget, err = lr.ReadlinkIfPossible(path); err != nil {
		return e, attrErr, fmt.Errorf("readlink: %w", unwrapPath(err))
	}
	_, err = fsys.Stat(path)
	switch {
	case err == nil:
		e.Target = TargetExists
	case errors.Is(err, syscall.ELOOP):
		e.Target = TargetLoop
	case errors.Is(err, fs.ErrNotExist):
		e.Target = TargetMissing
	}
	return e, attrErr, nil
}

// examineAll is examine for callers to whom an unreadable ACL is as bad as an unreadable entry.
func examineAll(fsys afero.Fs, path string) (Entry, error) {
	e, attrErr, err := examine(fsys, path, "", nil)
	if err == nil {
		err = attrErr
	}
	return e, err
}

// Examine returns the Entry of path, its ACL included, without following it: the stat boundary
// for callers outside the walk.
func Examine(fsys afero.Fs, path string) (Entry, error) { return examineAll(fsys, path) }

func lstat(fsys afero.Fs, path string) (fs.FileInfo, error) {
	if l, ok := fsys.(afero.Lstater); ok {
		fi, _, err := l.LstatIfPossible(path)
		return fi, err
	}
	return fsys.Stat(path)
}

// unwrapPath drops the *fs.PathError wrapper: reports carry the path in a field of its own.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// jobQueue is a min-heap of directory jobs by key: the job the visit will reach first on top.
type jobQueue []*dirJob

func (q jobQueue) Len() int           { return len(q) }
func (q jobQueue) Less(i, k int) bool { return q[i].key < q[k].key }
func (q jobQueue) Swap(i, k int) {
	q[i], q[k] = q[k], q[i]
	q[i].index, q[k].index = i, k
}

func (q *jobQueue) Push(x any) {
	j := x.(*dirJob)
	j.index = len(*q)
	*q = append(*q, j)
}

func (q *jobQueue) Pop() any {
	old := *q
	j := old[len(old)-1]
	old[len(old)-1] = nil
	j.index = -1
	*q = old[:len(old)-1]
	return j
}

// follow looks up where e, a symlink, leads, as the walk does for every link. Below --root, a
// link is followed there, not on the host, and what became of its target is what that lookup
// found; on the host, only a target the kernel found is followed.
func (e *Entry) follow(fsys afero.Fs, sysroot string, dirs dirCache) {
	inSys := sysroot != "" && filepath.Clean(sysroot) != "/"
	if !inSys && e.Target != TargetExists {
		return
	}
	var target Target
	e.Dest, target = followLink(fsys, e.Path, sysroot, dirs)
	if inSys {
		e.Target = target
	}
}
