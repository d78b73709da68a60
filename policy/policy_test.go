package policy

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"
)

func modePtr(m fs.FileMode) *fs.FileMode { return &m }
func boolPtr(b bool) *bool               { return &b }
func needPtr(n Need) *Need               { return &n }

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		name           string
		glob, rel, abs string
		isDir, want    bool
	}{
		{"name at the root", "wp-config.php", "wp-config.php", "", false, true},
		{"the root has no name: not a hidden file", ".*", ".", "/srv/site", true, false},
		{"the root has no name: not a key", "*", ".", "/srv/site", true, true},
		{"the root by its own glob", ".", ".", "/srv/site", true, true},
		{"the root by the match-all", "**", ".", "/srv/site", true, true},
		{"the root is not a question mark", "?", ".", "/srv/site", true, false},
		{"no slash matches at any depth", "wp-config.php", "blog/wp-config.php", "", false, true},
		{"whole name only", "wp-config.php", "wp-config.php.txt", "", false, false},
		{"star within the name", "*.key", "ssl/private/site.key", "", false, true},
		{"star does not cross into the directory", "*.key", "site.key/readme", "", false, false},
		{"leading dot is literal", ".env.*", ".env.production", "", false, true},
		{"suffix is needed", ".env.*", ".env", "", false, false},
		{"trailing slash matches a directory", ".git/", ".git", "", true, true},
		{"trailing slash matches nothing else", ".git/", ".git", "", false, false},
		{"trailing slash at any depth", ".git/", "vendor/lib/.git", "", true, true},
		{"slash anchors at the root", "wp-content/uploads/**", "wp-content/uploads/2024/a.jpg", "", false, true},
		{"slash anchors: not deeper", "wp-content/uploads/**", "x/wp-content/uploads/a.jpg", "", false, false},
		{"anchored directory glob", "sites/*/", "sites/default", "", true, true},
		{"anchored directory glob: not a file", "sites/*/", "sites/default", "", false, false},
		{"anchored directory glob: one level", "sites/*/", "sites/default/files", "", true, false},
		{"double star matches the root", "**", ".", "", true, true},
		{"dot is the root", ".", ".", "", true, true},
		{"dot is not a child", ".", "index.php", "", false, false},
		{"tilde suffix", "*~", "index.php~", "", false, true},
		{"two extensions", "*.sql.gz", "dump.sql.gz", "", false, true},
		{"prefix", "id_rsa*", "home/.ssh/id_rsa.pub", "", false, true},
		{"the root has no name to match", "*.key", ".", "", true, false},
		{"relative glob never matches an ancestor", "home", "", "/home", true, false},
		{"relative double star never matches an ancestor", "**", "", "/home", true, false},
		{"absolute glob matches the absolute path", "/home/*/public_html/", "", "/home/alice/public_html", true, true},
		{"absolute glob inside the root", "/srv/www/cache/**", "cache/a", "/srv/www/cache/a", false, true},
		{"absolute glob ignores rel", "/srv/www/cache/**", "cache/a", "/elsewhere/cache/a", false, false},
		{"absolute glob with no abs path", "/srv/**", "srv/a", "", false, false},
		{"absolute directory glob: not a file", "/home/*/", "", "/home/alice", false, false},
		{"absolute glob with a star in a name", "/home*/*/", "", "/home2/bob", true, true},
		{"absolute glob: star stops at a slash", "/home/*/", "", "/home/bob/public_html", true, false},
		{"./ anchors a name at the root", "./data/", "data", "", true, true},
		{"./ anchors: not deeper", "./data/", "lib/plugins/config/_test/data", "", true, false},
		{"./ keeps the trailing slash's directories only", "./data/", "data", "", false, false},
		{"./ with a double star", "./data/**", "data/pages/start.txt", "", false, true},
		{"./ never names the root", "./data", ".", "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matchGlob(tt.glob, tt.rel, tt.abs, tt.isDir); got != tt.want {
				t.Errorf("matchGlob(%q, %q, %q, dir=%v) = %v, want %v", tt.glob, tt.rel, tt.abs, tt.isDir, got, tt.want)
			}
		})
	}
}

