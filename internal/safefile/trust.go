package safefile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/webperm/webperm/policy"
)

// Controlled says why a user other than the one running webperm controls fi, "" if none does.
// Someone controls a file they own, or can write (by group or other bits, where an ACL's mask
// shows too). A directory or symlink may also be root's, and a sticky directory (/tmp) may be
// writable by all: there no one can replace an entry of someone else's.
func Controlled(fi fs.FileInfo) string { return ControlledBeside(fi, uint32(os.Geteuid())) }

// ControlledBeside says why a user other than uid controls fi, as Controlled says it for the user
// running webperm: a plan that root will run must name a webperm no one but root controls,
// whoever writes the plan.
func ControlledBeside(fi fs.FileInfo, uid uint32) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "has no owner webperm can tell"
	}
	shared := fi.IsDir() || fi.Mode()&fs.ModeSymlink != 0
	switch {
	case st.Uid != uid && !(shared && st.Uid == 0):
		return fmt.Sprintf("is owned by uid %d", st.Uid)
	case fi.Mode()&fs.ModeSymlink == 0 && fi.Mode().Perm()&0o022 != 0 && !(fi.IsDir() && fi.Mode()&fs.ModeSticky != 0):
		return "is writable by others (mode " + policy.OctalMode(fi.Mode()) + ")"
	}
	return ""
}

// DirError says which directory on the way to a file another user controls.
type DirError struct {
	Path   string // the directory, or a symlink or directory above it
	Reason string // what Controlled says
}

func (e *DirError) Error() string { return e.Path + " " + e.Reason }

// CheckDir checks that no user but the one running webperm, or root, can change what dir holds:
// dir and every directory and symlink on the way to it, as given and as resolved, is Controlled
// by no one else. Whoever controls one could swap a file webperm writes or reads there, or the
// directory itself, between webperm's look and its act.
func CheckDir(dir string) error {
	if dir == "" {
		return ErrEmptyPath
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return reason(err)
	}
	for _, p := range []string{abs, real} {
		for ; ; p = filepath.Dir(p) {
			fi, err := os.Lstat(p)
			if err != nil {
				return reason(err)
			}
			if why := Controlled(fi); why != "" {
				return &DirError{Path: p, Reason: why}
			}
			if p == filepath.Dir(p) {
				break
			}
		}
	}
	return nil
}
