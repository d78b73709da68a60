package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// BenchmarkAudit walks and checks real trees of growing size, with one job and with one per CPU.
// The memory sub-benchmark reports peak-live-B, the largest live heap seen during a walk: it must
// stay flat as the tree grows, since memory grows with depth and findings, never with the number
// of entries.
func BenchmarkAudit(b *testing.B) {
	for _, size := range []struct{ dirs, depth, files int }{{4, 3, 10}, {4, 4, 10}, {4, 5, 10}} {
		root := filepath.Join(fixture.TempDir(b), "site")
		n := fixture.WideTree(b, afero.NewOsFs(), root, size.dirs, size.depth, size.files)
		for _, jobs := range []int{1, runtime.NumCPU()} {
			a := &Auditor{Fs: afero.NewOsFs(), Policy: policy.Default(), Accounts: testAccounts(), WebUser: webUser(), Jobs: jobs}
			b.Run(fmt.Sprintf("entries=%d/jobs=%d", n, jobs), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if rep, err := a.Run(context.Background(), []string{root}); err != nil || rep.Entries != n {
						b.Fatalf("audit: %v", err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
			})
		}
		b.Run(fmt.Sprintf("entries=%d/memory", n), func(b *testing.B) {
			a := &Auditor{Fs: afero.NewOsFs(), Policy: policy.Default(), Accounts: testAccounts(), WebUser: webUser(), Jobs: runtime.NumCPU()}
			var peak uint64
			for b.Loop() {
				peak = max(peak, auditPeakHeap(b, a, root, n))
			}
			b.ReportMetric(float64(peak), "peak-live-B")
		})
	}
}

// auditPeakHeap audits root and returns the largest live heap seen while it did.
func auditPeakHeap(b *testing.B, a *Auditor, root string, want int) uint64 {
	h := &heapSampler{Fs: a.Fs}
	sampled := *a
	sampled.Fs = h
	rep, err := sampled.Run(context.Background(), []string{root})
	if err != nil || rep.Entries != want {
		b.Fatalf("audited %d of %d entries: %v", rep.Entries, want, err)
	}
	return h.peak
}

// heapSampler measures the live heap each time the walk opens a directory: often enough to see
// any growth with the number of entries. It passes every call on unchanged.
type heapSampler struct {
	afero.Fs
	mu   sync.Mutex
	peak uint64
}

func (h *heapSampler) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	var ms runtime.MemStats
	h.mu.Lock()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	h.peak = max(h.peak, ms.HeapAlloc)
	h.mu.Unlock()
	return h.Fs.OpenFile(name, flag, perm)
}

func (h *heapSampler) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	return h.Fs.(afero.Lstater).LstatIfPossible(name)
}
