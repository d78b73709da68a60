package audit

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// An entry's findings share one fix, and that fix is proved on the entry as it would be: it
// resolves what it claims and takes away no access the policy requires.
func TestSettledFixes(t *testing.T) {
	const manifest = `
d 0755 1000:1000 .
f 0644 1000:1000 index.php
f 0644 1000:1000 wp-config.php
f 0666 1000:1000 world.php
d 0777 1000:1000 uploads
f 0640 1000:1000 locked.html
d 0700 1000:1000 private
d 0775 1000:1000 media
f 0660 1000:2001 secret.php
f 4755 33:33 helper
`
	// PHP runs as www-data (mod_php): it must read wp-config.php, which others must not.
	phpReads := "version: 1\nrules:\n  - paths: [wp-config.php, secret.php]\n    sensitive: true\n    file_mode: \"0640\"\n    php: read\n    group: [site, php]\n  - paths: [uploads/, media/]\n    writable: true\n    php: write\n  - paths: helper\n    file_mode: \"4755\"\n"
	// The same, where the policy lets no other group own it: no mode or owner change both
	// closes it to others and lets PHP read it.
	noGroup := "version: 1\nrules:\n  - paths: wp-config.php\n    sensitive: true\n    file_mode: \"0640\"\n    php: read\n    group: [site]\n  - paths: uploads/\n    writable: true\n    php: write\n"
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, manifest)
	for _, tc := range []struct {
		name   string
		policy string
		want   map[string]*Fix // "path rule" → the fix; nil: a person must decide
	}{
		{"php reads the secret", phpReads, map[string]*Fix{
			// 0640 alone would lock PHP out: the group becomes PHP's.
			"wp-config.php sensitive-exposed": {Mode: 0o640, Chown: true, UID: 1000, GID: 33},
			"world.php world-writable":        {Mode: 0o644},
			// 0755 would stop uploads: the web server's group keeps write.
			"uploads world-writable":     {Mode: 0o775, Chown: true, UID: 1000, GID: 33},
			"locked.html web-unreadable": {Mode: 0o644},
			// In the root a grant gives the policy's mode, not just the search bits (0711).
			"private web-untraversable": {Mode: 0o755},
			// The group write needs the web server's group: the chown a first round proposes
			// stays when a second mends the mode.
			"media web-unwritable": {Mode: 0o775, Chown: true, UID: 1000, GID: 33},
			// The site's group, which group-mismatch asks for, gives way to PHP's, which the policy
			// allows too and which PHP's read needs.
			"secret.php group-mismatch": {Mode: 0o640, Chown: true, UID: 1000, GID: 33},
			// A setuid file the web server owned goes back to the site without its setuid bit:
			// what www-data wrote must not run as the site's owner.
			"helper web-user-owns": {Mode: 0o755, Chown: true, UID: 1000, GID: 33},
		}},
		{"no group may carry it", noGroup, map[string]*Fix{
			"wp-config.php sensitive-exposed": nil,
			"world.php world-writable":        {Mode: 0o644},
			"uploads world-writable":          {Mode: 0o775, Chown: true, UID: 1000, GID: 33},
			"locked.html web-unreadable":      {Mode: 0o644},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := policy.Default()
			p.Rules = append(p.Rules, mustParse(t, tc.policy).Rules...)
			rep := auditAs(t, fsys, root, webUser(), nil, p)
			got := map[string]*Fix{}
			for _, f := range rep.Findings {
				got[f.Entry.Rel+" "+string(f.Rule)] = f.Fix
			}
			for key, want := range tc.want {
				fix, ok := got[key]
				switch {
				case !ok:
					t.Errorf("%s: no finding (findings: %v)", key, rulesByRel(rep))
				case (fix == nil) != (want == nil) || fix != nil && *fix != *want:
					t.Errorf("%s: fix %+v, want %+v", key, fix, want)
				}
			}
		})
	}
}

