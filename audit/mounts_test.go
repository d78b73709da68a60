package audit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// The audit checks a skipped mount point as an entry, lists it in the report, and no finding lies
// below it; a subtree that holds it is never shown as one finding, since it was not read whole.
func TestAuditReportsSkippedMounts(t *testing.T) {
	root := fixture.Tree(t, afero.NewOsFs(), `
d 0755 0:0 .
d 0777 0:0 open
d 0777 0:0 open/cache
f 0666 0:0 open/a.txt
f 0666 0:0 open/b.txt
`)
	cache := filepath.Join(root, "open", "cache")
	fixture.Mount(t, "tmpfs", cache)
	if err := os.WriteFile(filepath.Join(cache, "page.html"), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	a := &Auditor{Fs: afero.NewOsFs(), Policy: policy.Default(), Accounts: testAccounts(), Jobs: 2, OneFileSystem: true}
	rep, err := a.Run(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if want := []walk.Skip{{Path: cache, FsType: "tmpfs", Reason: walk.SkipOtherFs}}; !slices.Equal(rep.Skipped, want) {
		t.Errorf("skipped %+v, want %+v", rep.Skipped, want)
	}
	got := rulesByRel(rep)
	if !slices.Contains(got["open/cache"], string(policy.WorldWritable)) {
		t.Errorf("the skipped mount point itself is not checked: %v", got)
	}
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Entry.Path, cache+"/") {
			t.Errorf("finding below the skipped mount: %s %s", f.Rule, f.Entry.Path)
		}
	}
	for _, s := range rep.Subtrees {
		if walk.Within(cache, s.Path) {
			t.Errorf("subtree %s holds the skipped mount, yet is shown as wholly read", s.Path)
		}
	}
}

// --no-xattrs: a file whose ACL gives the web server read has no ACL in the audit, so
// acl-extends-access cannot fire, and access is judged by its mode bits: 0600 is unreadable to
// www-data. The report says the attributes were not read.
func TestAuditNoXattrs(t *testing.T) {
	if _, err := exec.LookPath("setfacl"); err != nil {
		t.Skip("setfacl is not installed (Debian package acl): cannot write an ACL")
	}
	root := fixture.Tree(t, afero.NewOsFs(), `
d 0755 1000:1000 .
f 0600 1000:1000 index.html
`)
	if !asRoot {
		t.Skip("the tree must belong to deploy (1000) for www-data to need the ACL")
	}
	if out, err := exec.Command("setfacl", "-m", "u:33:r", filepath.Join(root, "index.html")).CombinedOutput(); err != nil {
		t.Skipf("setfacl: %v: %s (no ACL support here)", err, out)
	}
	web := &access.WebUser{Name: "www-data", UID: 33, GID: 33, Groups: []uint32{33}}
	audit := func(noXattrs bool) *Report {
		a := &Auditor{Fs: afero.NewOsFs(), Policy: policy.Default(), Accounts: testAccounts(), WebUser: web, Jobs: 1, NoXattrs: noXattrs}
		rep, err := a.Run(context.Background(), []string{root})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	with := rulesByRel(audit(false))["index.html"]
	if !slices.Contains(with, string(policy.ACLExtendsAccess)) || slices.Contains(with, string(policy.WebUnreadable)) {
		t.Fatalf("with xattrs, index.html: %v; want acl-extends-access and no web-unreadable (the ACL grants read)", with)
	}
	rep := audit(true)
	if !rep.NoXattrs {
		t.Error("the report does not say the attributes were not read")
	}
	without := rulesByRel(rep)["index.html"]
	if slices.Contains(without, string(policy.ACLExtendsAccess)) || !slices.Contains(without, string(policy.WebUnreadable)) {
		t.Errorf("--no-xattrs, index.html: %v; want web-unreadable by the mode bits and no acl-extends-access", without)
	}
	for _, f := range rep.Findings {
		if f.Entry.ACL != nil {
			t.Errorf("%s: ACL %s read under --no-xattrs", f.Entry.Path, f.Entry.ACL)
		}
		if f.Rule == policy.WebUnreadable && !strings.Contains(f.Message, "(mode bits only: --no-xattrs read no ACL)") {
			t.Errorf("%s: the 403 is claimed without saying the ACL was not read: %s", f.Entry.Path, f.Message)
		}
	}
}
