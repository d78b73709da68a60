package policy

import (
	"io/fs"
	"testing"
)

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		glob, rel string
		isDir     bool
		want      bool
	}{
		{"wp-config.php", "wp-config.php", false, true},
		{"wp-config.php", "blog/wp-config.php", false, true},                    // no slash: any depth
		{"wp-config.php", "wp-config.php.txt", false, false},                    // whole name only
		{"*.key", "ssl/private/site.key", false, true},                          // star within the name
		{".env.*", ".env.production", false, true},                              // leading dot is literal
		{".env.*", ".env", false, false},                                        // needs the suffix
		{".git/", ".git", true, true},                                           // trailing slash: directories
		{".git/", ".git", false, false},                                         // ... and nothing else
		{".git/", "vendor/lib/.git", true, true},                                // at any depth
		{"wp-content/uploads/**", "wp-content/uploads/2024/a.jpg", false, true}, // slash: anchored
		{"wp-content/uploads/**", "x/wp-content/uploads/a.jpg", false, false},
		{"*~", "index.php~", false, true},
		{"*.sql.gz", "dump.sql.gz", false, true},
		{"id_rsa*", "home/.ssh/id_rsa.pub", false, true},
		{"*.key", ".", true, false}, // the root has no name to match
	}
	for _, tt := range tests {
		if got := matchGlob(tt.glob, tt.rel, tt.isDir); got != tt.want {
			t.Errorf("matchGlob(%q, %q, dir=%v) = %v, want %v", tt.glob, tt.rel, tt.isDir, got, tt.want)
		}
	}
}

func TestForLastMatchWins(t *testing.T) {
	p := &Policy{Rules: []Rule{
		{FileMax: mode(0o644), DirMax: mode(0o755)},
		{Paths: []string{"uploads/**"}, FileMax: mode(0o664), Severity: map[RuleID]Severity{ModeTooOpen: Low}},
		{Paths: []string{"uploads/private/**"}, FileMax: mode(0o600), Sensitive: boolean(true)},
	}}
	tests := []struct {
		rel           string
		wantFile      fs.FileMode
		wantSensitive bool
		wantSeverity  Severity
	}{
		{"index.php", 0o644, false, Medium},
		{"uploads/a.jpg", 0o664, false, Low},
		{"uploads/private/cv.pdf", 0o600, true, Low}, // a later rule leaves earlier fields it does not set
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			s := p.For(tt.rel, false)
			if s.FileMax != tt.wantFile || s.Sensitive != tt.wantSensitive || s.Severity(ModeTooOpen) != tt.wantSeverity {
				t.Errorf("For(%q) = file max %04o sensitive %v severity %s, want %04o %v %s",
					tt.rel, s.FileMax, s.Sensitive, s.Severity(ModeTooOpen), tt.wantFile, tt.wantSensitive, tt.wantSeverity)
			}
			if s.DirMax != 0o755 {
				t.Errorf("DirMax = %04o, want 0755 from the first rule", s.DirMax)
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
		if s := p.For(rel, false); !s.Sensitive || s.FileMax != 0o640 {
			t.Errorf("%s: sensitive %v, file max %04o; want sensitive at 0640", rel, s.Sensitive, s.FileMax)
		}
	}
	if s := p.For(".git", true); !s.Sensitive || s.DirMax != 0o750 {
		t.Errorf(".git/: sensitive %v, dir max %04o; want sensitive at 0750", s.Sensitive, s.DirMax)
	}
	if s := p.For(".git/config", false); s.Sensitive {
		t.Error(".git/config is held as sensitive; the closed .git directory already closes it")
	}
	if s := p.For("wp-content/index.php", false); s.Sensitive || s.FileMax != 0o644 {
		t.Errorf("index.php: sensitive %v, file max %04o; want plain 0644", s.Sensitive, s.FileMax)
	}
	if s := p.For("shared", true); s.DirMax != 0o755|fs.ModeSetgid {
		t.Errorf("directories: max %v, want 0755 with setgid allowed", s.DirMax)
	}
}

func TestValidateRejectsBadGlob(t *testing.T) {
	p := &Policy{Rules: []Rule{{Paths: []string{"uploads/[a-"}}}}
	if err := p.Validate(); err == nil {
		t.Fatal("Validate accepted an unterminated character class")
	}
}

func TestSeverity(t *testing.T) {
	for _, s := range Severities() {
		got, err := ParseSeverity(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSeverity(%q) = %v, %v", s, got, err)
		}
	}
	if got, err := ParseSeverity("HIGH"); err != nil || got != High {
		t.Errorf("ParseSeverity is case-sensitive: %v, %v", got, err)
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("ParseSeverity accepted an unknown name")
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
