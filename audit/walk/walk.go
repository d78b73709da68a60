package walk

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"
)

// Walker visits every entry below a root exactly once, never following a symlink, in a fixed
// order: depth first, each directory's entries sorted by name (as find -s and filepath.WalkDir
// do). Directories are read by up to Jobs goroutines at once, ahead of the visitor, but the
// visitor is called from a single goroutine in that fixed order, so two walks of the same tree
// give the same sequence whatever Jobs is.
//
// Memory grows with the depth of the tree and the width of its largest directories, never with
// the number of entries: at most aheadEntries entries a job are read ahead of the visitor, and a
// directory being read is held whole.
type Walker struct {
	Fs   afero.Fs
	Jobs int // directories read at once; below 1 means 1
	// SysRoot is the audited system's root ("" or "/": the host's): symlinks are followed, to
	// record their Dest, as if it were /.
	SysRoot string
	// OneFileSystem keeps the walk on the root's file system, as find -xdev does: a directory on
	// another device is visited as an entry but not entered (Visitor.Skipped). Pseudo file
	// systems and container layers are never entered, with it or without (see crossing).
	OneFileSystem bool
	// NoXattrs reads no extended attributes: every entry has no ACL, SELinux label or file
	// capabilities, and the checks judge it by its mode bits alone.
	NoXattrs bool
	// Exclude, where set, says whether an entry below the root (rel, as the visit gives it, and
	// its path) is left out: it is not examined further, nor visited, and a directory is not
	// entered, so nothing below it is read. It is asked once the entry is stat'ed, since a glob
	// may name directories alone; an entry that cannot be stat'ed is asked as a directory. It is
	// asked from every goroutine that reads directories, at once.
	Exclude func(rel, path string, isDir bool) bool
}

// Visitor receives a walk's results. Both functions are called from one goroutine, in walk order.
type Visitor struct {
	Entry func(Entry)
	// Error receives an entry or directory that could not be read; the walk goes on without it.
	Error func(path string, err error)
	// Skipped, where set, receives each directory the walk did not enter, just after its Entry.
	Skipped func(Skip)
	// Excluded, where set, receives each entry Walker.Exclude left out, in its place in the
	// walk; the walk read nothing below it.
	Excluded func(path string)
}

// ErrNotDir is returned by Walk for a root that is not a directory.
var ErrNotDir = errors.New("not a directory")

// Walk visits root and everything below it. It returns an error only when root itself cannot be
// walked: it does not exist, cannot be read, or is not a directory. Errors below the root go to
// v.Error and the walk continues. Walk stops early when ctx is cancelled and returns ctx.Err().
func (w *Walker) Walk(ctx context.Context, root string, v Visitor) error {
	fi, err := Lstat(w.Fs, root)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "walk", Path: root, Err: ErrNotDir}
	}
	jobs := max(w.Jobs, 1)
	e := NewEntry(root, ".", fi)
	_, osfs := w.Fs.(*afero.OsFs)
	o := walkOpts{fs: w.Fs, sysroot: w.SysRoot, xattrs: !w.NoXattrs, mounts: osfs, oneFs: w.OneFileSystem, rootDev: e.Dev, exclude: w.Exclude}
	s := &scheduler{opts: &o, limit: aheadEntries * jobs, prefetch: jobs > 1, held: map[*dirJob]struct{}{}, maxHeld: heldBudget()}
	s.cond = sync.NewCond(&s.mu)
	var workers sync.WaitGroup
	for range jobs - 1 {
		workers.Go(s.work)
	}
	defer func() {
		s.close()
		workers.Wait()
		s.closeHeld()
	}()

	if o.xattrs {
		if err := readAttrs(w.Fs, &e, nil); err != nil {
			v.Error(root, err)
		}
	} else {
		e.XattrsUnread = osfs
	}
	v.Entry(e)
	s.walkDir(ctx, newDirJob(root, ".", "", e.Dev), v)
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
	attrErr  error
	skip     *Skip   // a directory the walk does not enter
	sub      *dirJob // a directory the walk enters
	excluded bool    // Walker.Exclude left it out: only entry.Path is set
}

