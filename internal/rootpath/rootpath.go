// Package rootpath decides where a root given on the command line leads, and whether anyone but
// root could have chosen that. A root run of webperm on /home/alice/public_html must not fix /etc
// because alice made public_html a symlink to it: the path is resolved once, one component at a
// time, with lstat rather than the kernel's lookup of the whole path, and every step records who,
// besides root, could replace it. Plan and fix then take the root only where no such user could
// send it outside their own tree.
package rootpath

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/safefile"
)

// Resolver resolves roots on the operating system's file system.
type Resolver struct {
	// Accounts names the users that may write a directory through its group or an ACL entry:
	// the audited system's. Nil: only owners and the other bits are considered.
	Accounts *access.Accounts
	// Trusted are the users besides root whose control of a step is no threat: whoever runs
	// webperm already has their rights.
	Trusted []uint32
}

// Resolution is where a given path leads and who, besides root, could change that.
type Resolution struct {
	Given string // as given
	Path  string // the directory it leads to: absolute, clean, without symlinks
	// Links are the symlinks followed, in order.
	Links []Link
	// Controls are, step by step, the users who could replace a step of the way, each with its
	// first reason; steps no one but root controls have none.
	Controls []Control

	dirs     []walk.Entry // the directories of Path, / first, Path itself last
	accounts *access.Accounts
}

// Link is a symlink followed on the way.
type Link struct {
	Path, Target string
}

// Control is a user's power over one step of the way: to replace the entry there, so that the
// path leads elsewhere.
type Control struct {
	Step   string // the entry's path, as the resolution reached it
	UID    uint32 // the user; meaningless where Anyone
	Anyone bool   // every user may replace it
	// Why says how, for a person, with paths escaped: "owns the symlink", "may write /srv as a
	// member of group devs".
	Why string
}

// Resolve follows given from / one component at a time. A relative path is taken from the
// current directory; ".." goes up from the directory reached so far, as the kernel does, not from
// the text. Every component must exist and be a directory or a symlink, and the path must end in a
// directory.
func (rv *Resolver) Resolve(given string) (*Resolution, error) {
	if given == "" {
		return nil, safefile.ErrEmptyPath // it must never come to mean the current directory
	}
	path := given
	if !strings.HasPrefix(path, "/") {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("%s: finding the current directory: %w", report.Escape(given), err)
		}
		path = wd + "/" + path
	}
	r := &Resolution{Given: given, accounts: rv.Accounts}
	top, err := examine("/")
	if err != nil {
		return nil, r.fail("/", err)
	}
	dirs := []walk.Entry{top}
	todo := strings.Split(path, "/")
	links := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			if len(dirs) > 1 {
				dirs = dirs[:len(dirs)-1]
			}
			continue
		}
		parent := &dirs[len(dirs)-1]
		p := join(parent.Path, name)
		e, err := examine(p)
		if err != nil {
			return nil, r.fail(p, err)
		}
		r.Controls = append(r.Controls, rv.controls(parent, &e)...)
		switch {
		case e.Type == walk.TypeSymlink:
			if links++; links > walk.MaxSymlinks {
				return nil, r.fail(p, unix.ELOOP)
			}
			r.Links = append(r.Links, Link{Path: p, Target: e.LinkTarget})
			if strings.HasPrefix(e.LinkTarget, "/") {
				dirs = dirs[:1]
			}
			todo = append(strings.Split(e.LinkTarget, "/"), todo...)
		case e.Type != walk.TypeDir && len(todo) == 0:
			return nil, r.fail(p, walk.ErrNotDir)
		case e.Type != walk.TypeDir:
			return nil, r.fail(p, unix.ENOTDIR)
		default:
			dirs = append(dirs, e)
		}
	}
	r.dirs = dirs
	r.Path = dirs[len(dirs)-1].Path
	if err := sameDir(&dirs[len(dirs)-1]); err != nil {
		return nil, r.fail(r.Path, err)
	}
	return r, nil
}

// errMoved says a step was replaced while the path was being resolved.
var errMoved = errors.New("changed while webperm resolved it: a step on the way was replaced")

