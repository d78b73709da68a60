package audit

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/webperm/webperm/policy"
)

// Env is what a check knows beyond the entry and its policy settings.
type Env struct {
	Root     string    // the audited root, as entries' paths begin
	Accounts *Accounts // nil: owners cannot be named, unknown-owner is not checked
}

// A check looks at one entry under its settings and returns the finding's message and fix, or
// ok false. Checks are pure: no file system, no globals, no output.
type check func(e *Entry, s *policy.Settings, env *Env) (msg string, fix *Fix, ok bool)

// checks is the rule table: one function per rule id, run in this order on every entry.
var checks = []struct {
	rule policy.RuleID
	fn   check
}{
	{policy.WorldWritable, checkWorldWritable},
	{policy.SensitiveExposed, checkSensitiveExposed},
	{policy.ModeTooOpen, checkModeTooOpen},
	{policy.SetuidSetgid, checkSetuidSetgid},
	{policy.SpecialFile, checkSpecialFile},
	{policy.SymlinkEscapesRoot, checkSymlinkEscapesRoot},
	{policy.DanglingSymlink, checkDanglingSymlink},
	{policy.UnknownOwner, checkUnknownOwner},
}

// Check appends to out the findings of every rule e breaks.
func Check(e *Entry, s *policy.Settings, env *Env, out []Finding) []Finding {
	for _, c := range checks {
		if msg, fix, ok := c.fn(e, s, env); ok {
			out = append(out, Finding{Rule: c.rule, Severity: s.Severity(c.rule), Entry: *e, Message: msg, Fix: fix})
		}
	}
	return out
}

// hasMode reports whether an entry's own mode bits mean something: a symlink's do not, and a
// special file's faults are a human's call.
func hasMode(e *Entry) bool { return e.Type == TypeFile || e.Type == TypeDir }

// modeFix is the fix of every mode finding: the entry loses exactly the bits beyond the policy's
// maximum, so one chmod resolves all of them.
func modeFix(e *Entry, s *policy.Settings) *Fix {
	return &Fix{Mode: e.Mode & s.Max(e.Type == TypeDir)}
}

func worldWritable(e *Entry) bool { return e.Type != TypeSymlink && e.Mode&0o002 != 0 }

func checkWorldWritable(e *Entry, s *policy.Settings, _ *Env) (string, *Fix, bool) {
	if !worldWritable(e) {
		return "", nil, false
	}
	m := policy.OctalMode(e.Mode)
	switch {
	case e.Type == TypeDir && e.Mode&fs.ModeSticky != 0:
		return fmt.Sprintf("any local user can add files here (mode %s): the sticky bit only stops them deleting others' files", m), modeFix(e, s), true
	case e.Type == TypeDir:
		return fmt.Sprintf("any local user can add, replace or delete files here (mode %s)", m), modeFix(e, s), true
	case e.Type == TypeFile:
		return fmt.Sprintf("any local user can change this file (mode %s)", m), modeFix(e, s), true
	}
	return fmt.Sprintf("any local user can write to this %s (mode %s)", e.Type, m), nil, true
}

// sensitiveExposed reports whether others can read a sensitive file or enter or list a sensitive
// directory.
func sensitiveExposed(e *Entry, s *policy.Settings) bool {
	if !s.Sensitive || !hasMode(e) {
		return false
	}
	if e.Type == TypeDir {
		return e.Mode&0o005 != 0
	}
	return e.Mode&0o004 != 0
}

func checkSensitiveExposed(e *Entry, s *policy.Settings, _ *Env) (string, *Fix, bool) {
	if !sensitiveExposed(e, s) {
		return "", nil, false
	}
	fix := modeFix(e, s)
	what := "others can read this sensitive file"
	if e.Type == TypeDir {
		what = "others can enter this sensitive directory"
	}
	return fmt.Sprintf("%s (mode %s): at most %s", what, policy.OctalMode(e.Mode), policy.OctalMode(s.Max(e.Type == TypeDir))), fix, true
}

// checkModeTooOpen reports permission bits beyond the policy's maximum. An entry that is
// world-writable or sensitive and exposed is reported by those rules alone: their fix removes
// the same excess bits.
func checkModeTooOpen(e *Entry, s *policy.Settings, _ *Env) (string, *Fix, bool) {
	if !hasMode(e) || worldWritable(e) || sensitiveExposed(e, s) {
		return "", nil, false
	}
	allowed := s.Max(e.Type == TypeDir)
	excess := e.Mode.Perm() &^ allowed.Perm()
	if excess == 0 {
		return "", nil, false
	}
	return fmt.Sprintf("mode %s gives %s beyond the policy's %s", policy.OctalMode(e.Mode), describeBits(excess), policy.OctalMode(allowed.Perm())), modeFix(e, s), true
}