// walkOpts are what every directory of one walk is read with.
type walkOpts struct {
	fs      afero.Fs
	sysroot string
	xattrs  bool // read ACLs, labels and capabilities
	// mounts judges the directories that are mounts (the operating system's file system only):
	// pseudo file systems, container layers, and with oneFs every other device than rootDev.
	mounts  bool
	oneFs   bool
	rootDev uint64
	// linkDirs are the directories the walk's links go through, examined once for all.
	linkDirs sharedDirs
	exclude  func(rel, path string, isDir bool) bool // Walker.Exclude
}

// skip says whether the walk stays out of e, a directory in a directory on device parentDev.
// Only a mount is asked what file system it is (statfs), so a walk that stays on one device
// makes no system call for it.
func (o *walkOpts) skip(e *Entry, parentDev uint64) *Skip {
	if !o.mounts {
		return nil
	}
	sys := SystemPath(e.Path, o.sysroot)
	if e.Dev != parentDev {
		if s, ok := crossing(e, sys, o.rootDev, o.oneFs); ok {
			return &s
		}
	}
	if isContainerStore(sys) {
		k, _ := fsTypeOf(e.Path)
		return &Skip{Path: e.Path, FsType: k.name, Reason: SkipContainer}
	}
	return nil
}

// dirJob is one directory to read. It is claimed exactly once, by a worker or by the visiting
// goroutine, whichever comes first; claims happen under the scheduler's lock.
type dirJob struct {
	path, rel string
	dev       uint64 // the directory's device: an entry on another is a mount
	key       string // orders jobs as the visit will need them: rel with '/' as 0x00
	index     int    // position in the queue, -1 when not queued
	claimed   bool
	done      chan struct{} // closed when a worker has read the directory
	result    listing

	// parent is the directory the job is in, and name its name there: where the parent holds
	// its descriptor, the job is opened by name from it, not by its whole path.
	parent *dirJob
	name   string
	// fd is the directory's descriptor, held after its reading for its subdirectories to be
	// opened from, until each of the pending ones has been; -1 when not held.
	fd      int
	pending atomic.Int32
}

func newDirJob(path, rel, key string, dev uint64) *dirJob {
	return &dirJob{path: path, rel: rel, key: key, dev: dev, index: -1, done: make(chan struct{}), fd: -1}
}

// aheadEntries is how many entries of listings each job may read ahead of the visit: some
// hundreds of KiB of listings. Counting entries rather than listings bounds the memory whatever
// the directories' sizes, and lets the workers run far enough ahead that they seldom wait.
const aheadEntries = 1024

type scheduler struct {
	opts     *walkOpts
	prefetch bool // workers run; with one job the visiting goroutine reads every directory
	mu       sync.Mutex
	cond     *sync.Cond
	queue    jobQueue
	// ahead counts the entries of the listings read ahead of the visit and not yet visited, and
	// one for each directory being read ahead.
	ahead int
	limit int
	idle  int // workers waiting on cond
	shut  bool
	// held are the directories whose descriptors are held for their subdirectories, at most
	// maxHeld; under mu.
	held    map[*dirJob]struct{}
	maxHeld int
}

// maxHeld is how many directory descriptors a walk holds open at once for their subdirectories
// to be opened from, and at most a quarter of the descriptors the process may open. Past it, a
// subdirectory is opened by its whole path, as the walk's root is: a tree as wide and deep as
// anyone can make one takes no more descriptors than that.
var maxHeld = 256

// heldBudget is maxHeld, or a quarter of the process's limit on open descriptors where that is
// less: the rest of the process and the walk's readers keep the others.
func heldBudget() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return int(min(uint64(maxHeld), lim.Cur/4))
}

// work is a prefetching goroutine: it reads the queued directory the visit will need soonest, as
// long as fewer than limit entries wait to be visited. A worker that stopped at the limit sleeps
// until half of them are: waking a thread costs more than reading a small directory, so it is
// not woken for each.
func (s *scheduler) work() {
	for {
		s.mu.Lock()
		for !s.shut && (s.queue.Len() == 0 || s.ahead >= s.limit) {
			s.idle++
			s.cond.Wait()
			s.idle--
		}
		if s.shut {
			s.mu.Unlock()
			return
		}
		j := s.claimNext()
		s.mu.Unlock()
		s.finish(j)
	}
}

