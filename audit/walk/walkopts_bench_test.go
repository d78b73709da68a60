package walk

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
)

// BenchmarkWalkXattrs walks one real tree with its extended attributes read and without
// (--no-xattrs), one job each, so the two differ only by the llistxattr of every entry.
func BenchmarkWalkXattrs(b *testing.B) {
	root := filepath.Join(fixture.TempDir(b), "site")
	n := fixture.WideTree(b, afero.NewOsFs(), root, 4, 4, 10)
	for _, noXattrs := range []bool{false, true} {
		b.Run(fmt.Sprintf("entries=%d/no-xattrs=%v", n, noXattrs), func(b *testing.B) {
			w := &Walker{Fs: afero.NewOsFs(), Jobs: 1, NoXattrs: noXattrs}
			for b.Loop() {
				seen := 0
				err := w.Walk(context.Background(), root, Visitor{Entry: func(Entry) { seen++ }, Error: func(p string, err error) { b.Fatalf("%s: %v", p, err) }})
				if err != nil || seen != n {
					b.Fatalf("walked %d of %d entries: %v", seen, n, err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
