package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/webperm/webperm/internal/fixture"
	"golang.org/x/sys/unix"
)

// TestAuditWholeHost audits / as a sysadmin might: the walk must not enter /proc or /sys (nor any
// other pseudo file system), each is one line of the report's skipped list, and no finding or
// error names anything below them. The bound only guards against a hang: the time such an audit
// takes grows with the real files on the host, and is measured by make bench, not here.
func TestAuditWholeHost(t *testing.T) {
	if os.Geteuid() != 0 {
		fixture.Unavailable(t, "auditing / needs root, to read the whole host")
	}
	for dir, magic := range map[string]int64{"/proc": unix.PROC_SUPER_MAGIC, "/sys": unix.SYSFS_MAGIC} {
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err != nil || int64(st.Type) != magic {
			fixture.Unavailable(t, dir+" is not mounted as the kernel's own file system here")
		}
	}
	bin := buildWebperm(t)
	r := runWebpermBounded(t, 30*time.Minute, bin, "audit", "--format", "json", "--color", "never", "/")
	if r.code != 0 && r.code != 1 && r.code != 3 {
		t.Fatalf("webperm audit /: exit %d, want 0, 1 or 3\n%s", r.code, r.stderr)
	}
	var rep struct {
		Findings []struct{ Path string } `json:"findings"`
		Errors   []struct{ Path string } `json:"errors"`
		Skipped  []struct {
			Path   string `json:"path"`
			FsType string `json:"fstype"`
			Reason string `json:"reason"`
		} `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("webperm audit / wrote no JSON report: %v\n%s", err, r.stderr)
	}
	want := map[string]string{"/proc": "proc", "/sys": "sysfs"}
	for _, s := range rep.Skipped {
		if fstype, ok := want[s.Path]; ok {
			if s.FsType != fstype || s.Reason != "pseudo file system" {
				t.Errorf("%s skipped as %s (%s), want %s (pseudo file system)", s.Path, s.FsType, s.Reason, fstype)
			}
			delete(want, s.Path)
		}
	}
	for dir := range want {
		t.Errorf("%s is not listed as skipped: %+v", dir, rep.Skipped)
	}
	below := func(p string) bool { return strings.HasPrefix(p, "/proc/") || strings.HasPrefix(p, "/sys/") }
	for _, f := range rep.Findings {
		if below(f.Path) {
			t.Errorf("finding below a pseudo file system: %s", f.Path)
		}
	}
	for _, e := range rep.Errors {
		if below(e.Path) {
			t.Errorf("error below a pseudo file system: %s", e.Path)
		}
	}
}