// precedence is a policy whose rules overlap the way real ones do: a base, then narrower rules.
var precedence = &Policy{Rules: []Rule{
	{FileMax: modePtr(0o644), DirMax: modePtr(0o755), Web: needPtr(NeedRead), PHP: needPtr(NeedNone),
		Sensitive: boolPtr(false), Writable: boolPtr(false)},
	{Paths: []string{"uploads/**"}, FileMax: modePtr(0o664), Writable: boolPtr(true),
		Severity: map[RuleID]Severity{ModeTooOpen: Low}},
	{Paths: []string{"uploads/private/**"}, FileMax: modePtr(0o600), Sensitive: boolPtr(true)},
	{Paths: []string{"uploads/**/"}, PHP: needPtr(NeedWrite)},
	{Paths: []string{"*.php"}, Web: needPtr(NeedNone), PHP: needPtr(NeedRead), Group: []string{"site", "web"}},
	{Paths: []string{".git/"}, DirMax: modePtr(0o750), Sensitive: boolPtr(true), Web: needPtr(NeedNone)},
	{Paths: []string{"/srv/www/site/cache/**"}, Owner: []string{"web"}, Severity: map[RuleID]Severity{ModeTooOpen: Info}},
	{Paths: []string{"/srv/*/"}, DirMax: modePtr(0o711), Web: needPtr(NeedSearch)},
	{Paths: []string{"uploads/private/press/**"}, Sensitive: boolPtr(false), Writable: boolPtr(false)},
}}

func TestForPrecedence(t *testing.T) {
	type want struct {
		file, dir        fs.FileMode
		web, php         Need
		owner, group     []string
		sensitive, write bool
		modeTooOpen      Severity
	}
	base := want{0o644, 0o755, NeedRead, NeedNone, []string{"site"}, []string{"site"}, false, false, Medium}
	with := func(f func(*want)) want { w := base; f(&w); return w }
	tests := []struct {
		name     string
		rel, abs string
		isDir    bool
		want     want
	}{
		{"only the base rule", "index.html", "/srv/www/site/index.html", false, base},
		{"the root is matched by a rule with no paths", ".", "/srv/www/site", true, base},
		{"a later rule overrides", "uploads/a.jpg", "/srv/www/site/uploads/a.jpg", false,
			with(func(w *want) { w.file, w.write, w.modeTooOpen = 0o664, true, Low })},
		{"a later rule leaves fields it does not set", "uploads/private/cv.pdf", "/srv/www/site/uploads/private/cv.pdf", false,
			with(func(w *want) { w.file, w.write, w.sensitive, w.modeTooOpen = 0o600, true, true, Low })},
		{"a later rule sets false again", "uploads/private/press/kit.zip", "/srv/www/site/uploads/private/press/kit.zip", false,
			with(func(w *want) { w.file, w.modeTooOpen = 0o600, Low })},
		{"a directory-only rule applies to a directory", "uploads/2024", "/srv/www/site/uploads/2024", true,
			with(func(w *want) { w.file, w.write, w.php, w.modeTooOpen = 0o664, true, NeedWrite, Low })},
		{"a directory-only rule skips a file", "uploads/2024.txt", "/srv/www/site/uploads/2024.txt", false,
			with(func(w *want) { w.file, w.write, w.modeTooOpen = 0o664, true, Low })},
		{"a name glob at any depth", "lib/a/b.php", "/srv/www/site/lib/a/b.php", false,
			with(func(w *want) { w.web, w.php, w.group = NeedNone, NeedRead, []string{"site", "web"} })},
		{"a name glob after an anchored one", "uploads/shell.php", "/srv/www/site/uploads/shell.php", false,
			with(func(w *want) {
				w.file, w.write, w.modeTooOpen = 0o664, true, Low
				w.web, w.php, w.group = NeedNone, NeedRead, []string{"site", "web"}
			})},
		{"a directory-only name glob on a directory", "vendor/x/.git", "/srv/www/site/vendor/x/.git", true,
			with(func(w *want) { w.dir, w.sensitive, w.web = 0o750, true, NeedNone })},
		{"a directory-only name glob skips a file", ".git", "/srv/www/site/.git", false, base},
		{"an absolute glob inside the root", "cache/page.html", "/srv/www/site/cache/page.html", false,
			with(func(w *want) { w.owner, w.modeTooOpen = []string{"web"}, Info })},
		{"an absolute glob needs the absolute path", "cache/page.html", "", false, base},
		{"an absolute glob does not match elsewhere", "cache/page.html", "/var/www/cache/page.html", false, base},
		{"an absolute directory glob on the root", ".", "/srv/www", true,
			with(func(w *want) { w.dir, w.web = 0o711, NeedSearch })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := precedence.For(tt.rel, tt.abs, tt.isDir)
			got := want{s.FileMax, s.DirMax, s.Web, s.PHP, s.Owner, s.Group, s.Sensitive, s.Writable, s.Severity(ModeTooOpen)}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("For(%q, %q, dir=%v) =\n  %+v\nwant\n  %+v", tt.rel, tt.abs, tt.isDir, got, tt.want)
			}
			if !s.Matched {
				t.Error("Matched is false; the first rule has no paths and matches everything")
			}
			if got, want := s.Max(tt.isDir), map[bool]fs.FileMode{true: tt.want.dir, false: tt.want.file}[tt.isDir]; got != want {
				t.Errorf("Max(%v) = %04o, want %04o", tt.isDir, got, want)
			}
			if sev := s.Severity(WorldWritable); sev != Critical {
				t.Errorf("Severity(world-writable) = %s; no rule changes it, want the catalog's critical", sev)
			}
		})
	}
}

