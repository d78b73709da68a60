package audit

import (
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

func file(rel string, mode fs.FileMode) walk.Entry {
	return walk.Entry{Path: "/srv/site/" + rel, Rel: rel, Type: walk.TypeFile, Mode: mode, UID: 1000, GID: 1000, OwnerKnown: true}
}

func dir(rel string, mode fs.FileMode) walk.Entry {
	e := file(rel, mode)
	e.Type = walk.TypeDir
	return e
}

func link(rel, target string, state walk.Target) walk.Entry {
	e := file(rel, 0o777)
	e.Type, e.LinkTarget, e.Target = walk.TypeSymlink, target, state
	return e
}

// withACL gives e an access ACL written as getfacl -c does on one line.
func withACL(e walk.Entry, text string) walk.Entry {
	e.ACL = &walk.ACL{}
	tags := map[string]walk.ACLTag{"user": walk.ACLUserObj, "group": walk.ACLGroupObj, "mask": walk.ACLMask, "other": walk.ACLOther}
	for _, part := range strings.Split(text, ",") {
		f := strings.Split(part, ":")
		ae := walk.ACLEntry{Tag: tags[f[0]]}
		if f[1] != "" {
			id, _ := strconv.ParseUint(f[1], 10, 32)
			ae.ID = uint32(id)
			ae.Tag = map[string]walk.ACLTag{"user": walk.ACLUser, "group": walk.ACLGroup}[f[0]]
		}
		for i, c := range f[2] {
			if c != '-' {
				ae.Perm |= walk.PermRead >> i
			}
		}
		e.ACL.Entries = append(e.ACL.Entries, ae)
	}
	return e
}

func labelled(e walk.Entry, label string) walk.Entry { e.Label = label; return e }

func TestChecks(t *testing.T) {
	env := &Env{Root: "/srv/site", Accounts: testAccounts()}
	special := func(typ walk.Type) walk.Entry { e := file("x", 0o600); e.Type = typ; return e }
	unknown := file("orphan", 0o644)
	unknown.UID = 4242
	noOwner := file("in-memory", 0o644)
	noOwner.OwnerKnown, noOwner.UID = false, 4242
	forbidSetgid := policy.Settings{FileMax: 0o644, DirMax: 0o755}

	tests := []struct {
		name     string
		entry    walk.Entry
		settings *policy.Settings // nil: the default policy's, for the entry's path
		want     []policy.RuleID
		fix      string // the fix of the first finding, "" for none
		message  string // a part of the first finding's message
	}{
		{"0644 file is fine", file("index.php", 0o644), nil, nil, "", ""},
		{"0640 file is fine", file("index.php", 0o640), nil, nil, "", ""},
		{"0664 file", file("index.php", 0o664), nil, []policy.RuleID{policy.ModeTooOpen}, "0644", "group write"},
		{"0755 file", file("index.php", 0o755), nil, []policy.RuleID{policy.ModeTooOpen}, "0644", "owner, group and others execute"},
		{"0755 file in cgi-bin", file("cgi-bin/run.py", 0o755), nil, []policy.RuleID{policy.ModeTooOpen}, "0644", "execute"},
		{"0755 cgi file", file("run.cgi", 0o755), nil, []policy.RuleID{policy.ModeTooOpen}, "0644", "execute"},
		{"0775 file", file("index.html", 0o775), nil, []policy.RuleID{policy.ModeTooOpen}, "0644", "group write; owner, group and others execute"},
		{"0666 file", file("index.php", 0o666), nil, []policy.RuleID{policy.WorldWritable}, "0644", "can change this file"},
		{"0777 dir", dir("up", 0o777), nil, []policy.RuleID{policy.WorldWritable}, "0755", "add, replace or delete"},
		{"1777 dir", dir("tmp", 0o1777|fs.ModeSticky), nil, []policy.RuleID{policy.WorldWritable}, "0755", "sticky bit"},
		{"0775 dir", dir("up", 0o775), nil, []policy.RuleID{policy.ModeTooOpen}, "0755", "group write"},
		{"0755 dir is fine", dir("up", 0o755), nil, nil, "", ""},
		{"setgid dir allowed", dir("shared", 0o755|fs.ModeSetgid), nil, nil, "", ""},
		{"setgid dir forbidden", dir("shared", 0o755|fs.ModeSetgid), &forbidSetgid, []policy.RuleID{policy.SetuidSetgid}, "0755", "new files take its group"},
		{"setuid file", file("run.cgi", 0o644|fs.ModeSetuid), nil, []policy.RuleID{policy.SetuidSetgid}, "0644", "runs as uid 1000"},
		{"setgid file", file("run.cgi", 0o644|fs.ModeSetgid), nil, []policy.RuleID{policy.SetuidSetgid}, "0644", "runs with gid 1000"},
		{"4755 file", file("run.cgi", 0o755|fs.ModeSetuid), nil, []policy.RuleID{policy.ModeTooOpen, policy.SetuidSetgid}, "0644", ""},
		{"wp-config 0644", file("wp-config.php", 0o644), nil, []policy.RuleID{policy.SensitiveExposed}, "0640", "at most 0640"},
		{"wp-config 0640 is fine", file("wp-config.php", 0o640), nil, nil, "", ""},
		{"wp-config 0664", file("wp-config.php", 0o664), nil, []policy.RuleID{policy.SensitiveExposed}, "0640", ""},
		{"wp-config 0660", file("wp-config.php", 0o660), nil, []policy.RuleID{policy.ModeTooOpen}, "0640", "group write"},
		{"wp-config 0666", file("wp-config.php", 0o666), nil, []policy.RuleID{policy.WorldWritable, policy.SensitiveExposed}, "0640", ""},
		{".git 0755", dir(".git", 0o755), nil, []policy.RuleID{policy.SensitiveExposed}, "0750", "enter this sensitive directory"},
		{".git 0751", dir(".git", 0o751), nil, []policy.RuleID{policy.SensitiveExposed}, "0750", ""},
		{".git 0750 is fine", dir(".git", 0o750), nil, nil, "", ""},
		{"fifo", special(walk.TypeFIFO), nil, []policy.RuleID{policy.SpecialFile}, "", "named pipe"},
		{"socket", special(walk.TypeSocket), nil, []policy.RuleID{policy.SpecialFile}, "", "unix socket"},
		{"char device", special(walk.TypeCharDevice), nil, []policy.RuleID{policy.SpecialFile}, "", "char-device"},
		{"block device", special(walk.TypeBlockDevice), nil, []policy.RuleID{policy.SpecialFile}, "", "block-device"},
		{"world-writable socket", func() walk.Entry { e := special(walk.TypeSocket); e.Mode = 0o666; return e }(), nil,
			[]policy.RuleID{policy.WorldWritable, policy.SpecialFile}, "", "write to this socket"},
		{"symlink mode is ignored", link("a", "b", walk.TargetExists), nil, nil, "", ""},
		{"symlink to /etc/passwd", link("pw", "/etc/passwd", walk.TargetExists), nil, []policy.RuleID{policy.SymlinkEscapesRoot}, "", "/etc/passwd"},
		{"symlink up and out", link("sub/x", "../../etc", walk.TargetExists), nil, []policy.RuleID{policy.SymlinkEscapesRoot}, "", "/srv/etc"},
		{"symlink up and back in", link("sub/x", "../index.php", walk.TargetExists), nil, nil, "", ""},
		{"absolute symlink inside", link("x", "/srv/site/index.php", walk.TargetExists), nil, nil, "", ""},
		{"sibling with root's prefix", link("x", "/srv/site2/index.php", walk.TargetExists), nil, []policy.RuleID{policy.SymlinkEscapesRoot}, "", ""},
		{"dangling symlink", link("x", "gone", walk.TargetMissing), nil, []policy.RuleID{policy.DanglingSymlink}, "", "does not exist"},
		{"symlink loop", link("x", "x", walk.TargetLoop), nil, []policy.RuleID{policy.DanglingSymlink}, "", "loops"},
		{"unknown uid", unknown, nil, []policy.RuleID{policy.UnknownOwner}, "", "uid 4242 has no entry in /etc/passwd"},
		{"owner unknown to the backend", noOwner, nil, nil, "", ""},
		{"acl grants a named user", withACL(file("a.html", 0o640), "user::rw-,user:33:r--,group::r--,mask::r--,other::---"), nil,
			[]policy.RuleID{policy.ACLExtendsAccess}, "", "an ACL grants user:www-data r--, which mode 0640 does not show"},
		{"acl named entry the mask cancels", withACL(file("a.html", 0o600), "user::rw-,user:33:r--,group::---,mask::---,other::---"), nil, nil, "", ""},
		{"minimal acl", withACL(file("a.html", 0o644), "user::rw-,group::r--,other::r--"), nil, nil, "", ""},
		{"httpd content label", labelled(file("a.html", 0o644), "system_u:object_r:httpd_sys_content_t:s0"), nil, nil, "", ""},
		{"home label", labelled(file("a.html", 0o644), "unconfined_u:object_r:user_home_t:s0"), nil,
			[]policy.RuleID{policy.SELinuxLabel}, "", `the SELinux type "user_home_t" is not one httpd may read`},
		{"label on a symlink is not judged", labelled(link("l", "a.html", walk.TargetExists), "system_u:object_r:user_home_t:s0"), nil, nil, "", ""},
	}
	// Execute bits alone, where no CGI handler runs the file, serve nothing and harm nothing.
	severities := map[string]policy.Severity{"0755 file": policy.Info}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.settings
			if s == nil {
				d := policy.Default().For(tt.entry.Rel, "", tt.entry.Type == walk.TypeDir)
				s = &d
			}
			got := Check(&Case{Entry: &tt.entry, Settings: s, Env: env}, nil)
			var ids []policy.RuleID
			for _, f := range got {
				ids = append(ids, f.Rule)
				if f.Entry.Path != tt.entry.Path {
					t.Errorf("finding names %q, want %q", f.Entry.Path, tt.entry.Path)
				}
				want, ok := severities[tt.name]
				if info, _ := policy.Lookup(f.Rule); !ok {
					want = info.Severity
				}
				if f.Severity != want {
					t.Errorf("%s: severity %s, want %s", f.Rule, f.Severity, want)
				}
				if f.Message != strings.ToLower(f.Message[:1])+f.Message[1:] {
					t.Errorf("%s: message %q does not start in lower case", f.Rule, f.Message)
				}
			}
			if !sameRules(ids, tt.want) {
				t.Fatalf("rules %v, want %v", ids, tt.want)
			}
			if len(got) == 0 {
				return
			}
			fix := ""
			if got[0].Fix != nil {
				fix = policy.OctalMode(got[0].Fix.Mode)
			}
			if fix != tt.fix {
				t.Errorf("fix %q, want %q", fix, tt.fix)
			}
			if !strings.Contains(got[0].Message, tt.message) {
				t.Errorf("message %q does not contain %q", got[0].Message, tt.message)
			}
		})
	}
}

