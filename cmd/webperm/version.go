package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version and commit are set by the Makefile: go build -ldflags "-X main.version=$(git describe
// --tags --always --dirty) -X main.commit=$(git rev-parse HEAD)". A plain go build or go install
// leaves them empty, and the module's build info stands in.
var (
	version = ""
	commit  = ""
)

// release is what webperm knows of the source it was built from.
type release struct {
	version  string // a tag, a git describe or a module version; "(devel)" when nothing says
	commit   string // the full commit hash, or "" when unknown
	modified bool   // built from a work tree with changes not committed
}

// buildRelease settles the release from the values the linker set, falling back to the build
// info the go command records (the module's version, vcs.revision and vcs.modified); bi is nil
// where there is none.
func buildRelease(ldVersion, ldCommit string, bi *debug.BuildInfo) release {
	r := release{version: ldVersion, commit: ldCommit}
	if bi != nil {
		if r.version == "" {
			r.version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && r.commit == "":
				r.commit = s.Value
			case s.Key == "vcs.modified" && ldCommit == "":
				r.modified = s.Value == "true"
			}
		}
	}
	if r.version == "" {
		r.version = "(devel)"
	}
	return r
}

// String is the line webperm version prints, e.g. "webperm v1.2.0, commit 1c89941…": a
// version, and a commit or why there is none.
func (r release) String() string {
	s := "webperm " + r.version
	switch {
	case r.commit == "":
		return s + ", commit unknown (built without the Makefile's version stamp or version control information)"
	case r.modified:
		return s + ", commit " + r.commit + " with uncommitted changes"
	}
	return s + ", commit " + r.commit
}

func currentRelease() release {
	bi, _ := debug.ReadBuildInfo() // nil without build info
	return buildRelease(version, commit, bi)
}

// webpermVersion is the version plans and reports are stamped with.
func webpermVersion() string { return currentRelease().version }

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print webperm's version and the commit it was built from",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(c.OutOrStdout(), currentRelease())
			return err
		},
	}
}
