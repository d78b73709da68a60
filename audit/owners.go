package audit

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/webperm/webperm/policy"
)

// ErrPolicy marks a policy that cannot be held to the audited system: it names an owner or group
// the system lacks.
var ErrPolicy = errors.New("the policy does not fit the audited system")

// Owners are the owners and groups one root's policy expects, with every name resolved on the
// audited system: site is the root's owner, web and php the identities the audit runs for.
type Owners struct {
	// SiteUIDs are the site's owners: the policy's identities.owner, else the root's owner.
	SiteUIDs []uint32
	// SiteGIDs are the site's groups: the policy's identities.group, else the site owner's
	// primary group (the root's group where the owner has no entry in /etc/passwd).
	SiteGIDs []uint32
	web, php *WebUser
	users    map[string]uint32
	groups   map[string]uint32
	accounts *Accounts
}

// resolveOwners resolves every owner and group p names, for the root entry root. It fails on a
// name the audited system does not have, naming the policy line that uses it.
func resolveOwners(p *policy.Policy, acc *Accounts, root *Entry, web, php *WebUser) (*Owners, error) {
	o := &Owners{SiteUIDs: []uint32{root.UID}, SiteGIDs: []uint32{root.GID}, web: web, php: php,
		users: map[string]uint32{}, groups: map[string]uint32{}, accounts: acc}
	if acc == nil {
		return o, nil
	}
	if name, ok := acc.UserName(root.UID); ok {
		if u, ok := acc.LookupUser(name); ok {
			o.SiteGIDs[0] = u.GID
		}
	}
	resolve := func(specs []string, origin string, group bool) error {
		for _, s := range specs {
			if s == policy.OwnerSite || s == policy.OwnerWeb || s == policy.OwnerPHP {
				continue
			}
			if id, err := parseID(s); err == nil {
				o.set(group, s, id)
				continue
			}
			if group {
				g, ok := acc.LookupGroup(s)
				if !ok {
					return fmt.Errorf("%s: group %q: no such group in %s: %w", origin, s, acc.GroupPath, ErrPolicy)
				}
				o.set(group, s, g.GID)
			} else {
				u, ok := acc.LookupUser(s)
				if !ok {
					return fmt.Errorf("%s: owner %q: no such user in %s: %w", origin, s, acc.PasswdPath, ErrPolicy)
				}
				o.set(group, s, u.UID)
			}
		}
		return nil
	}
	if err := resolve(p.Identities.Owner, p.Name, false); err != nil {
		return nil, err
	}
	if err := resolve(p.Identities.Group, p.Name, true); err != nil {
		return nil, err
	}
	for _, r := range p.Rules {
		if err := resolve(r.Owner, r.Origin, false); err != nil {
			return nil, err
		}
		if err := resolve(r.Group, r.Origin, true); err != nil {
			return nil, err
		}
	}
	// The policy's identities name the site's owner and group; what they say is resolved with
	// the root's owner as site, so "site" in them means the root's owner still.
	if ids := p.Identities.Owner; ids != nil {
		o.SiteUIDs = o.ids(ids, false, false)
	}
	if ids := p.Identities.Group; ids != nil {
		o.SiteGIDs = o.ids(ids, false, true)
	}
	return o, nil
}

func (o *Owners) set(group bool, name string, id uint32) {
	if group {
		o.groups[name] = id
	} else {
		o.users[name] = id
	}
}

// php is PHP's user: its own where it has one, else the web server's.
func (o *Owners) phpUser() *WebUser {
	if o.php != nil {
		return o.php
	}
	return o.web
}

// allows reports whether id is among the user (or group) ids specs allow, without building the
// list: it runs for every entry.
func (o *Owners) allows(specs []string, writable, group bool, id uint32) bool {
	for _, s := range specs {
		if o.allowsOne(s, group, id) {
			return true
		}
	}
	return writable && (o.allowsOne(policy.OwnerWeb, group, id) || o.allowsOne(policy.OwnerPHP, group, id))
}

