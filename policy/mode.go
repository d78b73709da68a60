package policy

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
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

// ParseSymbolicMode reads a mode as ls -l shows it, without the type: nine characters such as
// "rw-r--r--" or "rwxr-s---" (s, S, t and T for the special bits, as SymbolicMode writes them).
func ParseSymbolicMode(s string) (fs.FileMode, error) {
	if len(s) != 9 {
		return 0, fmt.Errorf("mode %q: want nine characters such as \"rw-r--r--\"", s)
	}
	var m fs.FileMode
	for i := 0; i < 9; i++ {
		c, bit := s[i], fs.FileMode(1)<<uint(8-i)
		want := "rwx"[i%3]
		switch {
		case c == want:
			m |= bit
		case c == '-':
		case i%3 == 2 && specialChar(i, c) != 0:
			m |= specialChar(i, c)
			if c >= 'a' {
				m |= bit
			}
		default:
			return 0, fmt.Errorf("mode %q: %q cannot stand at position %d (want %c or -)", s, c, i+1, want)
		}
	}
	return m, nil
}

// specialChar returns the special bit character c means at position i (2, 5 or 8) of a symbolic
// mode: s or S for setuid and setgid, t or T for sticky; 0 if it means none.
func specialChar(i int, c byte) fs.FileMode {
	switch {
	case i == 2 && (c == 's' || c == 'S'):
		return fs.ModeSetuid
	case i == 5 && (c == 's' || c == 'S'):
		return fs.ModeSetgid
	case i == 8 && (c == 't' || c == 'T'):
		return fs.ModeSticky
	}
	return 0
}

// ParseMode reads a mode as policy files write it: octal ("0644") or symbolic ("rw-r--r--").
func ParseMode(s string) (fs.FileMode, error) {
	parse := ParseOctalMode
	if strings.Trim(s, "01234567") != "" {
		parse = ParseSymbolicMode
	}
	m, err := parse(s)
	if err != nil {
		return 0, fmt.Errorf("mode %q: want octal such as \"0644\" or symbolic such as \"rw-r--r--\"", s)
	}
	return m, nil
}
