package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/policy"
)

// BenchmarkAudit walks and checks real trees of growing size, with one job and with one per CPU.
// The memory sub-benchmark reports peak-live-B, the largest live heap seen during a walk: it must
// stay flat as the tree grows, since memory grows with depth and findings, never with the number
// of entries.
func BenchmarkAudit(b *testing.B) {
	for _, size := range []struct{ dirs, depth, files int }{{4, 3, 10}, {4, 4, 10}, {4, 5, 10}} {
		root := filepath.Join(b.TempDir(), "site")
		n := wideTree(b, afero.NewOsFs(), root, size.dirs, size.depth, size.files)
		for _, jobs := range []int{1, runtime.NumCPU()} {
			a := &Auditor{Fs: afero.NewOsFs(), Policy: policy.Default(), Accounts: testAccounts(), Jobs: jobs}
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
			a := &Auditor{Fs: afero.NewOsFs(), Policy: policy.Default(), Accounts: testAccounts(), Jobs: runtime.NumCPU()}
			var peak uint64
			for b.Loop() {
				peak = max(peak, auditPeakHeap(b, a, root, n))
			}
			b.ReportMetric(float64(peak), "peak-live-B")
		})
	}
}

// auditPeakHeap audits root and samples the live heap every 512 entries.
func auditPeakHeap(b *testing.B, a *Auditor, root string, want int) uint64 {
	var ms runtime.MemStats
	var peak uint64
	seen := 0
	w := &Walker{Fs: a.Fs, Jobs: a.Jobs}
	err := w.Walk(context.Background(), root, Visitor{
		Entry: func(e Entry) {
			if seen++; seen%512 == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			s := a.Policy.For(e.Rel, e.Type == TypeDir)
			Check(&e, &s, &Env{Root: root, Accounts: a.Accounts}, nil)
		},
		Error: func(p string, err error) { b.Fatalf("%s: %v", p, err) },
	})
	if err != nil || seen != want {
		b.Fatalf("walked %d of %d entries: %v", seen, want, err)
	}
	return peak
}
