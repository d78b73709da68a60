package audit

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// fingerprinted is a finding of index.php at 0666, owned by deploy, below the root /srv/site.
func fingerprinted() (*Report, Finding) {
	rep := &Report{Roots: []string{"/srv/site"}}
	f := Finding{
		Rule: policy.WorldWritable, Severity: policy.Critical, Message: "others may write",
		Entry: walk.Entry{Path: "/srv/site/index.php", Type: walk.TypeFile, Mode: 0o666, UID: 1000, GID: 1000, OwnerKnown: true},
	}
	return rep, f
}

// TestFingerprintIsStable pins one fingerprint: baselines and CI systems keep fingerprints from
// run to run and from version to version, so what goes into one must never change by accident.
func TestFingerprintIsStable(t *testing.T) {
	rep, f := fingerprinted()
	const want = "1385af792789e1dd77ce7ca7c1611971" // sha256 of the fields, each ended by NUL, computed apart from Go
	if got := rep.Fingerprint(&f); got != want {
		t.Errorf("fingerprint %s, want %s: a change of the fingerprint's input makes every baseline's findings new", got, want)
	}
}

// TestFingerprintNamesTheFault checks what a fingerprint follows: the rule, the root-relative
// path and the facts the rule judges, and not the wording, the severity or the root's own path.
func TestFingerprintNamesTheFault(t *testing.T) {
	rep, base := fingerprinted()
	want := rep.Fingerprint(&base)
	same := map[string]func(r *Report, f *Finding){
		"message":  func(_ *Report, f *Finding) { f.Message = "reworded" },
		"severity": func(_ *Report, f *Finding) { f.Severity = policy.Low },
		"entries":  func(_ *Report, f *Finding) { f.Entries = 12 },
		"fix":      func(_ *Report, f *Finding) { f.Fix = &Fix{Mode: 0o644} },
		"root moved": func(r *Report, f *Finding) {
			r.Roots = []string{"/var/www/site"}
			f.Entry.Path = "/var/www/site/index.php"
		},
		"another root listed": func(r *Report, _ *Finding) { r.Roots = append(r.Roots, "/srv/other") },
		// world-writable judges the mode alone
		"owner":     func(_ *Report, f *Finding) { f.Entry.UID = 33 },
		"group":     func(_ *Report, f *Finding) { f.Entry.GID = 33 },
		"no owners": func(_ *Report, f *Finding) { f.Entry.OwnerKnown, f.Entry.UID, f.Entry.GID = false, 0, 0 },
		"label":     func(_ *Report, f *Finding) { f.Entry.Label = "system_u:object_r:httpd_sys_content_t:s0" },
	}
	for name, change := range same {
		r, f := fingerprinted()
		change(r, &f)
		if got := r.Fingerprint(&f); got != want {
			t.Errorf("%s: fingerprint %s, want it unchanged (%s)", name, got, want)
		}
	}
	differs := map[string]func(r *Report, f *Finding){
		"rule":       func(_ *Report, f *Finding) { f.Rule = policy.ModeTooOpen },
		"path":       func(_ *Report, f *Finding) { f.Entry.Path = "/srv/site/admin.php" },
		"mode":       func(_ *Report, f *Finding) { f.Entry.Mode = 0o777 },
		"setuid":     func(_ *Report, f *Finding) { f.Entry.Mode |= fs.ModeSetuid },
		"type":       func(_ *Report, f *Finding) { f.Entry.Type = walk.TypeDir },
		"outer root": func(r *Report, _ *Finding) { r.Roots = []string{"/srv"} },
	}
	for name, change := range differs {
		r, f := fingerprinted()
		change(r, &f)
		if got := r.Fingerprint(&f); got == want {
			t.Errorf("%s: fingerprint unchanged (%s), want another", name, got)
		}
	}
}

