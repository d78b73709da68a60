package walk

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
)

// BenchmarkWalk walks the same real trees through afero by full path (generic) and by directory
// descriptor (fast), with one job, and reports the time per entry: a wide tree, and a narrower
// one twelve levels deep whose paths cost more to look up; and the whole audit of each.
func BenchmarkWalk(b *testing.B) {
	for _, size := range []struct {
		name               string
		dirs, depth, files int
	}{{"wide", 4, 5, 10}, {"deep", 2, 11, 4}} {
		root := filepath.Join(fixture.TempDir(b), "site")
		n := fixture.WideTree(b, afero.NewOsFs(), root, size.dirs, size.depth, size.files)
		for _, fast := range []bool{false, true} {
			reader := map[bool]string{false: "generic", true: "fast"}[fast]
			b.Run(fmt.Sprintf("%s/entries=%d/reader=%s", size.name, n, reader), func(b *testing.B) {
				defer func(was bool) { fastDirs = was }(fastDirs)
				fastDirs = fast
				w := &Walker{Fs: afero.NewOsFs(), Jobs: 1}
				b.ReportAllocs()
				for b.Loop() {
					seen := 0
					err := w.Walk(context.Background(), root, Visitor{
						Entry: func(Entry) { seen++ },
						Error: func(p string, err error) { b.Fatalf("%s: %v", p, err) },
					})
					if err != nil || seen != n {
						b.Fatalf("walk: %v, %d entries of %d", err, seen, n)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/entry")
				b.ReportMetric(0, "ns/op")
			})
			b.Run(fmt.Sprintf("%s/entries=%d/reader=%s/audit", size.name, n, reader), func(b *testing.B) {
				defer func(was bool) { fastDirs = was }(fastDirs)
				fastDirs = fast
				b.ReportAllocs()
				for b.Loop() {
					if rep := Audit(b, root, 1); rep.Entries != n {
						b.Fatalf("audited %d entries of %d", rep.Entries, n)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/entry")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