func TestCombine(t *testing.T) {
	e := &walk.Entry{Type: walk.TypeFile, Mode: 0o660, UID: 1000, GID: 1000, OwnerKnown: true}
	for _, tc := range []struct {
		name  string
		fixes []*Fix
		want  *Fix
	}{
		{"none", nil, nil},
		{"nil proposals", []*Fix{nil, nil}, nil},
		{"removal and grant", []*Fix{{Mode: 0o640}, {Mode: 0o664}}, &Fix{Mode: 0o644}},
		{"owner and group from two", []*Fix{{Mode: 0o660, Chown: true, UID: 0, GID: 1000}, {Mode: 0o640, Chown: true, UID: 1000, GID: 33}}, &Fix{Mode: 0o640, Chown: true, UID: 0, GID: 33}},
		{"two groups", []*Fix{{Mode: 0o660, Chown: true, UID: 1000, GID: 33}, {Mode: 0o660, Chown: true, UID: 1000, GID: 34}}, nil},
		{"chown back to itself", []*Fix{{Mode: 0o640, Chown: true, UID: 1000, GID: 1000}}, &Fix{Mode: 0o640}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := combine(e, tc.fixes)
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Errorf("combine = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A plan judges what lies behind a blocking directory as the web server will reach it once the
// directory is fixed; a report shows each 403 once, at the directory that blocks it.
func TestAsFixedLooksBehindBlockers(t *testing.T) {
	const manifest = `
d 0755 1000:1000 .
f 0644 1000:1000 index.html
d 0700 1000:1000 blog
f 0600 1000:1000 blog/post.html
d 0700 1000:1000 blog/old
f 0644 1000:1000 blog/old/a.html
`
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, manifest)
	for _, tc := range []struct {
		asFixed bool
		want    map[string][]string
	}{
		{false, map[string][]string{"blog": {"web-untraversable"}}},
		{true, map[string][]string{
			"blog":           {"web-untraversable"},
			"blog/post.html": {"web-unreadable"},
			"blog/old":       {"web-untraversable"},
		}},
	} {
		a := &Auditor{Fs: fsys, Policy: policy.Default(), Accounts: testAccounts(), WebUser: webUser(), Jobs: 1, AsFixed: tc.asFixed}
		rep, err := a.Run(context.Background(), []string{root})
		if err != nil {
			t.Fatal(err)
		}
		checkRules(t, rulesByRel(rep), tc.want)
	}
}

// An edited plan's targets are judged on the entry as each would leave it, in its place: the
// report says what each target breaks that the entry does not break now, and nothing for an
// entry the audit does not reach.
func TestJudgeTargets(t *testing.T) {
	const manifest = `
d 0755 1000:1000 .
f 0666 1000:1000 index.html
f 0666 1000:1000 still.html
f 0644 1000:1000 page.php
d 0755 1000:1000 media
d 0700 1000:1000 shut
f 0644 1000:1000 shut/in.html
`
	fsys := fixture.NewMemFs()
	root := fixture.Tree(t, fsys, manifest)
	judge := map[string]Fix{
		root + "/index.html":   {Mode: 0o664, Chown: true, UID: 1000, GID: 1000}, // still too wide, no longer world-writable
		root + "/still.html":   {Mode: 0o646, Chown: true, UID: 1000, GID: 1000}, // a fault the target could settle and leaves
		root + "/page.php":     {Mode: 0o664, Chown: true, UID: 1000, GID: 33},   // www-data may rewrite code
		root + "/media":        {Mode: 0o700, Chown: true, UID: 1000, GID: 1000}, // shuts the web server out
		root + "/shut/in.html": {Mode: 0o600, Chown: true, UID: 1000, GID: 1000}, // reached only as fixed
		root + "/missing":      {Mode: 0o644, Chown: true, UID: 1000, GID: 1000},
	}
	want := map[string][]string{
		"index.html":   {"mode-too-open"},
		"still.html":   {"world-writable"},
		"page.php":     {"web-writable-code"},
		"media":        {"web-untraversable"},
		"shut/in.html": {"web-unreadable"},
	}
	a := &Auditor{Fs: fsys, Policy: policy.Default(), Accounts: testAccounts(), WebUser: webUser(), Jobs: 1, AsFixed: true, Judge: judge}
	rep, err := a.Run(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for p, found := range rep.Judged {
		rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		got[rel] = []string{}
		for _, f := range found {
			got[rel] = append(got[rel], string(f.Rule))
		}
	}
	if _, ok := got["missing"]; ok {
		t.Errorf("a path the audit did not reach was judged: %v", got["missing"])
	}
	for rel, rules := range want {
		if !slices.Equal(got[rel], rules) {
			t.Errorf("%s: judged %v, want %v", rel, got[rel], rules)
		}
	}
	if len(got) != len(want) {
		t.Errorf("judged %v, want %v", got, want)
	}
	// Judging counts nothing to the report: the findings are the tree's as it is.
	if n := len(rulesByRel(rep)["index.html"]); n != 1 {
		t.Errorf("index.html has %d findings in the report, want its one world-writable", n)
	}
}

// A chmod of an entry with an ACL rewrites its mask, and with it what every named entry grants:
// a fix is judged on the entry as the kernel leaves it, so it never revokes, through the mask, a
// named grant the policy needs (www-data writing uploads through user:www-data:rwx).
func TestFixRewritesTheACLMask(t *testing.T) {
	e := withACL(dir("uploads", 0o775), "user::rwx,user:33:rwx,group::r-x,mask::rwx,other::r-x")
	narrowed := (&Fix{Mode: 0o755}).after(&e)
	if m, _ := narrowed.ACL.Mask(); m != walk.PermRead|walk.PermExec {
		t.Errorf("after chmod 0755 the mask is %v, want r-x", m)
	}
	id := webUser().Identity()
	if access.Allows(&id, &narrowed, walk.PermWrite) {
		t.Error("after chmod 0755 www-data still writes through its named entry")
	}
	if m, _ := e.ACL.Mask(); m != walk.PermAll {
		t.Error("the fix changed the audited entry's own ACL")
	}
	// The policy has PHP (www-data, under mod_php) write uploads, and allows group write only to
	// the web server's group: the fix that closes the group write would lock PHP out through the
	// mask, so none is proposed.
	s := policy.Default().For("uploads", "", true)
	s.Writable, s.PHP = true, policy.NeedWrite
	c := &Case{Entry: &e, Settings: &s, Env: &Env{Root: "/srv/site", Accounts: testAccounts()},
		Web: Reach{Who: webUser(), Way: true, Access: access.Decide(&id, &e)}}
	found := Check(c, nil)
	if len(found) == 0 {
		t.Fatal("no finding: group write for group 1000 is beyond the policy")
	}
	for _, f := range found {
		// The group write bit is the mask's: taking it takes the named entry's write.
		if f.Fix != nil && f.Fix.Mode&0o020 == 0 {
			t.Errorf("%s proposes mode %v, which takes www-data's write through the mask", f.Rule, f.Fix.Mode)
		}
	}
}
