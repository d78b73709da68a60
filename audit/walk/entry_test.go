package walk

import (
	"archive/tar"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

type fakeInfo struct {
	mode fs.FileMode
	sys  any
}

func (f fakeInfo) Name() string       { return "x" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return f.sys }

type owned struct{}

func (owned) Owner() (uint32, uint32) { return 7, 8 }

func TestNewEntryOwnership(t *testing.T) {
	tests := []struct {
		name     string
		sys      any
		uid, gid uint32
		known    bool
	}{
		{"stat_t", &syscall.Stat_t{Uid: 1000, Gid: 33}, 1000, 33, true},
		{"tar header", &tar.Header{Uid: 42, Gid: 43}, 42, 43, true},
		{"tar header with a negative id", &tar.Header{Uid: -1, Gid: 0}, 0, 0, false},
		{"tar header beyond 32 bits", &tar.Header{Uid: 1 << 33, Gid: 0}, 0, 0, false},
		{"ownership interface", owned{}, 7, 8, true},
		{"no stat data (MemMapFs)", nil, 0, 0, false},
		{"unknown backend", struct{}{}, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEntry("/p", "p", fakeInfo{mode: 0o644, sys: tt.sys})
			if e.UID != tt.uid || e.GID != tt.gid || e.OwnerKnown != tt.known {
				t.Errorf("owner %d:%d known %v, want %d:%d known %v", e.UID, e.GID, e.OwnerKnown, tt.uid, tt.gid, tt.known)
			}
		})
	}
}

func TestNewEntryModeAndType(t *testing.T) {
	tests := []struct {
		mode     fs.FileMode
		wantType Type
		wantMode fs.FileMode
	}{
		{0o644, TypeFile, 0o644},
		{fs.ModeDir | fs.ModeSetgid | 0o2775, TypeDir, fs.ModeSetgid | 0o775},
		{fs.ModeSymlink | 0o777, TypeSymlink, 0o777},
		{fs.ModeNamedPipe | 0o600, TypeFIFO, 0o600},
		{fs.ModeSocket | 0o755, TypeSocket, 0o755},
		{fs.ModeDevice | fs.ModeCharDevice | 0o666, TypeCharDevice, 0o666},
		{fs.ModeDevice | 0o660, TypeBlockDevice, 0o660},
		{fs.ModeIrregular, TypeOther, 0},
	}
	for _, tt := range tests {
		e := NewEntry("/p", "p", fakeInfo{mode: tt.mode})
		if e.Type != tt.wantType || e.Mode != tt.wantMode {
			t.Errorf("mode %v: type %s mode %v, want %s %v", tt.mode, e.Type, e.Mode, tt.wantType, tt.wantMode)
		}
	}
}

// The boundary reads the real file system's owner, not uid 0, even for a file the tests made.
func TestNewEntryOnOsFs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEntry(p, "f", fi)
	if !e.OwnerKnown || e.UID != uint32(os.Geteuid()) || e.GID != uint32(os.Getegid()) {
		t.Errorf("owner %d:%d known %v, want %d:%d", e.UID, e.GID, e.OwnerKnown, os.Geteuid(), os.Getegid())
	}
}
