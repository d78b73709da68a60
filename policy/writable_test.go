package policy

import (
	"strings"
	"testing"
)

// --writable GLOB marks the directories it names, and all below them, writable, with PHP to
// write the directories; a bad glob is an error that names it.
func TestWritableRules(t *testing.T) {
	rules, err := WritableRules([]string{"wp-content/uploads", "sites/*/files/**", "cache/"})
	if err != nil {
		t.Fatal(err)
	}
	p := Default()
	p.Rules = append(p.Rules, rules...)
	const asDefault = Need(255) // PHP's need as the default policy has it
	for _, tc := range []struct {
		rel      string
		dir      bool
		writable bool
		php      Need
	}{
		{"wp-content/uploads", true, true, NeedWrite},
		{"wp-content/uploads/2026/12", true, true, NeedWrite},
		{"wp-content/uploads/2026/12/a.jpg", false, true, asDefault},
		{"wp-content/themes", true, false, asDefault},
		{"sites/default/files/x.png", false, true, asDefault},
		{"sites/default/files", true, true, NeedWrite},
		{"cache", true, true, NeedWrite},
		{"index.php", false, false, asDefault},
	} {
		if tc.php == asDefault {
			tc.php = Default().For(tc.rel, "", tc.dir).PHP
		}
		s := p.For(tc.rel, "", tc.dir)
		if s.Writable != tc.writable || s.PHP != tc.php {
			t.Errorf("%s: writable %v, php %s; want %v, %s", tc.rel, s.Writable, s.PHP, tc.writable, tc.php)
		}
	}
	for _, bad := range []string{"", "/", "uploads/[a-", "../up", "a//b"} {
		if _, err := WritableRules([]string{bad}); err == nil || !strings.Contains(err.Error(), "--writable") {
			t.Errorf("--writable %q: %v, want an error naming it", bad, err)
		}
	}
}
