package audit

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/policy"
)

// asRoot says whether tests can set owners; as another user, trees keep the caller's owner.
var asRoot = os.Geteuid() == 0

// testAccounts names root, www-data, deploy (1000), the group shared (2001) and the user running
// the tests.
func testAccounts() *access.Accounts {
	users := []access.User{{Name: "root", UID: 0, GID: 0}, {Name: "www-data", UID: 33, GID: 33}, {Name: "deploy", UID: 1000, GID: 1000}}
	groups := []access.Group{{Name: "root", GID: 0}, {Name: "www-data", GID: 33}, {Name: "deploy", GID: 1000}, {Name: "shared", GID: 2001}}
	if uid, gid := uint32(os.Getuid()), uint32(os.Getgid()); uid != 0 {
		users = append(users, access.User{Name: "tester", UID: uid, GID: gid})
		groups = append(groups, access.Group{Name: "tester", GID: gid})
	}
	a := access.NewAccounts(users, groups)
	a.PasswdPath, a.GroupPath = "/etc/passwd", "/etc/group"
	return a
}

func auditTree(t *testing.T, fsys afero.Fs, root string, jobs int) *Report {
	t.Helper()
	a := &Auditor{Fs: fsys, Policy: policy.Default(), Accounts: testAccounts(), Jobs: jobs}
	rep, err := a.Run(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// rulesByRel maps each path, relative to the root, to the sorted rule ids reported for it.
func rulesByRel(rep *Report) map[string][]string {
	out := map[string][]string{}
	for _, f := range rep.Findings {
		out[f.Entry.Rel] = append(out[f.Entry.Rel], string(f.Rule))
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

// checkRules fails t for every path whose rules differ from want, and for every path with
// findings want does not list; both map a path to its sorted rule ids.
func checkRules(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for p, rules := range want {
		if !slices.Equal(got[p], rules) {
			t.Errorf("%s: %v, want %v", p, got[p], rules)
		}
	}
	for p, rules := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: unexpected %v", p, rules)
		}
	}
}

// mustParse reads a policy file's text, failing t on a fault.
func mustParse(t *testing.T, src string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse("site.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
