package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The rules whose findings predict a 403.
const (
	ruleUnreadable    = "web-unreadable"      // on a file the web user cannot read
	ruleUntraversable = "web-untraversable"   // on the first directory it cannot search
	ruleHtaccess      = "htaccess-unreadable" // on a .htaccess it cannot read
)

// report is the part of webperm's JSON report this test reads.
type report struct {
	Schema   string `json:"schema"`
	Findings []struct {
		Rule string `json:"rule"`
		Path string `json:"path"`
	} `json:"findings"`
	Errors []struct {
		Path  string `json:"path"`
		Error string `json:"error"`
	} `json:"errors"`
}

// buildWebperm builds the binary from this checkout, so the test audits with the code under test.
func buildWebperm(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "webperm")
	// -buildvcs=false: stamping needs git, which refuses a checkout another user owns.
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", bin, "github.com/webperm/webperm/cmd/webperm")
	cmd.Dir = ".." // the module root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building webperm: %v\n%s", err, out)
	}
	return bin
}

// audit runs webperm on roots. Exit status 1 only means findings; 2 and 3 mean the audit did not
// read everything, so its findings cannot be trusted to be complete.
func audit(t *testing.T, bin string, roots ...string) *report {
	t.Helper()
	args := append([]string{"audit", "--format", "json", "--web-user", webUser, "--color", "never"}, roots...)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("webperm %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("webperm's stderr:\n%s", stderr.String())
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("webperm's report is not JSON: %v\n%s", err, stdout.String())
	}
	if rep.Schema != "webperm/report/v1" {
		t.Fatalf("report schema %q, want webperm/report/v1", rep.Schema)
	}
	if len(rep.Errors) > 0 {
		t.Fatalf("webperm could not read everything: %+v", rep.Errors)
	}
	return &rep
}

// detectedWebUser audits root without --web-user and returns whom webperm took the web server for.
func detectedWebUser(t *testing.T, bin, root string) (u struct{ Name, Source, Evidence string }) {
	t.Helper()
	out, err := exec.Command(bin, "audit", "--format", "json", root).Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("webperm audit %s: %v", root, err)
	}
	var rep struct {
		WebUser struct {
			Name     string `json:"name"`
			Source   string `json:"source"`
			Evidence string `json:"evidence"`
		} `json:"web_user"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("webperm's report is not JSON: %v\n%s", err, out)
	}
	return struct{ Name, Source, Evidence string }(rep.WebUser)
}

// forbidden is the set of files, relative to docroot, that the report predicts s answers 403 for.
func (r *report) forbidden(s *server, docroot string, files []string) map[string]bool {
	refused := map[string]bool{} // files, by absolute path
	var closed []string          // directories refusing everything at and below them
	for _, f := range r.Findings {
		switch {
		case f.Rule == ruleUnreadable:
			refused[f.Path] = true
		case f.Rule == ruleUntraversable:
			closed = append(closed, f.Path)
		case f.Rule == ruleHtaccess && s.readsHtaccess:
			closed = append(closed, filepath.Dir(f.Path))
		case f.Rule == ruleHtaccess:
			refused[f.Path] = true
		}
	}
	out := map[string]bool{}
	for _, rel := range files {
		abs := filepath.Join(docroot, filepath.FromSlash(rel))
		if refused[abs] || slices.ContainsFunc(closed, func(dir string) bool { return within(abs, dir) }) {
			out[rel] = true
		}
	}
	return out
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}
