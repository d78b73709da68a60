package audit

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// ErrPolicy marks a policy that cannot be held to the audited system: it names an owner or group
// the system lacks.
var ErrPolicy = errors.New("the policy does not fit the audited system")

// Owners are the owners and groups one root's policy expects, every spec the policy writes
// ("site", "web", "php", a name or a number) resolved once, on the audited system, to the ids it
// stands for.
type Owners struct {
	users, groups map[string][]uint32
	accounts      *access.Accounts
}

// resolveOwners resolves every owner and group p names, for the site whose owner is site: site
// is that user and group unless the policy's identities say who the site's
// owner and group are; web and php are the identities the audit runs for. It fails on a name the
// audited system does not have, naming the policy line that uses it.
func resolveOwners(p *policy.Policy, acc *access.Accounts, site *SiteOwner, web, php *access.WebUser) (*Owners, error) {
	o := &Owners{users: map[string][]uint32{}, groups: map[string][]uint32{}, accounts: acc}
	o.users[policy.OwnerSite], o.groups[policy.OwnerSite] = []uint32{site.UID}, []uint32{site.GID}
	if site.Source == "unknown" {
		// The web server owns the root and nothing says whose the site is: "site" is no one, and
		// nothing is held to it (the web server is not the site's owner).
		o.users[policy.OwnerSite], o.groups[policy.OwnerSite] = nil, nil
	}
	if php == nil {
		php = web // PHP runs as the web server's user
	}
	for spec, w := range map[string]*access.WebUser{policy.OwnerWeb: web, policy.OwnerPHP: php} {
		o.users[spec], o.groups[spec] = nil, nil // unknown identities allow no one
		if w != nil {
			o.users[spec], o.groups[spec] = []uint32{w.UID}, []uint32{w.GID}
		}
	}
	if err := o.resolveAll(p.Identities.Owner, p.Identities.Group, p.Name); err != nil {
		return nil, err
	}
	// The identities say who "site" is, resolved with site still the root's owner.
	if ids := p.Identities.Owner; ids != nil {
		o.users[policy.OwnerSite] = o.ids(ids, false, false)
	}
	if ids := p.Identities.Group; ids != nil {
		o.groups[policy.OwnerSite] = o.ids(ids, false, true)
	}
	for _, r := range p.Rules {
		if err := o.resolveAll(r.Owner, r.Group, r.Origin); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// resolveAll resolves the names and numbers among owners and groups, written at origin.
func (o *Owners) resolveAll(owners, groups []string, origin string) error {
	for _, group := range []bool{false, true} {
		specs, m := owners, o.users
		if group {
			specs, m = groups, o.groups
		}
		for _, s := range specs {
			if _, done := m[s]; done {
				continue
			}
			id, err := o.lookup(s, group)
			if err != nil {
				return fmt.Errorf("%s: %w", origin, err)
			}
			m[s] = []uint32{id}
		}
	}
	return nil
}

// lookup resolves a name or number to an id; a number needs no name.
func (o *Owners) lookup(spec string, group bool) (uint32, error) {
	if id, err := access.ParseID(spec); err == nil {
		return id, nil
	}
	switch {
	case o.accounts == nil:
		return 0, fmt.Errorf("%q: no accounts to name it from: %w", spec, ErrPolicy)
	case group:
		if g, ok := o.accounts.LookupGroup(spec); ok {
			return g.GID, nil
		}
		return 0, fmt.Errorf("group %q: no such group in %s: %w", spec, o.accounts.GroupPath, ErrPolicy)
	}
	if u, ok := o.accounts.LookupUser(spec); ok {
		return u.UID, nil
	}
	return 0, fmt.Errorf("owner %q: no such user in %s: %w", spec, o.accounts.PasswdPath, ErrPolicy)
}

// allows reports whether id is among the user (or group) ids specs allow; in a writable path the
// web and PHP users (or groups) may own what they wrote. It runs for every entry and allocates
// nothing.
func (o *Owners) allows(specs []string, writable, group bool, id uint32) bool {
	m := o.users
	if group {
		m = o.groups
	}
	for _, s := range specs {
		if slices.Contains(m[s], id) {
			return true
		}
	}
	return writable && (slices.Contains(m[policy.OwnerWeb], id) || slices.Contains(m[policy.OwnerPHP], id))
}

// expects reports whether specs name anyone: "site" names no one where the site's owner is
// unknown, and an entry cannot then be held to it, nor to a list that names it ([site, web]: the
// web server's group alone is not what the policy expects).
func (o *Owners) expects(specs []string, group bool) bool {
	m := o.users
	if group {
		m = o.groups
	}
	for _, s := range specs {
		if len(m[s]) == 0 {
			return false
		}
	}
	return len(specs) > 0
}

// ids returns the user (or group) ids specs allow, in order.
func (o *Owners) ids(specs []string, writable, group bool) []uint32 {
	m := o.users
	if group {
		m = o.groups
	}
	var out []uint32
	for _, s := range specs {
		out = append(out, m[s]...)
	}
	if writable {
		out = append(out, m[policy.OwnerWeb]...)
		out = append(out, m[policy.OwnerPHP]...)
	}
	return out
}

// describe names what specs expect: "deploy (the site's owner) or www-data".
func (o *Owners) describe(specs []string, group bool) string {
	var names []string
	for _, s := range specs {
		for _, id := range o.ids([]string{s}, false, group) {
			n := o.name(id, group)
			if s == policy.OwnerSite {
				n += " (the site's)"
			}
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return strings.Join(names, " or ")
}

// name is how messages name a user or group id: by name where the audited system has one.
func (o *Owners) name(id uint32, group bool) string {
	if group {
		return o.accounts.GroupLabel(id)
	}
	return o.accounts.UserLabel(id)
}

// chownFix is the one chown that gives c's entry an owner and a group its rule allows, changing
// only what is wrong (the first id the rule names) and keeping the mode; nil where the policy
// names no id the audit knows for what is wrong. owner-mismatch and group-mismatch share it, so
// applying both fixes of an entry ends in one state.
func chownFix(c *Case) *Fix {
	o, e, s := c.Env.Owners, c.Entry, c.Settings
	if o == nil || !e.OwnerKnown {
		return nil
	}
	fix := &Fix{Mode: e.Mode, Chown: true, UID: e.UID, GID: e.GID}
	for _, f := range []struct {
		specs []string
		group bool
		id    *uint32
	}{{s.Owner, false, &fix.UID}, {s.Group, true, &fix.GID}} {
		if o.allows(f.specs, c.writable(), f.group, *f.id) {
			continue
		}
		want := o.ids(f.specs, false, f.group)
		if len(want) == 0 {
			return nil
		}
		*f.id = want[0]
	}
	return fix
}

// unnamed reports whether id has no name on the audited system: unknown-owner reports it then,
// not the mismatch rules.
func unnamed(c *Case, id uint32, group bool) bool {
	acc := c.Env.Accounts
	if acc == nil {
		return false
	}
	lookup := acc.UserName
	if group {
		lookup = acc.GroupName
	}
	_, ok := lookup(id)
	return !ok
}

// ownsNothing reports whether e's owner and group are not the policy's business: a symlink's
// (no one can retarget a link, only replace it where they write the directory; Apache's
// SymLinksIfOwnerMatch compares it with its target's, not with the policy), so the mismatch
// rules hold its target, where the walk meets it, not the link.
func ownsNothing(e *walk.Entry) bool { return e.Type == walk.TypeSymlink }

func checkOwnerMismatch(c *Case) (string, *Fix, bool) {
	o, e, s := c.Env.Owners, c.Entry, c.Settings
	if o == nil || ownsNothing(e) || !e.OwnerKnown || o.allows(s.Owner, c.writable(), false, e.UID) || unnamed(c, e.UID, false) || !o.expects(s.Owner, false) {
		return "", nil, false
	}
	if serverOwner(c) != nil {
		return "", nil, false // web-user-owns or web-writable-code says it, with the danger
	}
	return fmt.Sprintf("owned by %s; the policy expects %s", o.name(e.UID, false), o.describe(s.Owner, false)), chownFix(c), true
}

func checkGroupMismatch(c *Case) (string, *Fix, bool) {
	o, e, s := c.Env.Owners, c.Entry, c.Settings
	if o == nil || ownsNothing(e) || !e.OwnerKnown || o.allows(s.Group, c.writable(), true, e.GID) || unnamed(c, e.GID, true) || !o.expects(s.Group, true) {
		return "", nil, false
	}
	return fmt.Sprintf("group %s; the policy expects %s", o.name(e.GID, true), o.describe(s.Group, true)), chownFix(c), true
}