// claimNext takes the queued job the visit will need soonest, under s.mu.
func (s *scheduler) claimNext() *dirJob {
	j := heap.Pop(&s.queue).(*dirJob)
	j.claimed = true
	s.ahead++
	return j
}

// read reads j's directory and, when workers run, queues its subdirectories at once: the
// workers find the whole tree ahead of the visit, not only below the directory it is in.
func (s *scheduler) read(j *dirJob) listing {
	l, fd := readDir(s.opts, j)
	if p := j.parent; p != nil && p.fd >= 0 && p.pending.Add(-1) == 0 {
		s.release(p)
	}
	var subs []*dirJob
	for i := range l.items {
		it := &l.items[i]
		if it.err == nil && it.entry.Type == TypeDir && it.skip == nil {
			it.sub = newDirJob(it.entry.Path, it.entry.Rel, childKey(j.key, it.entry.Rel), it.entry.Dev)
			it.sub.parent, it.sub.name = j, filepath.Base(it.entry.Path)
			subs = append(subs, it.sub)
		}
	}
	s.mu.Lock()
	if fd >= 0 && len(subs) > 0 && len(s.held) < s.maxHeld {
		j.fd = fd
		j.pending.Store(int32(len(subs)))
		s.held[j] = struct{}{}
		fd = -1
	}
	var wake bool
	if s.prefetch && len(subs) > 0 {
		for _, sub := range subs {
			heap.Push(&s.queue, sub)
		}
		wake = s.idle > 0 && s.ahead < s.limit
	}
	s.mu.Unlock()
	if fd >= 0 {
		unix.Close(fd)
	}
	if wake {
		s.cond.Broadcast()
	}
	return l
}

// release closes the descriptor p held, all of its subdirectories having been opened.
func (s *scheduler) release(p *dirJob) {
	s.mu.Lock()
	delete(s.held, p)
	s.mu.Unlock()
	unix.Close(p.fd)
}

// finish reads j, claimed ahead of the visit, and counts its entries as waiting.
func (s *scheduler) finish(j *dirJob) {
	j.result = s.read(j)
	s.mu.Lock()
	s.ahead += len(j.result.items)
	s.mu.Unlock()
	close(j.done)
}

// await returns j's listing, reading it here if no worker has claimed it. While a worker reads
// it, the visiting goroutine reads the next queued directory itself rather than wait: every
// goroutine of the walk reads, and the visit sleeps only when nothing is left to read.
func (s *scheduler) await(j *dirJob) listing {
	for {
		s.mu.Lock()
		if !j.claimed {
			j.claimed = true
			if j.index >= 0 {
				heap.Remove(&s.queue, j.index)
			}
			s.mu.Unlock()
			return s.read(j)
		}
		var help *dirJob
		select {
		case <-j.done:
		default:
			if s.queue.Len() > 0 && s.ahead < s.limit {
				help = s.claimNext()
			}
		}
		s.mu.Unlock()
		if help == nil {
			break
		}
		s.finish(help)
	}
	<-j.done
	res := j.result
	j.result = listing{}
	s.mu.Lock()
	s.ahead -= 1 + len(res.items)
	wake := s.idle > 0 && s.ahead <= s.limit/2 && s.queue.Len() > 0
	s.mu.Unlock()
	if wake {
		s.cond.Broadcast()
	}
	return res
}

func (s *scheduler) close() {
	s.mu.Lock()
	s.shut = true
	s.mu.Unlock()
	s.cond.Broadcast()
}

// closeHeld closes the descriptors still held when the walk stopped early, once no goroutine
// reads any more.
func (s *scheduler) closeHeld() {
	for j := range s.held {
		unix.Close(j.fd)
	}
	clear(s.held)
}

