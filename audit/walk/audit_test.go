package walk_test

import (
	"context"
	"testing"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

func init() {
	walk.Audit = func(tb testing.TB, root string, jobs int) walk.Audited {
		tb.Helper()
		a := &audit.Auditor{Fs: afero.NewOsFs(), Policy: policy.Default(), Accounts: access.NewAccounts(nil, nil), Jobs: jobs}
		rep, err := a.Run(context.Background(), []string{root})
		if err != nil {
			tb.Fatal(err)
		}
		out := walk.Audited{Report: rep, Entries: rep.Entries}
		for _, e := range rep.Errors {
			out.Errors = append(out.Errors, walk.Unread{Path: e.Path, Err: e.Err})
		}
		for _, f := range rep.Findings {
			out.Findings = append(out.Findings, walk.Found{Path: f.Entry.Path, Rule: string(f.Rule)})
		}
		return out
	}
}
