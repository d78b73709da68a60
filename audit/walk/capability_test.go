package walk

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
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