// walkDir visits the entries of j in order, descending into each subdirectory as it is met.
func (s *scheduler) walkDir(ctx context.Context, j *dirJob, v Visitor) {
	l := s.await(j)
	if l.err != nil {
		v.Error(j.path, l.err)
	}
	for i := range l.items {
		it := &l.items[i] // not a copy: an item is some 200 bytes
		if ctx.Err() != nil {
			return
		}
		if it.excluded {
			if v.Excluded != nil {
				v.Excluded(it.entry.Path)
			}
			continue
		}
		if it.err != nil {
			v.Error(it.entry.Path, it.err)
			continue
		}
		if it.attrErr != nil {
			v.Error(it.entry.Path, it.attrErr)
		}
		v.Entry(it.entry)
		if it.skip != nil && v.Skipped != nil {
			v.Skipped(*it.skip)
		}
		if it.sub != nil {
			s.walkDir(ctx, it.sub, v)
		}
	}
	freeItems(l.items)
}

// itemPools keep the item slices of listings the visit is done with, for the next listings to
// be read into: a walk allocates and collects few. Pool k holds slices of room for exactly
// minItems<<k items, so a slice is never more than twice the size its listing needs: the pools
// hold no more than the listings in flight would.
var itemPools [15]sync.Pool

// minItems is the room of the smallest pooled item slice.
const minItems = 8

// itemClass is the pool of slices with room for n items, or -1 past the largest.
func itemClass(n int) int {
	k := 0
	for minItems<<k < n {
		if k++; k == len(itemPools) {
			return -1
		}
	}
	return k
}

// newItems returns an empty slice with room for n items.
func newItems(n int) []item {
	k := itemClass(n)
	if k < 0 {
		return make([]item, 0, n)
	}
	if p, ok := itemPools[k].Get().(*[]item); ok {
		return (*p)[:0]
	}
	return make([]item, 0, minItems<<k)
}

// freeItems gives back items, a listing no one holds any more, to be read into again. Only its
// length is cleared: past it, a slice of the pools is zero, fresh or cleared before.
func freeItems(items []item) {
	k := itemClass(cap(items))
	if k < 0 || cap(items) != minItems<<k {
		return
	}
	clear(items)
	items = items[:0]
	itemPools[k].Put(&items)
}

func childKey(parentKey, rel string) string {
	name := filepath.Base(rel)
	if parentKey == "" {
		return name
	}
	return parentKey + "\x00" + name
}

// readDir lists the directory of j and examines each entry. An entry that cannot be examined
// becomes an error item; the rest of the directory is still read. fd is the directory's
// descriptor, which the caller closes, or -1.
func readDir(o *walkOpts, j *dirJob) (l listing, fd int) {
	fsys := o.fs
	prefix := j.path + "/" // a subdirectory's path is clean: its parent's prefix and its name
	if j.parent == nil {
		prefix = childPrefix(j.path)
	}
	d, paths, err := openListing(fsys, j, prefix)
	if d == nil {
		return listing{err: err}, -1
	}
	l.err = err
	slices.Sort(paths) // as their names: all begin with prefix
	l.items = newItems(len(paths))
	var scratch []byte
	if o.xattrs {
		scratch = make([]byte, attrScratch)
	}
	for _, p := range paths {
		name := p[len(prefix):]
		r := childRel(p, j.rel, name)
		e, attrErr, err := d.examine(name, p, r, scratch, o.xattrs, o.exclude)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the directory was read
		}
		if err == errExcluded || (err != nil && o.exclude != nil && o.exclude(r, p, true)) {
			l.items = append(l.items, item{entry: Entry{Path: p, Rel: r}, excluded: true})
			continue
		}
		if err == nil && e.Type == TypeSymlink {
			e.Follow(fsys, o.sysroot, &o.linkDirs, o.xattrs)
		}
		it := item{entry: e, err: err, attrErr: attrErr}
		if err == nil && e.Type == TypeDir {
			it.skip = o.skip(&e, j.dev)
		}
		l.items = append(l.items, it)
	}
	return l, d.fd
}

// readNames lists dir through afero: nil and the error when it cannot be opened, the names read
// and the error when reading stopped early.
func readNames(fsys afero.Fs, dir string) (names []string, opened bool, err error) {
	f, err := fsys.OpenFile(dir, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, false, UnwrapPath(err)
	}
	names, err = f.Readdirnames(-1)
	f.Close()
	return names, true, UnwrapPath(err)
}

