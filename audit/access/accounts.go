package access

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/safefile"
)

// User is one line of an /etc/passwd file.
type User struct {
	Name     string
	UID, GID uint32
	Home     string // the home directory passwd gives, as the audited system sees it
}

// Group is one line of an /etc/group file.
type Group struct {
	Name    string
	GID     uint32
	Members []string
}

// Accounts names the users and groups of the audited system. webperm reads them from that
// system's own /etc/passwd and /etc/group (not through os/user), so an image mounted elsewhere is
// audited with its own users.
type Accounts struct {
	PasswdPath, GroupPath string // where they were read, for messages

	list        []User            // as the file lists them
	users       map[uint32]string // first line wins, as getpwuid does
	groups      map[uint32]string
	userByName  map[string]User
	groupByName map[string]Group
	memberOf    map[string][]uint32
}

// NewAccounts indexes parsed users and groups.
func NewAccounts(users []User, groups []Group) *Accounts {
	a := &Accounts{
		list:        users,
		users:       make(map[uint32]string, len(users)),
		groups:      make(map[uint32]string, len(groups)),
		userByName:  make(map[string]User, len(users)),
		groupByName: make(map[string]Group, len(groups)),
		memberOf:    make(map[string][]uint32),
	}
	for _, u := range users {
		if _, dup := a.users[u.UID]; !dup {
			a.users[u.UID] = u.Name
		}
		if _, dup := a.userByName[u.Name]; !dup {
			a.userByName[u.Name] = u
		}
	}
	for _, g := range groups {
		if _, dup := a.groups[g.GID]; !dup {
			a.groups[g.GID] = g.Name
		}
		if _, dup := a.groupByName[g.Name]; !dup {
			a.groupByName[g.Name] = g
		}
		for _, m := range g.Members {
			a.memberOf[m] = append(a.memberOf[m], g.GID)
		}
	}
	return a
}