// TestFingerprintFactsByRule checks, rule by rule, which changes of an entry make its finding
// another: those of the facts the rule judges, and no others.
func TestFingerprintFactsByRule(t *testing.T) {
	changes := map[string]func(e *walk.Entry){
		"mode":  func(e *walk.Entry) { e.Mode = 0o600 },
		"owner": func(e *walk.Entry) { e.UID = 33 },
		"group": func(e *walk.Entry) { e.GID = 33 },
		"link":  func(e *walk.Entry) { e.LinkTarget = "/elsewhere" },
		"acl":   func(e *walk.Entry) { e.ACL = &walk.ACL{Entries: []walk.ACLEntry{{Tag: walk.ACLUser, ID: 33, Perm: 7}}} },
		"label": func(e *walk.Entry) { e.Label = "system_u:object_r:user_home_t:s0" },
	}
	for _, tc := range []struct {
		rule    policy.RuleID
		changes []string // the changes that make the finding another
	}{
		{policy.WorldWritable, []string{"mode"}},
		{policy.SetuidSetgid, []string{"mode"}},
		{policy.OwnerMismatch, []string{"owner", "group"}},
		{policy.WebUserOwnsTree, []string{"owner", "group"}},
		{policy.WebUnreadable, []string{"mode", "owner", "group"}},
		{policy.SensitiveExposed, []string{"mode", "owner", "group"}},
		{policy.ACLExtendsAccess, []string{"mode", "owner", "group", "acl"}},
		{policy.SELinuxLabel, []string{"label"}},
		{policy.SymlinkEscapesRoot, []string{"link"}},
		{policy.ScriptInWritable, nil},
		{policy.MissingIndex, nil},
		{"server-denied", []string{"mode", "owner", "group", "link", "acl", "label"}}, // a rule of later days: all facts
	} {
		base := Finding{Rule: tc.rule, Entry: walk.Entry{Path: "/srv/site/x", Type: walk.TypeFile, Mode: 0o644, UID: 1000, GID: 1000, OwnerKnown: true}}
		rep := &Report{Roots: []string{"/srv/site"}}
		want := rep.Fingerprint(&base)
		for name, change := range changes {
			f := base
			change(&f.Entry)
			changed := rep.Fingerprint(&f) != want
			if changed != slices.Contains(tc.changes, name) {
				t.Errorf("%s: a change of %s makes another finding: %v, want %v", tc.rule, name, changed, !changed)
			}
		}
	}
}

func TestRootRelative(t *testing.T) {
	for _, tc := range []struct {
		path  string
		roots []string
		want  string
		root  int
	}{
		{"/srv/site", []string{"/srv/site"}, ".", 0},
		{"/srv/site/a/b", []string{"/srv/site"}, "a/b", 0},
		{"/srv/site/a/b", []string{"/srv", "/srv/site"}, "a/b", 1},
		{"/srv/site/a/b", []string{"/srv/site", "/srv"}, "a/b", 0},
		{"/srv/other", []string{"/srv/site", "/srv"}, "other", 1},
		{"/srv/sitex/a", []string{"/srv/site"}, "/srv/sitex/a", -1},
		{"/srv", []string{"/srv/site"}, "/srv", -1},
		{"/etc/x", []string{"/"}, "etc/x", 0},
		{"/", []string{"/"}, ".", 0},
	} {
		if got := RootRelative(tc.path, tc.roots); got != tc.want {
			t.Errorf("RootRelative(%q, %q) = %q, want %q", tc.path, tc.roots, got, tc.want)
		}
		if i, rel := RootOf(tc.path, tc.roots); i != tc.root || rel != tc.want {
			t.Errorf("RootOf(%q, %q) = %d, %q, want %d, %q", tc.path, tc.roots, i, rel, tc.root, tc.want)
		}
	}
}

// TestFingerprintsOfTheDemoSiteDiffer checks that no two findings of a real audit share a
// fingerprint, and that an audit of a copy of the tree at another path gives the same ones.
func TestFingerprintsOfTheDemoSiteDiffer(t *testing.T) {
	if !asRoot {
		t.Skip("the demo site's owners can only be set as root")
	}
	entries, err := fixture.Load(filepath.Join("..", "testdata", "demo", "site.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	fingerprints := func(dir string) []string {
		root := filepath.Join(dir, "site")
		if err := fixture.Materialise(afero.NewOsFs(), root, entries, fixture.Options{Chown: true}); err != nil {
			t.Fatal(err)
		}
		a := &Auditor{Fs: afero.NewOsFs(), Preset: "wordpress", Accounts: testAccounts(), WebUser: webUser(), Jobs: 2}
		rep, err := a.Run(context.Background(), []string{root})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		seen := map[string]string{}
		for _, f := range rep.Findings {
			fp := rep.Fingerprint(&f)
			if other, ok := seen[fp]; ok {
				t.Errorf("%s %s and %s share fingerprint %s", f.Rule, f.Entry.Path, other, fp)
			}
			seen[fp] = string(f.Rule) + " " + f.Entry.Path
			out = append(out, fp)
		}
		return out
	}
	first := fingerprints(fixture.TempDir(t))
	second := fingerprints(filepath.Join(fixture.TempDir(t), "moved", "elsewhere"))
	if len(first) < 10 {
		t.Fatalf("%d findings on the demo site: want its many faults", len(first))
	}
	if len(first) != len(second) {
		t.Fatalf("%d findings, then %d at another path", len(first), len(second))
	}
	for i := range first {
		if first[i] != second[i] {
			t.Errorf("finding %d: fingerprint %s, then %s at another path", i, first[i], second[i])
		}
	}
}