func TestForIdentitiesDefault(t *testing.T) {
	tests := []struct {
		name         string
		ids          Identities
		owner, group []string
	}{
		{"nothing said: the site", Identities{}, []string{"site"}, []string{"site"}},
		// The identities say who "site" is; audit resolves that, so the settings still say site.
		{"the policy's identities", Identities{Owner: []string{"deploy"}, Group: []string{"www-data", "site"}},
			[]string{"site"}, []string{"site"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Policy{Identities: tt.ids, Rules: []Rule{{Paths: []string{"*.php"}, Owner: []string{"php"}}}}
			s := p.For("index.html", "/srv/index.html", false)
			if !slices.Equal(s.Owner, tt.owner) || !slices.Equal(s.Group, tt.group) {
				t.Errorf("owner %v group %v, want %v %v", s.Owner, s.Group, tt.owner, tt.group)
			}
			if s.Matched {
				t.Error("Matched is true, but no rule matches index.html")
			}
			if s := p.For("index.php", "/srv/index.php", false); !slices.Equal(s.Owner, []string{"php"}) || !slices.Equal(s.Group, tt.group) {
				t.Errorf("index.php: owner %v group %v, want [php] %v", s.Owner, s.Group, tt.group)
			}
		})
	}
}

func TestForAncestor(t *testing.T) {
	p := &Policy{Rules: []Rule{
		{DirMax: modePtr(0o755), Web: needPtr(NeedRead)},                                         // no paths: never an ancestor
		{Paths: []string{"**", "home", "*/"}, DirMax: modePtr(0o700)},                            // relative: never an ancestor
		{Paths: []string{"/home*/*/"}, DirMax: modePtr(0o711), Web: needPtr(NeedSearch)},         // absolute
		{Paths: []string{"public_html", "/home/*/public_html/"}, DirMax: modePtr(0o750)},         // mixed: the absolute one counts
		{Paths: []string{"/home/alice/"}, Group: []string{"nobody"}},                             // later, narrower
		{Paths: []string{"/home/alice/*.key"}, Sensitive: boolPtr(true), Web: needPtr(NeedNone)}, // absolute, files too
	}}
	tests := []struct {
		name    string
		abs     string
		matched bool
		dir     fs.FileMode
		web     Need
		group   []string
	}{
		// Every ancestor starts from the root's settings (0700 here, from "**"), needing search.
		{"a home", "/home/bob", true, 0o711, NeedSearch, []string{"site"}},
		{"a numbered home", "/home2/bob", true, 0o711, NeedSearch, []string{"site"}},
		{"the last matching rule wins", "/home/alice", true, 0o711, NeedSearch, []string{"nobody"}},
		{"a document root above the audited one", "/home/bob/public_html", true, 0o750, NeedSearch, []string{"site"}},
		{"an absolute glob's star stops at a slash", "/home/bob/public_html/blog", false, 0o700, NeedSearch, []string{"site"}},
		{"a directory no absolute glob names", "/home", false, 0o700, NeedSearch, []string{"site"}},
		{"the file system root", "/", false, 0o700, NeedSearch, []string{"site"}},
		{"an absolute glob without a trailing slash", "/home/alice/x.key", true, 0o700, NeedNone, []string{"site"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := p.ForAncestor(tt.abs)
			if s.Matched != tt.matched || s.DirMax != tt.dir || s.Web != tt.web || !slices.Equal(s.Group, tt.group) {
				t.Errorf("ForAncestor(%q) = matched %v dir %04o web %s group %v; want %v %04o %s %v",
					tt.abs, s.Matched, s.DirMax, s.Web, s.Group, tt.matched, tt.dir, tt.web, tt.group)
			}
		})
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := Default()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"wp-config.php", ".env", ".env.local", "ssl/site.key", "cert.pem", ".htpasswd",
		"id_rsa", "dump.sql", "dump.sql.gz", "index.php.bak", "index.php~", "old.php.orig"} {
		t.Run(rel, func(t *testing.T) {
			if s := p.For(rel, "/srv/www/"+rel, false); !s.Sensitive || s.FileMax != 0o640 {
				t.Errorf("sensitive %v, file max %04o; want sensitive at 0640", s.Sensitive, s.FileMax)
			}
		})
	}
	tests := []struct {
		name      string
		rel       string
		isDir     bool
		sensitive bool
		max       fs.FileMode
		web, php  Need
	}{
		{".git is closed", ".git", true, true, 0o750, NeedNone, NeedNone},
		{"what lies below .git is closed by .git", ".git/config", false, false, 0o644, NeedRead, NeedNone},
		{"a plain file", "wp-content/index.html", false, false, 0o644, NeedRead, NeedNone},
		{"a script is PHP's", "wp-content/index.php", false, false, 0o644, NeedNone, NeedRead},
		{"directories allow setgid", "shared", true, false, 0o755 | fs.ModeSetgid, NeedRead, NeedRead},
		{"PHP reads its secrets", "wp-config.php", false, true, 0o640, NeedNone, NeedRead},
		{"Apache reads .htpasswd", ".htpasswd", false, true, 0o640, NeedRead, NeedNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := p.For(tt.rel, "/srv/www/"+tt.rel, tt.isDir)
			if s.Sensitive != tt.sensitive || s.Max(tt.isDir) != tt.max || s.Web != tt.web || s.PHP != tt.php {
				t.Errorf("For(%q) = sensitive %v max %v web %s php %s; want %v %v %s %s",
					tt.rel, s.Sensitive, s.Max(tt.isDir), s.Web, s.PHP, tt.sensitive, tt.max, tt.web, tt.php)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		glob string
		ok   bool
	}{
		{"a plain name", "wp-config.php", true},
		{"double star", "wp-content/**/*.php", true},
		{"alternatives", "*.{key,pem}", true},
		{"a directory", ".git/", true},
		{"the file system root", "/", true},
		{"an unterminated class", "uploads/[a-", false},
		{"an unterminated alternative", "*.{key,pem", false},
		{"empty", "", false},
		{"anchored at the root", "./data/", true},
		{"a dot inside", "data/./pages", false},
		{"./ alone is the root, as .", "./", true},
		{"./ then nothing but a slash", ".//", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Policy{Rules: []Rule{{Paths: []string{"ok"}}, {Paths: []string{tt.glob}}}}
			err := p.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "rule 2") {
				t.Errorf("Validate() = %q, want it to name rule 2", err)
			}
		})
	}
}

