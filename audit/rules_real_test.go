package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
)

// Every rule of the default policy, firing and not firing, on a real tree: real chmod, real
// symlinks, a real named pipe and socket.
func TestRulesOnRealTree(t *testing.T) {
	root := fixture.Tree(t, afero.NewOsFs(), `
d 0755 1000:1000 .
f 0640 1000:1000 ok-0640.php
f 0644 1000:1000 ok-0644.php
f 0664 1000:1000 group-writable.php
f 0755 1000:1000 executable.php
d 0777 1000:1000 open-dir
d 1777 1000:1000 sticky-dir
f 0666 1000:1000 open-file.html
d 0750 1000:1000 ok-dir-0750
d 2755 1000:1000 setgid-dir
f 2644 1000:1000 setgid-file
f 4644 1000:1000 setuid-file
f 0644 1000:1000 wp-config.php
f 0640 1000:1000 .env
f 0660 1000:1000 .htpasswd
f 0600 1000:1000 site.key
f 0604 1000:1000 dump.sql.gz
f 0604 1000:1000 empty-schema.sql
d 0755 1000:1000 .git
f 0644 1000:1000 .git/HEAD
d 0750 1000:1000 .svn
p 0600 1000:1000 pipe
s 0600 1000:1000 sock
l 0777 1000:1000 passwd-link /etc/passwd
l 0777 1000:1000 inside-link ok-0644.php
l 0777 1000:1000 dangling gone.php
l 0777 1000:1000 loop loop
l 0777 1000:1000 up-link ../outside
d 0755 1000:1000 sub
l 0777 1000:1000 sub/back ../ok-0644.php
`)
	want := map[string][]string{
		"group-writable.php": {"mode-too-open"},
		"executable.php":     {"mode-too-open"},
		"open-dir":           {"world-writable"},
		"sticky-dir":         {"world-writable"},
		"open-file.html":     {"world-writable"},
		"setgid-file":        {"setuid-setgid"},
		"setuid-file":        {"setuid-setgid"},
		"wp-config.php":      {"sensitive-exposed"},
		".htpasswd":          {"mode-too-open"},
		"dump.sql.gz":        {"sensitive-exposed"},
		".git":               {"sensitive-exposed"},
		"pipe":               {"special-file"},
		"sock":               {"special-file"},
		"passwd-link":        {"symlink-escapes-root"},
		"dangling":           {"dangling-symlink"},
		"loop":               {"dangling-symlink"},
		"up-link":            {"dangling-symlink", "symlink-escapes-root"},
	}
	rep := auditTree(t, afero.NewOsFs(), root, 4)
	got := rulesByRel(rep)
	checkRules(t, got, want)
	if rep.Entries != 30 || len(rep.Errors) != 0 {
		t.Errorf("entries %d, errors %v; want 30 entries and no errors", rep.Entries, rep.Errors)
	}
	for _, f := range rep.Findings {
		if f.Entry.Rel == "loop" && !strings.Contains(f.Message, "loops") {
			t.Errorf("loop: message %q does not say the link loops", f.Message)
		}
	}
}

func TestUnknownOwnerOnRealTree(t *testing.T) {
	if !asRoot {
		t.Skip("setting a file's owner to uid 4242 needs root")
	}
	root := fixture.Tree(t, afero.NewOsFs(), `
d 0755 1000:1000 .
f 0644 4242:1000 orphan-user.php
f 0644 1000:4343 orphan-group.php
f 0644 1000:1000 known.php
l 0777 4242:4242 orphan-link known.php
`)
	got := rulesByRel(auditTree(t, afero.NewOsFs(), root, 1))
	for _, rel := range []string{"orphan-user.php", "orphan-group.php", "orphan-link"} {
		if !slices.Equal(got[rel], []string{"unknown-owner"}) {
			t.Errorf("%s: got %v, want unknown-owner", rel, got[rel])
		}
	}
	if len(got["known.php"]) != 0 {
		t.Errorf("known.php: got %v", got["known.php"])
	}
}