// examine builds the Entry of one path without following it, with its ACL and SELinux label
// unless xattrs is false; for a symlink it also reads the link and looks up its target. attrErr
// says the ACL or label could not be read: the entry still holds its mode bits. scratch may be
// nil (see readAttrs). Where exclude, if not nil, excludes the entry once stat'ed, examine goes
// no further and returns errExcluded.
func examine(fsys afero.Fs, path, rel string, scratch []byte, xattrs bool, exclude func(rel, path string, isDir bool) bool) (e Entry, attrErr, err error) {
	fi, err := Lstat(fsys, path)
	if err != nil {
		return Entry{Path: path, Rel: rel}, nil, UnwrapPath(err)
	}
	e = NewEntry(path, rel, fi)
	if exclude != nil && exclude(rel, path, e.Type == TypeDir) {
		return e, nil, errExcluded
	}
	if xattrs {
		attrErr = readAttrs(fsys, &e, scratch)
	} else {
		_, e.XattrsUnread = fsys.(*afero.OsFs)
	}
	if e.Type != TypeSymlink {
		return e, attrErr, nil
	}
	lr, ok := fsys.(afero.LinkReader)
	if !ok {
		return e, attrErr, nil
	}
	if e.LinkTarget, err = lr.ReadlinkIfPossible(path); err != nil {
		return e, attrErr, fmt.Errorf("readlink: %w", UnwrapPath(err))
	}
	_, err = fsys.Stat(path)
	e.Target = targetOf(err)
	return e, attrErr, nil
}

// errExcluded is examine's word that Walker.Exclude left the entry out.
var errExcluded = errors.New("excluded")

// targetOf is what became of a symlink's target, from what a stat that follows it said; an error
// other than a loop or a missing target leaves it unchecked.
func targetOf(statErr error) Target {
	switch {
	case statErr == nil:
		return TargetExists
	case errors.Is(statErr, syscall.ELOOP):
		return TargetLoop
	case errors.Is(statErr, fs.ErrNotExist):
		return TargetMissing
	}
	return TargetUnchecked
}

// examineAll is examine for callers to whom an unreadable ACL is as bad as an unreadable entry.
func examineAll(fsys afero.Fs, path string) (Entry, error) {
	e, attrErr, err := examine(fsys, path, "", nil, true, nil)
	if err == nil {
		err = attrErr
	}
	return e, err
}

// Examine returns the Entry of path, its ACL included, without following it: the stat boundary
// for callers outside the walk.
func Examine(fsys afero.Fs, path string) (Entry, error) { return examineAll(fsys, path) }

// ExamineWith is Examine, reading no extended attributes unless xattrs is set (--no-xattrs).
func ExamineWith(fsys afero.Fs, path string, xattrs bool) (Entry, error) {
	if !xattrs {
		e, _, err := examine(fsys, path, "", nil, false, nil)
		return e, err
	}
	return examineAll(fsys, path)
}

func Lstat(fsys afero.Fs, path string) (fs.FileInfo, error) {
	if l, ok := fsys.(afero.Lstater); ok {
		fi, _, err := l.LstatIfPossible(path)
		return fi, err
	}
	return fsys.Stat(path)
}

// UnwrapPath drops the *fs.PathError wrapper: reports carry the path in a field of its own.
func UnwrapPath(err error) error {
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

// Follow looks up where e, a symlink, leads, as the walk does for every link. Below --root, a
// link is followed there, not on the host, and what became of its target is what that lookup
// found; on the host, only a target the kernel found is followed.
func (e *Entry) Follow(fsys afero.Fs, sysroot string, dirs linkDirs, xattrs bool) {
	inSys := sysroot != "" && filepath.Clean(sysroot) != "/"
	if !inSys && e.Target != TargetExists {
		return
	}
	var target Target
	e.Dest, target = followLink(fsys, e.Path, sysroot, dirs, xattrs)
	if inSys {
		e.Target = target
	}
}
