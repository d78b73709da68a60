package audit

import (
	"time"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// WaiverUse is one waiver of the policy and what it did in the audit.
type WaiverUse struct {
	policy.Waiver
	// Expired is set once the waiver's last day has passed: its findings are reported again.
	Expired bool
	// Findings counts the findings it covered: waived while it holds, reported once expired.
	Findings int
}

// waivers applies a root's waivers to its findings and counts what each did.
type waivers struct {
	list    []policy.Waiver
	uses    []*WaiverUse // parallel to list
	sysroot string
}

// newWaivers prepares p's waivers for one root, sharing the uses recorded in rep across roots
// whose policies carry the same waiver.
func newWaivers(p *policy.Policy, rep *Report, today time.Time, sysroot string) *waivers {
	w := &waivers{list: p.Waivers, sysroot: sysroot}
	for _, pw := range p.Waivers {
		var use *WaiverUse
		for _, u := range rep.Waivers {
			if u.Origin == pw.Origin && u.Rule == pw.Rule {
				use = u
			}
		}
		if use == nil {
			use = &WaiverUse{Waiver: pw, Expired: pw.Expired(today)}
			rep.Waivers = append(rep.Waivers, use)
		}
		w.uses = append(w.uses, use)
	}
	return w
}

// apply decides f's fate: it returns false where a holding waiver covers it (the finding is
// dropped and counted against that waiver), and otherwise marks it with an expired waiver that
// covers it, which counts it as reported again.
func (w *waivers) apply(f *Finding, c *Case) bool {
	holding, expired := w.covering(f.Rule, c)
	switch {
	case holding != nil:
		holding.Findings++
		return false
	case expired != nil:
		expired.Findings++
		f.ExpiredWaiver = &expired.Waiver
	}
	return true
}

// holds reports whether a waiver that still holds covers rule on c's entry.
func (w *waivers) holds(rule policy.RuleID, c *Case) bool {
	holding, _ := w.covering(rule, c)
	return holding != nil
}

// covering returns the first holding waiver that covers rule on c's entry, or else the first
// expired one; nil where none does.
func (w *waivers) covering(rule policy.RuleID, c *Case) (holding, expired *WaiverUse) {
	if w == nil || len(w.list) == 0 {
		return nil, nil
	}
	e := c.Entry
	abs := walk.SystemPath(e.Path, w.sysroot)
	for i := range w.list {
		if !w.list[i].Covers(rule, e.Rel, abs, e.Type == walk.TypeDir) {
			continue
		}
		if use := w.uses[i]; !use.Expired {
			return use, nil
		} else if expired == nil {
			expired = use
		}
	}
	return nil, expired
}
