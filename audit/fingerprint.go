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
// finding's root (absolute for an ancestor of every root) and the facts of the fault: the entry's
// type, mode, owner and group, and a link's target. The message and the severity are not in it,
// so new wording or a policy's new severity leaves it unchanged; a chmod or chown of the entry
// changes it, as the fault is then another. Within one root no two findings share one.
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
	field(policy.OctalMode(e.Mode))
	if e.OwnerKnown {
		field(strconv.FormatUint(uint64(e.UID), 10))
		field(strconv.FormatUint(uint64(e.GID), 10))
	} else {
		field("?")
		field("?")
	}
	field(e.LinkTarget)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:16])
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
