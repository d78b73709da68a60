package audit

import (
	"bytes"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// netBindService is what `setcap cap_net_bind_service=ep` writes.
var netBindService = Capabilities{Version: 2, Permitted: 1 << 10, Effective: true}

func TestParseCapabilities(t *testing.T) {
	tests := []struct {
		name, hex string
		want      Capabilities
		text, err string
	}{
		{"v2 cap_net_bind_service=ep", "01000002" + "00040000" + "00000000" + "00000000" + "00000000", netBindService, "cap_net_bind_service=ep", ""},
		{"v3 with a namespace root", "01000003" + "00200000" + "00000000" + "00000000" + "00000000" + "e8030000",
			Capabilities{Version: 3, Permitted: 1 << 13, Effective: true, RootID: 1000}, "cap_net_raw=ep [rootid=1000]", ""},
		{"v1, permitted and inheritable apart", "00000001" + "21000000" + "01000000",
			Capabilities{Version: 1, Permitted: 0x21, Inheritable: 0x01}, "cap_chown=ip cap_kill=p", ""},
		{"high word: cap_bpf, not effective", "00000002" + "00000000" + "00000000" + "80000000" + "00000000",
			Capabilities{Version: 2, Permitted: 1 << 39}, "cap_bpf=p", ""},
		{"a capability without a name", "00000002" + "00000000" + "00000000" + "00000080" + "00000000",
			Capabilities{Version: 2, Permitted: 1 << 63}, "63=p", ""},
		{"empty sets", "00000002" + strings.Repeat("00", 16), Capabilities{Version: 2}, "=", ""},
		{"too short", "0000", Capabilities{}, "", "security.capability of 2 bytes: too short for a vfs_cap_data header"},
		{"v2 header, v1 size", "01000002" + "00040000" + "00000000", Capabilities{}, "", "security.capability of 12 bytes: vfs_cap_data revision 2 has 20"},
		{"unknown revision", "01000004" + strings.Repeat("00", 20), Capabilities{}, "", "security.capability: unknown vfs_cap_data revision 0x4"},
		{"unknown flag", "02000002" + strings.Repeat("00", 16), Capabilities{}, "", "security.capability: unknown flags 0x2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(tt.hex)
			if err != nil {
				t.Fatal(err)
			}
			c, err := ParseCapabilities(b)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c != tt.want || c.String() != tt.text {
				t.Errorf("%+v %q, want %+v %q", c, c, tt.want, tt.text)
			}
			if !bytes.Equal(c.Bytes(), b) {
				t.Errorf("encoded back as %x, want %x", c.Bytes(), b)
			}
		})
	}
}

// ParseCapabilities never panics, and what it accepts it encodes back byte for byte.
func FuzzParseCapabilities(f *testing.F) {
	f.Add(netBindService.Bytes())
	f.Add(Capabilities{Version: 3, Permitted: ^uint64(0), Inheritable: 1, RootID: 7}.Bytes())
	f.Add(Capabilities{Version: 1, Inheritable: 3}.Bytes())
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCapabilities(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), CapabilityXattr) {
				t.Errorf("error %q does not name the attribute", err)
			}
			return
		}
		if !c.Has() || c.String() == "" {
			t.Errorf("%x decodes as no capabilities", b)
		}
		if !bytes.Equal(c.Bytes(), b) {
			t.Errorf("%x encodes back as %x", b, c.Bytes())
		}
	})
}

// A file with capabilities is reported as a setuid file is, with its capabilities named and no
// fix: no plan changes capabilities. Others are not.
func TestCapabilitiesOnRealFiles(t *testing.T) {
	if !asRoot {
		t.Skip("needs root: writing security.capability takes CAP_SETFCAP")
	}
	fsys := afero.NewOsFs()
	root := fixture.Tree(t, fsys, "d 0755 0:0 .\nf 0755 0:0 ping\nf 4755 0:0 both\nf 0755 0:0 plain\nf 0644 0:0 index.html\n")
	for name, c := range map[string]Capabilities{
		"ping": netBindService,
		"both": {Version: 3, Permitted: 1<<13 | 1<<10, Inheritable: 1 << 13},
	} {
		if err := unix.Lsetxattr(filepath.Join(root, name), CapabilityXattr, c.Bytes(), 0); err != nil {
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
