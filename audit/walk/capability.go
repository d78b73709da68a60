package walk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// CapabilityXattr holds a file's capabilities (setcap), which whoever runs it gains as a setuid
// bit would give them: webperm treats them as set-id everywhere.
const CapabilityXattr = "security.capability"

// The vfs_cap_data header, as <linux/capability.h> lays it out: a little-endian magic word, the
// version in its high byte and the effective flag in its lowest bit, then a permitted and an
// inheritable word per 32 capabilities, and, from version 3, the uid the capabilities belong to
// in a user namespace.
const (
	capRevisionMask  = 0xff000000
	capFlagEffective = 0x000001
	capRevision1     = 0x01000000
	capRevision2     = 0x02000000
	capRevision3     = 0x03000000
	capSize1         = 4 + 8
	capSize2         = 4 + 16
	capSize3         = 4 + 16 + 4
	// CapabilityMaxSize is the largest value a valid security.capability holds.
	CapabilityMaxSize = capSize3
)

// Capabilities are a file's capability sets, decoded from its security.capability attribute.
// The zero value is a file without any.
type Capabilities struct {
	Version                uint8 // 1, 2 or 3; 0: none
	Permitted, Inheritable uint64
	// Effective raises the permitted capabilities at once when the file runs, as setcap's "e".
	Effective bool
	RootID    uint32 // version 3: the user namespace's root they were set for
}

// Has reports whether the file has capabilities at all.
func (c Capabilities) Has() bool { return c.Version != 0 }

// ParseCapabilities decodes a security.capability value. The kernel ignores a value it cannot
// decode, and so is such a value an error here, not a file without capabilities.
func ParseCapabilities(b []byte) (Capabilities, error) {
	if len(b) < 4 {
		return Capabilities{}, fmt.Errorf("%s of %d bytes: too short for a vfs_cap_data header", CapabilityXattr, len(b))
	}
	magic := binary.LittleEndian.Uint32(b)
	var c Capabilities
	var size int
	switch magic & capRevisionMask {
	case capRevision1:
		c.Version, size = 1, capSize1
	case capRevision2:
		c.Version, size = 2, capSize2
	case capRevision3:
		c.Version, size = 3, capSize3
	default:
		return Capabilities{}, fmt.Errorf("%s: unknown vfs_cap_data revision %#x", CapabilityXattr, magic>>24)
	}
	if len(b) != size {
		return Capabilities{}, fmt.Errorf("%s of %d bytes: vfs_cap_data revision %d has %d", CapabilityXattr, len(b), c.Version, size)
	}
	if magic&^(capRevisionMask|capFlagEffective) != 0 {
		return Capabilities{}, fmt.Errorf("%s: unknown flags %#x", CapabilityXattr, magic&^(capRevisionMask|capFlagEffective))
	}
	c.Effective = magic&capFlagEffective != 0
	for i := 0; 4+8*i+8 <= min(size, capSize2); i++ {
		c.Permitted |= uint64(binary.LittleEndian.Uint32(b[4+8*i:])) << (32 * i)
		c.Inheritable |= uint64(binary.LittleEndian.Uint32(b[8+8*i:])) << (32 * i)
	}
	if c.Version == 3 {
		c.RootID = binary.LittleEndian.Uint32(b[capSize2:])
	}
	return c, nil
}

// Bytes encodes c as the kernel stores it, ParseCapabilities' inverse; nil for no capabilities.
func (c Capabilities) Bytes() []byte {
	var size int
	switch c.Version {
	case 1:
		size = capSize1
	case 2:
		size = capSize2
	case 3:
		size = capSize3
	default:
		return nil
	}
	b := make([]byte, size)
	magic := uint32(c.Version) << 24
	if c.Effective {
		magic |= capFlagEffective
	}
	binary.LittleEndian.PutUint32(b, magic)
	for i := 0; 4+8*i+8 <= min(size, capSize2); i++ {
		binary.LittleEndian.PutUint32(b[4+8*i:], uint32(c.Permitted>>(32*i)))
		binary.LittleEndian.PutUint32(b[8+8*i:], uint32(c.Inheritable>>(32*i)))
	}
	if c.Version == 3 {
		binary.LittleEndian.PutUint32(b[capSize2:], c.RootID)
	}
	return b
}

// capNames are the capabilities' names by number, as setcap and getcap write them.
var capNames = [...]string{
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid", "cap_kill",
	"cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable", "cap_net_bind_service",
	"cap_net_broadcast", "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner",
	"cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace", "cap_sys_pacct",
	"cap_sys_admin", "cap_sys_boot", "cap_sys_nice", "cap_sys_resource", "cap_sys_time",
	"cap_sys_tty_config", "cap_mknod", "cap_lease", "cap_audit_write", "cap_audit_control",
	"cap_setfcap", "cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
	"cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
}

func capName(n int) string {
	if n < len(capNames) {
		return capNames[n]
	}
	return strconv.Itoa(n)
}

// String writes c as getcap does: each capability with its sets, "e" effective, "i"
// inheritable, "p" permitted, capabilities that share their sets listed together:
// "cap_net_bind_service=ep", "cap_chown,cap_kill=p cap_sys_admin=eip". A version 3 value names
// its namespace's root: "cap_net_raw=ep [rootid=1000]".
func (c Capabilities) String() string {
	if !c.Has() {
		return ""
	}
	type group struct {
		sets  string
		names []string
	}
	var groups []group
	for all := c.Permitted | c.Inheritable; all != 0; all &= all - 1 {
		n := bits.TrailingZeros64(all)
		sets := ""
		if c.Effective && c.Permitted&(1<<n) != 0 {
			sets += "e"
		}
		if c.Inheritable&(1<<n) != 0 {
			sets += "i"
		}
		if c.Permitted&(1<<n) != 0 {
			sets += "p"
		}
		found := false
		for i := range groups {
			if groups[i].sets == sets {
				groups[i].names = append(groups[i].names, capName(n))
				found = true
			}
		}
		if !found {
			groups = append(groups, group{sets, []string{capName(n)}})
		}
	}
	parts := make([]string, 0, len(groups)+1)
	for _, g := range groups {
		parts = append(parts, strings.Join(g.names, ",")+"="+g.sets)
	}
	if len(parts) == 0 {
		parts = append(parts, "=") // a header with empty sets: nothing granted, yet present
	}
	if c.Version == 3 {
		parts = append(parts, fmt.Sprintf("[rootid=%d]", c.RootID))
	}
	return strings.Join(parts, " ")
}

// errCapabilityTooLarge is what reading a security.capability larger than any valid one says.
var errCapabilityTooLarge = errors.New(CapabilityXattr + " is larger than any vfs_cap_data")
