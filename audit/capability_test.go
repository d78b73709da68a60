package audit

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// netBindService is what `setcap cap_net_bind_service=ep` writes.
var netBindService = walk.Capabilities{Version: 2, Permitted: 1 << 10, Effective: true}

// A file with capabilities is reported as a setuid file is, with its capabilities named and no
// fix: no plan changes capabilities. Others are not.
func TestCapabilitiesOnRealFiles(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: writing security.capability takes CAP_SETFCAP")
	}
	fsys := afero.NewOsFs()
	root := fixture.Tree(t, fsys, "d 0755 0:0 .\nf 0755 0:0 ping\nf 4755 0:0 both\nf 0755 0:0 plain\nf 0644 0:0 index.html\n")
	for name, c := range map[string]walk.Capabilities{
		"ping": netBindService,
		"both": {Version: 3, Permitted: 1<<13 | 1<<10, Inheritable: 1 << 13},
	} {
		if err := unix.Lsetxattr(filepath.Join(root, name), walk.CapabilityXattr, c.Bytes(), 0); err != nil {
			t.Skipf("cannot set capabilities on %s: %v (the temp dir's file system keeps no security attributes)", name, err)
		}
	}
	rep := auditAs(t, fsys, root, webUser(), nil, policy.Default())
	if len(rep.Errors) != 0 {
		t.Fatalf("errors: %v", rep.Errors)
	}
	want := map[string]string{
		"ping": "file capabilities cap_net_bind_service=ep: whoever runs it gains them, as a setuid bit would give them (mode 0755)",
		"both": "setuid: whoever runs it runs as uid 0; file capabilities cap_net_bind_service=p cap_net_raw=ip: whoever runs it gains them",
	}
	for _, f := range rep.Findings {
		if f.Rule != policy.SetuidSetgid {
			continue
		}
		msg, ok := want[f.Entry.Rel]
		if !ok {
			t.Errorf("%s: setuid-setgid %q, want none", f.Entry.Rel, f.Message)
			continue
		}
		delete(want, f.Entry.Rel)
		if !strings.HasPrefix(f.Message, msg) || f.Severity != policy.High {
			t.Errorf("%s: %s %q, want high %q", f.Entry.Rel, f.Severity, f.Message, msg)
		}
		if f.Fix != nil {
			t.Errorf("%s: fix %+v, want none: a person decides on capabilities", f.Entry.Rel, f.Fix)
		}
		if !f.Entry.Capabilities.Has() {
			t.Errorf("%s: the finding's entry has no capabilities", f.Entry.Rel)
		}
	}
	for rel := range want {
		t.Errorf("%s: no setuid-setgid finding", rel)
	}
}
