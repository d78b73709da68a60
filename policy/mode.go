package policy

import (
	"fmt"
	"io/fs"
	"strconv"
)

// ModeBits are the mode bits webperm reads, reports and sets: permissions plus setuid, setgid and
// sticky. Type bits are never part of a policy mode.
const ModeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// UnixMode returns m as the number chmod takes: permission bits with setuid 04000, setgid 02000
// and sticky 01000.
func UnixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

// FromUnix is the inverse of UnixMode; bits above 07777 are ignored.
func FromUnix(u uint32) fs.FileMode {
	m := fs.FileMode(u & 0o777)
	if u&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if u&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if u&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// OctalMode formats m as four octal digits, the form every webperm file format uses ("0644").
func OctalMode(m fs.FileMode) string {
	return fmt.Sprintf("%04o", UnixMode(m))
}

// ParseOctalMode reads an octal mode of one to four digits ("0644", "644", "4755").
func ParseOctalMode(s string) (fs.FileMode, error) {
	if s == "" || len(s) > 4 {
		return 0, fmt.Errorf("mode %q: want up to four octal digits, such as \"0644\"", s)
	}
	u, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return 0, fmt.Errorf("mode %q: want octal digits 0-7, such as \"0644\"", s)
	}
	return FromUnix(uint32(u)), nil
}

// SymbolicMode formats the permission and special bits as ls -l does ("rwsr-x--T").
func SymbolicMode(m fs.FileMode) string {
	b := []byte("rwxrwxrwx")
	for i := range b {
		if m&(1<<uint(8-i)) == 0 {
			b[i] = '-'
		}
	}
	special := func(set bool, at int, lower, upper byte) {
		if !set {
			return
		}
		if b[at] == 'x' {
			b[at] = lower
		} else {
			b[at] = upper
		}
	}
	special(m&fs.ModeSetuid != 0, 2, 's', 'S')
	special(m&fs.ModeSetgid != 0, 5, 's', 'S')
	special(m&fs.ModeSticky != 0, 8, 't', 'T')
	return string(b)
}
