package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/webperm/webperm/internal/fixture"
)

// A reviewed JSON plan of a site a real unprivileged user owns, edited as a careless reviewer
// might: each edit that would hand the web server or a group write, or grant a set-id bit, is
// refused on its own and named; the unedited action is made; exit status 4.
func TestEditedPlanRefusals(t *testing.T) {
	h := newHostile(t)
	bin := buildWebperm(t)
	files := map[string]uint32{"index.php": 0o666, "page.html": 0o600, "style.css": 0o666, "shared": 0o777}
	for name, mode := range files {
		p := filepath.Join(h.site, name)
		if name == "shared" {
			h.run(t, "mkdir "+p)
		} else {
			h.run(t, "echo x > "+p)
		}
		h.run(t, fmt.Sprintf("chmod %o %s", mode, p))
	}
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	if r := runWebperm(t, bin, "plan", "--format", "json", "-o", planFile, "--web-user", webUser, h.site); r.code != 1 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	wwwData := lookupGID(t, webUser)
	edits := map[string]struct {
		target fixture.Target
		refuse string
	}{
		"index.php": {fixture.Target{Mode: "0664", GID: wwwData}, "web-writable-code"}, // a chgrp that hands www-data write to code
		"page.html": {fixture.Target{Mode: "2644", GID: -1}, "setgid bit"},
		"shared":    {fixture.Target{Mode: "0773", GID: -1}, "world-writable"},
	}
	targets := map[string]fixture.Target{}
	for name, e := range edits {
		targets[name] = e.target
	}
	if err := fixture.EditTargets(planFile, targets); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, h.site)
	r := runWebperm(t, bin, "fix", "--apply", "--plan", planFile, "--journal", filepath.Join(dir, "journal.jsonl"))
	if r.code != 4 {
		t.Fatalf("fix --apply --plan of an edited plan: exit %d, want 4\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	after := snapshot(t, h.site)
	for name, e := range edits {
		p := filepath.Join(h.site, name)
		line := ""
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.HasPrefix(l, "failed   "+p+": ") {
				line = l
			}
		}
		if !strings.Contains(line, e.refuse) || !strings.Contains(line, "refused") {
			t.Errorf("%s: want it refused for %s, got %q\n%s", name, e.refuse, line, r.stdout)
		}
		if after[p] != before[p] {
			t.Errorf("%s changed though refused: %s, was %s", name, after[p], before[p])
		}
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(h.site, "style.css"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o7777 != 0o644 || int(st.Uid) != h.uid {
		t.Errorf("style.css, not edited, is %04o %d:%d; want the plan's 0644, still %s's", st.Mode&0o7777, st.Uid, st.Gid, h.name)
	}
}
