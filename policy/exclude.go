package policy

import (
	"fmt"
	"strings"
)

// Exclusion is a glob of paths an audit leaves out (--exclude, a policy file's exclude:), and
// where it was given: "--exclude" or the policy file's "site.yaml:4".
type Exclusion struct {
	Glob   string
	Origin string
}

// CheckExclude says why glob cannot exclude anything, or nil. An exclusion is a glob in the
// rules' language relative to each root: a name (cache, *.log) at any depth, a path with a
// slash from the root (wp-content/cache, ./tmp), a directory alone where it ends in a slash.
// An absolute glob is refused: it would name one root's paths and no other's.
func CheckExclude(glob string) error {
	switch {
	case strings.HasPrefix(glob, "/"):
		return fmt.Errorf("exclude glob %q is absolute: exclusions are relative to each root", glob)
	case glob == "." || glob == "./" || !validGlob(glob):
		return fmt.Errorf("exclude glob %q: not a glob webperm can match: a name (cache, *.log), a path from the root (wp-content/cache, ./tmp), a directory alone with a trailing slash (cache/)", glob)
	}
	return nil
}

// Excluder answers, for every entry of a walk, whether an exclusion covers it: its globs are
// compiled once, as a policy's rules are, and match as they do.
type Excluder struct {
	globs []glob
}

// NewExcluder compiles exclusions, each already checked (CheckExclude); nil where there are none.
func NewExcluder(exclusions []Exclusion) *Excluder {
	if len(exclusions) == 0 {
		return nil
	}
	x := &Excluder{globs: make([]glob, len(exclusions))}
	for i, e := range exclusions {
		x.globs[i] = compileGlob(e.Glob)
	}
	return x
}

// Excludes reports whether an exclusion covers the entry rel below its root (abs on the audited
// system). A root itself (rel ".") is never excluded.
func (x *Excluder) Excludes(rel, abs string, isDir bool) bool {
	if x == nil || rel == "." || rel == "" {
		return false
	}
	s := newSubject(rel, abs, isDir)
	for i := range x.globs {
		if x.globs[i].match(&s) {
			return true
		}
	}
	return false
}