func TestSeverity(t *testing.T) {
	for _, s := range Severities() {
		t.Run(s.String(), func(t *testing.T) {
			got, err := ParseSeverity(s.String())
			if err != nil || got != s {
				t.Errorf("ParseSeverity(%q) = %v, %v", s, got, err)
			}
			text, err := s.MarshalText()
			var back Severity
			if err != nil || back.UnmarshalText(text) != nil || back != s {
				t.Errorf("MarshalText round trip: %q, %v -> %v", text, err, back)
			}
		})
	}
	if got, err := ParseSeverity("HIGH"); err != nil || got != High {
		t.Errorf("ParseSeverity is case-sensitive: %v, %v", got, err)
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("ParseSeverity accepted an unknown name")
	}
	if _, err := Severity(9).MarshalText(); err == nil {
		t.Error("MarshalText accepted severity 9")
	}
	if !(Critical > High && High > Medium && Medium > Low && Low > Info) {
		t.Error("severities are out of order")
	}
	for _, r := range Catalog {
		if info, ok := Lookup(r.ID); !ok || info != r {
			t.Errorf("Lookup(%s) = %v, %v", r.ID, info, ok)
		}
	}
}

func TestNeed(t *testing.T) {
	for _, n := range []Need{NeedNone, NeedSearch, NeedRead, NeedWrite} {
		t.Run(n.String(), func(t *testing.T) {
			if got, err := ParseNeed(n.String()); err != nil || got != n {
				t.Errorf("ParseNeed(%q) = %v, %v", n, got, err)
			}
		})
	}
	for _, bad := range []string{"", "Read", "rw", "execute"} {
		if _, err := ParseNeed(bad); err == nil {
			t.Errorf("ParseNeed(%q) accepted an unknown access", bad)
		}
	}
	if !(NeedWrite > NeedRead && NeedRead > NeedSearch && NeedSearch > NeedNone) {
		t.Error("needs are out of order")
	}
}