func sameRules(a, b []policy.RuleID) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[policy.RuleID]int{}
	for _, r := range a {
		seen[r]++
	}
	for _, r := range b {
		seen[r]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestSeverityOverride(t *testing.T) {
	p := &policy.Policy{Rules: []policy.Rule{{Severity: map[policy.RuleID]policy.Severity{policy.WorldWritable: policy.Low}}}}
	e := file("x", 0o666)
	s := p.For(e.Rel, "", false)
	s.FileMax = 0o644
	got := Check(&Case{Entry: &e, Settings: &s, Env: &Env{Root: "/srv/site"}}, nil)
	if len(got) != 1 || got[0].Severity != policy.Low {
		t.Fatalf("got %+v, want one world-writable finding at low", got)
	}
}

func TestEveryCatalogRuleHasACheck(t *testing.T) {
	for _, r := range policy.Catalog {
		// missing-index is checked once per root, after its walk; web-user-owns-tree is the
		// root's web-user-owns, which the walk turns into the tree's (tree.go).
		found := r.ID == policy.MissingIndex || r.ID == policy.WebUserOwnsTree
		for _, c := range checks {
			found = found || c.rule == r.ID
		}
		if !found {
			t.Errorf("rule %s is in the catalog but has no check", r.ID)
		}
	}
	if len(checks)+2 != len(policy.Catalog) {
		t.Errorf("%d checks for %d catalog rules", len(checks), len(policy.Catalog))
	}
}

// TestChecksAllocateNothingOnCleanEntries checks that an entry without findings, most of any
// tree, costs the checks no allocation: an audit runs them once per entry, millions of times.
func TestChecksAllocateNothingOnCleanEntries(t *testing.T) {
	env := &Env{Root: "/srv/site", Accounts: testAccounts()}
	p := policy.Default()
	for _, e := range []walk.Entry{file("index.php", 0o644), dir("wp-content", 0o755), file("wp-content/themes/a/style.css", 0o644)} {
		s := p.For(e.Rel, e.Path, e.Type == walk.TypeDir)
		c := &Case{Entry: &e, Settings: &s, Env: env}
		out := make([]Finding, 0, 4)
		if got := Check(c, out); len(got) != 0 {
			t.Fatalf("%s: findings %v, want none", e.Rel, got)
		}
		if n := testing.AllocsPerRun(100, func() { Check(c, out) }); n != 0 {
			t.Errorf("%s: %v allocations per check, want 0", e.Rel, n)
		}
	}
}

func TestWithin(t *testing.T) {
	for _, tt := range []struct {
		p, root string
		want    bool
	}{
		{"/srv/site", "/srv/site", true}, {"/srv/site/a", "/srv/site", true}, {"/srv/site/a", "/srv/site/", true},
		{"/srv/site2", "/srv/site", false}, {"/srv/sit", "/srv/site", false}, {"/srv", "/srv/site", false},
		{"/anything", "/", true}, {"/srv/site", "/srv/site/", false}, {"", "/srv", false}, {"/srv/", "/srv", true},
		{"/home/someone/public_html/wp-content/uploads/2024/05/a.jpg", "/home/someone/public_html/wp-content", true},
		{"/home/someone/public_html/wp-content-old/uploads/2024/05/a.jpg", "/home/someone/public_html/wp-content", false},
	} {
		if got := walk.Within(tt.p, tt.root); got != tt.want {
			t.Errorf("Within(%q, %q) = %v, want %v", tt.p, tt.root, got, tt.want)
		}
		var within bool
		if n := testing.AllocsPerRun(10, func() { within = walk.Within(tt.p, tt.root) }); n != 0 || within != tt.want {
			t.Errorf("Within(%q, %q): %v allocations, want 0", tt.p, tt.root, n)
		}
	}
}
