package audit

import "sync/atomic"

// Progress is how far a running audit has come, for a person watching: the walk updates it once
// a directory (and every progressEvery entries, for a directory of millions), and any other
// goroutine reads it at any time, without a lock.
type Progress struct {
	entries atomic.Int64
	dir     atomic.Pointer[string]
}

// progressEvery is how many entries of one directory pass between updates of a Progress.
const progressEvery = 4096

// Entries is how many entries the audit has examined so far, roots included.
func (p *Progress) Entries() int64 { return p.entries.Load() }

// Dir is the directory the walk last entered, "" before the first.
func (p *Progress) Dir() string {
	if d := p.dir.Load(); d != nil {
		return *d
	}
	return ""
}

func (p *Progress) update(entries int, isDir bool, path string) {
	p.entries.Store(int64(entries))
	if isDir {
		p.dir.Store(&path)
	}
}
