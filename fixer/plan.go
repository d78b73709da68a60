// Package fixer owns what webperm does about its findings: it turns an audit's findings into a
// Plan of chown and chmod actions, writes the plan as a POSIX sh script to review or as JSON,
// applies a plan to the disk without ever following a symlink or leaving a root, and undoes an
// applied plan from its journal. It never decides what is wrong; package audit does.
package fixer

import (
	"io/fs"
	"time"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// State is the mode and owner of one entry: as the audit saw it, or as a fix leaves it.
type State struct {
	Mode     fs.FileMode // permission, setuid, setgid and sticky bits, in walk.Entry.Mode's form
	UID, GID uint32
}

// Owners names s's owner and group as user:group, by number where acc (which may be nil) has
// no name, escaped where a name would break a line.
func (s State) Owners(acc *access.Accounts) string {
	return escape(acc.UserLabel(s.UID) + ":" + acc.GroupLabel(s.GID))
}

// Describe names s as "0640 deploy:www-data".
func (s State) Describe(acc *access.Accounts) string {
	return policy.OctalMode(s.Mode) + " " + s.Owners(acc)
}

// Action is one entry's change: a chown, a chmod, or both, made in that order.
type Action struct {
	Path string // absolute
	Root string // the audited root the entry lies in, or, for an ancestor, above
	// Ancestor marks a directory above Root (a 0700 home): outside the root, so it is changed only
	// when the user asks for it.
	Ancestor bool
	Type     walk.Type // file or dir: webperm changes nothing else
	Dev, Ino uint64    // the inode the audit saw; apply changes nothing that is not still it
	Current  State     // what the audit saw
	Target   State     // what the action leaves
	Rules    []policy.RuleID
}

// Chown reports whether the action changes the entry's owner or group.
func (a *Action) Chown() bool {
	return a.Current.UID != a.Target.UID || a.Current.GID != a.Target.GID
}

// Chmod reports whether the action sets the entry's mode: where the mode changes, and after a
// chown of a regular file that is to keep a setuid or setgid bit, since the kernel clears those
// when the owner changes.
func (a *Action) Chmod() bool {
	if a.Current.Mode != a.Target.Mode {
		return true
	}
	return a.Chown() && a.Type == walk.TypeFile && a.Target.Mode&(fs.ModeSetuid|fs.ModeSetgid) != 0
}

// Settings say what a plan's audit held its roots to: the policy file (an absolute path, or
// none), the preset each root got, and the audited system's root.
type Settings struct {
	PolicyFile string
	Presets    []audit.RootPreset // Evidence is not kept
	SysRoot    string
	SiteOwner  *uint32  // --site-owner, where given
	Writable   []string // --writable's globs
}

// System is the audited system's root: SysRoot, or the host's, /, for a plan that does not say.
func (s *Settings) System() string {
	if s.SysRoot == "" {
		return "/"
	}
	return s.SysRoot
}

// Root is an audited root as the audit saw it: apply opens every action below it from here.
type Root struct {
	Path     string
	Dev, Ino uint64
}

// Manual is an entry whose findings a person must settle: webperm can name the fault but no
// change of mode or owner within the policy mends it (an unknown owner, a symlink leaving the
// root, a device node, an SELinux label), or mending it is not webperm's to do safely.
type Manual struct {
	Path     string
	Type     walk.Type
	Reason   string // why webperm leaves it, lower-case
	Findings []audit.Finding
}

// Plan is every change that brings a set of roots to their policy, in walk order, each root's
// ancestors first, and what is left to a person.
type Plan struct {
	Version string // webperm's
	Created time.Time
	Roots   []Root
	WebUser *access.WebUser
	PHPUser *access.WebUser // nil unless PHP runs as a user of its own
	Policy  string
	// Settings are what the plan's audit held the roots to, so that a saved plan's targets are
	// judged by the same rules when it is applied.
	Settings Settings
	Actions  []Action
	Manual   []Manual
	// Unread are the paths the audit could not read: nothing in them is planned.
	Unread []string
	// Skipped are the directories the audit did not enter (mounts: pseudo file systems, other
	// devices under --one-file-system, container layers): nothing below them is planned. The sh
	// plan names them for its reader; they are not data a plan is applied by.
	Skipped  []walk.Skip
	Accounts *access.Accounts // names ids in the script's comments; nil: numbers only
	// ID is the sh plan's plan-id: its exec line passes it to fix --apply, which refuses to apply
	// a plan that is not the script the shell ran. WriteScript makes one where it is empty.
	ID string
	// Webperm is the webperm binary the sh plan hands itself to (os.Executable when planned);
	// empty: "webperm", found on PATH.
	Webperm string
}
