// Command gentree makes a large web-root-like tree for timing webperm (`make bench`): a shared
// host's WordPress sites, each a document root with core, plugins (some with deep vendor trees),
// themes, years of uploads, logs, a few sensitive files, permission
// faults and symlinks. The same seed and size give the same tree:
//
//	go run ./internal/cmd/gentree -n 1M -variant www-data -seed 1 /tmp/tree
//
// -n counts the entries below DIR (find DIR prints one more line). DIR must be new or empty.
// Variants: deploy (owned by uid 1000, few findings), www-data (the same tree after
// chown -R www-data:www-data, uid 33) and open (every entry world-writable).
// Run as root, it sets every owner; otherwise the tree keeps the caller's owner and says so.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gentree", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "seed of the tree: the same seed and size give the same tree")
	size := fs.String("n", "100k", "entries below DIR: a number, or with k or M (100k, 1M)")
	kind := fs.String("variant", string(deploy), "deploy, www-data or open")
	jobs := fs.Int("jobs", 4*runtime.NumCPU(), "directories filled at once")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gentree [-seed N] [-n SIZE] [-variant deploy|www-data|open] DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	n, err := parseSize(*size)
	if err != nil {
		fmt.Fprintf(stderr, "gentree: %v\n", err)
		return 2
	}
	v, err := parseVariant(*kind)
	if err != nil {
		fmt.Fprintf(stderr, "gentree: %v\n", err)
		return 2
	}
	if *jobs < 1 {
		fmt.Fprintln(stderr, "gentree: -jobs must be 1 or more")
		return 2
	}
	asRoot := os.Geteuid() == 0
	if !asRoot {
		fmt.Fprintln(stderr, "gentree: not running as root: every entry keeps your ownership")
	}
	began := time.Now()
	nodes := plan(*seed, n, v)
	dir := fs.Arg(0)
	if err := create(dir, nodes, *jobs, asRoot); err != nil {
		fmt.Fprintf(stderr, "gentree: %v\n", err)
		return 1
	}
	var dirs, files, links int
	for _, n := range nodes[1:] {
		switch n.kind {
		case dirKind:
			dirs++
		case fileKind:
			files++
		case linkKind:
			links++
		}
	}
	fmt.Fprintf(stderr, "gentree: %s: %d entries (%d directories, %d files, %d symlinks), variant %s, seed %d, in %.1fs\n",
		dir, n, dirs, files, links, v, *seed, time.Since(began).Seconds())
	return 0
}

// parseSize reads 300000, 300k or 1M.
func parseSize(s string) (int, error) {
	mult := 1
	num := s
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, num = 1000, s[:len(s)-1]
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, num = 1000000, s[:len(s)-1]
	}
	v, err := strconv.Atoi(num)
	if err != nil || v < 0 || v > 100000000/mult {
		return 0, fmt.Errorf("bad size %q: give a count up to 100M, like 100000, 300k or 1M", s)
	}
	return v * mult, nil
}
