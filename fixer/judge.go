package fixer

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// A saved plan is meant to be reviewed, and may be edited: a reviewer deletes actions or changes
// a target. Whatever the reviewer meant, webperm, as root, makes no change its own audit would
// report: each target of a saved plan is judged with the audit's rules and access model before
// anything is changed, and an action whose target would break a rule at medium or above that the
// entry does not break now is refused, on its own, while the others proceed.

// refuseAt is the least severity that refuses an edited target.
const refuseAt = policy.Medium

// JudgeStates returns the states a saved plan's actions ask for, by path, as audit.Auditor.Judge
// takes them.
func JudgeStates(p *Plan) map[string]audit.Fix {
	states := make(map[string]audit.Fix, len(p.Actions))
	for i := range p.Actions {
		a := &p.Actions[i]
		states[a.Path] = audit.Fix{Mode: a.Target.Mode, Chown: true, UID: a.Target.UID, GID: a.Target.GID}
	}
	return states
}

// Refusals judges every action of p against judged, what an audit with audit.Auditor.Judge set
// to JudgeStates(p) found, and returns why each refused action is refused, by path. An action is
// refused when its target gives a set-id or sticky bit the entry does not have, when the audit
// did not reach its entry (it cannot be judged), or when its target breaks a rule at medium or
// above that the entry does not break now.
func Refusals(p *Plan, judged map[string][]audit.Finding) map[string]string {
	out := map[string]string{}
	for i := range p.Actions {
		a := &p.Actions[i]
		if why := judgeTarget(a, judged); why != "" {
			out[a.Path] = why
		}
	}
	return out
}

func judgeTarget(a *Action, judged map[string][]audit.Finding) string {
	const special = fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky
	if added := a.Target.Mode & special &^ a.Current.Mode; added != 0 {
		return fmt.Sprintf("the plan's target %s gives it the %s it does not have: webperm never grants one; refused", policy.OctalMode(a.Target.Mode), specialNames(added))
	}
	if kept := setIDThroughChown(a); kept != 0 {
		return fmt.Sprintf("the plan's target %s %d:%d keeps its %s through the chown: what its owner wrote would run as the new owner or group, so webperm never keeps one (as the kernel's chown does not); refused",
			policy.OctalMode(a.Target.Mode), a.Target.UID, a.Target.GID, specialNames(kept))
	}
	found, ok := judged[a.Path]
	if !ok {
		return "the audit made to judge the plan did not reach it, so its target cannot be judged; refused"
	}
	var broken []string
	for _, f := range found {
		if f.Severity >= refuseAt {
			broken = append(broken, fmt.Sprintf("%s (%s): %s", f.Rule, f.Severity, f.Message))
		}
	}
	if len(broken) == 0 {
		return ""
	}
	return fmt.Sprintf("the plan's target %s %d:%d would be reported: %s; refused", policy.OctalMode(a.Target.Mode), a.Target.UID, a.Target.GID, strings.Join(broken, "; "))
}

// specialNames names the setuid, setgid and sticky bits of m: "setuid bit", "setuid and sticky
// bits".
func specialNames(m fs.FileMode) string {
	var names []string
	for _, b := range []struct {
		bit  fs.FileMode
		name string
	}{{fs.ModeSetuid, "setuid"}, {fs.ModeSetgid, "setgid"}, {fs.ModeSticky, "sticky"}} {
		if m&b.bit != 0 {
			names = append(names, b.name)
		}
	}
	if len(names) == 1 {
		return names[0] + " bit"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " bits"
}

// setIDThroughChown returns the set-id bits a's target keeps on a regular file whose owner (for
// setuid) or group (for setgid) it changes: bits the new owner or group never had.
func setIDThroughChown(a *Action) fs.FileMode {
	if a.Type != walk.TypeFile {
		return 0
	}
	var kept fs.FileMode
	if a.Target.UID != a.Current.UID {
		kept |= a.Target.Mode & fs.ModeSetuid
	}
	if a.Target.GID != a.Current.GID {
		kept |= a.Target.Mode & fs.ModeSetgid
	}
	return kept
}
