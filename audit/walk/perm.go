package walk

// Perm is a set of the three access rights the kernel checks: read, write and execute, which on
// a directory means search (entering it to reach what is below).
type Perm uint8

// Access rights, with the values they have in mode bits and ACL entries.
const (
	PermExec  Perm = 1
	PermWrite Perm = 2
	PermRead  Perm = 4
	PermAll        = PermRead | PermWrite | PermExec
)

// String writes the rights as ls does: "r-x".
func (p Perm) String() string {
	b := []byte("---")
	for i, r := range "rwx" {
		if p&(PermRead>>i) != 0 {
			b[i] = byte(r)
		}
	}
	return string(b)
}
