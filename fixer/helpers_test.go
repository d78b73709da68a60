package fixer

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/policy"
)

// testAccounts names root, www-data and the user running the tests.
func testAccounts() *access.Accounts {
	users := []access.User{{Name: "root", UID: 0, GID: 0}, {Name: "www-data", UID: 33, GID: 33}}
	groups := []access.Group{{Name: "root", GID: 0}, {Name: "www-data", GID: 33}}
	if uid, gid := uint32(os.Getuid()), uint32(os.Getgid()); uid != 0 {
		users = append(users, access.User{Name: "tester", UID: uid, GID: gid})
		groups = append(groups, access.Group{Name: "tester", GID: gid})
	}
	return access.NewAccounts(users, groups)
}

func testWebUser() *access.WebUser {
	return &access.WebUser{Name: "www-data", UID: 33, GID: 33, Groups: []uint32{33}, Source: "flag", Role: access.RoleWeb}
}

// planFor audits root on the real file system as a plan does, under the default policy, and
// plans it.
func planFor(t *testing.T, root string) *Plan {
	t.Helper()
	return planWith(t, root, policy.Default())
}

func planWith(t *testing.T, root string, p *policy.Policy) *Plan {
	t.Helper()
	plan, err := New(auditFor(t, root, p, true), "test", time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// auditFor audits root on the real file system under p, for a plan where asFixed.
func auditFor(t *testing.T, root string, p *policy.Policy, asFixed bool) *audit.Report {
	t.Helper()
	a := &audit.Auditor{Fs: afero.NewOsFs(), Policy: p, Accounts: testAccounts(), WebUser: testWebUser(), Jobs: 2, AsFixed: asFixed}
	rep, err := a.Run(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// snapshot records the mode and owner of every entry below root, symlinks not followed, by
// path relative to root.
func snapshot(t *testing.T, root string) map[string]State {
	t.Helper()
	out := map[string]State{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		rel, _ := filepath.Rel(root, p)
		out[rel] = State{Mode: policy.FromUnix(st.Mode & 0o7777), UID: st.Uid, GID: st.Gid}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// planForms are the ways a plan reaches apply: as made, or written as a sh plan and read back
// from it, as running the script hands it to fix --apply.
var planForms = []string{"plan", "sh plan"}

// inForm returns p as apply gets it in form.
func inForm(t testing.TB, form string, p *Plan) *Plan {
	t.Helper()
	if form == "plan" {
		return p
	}
	var b bytes.Buffer
	if err := WriteScript(&b, p); err != nil {
		t.Fatal(err)
	}
	read, err := ReadScript("fix.sh", &b)
	if err != nil {
		t.Fatalf("the sh plan is refused: %v\n%s", err, b.String())
	}
	return read
}