func TestWaiverCovers(t *testing.T) {
	w := Waiver{Rule: ModeTooOpen, Paths: []string{"wp-content/cache/**", "*.log", ".cache/", "/home/*/"},
		Reason: "the cache plugin rewrites its files", Expires: "2027-03-31"}
	tests := []struct {
		name     string
		id       RuleID
		rel, abs string
		isDir    bool
		want     bool
	}{
		{"its rule on an anchored glob", ModeTooOpen, "wp-content/cache/a.html", "/srv/wp-content/cache/a.html", false, true},
		{"another rule on the same path", WorldWritable, "wp-content/cache/a.html", "/srv/wp-content/cache/a.html", false, false},
		{"its rule on a name glob at any depth", ModeTooOpen, "logs/2024/error.log", "/srv/logs/2024/error.log", false, true},
		{"its rule outside its paths", ModeTooOpen, "index.php", "/srv/index.php", false, false},
		{"an anchored glob stays anchored", ModeTooOpen, "x/wp-content/cache/a.html", "/srv/x/wp-content/cache/a.html", false, false},
		{"a directory glob on a directory", ModeTooOpen, "lib/.cache", "/srv/lib/.cache", true, true},
		{"a directory glob on a file", ModeTooOpen, "lib/.cache", "/srv/lib/.cache", false, false},
		{"an absolute glob on a directory above the root", ModeTooOpen, "", "/home/alice", true, true},
		{"a relative glob never on a directory above the root", ModeTooOpen, "", "/srv/wp-content/cache/x.log", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := w.Covers(tt.id, tt.rel, tt.abs, tt.isDir); got != tt.want {
				t.Errorf("Covers(%s, %q, %q, dir=%v) = %v, want %v", tt.id, tt.rel, tt.abs, tt.isDir, got, tt.want)
			}
		})
	}
	if (&Waiver{Rule: ModeTooOpen}).Covers(ModeTooOpen, "a", "/a", false) {
		t.Error("a waiver without paths covers a path")
	}
}

func TestWaiverExpired(t *testing.T) {
	w := Waiver{Rule: ModeTooOpen, Paths: []string{"**"}, Reason: "r", Expires: "2027-03-31"}
	east := time.FixedZone("UTC+10", 10*3600)
	tests := []struct {
		name  string
		today time.Time
		want  bool
	}{
		{"long before", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"the day before", time.Date(2027, 3, 30, 12, 0, 0, 0, time.UTC), false},
		{"its last day, early", time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC), false},
		{"its last day, late", time.Date(2027, 3, 31, 23, 59, 59, 0, time.UTC), false},
		{"the day after", time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), true},
		{"a year after", time.Date(2028, 3, 31, 0, 0, 0, 0, time.UTC), true},
		{"its last day in today's location", time.Date(2027, 3, 31, 23, 0, 0, 0, east), false},
		{"the day after in today's location, still its last day in UTC", time.Date(2027, 4, 1, 5, 0, 0, 0, east), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := w.Expired(tt.today); got != tt.want {
				t.Errorf("Expired(%s) = %v, want %v", tt.today, got, tt.want)
			}
		})
	}
}