func (o *Owners) allowsOne(spec string, group bool, id uint32) bool {
	var w *WebUser
	switch spec {
	case policy.OwnerSite:
		if group {
			return slices.Contains(o.SiteGIDs, id)
		}
		return slices.Contains(o.SiteUIDs, id)
	case policy.OwnerWeb:
		w = o.web
	case policy.OwnerPHP:
		w = o.phpUser()
	default:
		m := o.users
		if group {
			m = o.groups
		}
		want, ok := m[spec]
		return ok && want == id
	}
	if w == nil {
		return false
	}
	if group {
		return w.GID == id
	}
	return w.UID == id
}

// ids returns the user (or group) ids specs allow, in order; writable adds the web and PHP
// users' (or groups), who may own what they write.
func (o *Owners) ids(specs []string, writable, group bool) []uint32 {
	var out []uint32
	for _, s := range specs {
		out = append(out, o.specIDs(s, group)...)
	}
	if writable {
		out = append(out, o.specIDs(policy.OwnerWeb, group)...)
		out = append(out, o.specIDs(policy.OwnerPHP, group)...)
	}
	return out
}

func (o *Owners) specIDs(spec string, group bool) []uint32 {
	var w *WebUser
	switch spec {
	case policy.OwnerSite:
		if group {
			return o.SiteGIDs
		}
		return o.SiteUIDs
	case policy.OwnerWeb:
		w = o.web
	case policy.OwnerPHP:
		w = o.phpUser()
	default:
		m := o.users
		if group {
			m = o.groups
		}
		if id, ok := m[spec]; ok {
			return []uint32{id}
		}
		return nil
	}
	switch {
	case w == nil:
		return nil
	case group:
		return []uint32{w.GID}
	}
	return []uint32{w.UID}
}

// describe names what specs expect: "deploy (the site's owner) or www-data".
func (o *Owners) describe(specs []string, group bool) string {
	var names []string
	for _, s := range specs {
		for _, id := range o.specIDs(s, group) {
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

func (o *Owners) name(id uint32, group bool) string {
	if o.accounts != nil {
		lookup := o.accounts.UserName
		if group {
			lookup = o.accounts.GroupName
		}
		if n, ok := lookup(id); ok {
			return n
		}
	}
	return fmt.Sprint(id)
}

// ownerFix is the chown that gives c's entry the first owner its rule expects, keeping its group
// and mode; nil where the policy names no owner the audit knows.
func ownerFix(c *Case) *Fix {
	o, e := c.Env.Owners, c.Entry
	if o == nil {
		return nil
	}
	want := o.ids(c.Settings.Owner, false, false)
	if len(want) == 0 {
		return nil
	}
	return &Fix{Mode: e.Mode, Chown: true, UID: want[0], GID: e.GID}
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

func checkOwnerMismatch(c *Case) (string, *Fix, bool) {
	o, e, s := c.Env.Owners, c.Entry, c.Settings
	if o == nil || !e.OwnerKnown || o.allows(s.Owner, s.Writable, false, e.UID) || unnamed(c, e.UID, false) {
		return "", nil, false
	}
	if ownedByServer(c) != nil && !s.Writable {
		return "", nil, false // web-user-owns or web-writable-code says it, with the danger
	}
	return fmt.Sprintf("owned by %s; the policy expects %s", o.name(e.UID, false), o.describe(s.Owner, false)), ownerFix(c), true
}

func checkGroupMismatch(c *Case) (string, *Fix, bool) {
	o, e, s := c.Env.Owners, c.Entry, c.Settings
	if o == nil || !e.OwnerKnown || o.allows(s.Group, s.Writable, true, e.GID) || unnamed(c, e.GID, true) {
		return "", nil, false
	}
	var fix *Fix
	if want := o.ids(s.Group, false, true); len(want) > 0 {
		fix = &Fix{Mode: e.Mode, Chown: true, UID: e.UID, GID: want[0]}
	}
	return fmt.Sprintf("group %s; the policy expects %s", o.name(e.GID, true), o.describe(s.Group, true)), fix, true
}
