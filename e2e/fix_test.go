package e2e

import (
	"bytes"
	"encoding/json"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestServersServeWhatTheFixOpened fixes the docroot with webperm fix --apply and asks nginx and
// Apache again: every 403 left must be one webperm still predicts and one its plan left to a
// person (an ACL's mask), and the 403s the plan claimed to fix must be gone. Then undo brings
// every 403 back.
func TestServersServeWhatTheFixOpened(t *testing.T) {
	tl := requireEnvironment(t)
	gids := map[string]int{"root": 0, webUser: lookupGID(t, webUser), testGroup: joinTestGroup(t, tl)}
	docroot := makeDocroot(t, tl, gids)
	bin := buildWebperm(t)
	roots := []string{filepath.Join(docroot, "site"), filepath.Join(docroot, "home", "public_html")}
	files := regularFiles(t, docroot)
	before := audit(t, bin, roots...)

	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	manual := fix(t, bin, journal, roots)
	after := audit(t, bin, roots...)

	for i := range servers {
		s := &servers[i]
		t.Run(s.name, func(t *testing.T) {
			srv := s.start(t, tl, docroot)
			srv.requireServing(t, "site/index.html")
			answered := srv.answers(t, files)
			t.Logf("after the fix, %s answered 403 for:\n\t%s", s.name, strings.Join(slices.Sorted(maps.Keys(answered)), "\n\t"))
			if diff := setDiff(after.forbidden(s, docroot, files), answered); diff != "" {
				t.Errorf("after the fix, webperm's prediction differs from %s's answers:\n%s\n%s", s.name, diff, srv.logs())
			}
			wasForbidden := before.forbidden(s, docroot, files)
			opened := 0
			for rel := range wasForbidden {
				if !answered[rel] {
					opened++
				}
			}
			if opened == 0 {
				t.Errorf("the fix opened none of the %d files %s refused", len(wasForbidden), s.name)
			}
			for rel := range answered {
				abs := filepath.Join(docroot, filepath.FromSlash(rel))
				if !wasForbidden[rel] {
					t.Errorf("%s: %s refuses it after the fix, but served it before", rel, s.name)
				} else if !leftToPerson(manual, abs, s) {
					t.Errorf("%s: %s still refuses it, yet the plan did not leave it to a person", rel, s.name)
				}
			}
		})
	}

	if out, err := exec.Command(bin, "undo", journal).CombinedOutput(); err != nil {
		t.Fatalf("webperm undo: %v\n%s", err, out)
	}
	if undone := audit(t, bin, roots...); !slices.Equal(findingKeys(undone), findingKeys(before)) {
		t.Errorf("after undo the findings are\n%v\nwant as before the fix\n%v", findingKeys(undone), findingKeys(before))
	}
}

// fix applies webperm's plan for roots, ancestors included, and returns the paths it left to a
// person.
func fix(t *testing.T, bin, journal string, roots []string) map[string]bool {
	t.Helper()
	planArgs := append([]string{"plan", "--format", "json", "--web-user", webUser}, roots...)
	out, err := exec.Command(bin, planArgs...).Output()
	if err != nil && !isExit(err, 1) {
		t.Fatalf("webperm plan: %v", err)
	}
	var plan struct {
		Manual []struct {
			Path string `json:"path"`
		} `json:"manual"`
	}
	if err := json.Unmarshal(out, &plan); err != nil {
		t.Fatalf("webperm's plan is not JSON: %v\n%s", err, out)
	}
	manual := map[string]bool{}
	for _, m := range plan.Manual {
		manual[m.Path] = true
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append([]string{"fix", "--apply", "--include-ancestors", "--journal", journal, "--web-user", webUser}, roots...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("webperm fix --apply: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	t.Logf("webperm fix --apply:\n%s", stdout.String())
	return manual
}

// leftToPerson reports whether the plan left abs to a person: abs itself, or for a server that
// reads .htaccess files, an .htaccess of a directory above it (one that is a directory, or a
// symlink, is no chmod's to fix).
func leftToPerson(manual map[string]bool, abs string, s *server) bool {
	if manual[abs] {
		return true
	}
	for dir := filepath.Dir(abs); s.readsHtaccess && dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if manual[filepath.Join(dir, ".htaccess")] {
			return true
		}
	}
	return false
}

func isExit(err error, code int) bool {
	ee, ok := err.(*exec.ExitError)
	return ok && ee.ExitCode() == code
}

// findingKeys lists a report's findings as "path rule", in order.
func findingKeys(r *report) []string {
	out := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		out[i] = f.Path + " " + f.Rule
	}
	return out
}
