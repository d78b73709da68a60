// Command mkfixture materialises a webperm fixture manifest as a real tree, for `make demo` and
// for trying webperm on a known-broken site:
//
//	go run ./internal/cmd/mkfixture testdata/demo/site.manifest /tmp/demo-site
//
// Run as root, it sets every owner the manifest names; otherwise the tree keeps the caller's
// owner and says so.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: mkfixture MANIFEST DIR")
		os.Exit(2)
	}
	if err := materialise(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "mkfixture: %v\n", err)
		os.Exit(2)
	}
}

func materialise(manifest, dir string) error {
	entries, err := fixture.Load(manifest)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("%s already exists: give a new directory", dir)
	}
	asRoot := os.Geteuid() == 0
	if !asRoot {
		fmt.Fprintln(os.Stderr, "mkfixture: not running as root: every entry keeps your ownership, so ownership faults (unknown-owner) will not show")
	}
	return fixture.Materialise(afero.NewOsFs(), dir, entries, fixture.Options{Chown: asRoot})
}
