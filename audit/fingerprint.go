package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// fingerprintVersion starts every fingerprint's input: a change of what goes into fingerprints
// changes it, so that fingerprints of two versions never match by accident.
const fingerprintVersion = "webperm/fingerprint/v1"

// Fingerprint names a finding across runs, so that a baseline or a CI system can tell a finding
// it has seen from a new one: 32 hex digits of a SHA-256 over the rule, the path relative to the
// finding's root (absolute for an ancestor of every root) and the facts of the fault, those of
// the entry the rule judges (faultFacts): a world-writable file is the same finding while its
// mode stays, whoever owns it; a chmod makes it another. The message and the severity are not in
// it, so new wording or a policy's new severity leaves it unchanged. Within one root no two
// findings share one.
func (r *Report) Fingerprint(f *Finding) string {
	e := &f.Entry
	var b strings.Builder
	field := func(s string) {
		b.WriteString(s)
		b.WriteByte(0)
	}
	field(fingerprintVersion)
	field(string(f.Rule))
	field(RootRelative(e.Path, r.Roots))
	field(e.Type.String())
	facts := faultFacts(f.Rule)
	if facts&factMode != 0 {
		field("mode=" + policy.OctalMode(e.Mode))
	}
	if facts&factOwner != 0 {
		if e.OwnerKnown {
			field("owner=" + strconv.FormatUint(uint64(e.UID), 10) + ":" + strconv.FormatUint(uint64(e.GID), 10))
		} else {
			field("owner=?")
		}
	}
	if facts&factLink != 0 {
		field("link=" + e.LinkTarget)
	}
	if facts&factACL != 0 && e.ACL != nil {
		field("acl=" + e.ACL.String())
	}
	if facts&factLabel != 0 {
		field("label=" + e.Label)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:16])
}

// fact is a fact of an entry that a rule's fault may lie in.
type fact uint8

const (
	factMode  fact = 1 << iota // the permission bits, setuid, setgid and sticky
	factOwner                  // owner and group
	factLink                   // a symlink's target
	factACL                    // the access ACL
	factLabel                  // the SELinux label
	factAll   = factMode | factOwner | factLink | factACL | factLabel
)

// faultFacts are the facts of its entry a rule judges: the mode for the rules of modes, the
// owners for those of owners, both for those of access (and the ACL for the ACL's), the target
// for those of links, the label for SELinux's, and none beyond the entry's type for those whose
// fault lies elsewhere (a script's writable directory,
// the root's missing index). A rule not listed is held to all of them.
func faultFacts(rule policy.RuleID) fact {
	switch rule {
	case policy.WorldWritable, policy.ModeTooOpen, policy.SetuidSetgid:
		return factMode
	case policy.OwnerMismatch, policy.GroupMismatch, policy.UnknownOwner, policy.WebUserOwns, policy.WebUserOwnsTree:
		return factOwner
	case policy.WebUnreadable, policy.WebUntraversable, policy.HtaccessUnreadable, policy.SensitiveExposed,
		policy.WebWritableCode, policy.WebUnwritable:
		return factMode | factOwner
	case policy.ACLExtendsAccess:
		return factMode | factOwner | factACL
	case policy.SELinuxLabel:
		return factLabel
	case policy.SymlinkEscapesRoot, policy.DanglingSymlink:
		return factLink
	case policy.ScriptInWritable, policy.MissingIndex, policy.SpecialFile:
		return 0
	}
	return factAll
}

// RootRelative is p relative to the innermost of roots that holds it ("." for a root itself), or
// p as it is where no root holds it: a finding may name an ancestor of the roots.
func RootRelative(p string, roots []string) string {
	_, rel := RootOf(p, roots)
	return rel
}

// RootOf is the index in roots of the innermost root that holds p, and p relative to it as
// RootRelative gives it; the index is -1, and p is as it is, where no root holds p.
func RootOf(p string, roots []string) (int, string) {
	best, bestLen := -1, 0
	for i, root := range roots {
		if walk.Within(p, root) && len(root) > bestLen {
			best, bestLen = i, len(root)
		}
	}
	switch {
	case best < 0:
		return best, p
	case p == roots[best]:
		return best, "."
	case roots[best] == "/":
		return best, p[1:]
	}
	return best, p[len(roots[best])+1:]
}
