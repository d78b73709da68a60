package policy

import (
	"io/fs"
	"testing"
)

func TestModeForms(t *testing.T) {
	tests := []struct {
		octal    string
		mode     fs.FileMode
		symbolic string
	}{
		{"0644", 0o644, "rw-r--r--"},
		{"0755", 0o755, "rwxr-xr-x"},
		{"0000", 0, "---------"},
		{"4755", 0o755 | fs.ModeSetuid, "rwsr-xr-x"},
		{"4644", 0o644 | fs.ModeSetuid, "rwSr--r--"},
		{"2755", 0o755 | fs.ModeSetgid, "rwxr-sr-x"},
		{"1777", 0o777 | fs.ModeSticky, "rwxrwxrwt"},
		{"1770", 0o770 | fs.ModeSticky, "rwxrwx--T"},
		{"7777", 0o777 | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky, "rwsrwsrwt"},
	}
	for _, tt := range tests {
		t.Run(tt.octal, func(t *testing.T) {
			m, err := ParseOctalMode(tt.octal)
			if err != nil || m != tt.mode {
				t.Fatalf("ParseOctalMode(%q) = %v, %v; want %v", tt.octal, m, err, tt.mode)
			}
			if got := OctalMode(tt.mode); got != tt.octal {
				t.Errorf("OctalMode = %q, want %q", got, tt.octal)
			}
			if got := SymbolicMode(tt.mode); got != tt.symbolic {
				t.Errorf("SymbolicMode = %q, want %q", got, tt.symbolic)
			}
		})
	}
	for _, bad := range []string{"", "0x644", "0648", "07777x", "10000", "-644", "rw-r--r--"} {
		if _, err := ParseOctalMode(bad); err == nil {
			t.Errorf("ParseOctalMode(%q) accepted a bad mode", bad)
		}
	}
	if m, _ := ParseOctalMode("644"); m != 0o644 {
		t.Errorf("three digits: %v", m)
	}
}

func FuzzParseOctalMode(f *testing.F) {
	for _, s := range []string{"0644", "4755", "1777", "", "9", "0o644", "-1", "77777"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseOctalMode(s)
		if err != nil {
			return
		}
		if m&^ModeBits != 0 {
			t.Fatalf("ParseOctalMode(%q) = %v: bits beyond permissions and special bits", s, m)
		}
		back, err := ParseOctalMode(OctalMode(m))
		if err != nil || back != m {
			t.Fatalf("round trip of %q: %v -> %q -> %v, %v", s, m, OctalMode(m), back, err)
		}
	})
}