func TestSymbolicModeRoundTrip(t *testing.T) {
	specials := []struct {
		name string
		bits fs.FileMode
	}{
		{"none", 0},
		{"setuid", fs.ModeSetuid},
		{"setgid", fs.ModeSetgid},
		{"sticky", fs.ModeSticky},
		{"setuid+setgid", fs.ModeSetuid | fs.ModeSetgid},
		{"setuid+sticky", fs.ModeSetuid | fs.ModeSticky},
		{"setgid+sticky", fs.ModeSetgid | fs.ModeSticky},
		{"all", fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky},
	}
	for _, sp := range specials {
		t.Run(sp.name, func(t *testing.T) {
			for perm := fs.FileMode(0); perm <= 0o777; perm++ {
				m := perm | sp.bits
				sym := SymbolicMode(m)
				if got, err := ParseSymbolicMode(sym); err != nil || got != m {
					t.Fatalf("ParseSymbolicMode(SymbolicMode(%v) = %q) = %v, %v", m, sym, got, err)
				}
				if got, err := ParseMode(sym); err != nil || got != m {
					t.Fatalf("ParseMode(%q) = %v, %v; want %v", sym, got, err, m)
				}
				oct := OctalMode(m)
				if got, err := ParseMode(oct); err != nil || got != m {
					t.Fatalf("ParseMode(%q) = %v, %v; want %v", oct, got, err, m)
				}
				if u := UnixMode(m); FromUnix(u) != m || u != uint32(perm)|unixSpecial(sp.bits) {
					t.Fatalf("UnixMode(%v) = %o", m, u)
				}
			}
		})
	}
}

// unixSpecial is the chmod number of the special bits, written out independently of UnixMode.
func unixSpecial(m fs.FileMode) uint32 {
	var u uint32
	if m&fs.ModeSetuid != 0 {
		u += 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u += 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u += 0o1000
	}
	return u
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in   string
		want fs.FileMode
	}{
		{"0644", 0o644},
		{"644", 0o644},
		{"0", 0},
		{"2755", 0o755 | fs.ModeSetgid},
		{"7777", 0o777 | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky},
		{"rw-r--r--", 0o644},
		{"rwxr-s---", 0o750 | fs.ModeSetgid},
		{"rwSr--r--", 0o644 | fs.ModeSetuid},
		{"rwxrwx--T", 0o770 | fs.ModeSticky},
		{"rwsrwsrwt", 0o777 | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky},
		{"--S--S--T", fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got, err := ParseMode(tt.in); err != nil || got != tt.want {
				t.Errorf("ParseMode(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseModeRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"eight characters", "rw-r--r-"},
		{"ten characters", "-rw-r--r--"},
		{"with a file type", "drwxr-xr-x"},
		{"upper-case letter", "RW-r--r--"},
		{"letters out of place", "wr-r--r--"},
		{"x where r stands", "xw-r--r--"},
		{"s where r stands", "sw-r--r--"},
		{"t in the owner's execute", "rwtr--r--"},
		{"t in the group's execute", "rw-r-tr--"},
		{"s in the others' execute", "rw-r--r-s"},
		{"S in the others' execute", "rw-r--r-S"},
		{"unknown letter", "rw-r--r-z"},
		{"eight in octal", "0648"},
		{"five octal digits", "10000"},
		{"octal and junk", "07777x"},
		{"hexadecimal", "0x1ed"},
		{"go octal prefix", "0o644"},
		{"sign", "-644"},
		{"plus", "+644"},
		{"space before", " 0644"},
		{"space after", "0644 "},
		{"newline", "0644\n"},
		{"symbolic with space", "rw-r--r-- "},
		{"multibyte", "rw-r--r–"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMode(tt.in)
			if err == nil {
				t.Fatalf("ParseMode(%q) = %v, want an error", tt.in, m)
			}
			msg := err.Error()
			if !strings.Contains(msg, fmt.Sprintf("%q", tt.in)) || !strings.Contains(msg, `"0644"`) || !strings.Contains(msg, `"rw-r--r--"`) {
				t.Errorf("ParseMode(%q) error %q: want the mode quoted and both forms shown", tt.in, msg)
			}
		})
	}
}