// describeBits names permission bits as "group write; owner, group and others execute".
func describeBits(m fs.FileMode) string {
	var parts []string
	for _, perm := range []struct {
		name string
		bit  fs.FileMode
	}{{"read", 4}, {"write", 2}, {"execute", 1}} {
		var who []string
		for _, class := range []struct {
			name  string
			shift uint
		}{{"owner", 6}, {"group", 3}, {"others", 0}} {
			if m&(perm.bit<<class.shift) != 0 {
				who = append(who, class.name)
			}
		}
		if len(who) > 0 {
			parts = append(parts, joinAnd(who)+" "+perm.name)
		}
	}
	return strings.Join(parts, "; ")
}

// joinAnd joins words as a sentence does: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func checkSetuidSetgid(e *Entry, s *policy.Settings, _ *Env) (string, *Fix, bool) {
	if !hasMode(e) {
		return "", nil, false
	}
	bits := e.Mode & (fs.ModeSetuid | fs.ModeSetgid) &^ s.Max(e.Type == TypeDir)
	if e.Type == TypeDir {
		// Linux ignores setuid on a directory; setgid makes new files inherit its group.
		bits &= fs.ModeSetgid
		if bits == 0 {
			return "", nil, false
		}
		return fmt.Sprintf("setgid directory (mode %s): new files take its group, gid %d, which the policy forbids here", policy.OctalMode(e.Mode), e.GID), modeFix(e, s), true
	}
	var who []string
	if bits&fs.ModeSetuid != 0 {
		who = append(who, fmt.Sprintf("setuid: whoever runs it runs as uid %d", e.UID))
	}
	if bits&fs.ModeSetgid != 0 {
		who = append(who, fmt.Sprintf("setgid: whoever runs it runs with gid %d", e.GID))
	}
	if len(who) == 0 {
		return "", nil, false
	}
	return fmt.Sprintf("%s (mode %s)", strings.Join(who, "; "), policy.OctalMode(e.Mode)), modeFix(e, s), true
}

func checkSpecialFile(e *Entry, _ *policy.Settings, _ *Env) (string, *Fix, bool) {
	switch e.Type {
	case TypeFIFO:
		return "a named pipe in a web root: a request that opens it hangs until something writes to it", nil, true
	case TypeSocket:
		return "a unix socket in a web root: it belongs in /run, away from served content", nil, true
	case TypeCharDevice, TypeBlockDevice:
		return fmt.Sprintf("a %s in a web root: device nodes give access to hardware and never belong here", e.Type), nil, true
	}
	return "", nil, false
}

// linkDestination is where a symlink's target lies, resolved lexically from the link's directory.
func linkDestination(e *Entry) string {
	t := e.LinkTarget
	if !filepath.IsAbs(t) {
		t = filepath.Join(filepath.Dir(e.Path), t)
	}
	return filepath.Clean(t)
}

// within reports whether p is root or lies below it.
func within(p, root string) bool {
	if root == "/" || p == root {
		return true
	}
	return strings.HasPrefix(p, strings.TrimSuffix(root, "/")+"/")
}

func checkSymlinkEscapesRoot(e *Entry, _ *policy.Settings, env *Env) (string, *Fix, bool) {
	if e.Type != TypeSymlink || e.LinkTarget == "" {
		return "", nil, false
	}
	dest := linkDestination(e)
	if within(dest, env.Root) {
		return "", nil, false
	}
	return fmt.Sprintf("symlink leads outside the audited root, to %s: a server that follows symlinks serves it", dest), nil, true
}

func checkDanglingSymlink(e *Entry, _ *policy.Settings, _ *Env) (string, *Fix, bool) {
	switch {
	case e.Type != TypeSymlink:
		return "", nil, false
	case e.Target == TargetMissing:
		return fmt.Sprintf("symlink target %s does not exist", e.LinkTarget), nil, true
	case e.Target == TargetLoop:
		return fmt.Sprintf("symlink target %s loops back on itself", e.LinkTarget), nil, true
	}
	return "", nil, false
}

func checkUnknownOwner(e *Entry, _ *policy.Settings, env *Env) (string, *Fix, bool) {
	if !e.OwnerKnown || env.Accounts == nil {
		return "", nil, false
	}
	var missing []string
	if _, ok := env.Accounts.UserName(e.UID); !ok {
		missing = append(missing, fmt.Sprintf("uid %d has no entry in %s", e.UID, env.Accounts.PasswdPath))
	}
	if _, ok := env.Accounts.GroupName(e.GID); !ok {
		missing = append(missing, fmt.Sprintf("gid %d has no entry in %s", e.GID, env.Accounts.GroupPath))
	}
	if len(missing) == 0 {
		return "", nil, false
	}
	return strings.Join(missing, "; ") + ": a user created later with that id would own this", nil, true
}
