package audit

import (
	"context"
	"fmt"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/policy"
)

// Report is the outcome of one audit: what was audited, against what, and what was found.
type Report struct {
	Roots    []string
	Policy   string
	WebUser  *WebUser // nil when the audited system names no web server account
	Accounts *Accounts
	Entries  int       // entries examined, roots included
	Findings []Finding // in walk order, root by root
	Errors   []WalkError
}

// WalkError is a path the walk could not read; the audit went on without it.
type WalkError struct {
	Path string
	Err  error
}

// Complete reports whether every entry below every root was examined.
func (r *Report) Complete() bool { return len(r.Errors) == 0 }

// Auditor holds a set of roots against a policy.
type Auditor struct {
	Fs       afero.Fs
	Policy   *policy.Policy
	Accounts *Accounts
	WebUser  *WebUser
	Jobs     int
}

// Run audits every root in turn. Every root is checked to be a walkable directory before any is
// walked, so a mistyped path audits nothing; Run then returns that error.
func (a *Auditor) Run(ctx context.Context, roots []string) (*Report, error) {
	for _, root := range roots {
		fi, err := lstat(a.Fs, root)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("%s: %w", root, ErrNotDir)
		}
	}
	rep := &Report{Roots: roots, Policy: a.Policy.Name, WebUser: a.WebUser, Accounts: a.Accounts}
	w := &Walker{Fs: a.Fs, Jobs: a.Jobs}
	for _, root := range roots {
		env := &Env{Root: root, Accounts: a.Accounts}
		err := w.Walk(ctx, root, Visitor{
			Entry: func(e Entry) {
				rep.Entries++
				s := a.Policy.For(e.Rel, e.Type == TypeDir)
				rep.Findings = Check(&e, &s, env, rep.Findings)
			},
			Error: func(path string, err error) {
				rep.Errors = append(rep.Errors, WalkError{Path: path, Err: err})
			},
		})
		if err != nil {
			return nil, err
		}
	}
	return rep, nil
}
