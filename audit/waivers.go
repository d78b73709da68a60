package audit

import (
	"path/filepath"
	"strings"
	"time"

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
	if w == nil || len(w.list) == 0 {
		return true
	}
	e := c.Entry
	abs := systemPath(e.Path, w.sysroot)
	var expired *WaiverUse
	for i := range w.list {
		if !w.list[i].Covers(f.Rule, e.Rel, abs, e.Type == TypeDir) {
			continue
		}
		if use := w.uses[i]; !use.Expired {
			use.Findings++
			return false
		} else if expired == nil {
			expired = use
		}
	}
	if expired != nil {
		expired.Findings++
		f.ExpiredWaiver = &expired.Waiver
	}
	return true
}

// systemPath is p as the audited system sees it: below sysroot, from its /.
func systemPath(p, sysroot string) string {
	if sysroot == "" || sysroot == "/" {
		return p
	}
	if !within(p, sysroot) {
		return p
	}
	return filepath.Join("/", strings.TrimPrefix(p, strings.TrimSuffix(sysroot, "/")))
}
