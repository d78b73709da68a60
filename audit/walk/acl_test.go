package walk

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

func TestParseACL(t *testing.T) {
	raw := func(words ...uint32) []byte {
		b := binary.LittleEndian.AppendUint32(nil, 2)
		for i := 0; i+2 < len(words); i += 3 {
			b = binary.LittleEndian.AppendUint16(b, uint16(words[i]))
			b = binary.LittleEndian.AppendUint16(b, uint16(words[i+1]))
			b = binary.LittleEndian.AppendUint32(b, words[i+2])
		}
		return b
	}
	const undef = ^uint32(0)
	good := raw(0x01, 7, undef, 0x02, 5, 33, 0x04, 5, undef, 0x10, 5, undef, 0x20, 0, undef)
	a, err := ParseACL(good)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.String(), "user::rwx,user:33:r-x,group::r-x,mask::r-x,other::---"; got != want {
		t.Errorf("decoded %q, want %q", got, want)
	}
	for _, bad := range []struct {
		name string
		b    []byte
		err  string
	}{
		{"empty", nil, "shorter than its header"},
		{"version 1", append([]byte{1, 0, 0, 0}, good[4:]...), "version 1"},
		{"torn entry", good[:len(good)-3], "not a whole number"},
		{"unknown tag", raw(0x40, 7, undef), "unknown entry tag 0x40"},
		{"permission out of range", raw(0x01, 8, undef), "out of range"},
		{"permission beyond eight bits", raw(0x01, 0x104, undef), "out of range"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			if _, err := ParseACL(bad.b); err == nil || !strings.Contains(err.Error(), bad.err) {
				t.Errorf("error %v, want one containing %q", err, bad.err)
			}
		})
	}
}

// TestParseACLTextReadsString reads back what String writes, and refuses what it never writes.
func TestParseACLTextReadsString(t *testing.T) {
	a := &ACL{Entries: []ACLEntry{
		{Tag: ACLUserObj, Perm: 7}, {Tag: ACLUser, ID: 33, Perm: 5}, {Tag: ACLGroupObj, Perm: 4},
		{Tag: ACLGroup, ID: 4294967295, Perm: 2}, {Tag: ACLMask, Perm: 6}, {Tag: ACLOther, Perm: 1},
	}}
	got, err := ParseACLText(a.String())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Entries, a.Entries) {
		t.Errorf("ParseACLText(%q) = %v, want %v", a.String(), got.Entries, a.Entries)
	}
	for _, bad := range []string{"", "user::rw", "user::rwz", "mask:33:rwx", "other:x:r--", "owner::rwx", "user:-1:r--", "user::r--,"} {
		if _, err := ParseACLText(bad); err == nil {
			t.Errorf("ParseACLText(%q) took it", bad)
		}
	}
}