// LoadAccounts reads etc/passwd and etc/group below sysroot ("/" for the running system).
func LoadAccounts(fsys afero.Fs, sysroot string) (*Accounts, error) {
	passwdPath := filepath.Join(sysroot, "etc", "passwd")
	groupPath := filepath.Join(sysroot, "etc", "group")
	var users []User
	var groups []Group
	err := readFile(fsys, passwdPath, func(r io.Reader) (err error) {
		users, err = ParsePasswd(r, passwdPath)
		return err
	})
	if err == nil {
		err = readFile(fsys, groupPath, func(r io.Reader) (err error) {
			groups, err = ParseGroup(r, groupPath)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	a := NewAccounts(users, groups)
	a.PasswdPath, a.GroupPath = passwdPath, groupPath
	return a, nil
}

// readFile parses name, a regular file of at most safefile.AccountsLimit: a FIFO or device planted
// as etc/passwd is refused unopened, and nothing waits on it.
func readFile(fsys afero.Fs, name string, parse func(io.Reader) error) error {
	data, err := safefile.ReadFs(fsys, name, safefile.AccountsLimit)
	if err != nil {
		return &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return parse(bytes.NewReader(data))
}

// UserName returns the name of uid, if the system has one; a nil Accounts has none.
func (a *Accounts) UserName(uid uint32) (string, bool) {
	if a == nil {
		return "", false
	}
	n, ok := a.users[uid]
	return n, ok
}

// UserOf returns the passwd entry of uid, if the system has one; a nil Accounts has none.
func (a *Accounts) UserOf(uid uint32) (User, bool) {
	name, ok := a.UserName(uid)
	if !ok {
		return User{}, false
	}
	return a.LookupUser(name)
}

// GroupName returns the name of gid, if the system has one; a nil Accounts has none.
func (a *Accounts) GroupName(gid uint32) (string, bool) {
	if a == nil {
		return "", false
	}
	n, ok := a.groups[gid]
	return n, ok
}

// UserLabel names uid as reports do: by name where the system has one, else by number. a may be
// nil: numbers then.
func (a *Accounts) UserLabel(uid uint32) string {
	if a != nil {
		if name, ok := a.UserName(uid); ok {
			return name
		}
	}
	return strconv.FormatUint(uint64(uid), 10)
}

// GroupLabel names gid as UserLabel names a user.
func (a *Accounts) GroupLabel(gid uint32) string {
	if a != nil {
		if name, ok := a.GroupName(gid); ok {
			return name
		}
	}
	return strconv.FormatUint(uint64(gid), 10)
}

// LookupUser finds a user by name, or by numeric uid as users type it on the command line.
func (a *Accounts) LookupUser(nameOrID string) (User, bool) {
	if u, ok := a.userByName[nameOrID]; ok {
		return u, true
	}
	if id, err := ParseID(nameOrID); err == nil {
		if n, ok := a.users[id]; ok {
			return a.userByName[n], true
		}
	}
	return User{}, false
}

// LookupGroup finds a group by name, or by numeric gid.
func (a *Accounts) LookupGroup(nameOrID string) (Group, bool) {
	if g, ok := a.groupByName[nameOrID]; ok {
		return g, true
	}
	if id, err := ParseID(nameOrID); err == nil {
		if n, ok := a.groups[id]; ok {
			return a.groupByName[n], true
		}
	}
	return Group{}, false
}

// Users returns every user of the system, in the order its passwd file lists them.
func (a *Accounts) Users() []User { return a.list }

// GroupsOf returns gid followed by every other group that lists the user name as a member, as
// initgroups(3) builds a process's supplementary groups.
func (a *Accounts) GroupsOf(name string, gid uint32) []uint32 {
	out := []uint32{gid}
	for _, g := range a.memberOf[name] {
		if g != gid && !containsID(out, g) {
			out = append(out, g)
		}
	}
	return out
}

func containsID(ids []uint32, id uint32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// ParsePasswd reads an /etc/passwd file. name is used in errors, which carry the line number.
func ParsePasswd(r io.Reader, name string) ([]User, error) {
	var users []User
	err := eachRecord(r, name, 7, "passwd", func(f []string) error {
		uid, err := ParseID(f[2])
		if err != nil {
			return fmt.Errorf("bad uid %q", f[2])
		}
		gid, err := ParseID(f[3])
		if err != nil {
			return fmt.Errorf("bad gid %q", f[3])
		}
		users = append(users, User{Name: f[0], UID: uid, GID: gid, Home: f[5]})
		return nil
	})
	return users, err
}

// ParseGroup reads an /etc/group file. name is used in errors, which carry the line number.
func ParseGroup(r io.Reader, name string) ([]Group, error) {
	var groups []Group
	err := eachRecord(r, name, 4, "group", func(f []string) error {
		gid, err := ParseID(f[2])
		if err != nil {
			return fmt.Errorf("bad gid %q", f[2])
		}
		g := Group{Name: f[0], GID: gid}
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				g.Members = append(g.Members, m)
			}
		}
		groups = append(groups, g)
		return nil
	})
	return groups, err
}

// maxRecordLine bounds one line of an account file; a group with thousands of members fits.
const maxRecordLine = 1 << 20

// eachRecord calls fn with the colon-separated fields of every record line. Blank lines, comments
// and NIS compat lines (+name, -name) are skipped, as the C library does.
func eachRecord(r io.Reader, name string, fields int, kind string, fn func([]string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxRecordLine)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if t := strings.TrimSpace(text); t == "" || t[0] == '#' || t[0] == '+' || t[0] == '-' {
			continue
		}
		f := strings.Split(text, ":")
		if len(f) != fields {
			return fmt.Errorf("%s:%d: malformed %s entry: want %d colon-separated fields, got %d", name, line, kind, fields, len(f))
		}
		if f[0] == "" {
			return fmt.Errorf("%s:%d: malformed %s entry: empty name", name, line, kind)
		}
		if err := fn(f); err != nil {
			return fmt.Errorf("%s:%d: malformed %s entry: %w", name, line, kind, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return nil
}

func ParseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}