// sameDir checks that the path resolved still names, without a symlink anywhere, the directory
// the steps led to: lstat looks each step up by its path, and a step replaced after it was looked
// at would lead the next ones elsewhere. A kernel without openat2 (before 5.6) cannot tell;
// fix --apply refuses to run on one anyway.
func sameDir(e *walk.Entry) error {
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(unix.AT_FDCWD, e.Path, how)
	switch {
	case errors.Is(err, unix.ENOSYS):
		return nil
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.ENOENT), errors.Is(err, unix.EAGAIN):
		return errMoved
	case err != nil:
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if uint64(st.Dev) != e.Dev || st.Ino != e.Ino {
		return errMoved
	}
	return nil
}

func examine(path string) (walk.Entry, error) {
	e, err := walk.Examine(afero.NewOsFs(), path)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return e, err
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// fail names the given path, and the step that failed where it is another.
func (r *Resolution) fail(step string, err error) error {
	if step != r.Given {
		err = fmt.Errorf("%s: %w", report.Escape(step), err)
	}
	return &fs.PathError{Op: "resolve", Path: r.Given, Err: err}
}

// anyone is an identity of no known user and no known group: what the other bits, and an ACL's
// other entry, give every user.
var anyone = access.Identity{UID: math.MaxUint32 - 1, GID: math.MaxUint32 - 1}

// controls lists who, besides root and the trusted, could replace e, an entry of the directory
// dir: the owner of a symlink; dir's owner, who may always make it writable; in a sticky
// directory, e's owner; elsewhere everyone who may write dir, by its bits or its ACL.
func (rv *Resolver) controls(dir, e *walk.Entry) []Control {
	var out []Control
	add := func(uid uint32, why string) {
		if uid == 0 || slices.Contains(rv.Trusted, uid) || slices.ContainsFunc(out, func(c Control) bool { return !c.Anyone && c.UID == uid }) {
			return
		}
		out = append(out, Control{Step: e.Path, UID: uid, Why: why})
	}
	d := report.Escape(dir.Path)
	if e.Type == walk.TypeSymlink && e.OwnerKnown {
		add(e.UID, "owns the symlink")
	}
	if dir.OwnerKnown {
		add(dir.UID, "owns "+d+", which holds it")
	}
	if dir.Mode&fs.ModeSticky != 0 {
		if e.OwnerKnown {
			add(e.UID, "owns it, in the sticky directory "+d)
		}
		return out
	}
	if access.Allows(&anyone, dir, walk.PermWrite) {
		return append(out, Control{Step: e.Path, Anyone: true, Why: "anyone may write " + d + ", which holds it"})
	}
	if dir.Mode&0o020 == 0 && dir.ACL == nil {
		return out // only its owner may write it: most directories, and no need to ask every user
	}
	if rv.Accounts != nil {
		for _, u := range rv.Accounts.Users() {
			id := access.Identity{UID: u.UID, GID: u.GID, Groups: rv.Accounts.GroupsOf(u.Name, u.GID)}
			if access.Allows(&id, dir, walk.PermWrite) {
				add(u.UID, writeReason(&id, dir, rv.Accounts))
			}
		}
	}
	if dir.ACL != nil {
		// A named user the passwd file does not list still has the rights its entry gives.
		for _, ae := range dir.ACL.Entries {
			id := access.Identity{UID: ae.ID, GID: anyone.GID}
			if ae.Tag == walk.ACLUser && access.Allows(&id, dir, walk.PermWrite) {
				add(ae.ID, writeReason(&id, dir, rv.Accounts))
			}
		}
	}
	return out
}

// writeReason says how id may write dir.
func writeReason(id *access.Identity, dir *walk.Entry, acc *access.Accounts) string {
	d := report.Escape(dir.Path)
	v := access.Decide(id, dir)
	switch v.Class {
	case access.ClassNamedUser:
		return "may write " + d + " by its ACL entry user:" + report.Escape(acc.UserLabel(v.ID))
	case access.ClassGroup:
		return "may write " + d + " as a member of group " + report.Escape(acc.GroupLabel(v.ID))
	}
	return "may write " + d
}

// Check applies the rule for roots that webperm may change: when a user besides root controls a
// step of the way, the path must lead into a directory that user owns, reached through
// directories only root owns, and the root itself must belong to that user or to one of
// rootOwners (the web server's users, for a site chown -R www-data). It returns a *Refusal.
func (r *Resolution) Check(rootOwners ...uint32) error {
	root := &r.dirs[len(r.dirs)-1]
	seen := map[uint32]bool{}
	for _, c := range r.Controls {
		switch {
		case c.Anyone:
			return r.refuse(c, "so anyone could send it anywhere")
		case seen[c.UID]:
			continue
		}
		seen[c.UID] = true
		who := r.who(c)
		switch {
		case !r.anchored(c.UID):
			return r.refuse(c, fmt.Sprintf("and it leads to %s, outside every directory of %s's own", report.Escape(r.Path), who))
		case !root.OwnerKnown || root.UID != c.UID && !slices.Contains(rootOwners, root.UID):
			return r.refuse(c, fmt.Sprintf("and it leads to %s, which belongs to %s, neither %s nor the web server", report.Escape(r.Path), r.user(root.UID), who))
		}
	}
	return nil
}

// anchored reports whether the way to the root enters a directory uid owns (the root itself at
// the latest) through directories root owns.
func (r *Resolution) anchored(uid uint32) bool {
	for _, d := range r.dirs {
		switch {
		case !d.OwnerKnown:
			return false
		case d.UID == uid:
			return true
		case d.UID != 0:
			return false
		}
	}
	return false
}

// Refusal is why a root may not be planned or fixed: who controls which step, and where that
// leads.
type Refusal struct {
	Given, Path string
	Control     Control
	Who         string // the user in control, for a person: "alice", "every user"
	Reason      string
}

func (r *Resolution) refuse(c Control, reason string) error {
	return &Refusal{Given: r.Given, Path: r.Path, Control: c, Who: r.who(c), Reason: reason}
}

// who names the user in control for a person.
func (r *Resolution) who(c Control) string {
	if c.Anyone {
		return "every user"
	}
	return r.user(c.UID)
}

// user names uid for a person: by name, or "uid 4321" where the system has none.
func (r *Resolution) user(uid uint32) string {
	if r.accounts != nil {
		if name, ok := r.accounts.UserName(uid); ok {
			return report.Escape(name)
		}
	}
	return fmt.Sprintf("uid %d", uid)
}

func (e *Refusal) Error() string {
	return fmt.Sprintf("%s: %s controls %s on the way to the root (%s), %s", report.Escape(e.Given), e.Who, report.Escape(e.Control.Step), e.Control.Why, e.Reason)
}

// Followed says, for a person, which symlink that someone besides root controls the resolution
// followed: "followed a symlink alice controls (/home/alice/public_html -> /etc)"; empty where
// there was none.
func (r *Resolution) Followed() string {
	for _, l := range r.Links {
		for _, c := range r.Controls {
			if c.Step != l.Path {
				continue
			}
			return fmt.Sprintf("followed a symlink %s controls (%s -> %s)", r.who(c), report.Escape(l.Path), report.Escape(l.Target))
		}
	}
	return ""
}

// systemDirs are the directories of the host itself, never a web root. Beyond the top level,
// those that hold every user's or every package's files: /var/tmp is everyone's 1777 as /tmp is.
var systemDirs = []string{
	"/", "/bin", "/boot", "/dev", "/etc", "/home", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var",
	"/media", "/mnt", "/opt", "/usr/local", "/var/cache", "/var/lib", "/var/log", "/var/mail", "/var/spool", "/var/tmp",
}

// SystemDir reports whether path, absolute and clean, is one of the host's own directories (/,
// /etc, /usr, /lib64, /usr/lib64 where /usr is merged, anything below /dev, /proc or /sys, ...)
// or one of the system's at sysroot (an image mounted there), rather than
// something below them: plan and fix never take one as a root, since the policy of a web root
// would wreck it.
func SystemDir(path, sysroot string) bool {
	if systemDir(path) {
		return true
	}
	if sysroot == "" || sysroot == "/" || !walk.Within(path, sysroot) {
		return false
	}
	return systemDir("/" + strings.TrimPrefix(path[len(sysroot):], "/"))
}

// kernelDirs hold nothing but the kernel's devices and interfaces, to their last directory:
// /dev/shm is every user's 1777, a file of /sys a setting of the kernel's.
var kernelDirs = []string{"/dev", "/proc", "/sys"}

func systemDir(path string) bool {
	if slices.Contains(systemDirs, path) || slices.ContainsFunc(kernelDirs, func(d string) bool { return walk.Within(path, d) }) {
		return true
	}
	// Where /usr is merged, /bin, /sbin and /lib* lead into it.
	rest := strings.TrimPrefix(path, "/usr")
	if rest == "/bin" || rest == "/sbin" {
		return true
	}
	return strings.HasPrefix(rest, "/lib") && !strings.Contains(rest[1:], "/")
}
