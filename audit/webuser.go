package audit

import (
	"fmt"
	"strconv"
)

// WebUser is the identity the web server runs as: the user whose access decides what answers
// 403.
type WebUser struct {
	Name   string   `json:"name"`
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups"`
	Source string   `json:"source"` // how webperm decided: "flag" or "default"
}

// DefaultWebUsers are the accounts distributions run their web servers as, in the order webperm
// tries them: Debian and Ubuntu, RHEL and Fedora (Apache, then nginx), Arch, openSUSE.
var DefaultWebUsers = []string{"www-data", "apache", "nginx", "http", "wwwrun"}

// ResolveWebUser finds the web user in the audited system's accounts. user and group come from
// --web-user and --web-group and may be names or numeric ids; without user, the first of
// DefaultWebUsers the system has is taken, and nil is returned if it has none of them.
func ResolveWebUser(a *Accounts, user, group string) (*WebUser, error) {
	var w *WebUser
	if user != "" {
		u, ok := a.LookupUser(user)
		if ok {
			w = &WebUser{Name: u.Name, UID: u.UID, GID: u.GID, Source: "flag"}
		} else if id, err := strconv.ParseUint(user, 10, 32); err == nil && group != "" {
			// A uid the system does not name still has access; its group must come from the flag.
			w = &WebUser{UID: uint32(id), Source: "flag"}
		} else {
			return nil, fmt.Errorf("web user %q is not in %s", user, a.PasswdPath)
		}
	} else {
		for _, name := range DefaultWebUsers {
			if u, ok := a.LookupUser(name); ok {
				w = &WebUser{Name: u.Name, UID: u.UID, GID: u.GID, Source: "default"}
				break
			}
		}
		if w == nil {
			return nil, nil
		}
	}
	if group != "" {
		g, ok := a.LookupGroup(group)
		if !ok {
			id, err := strconv.ParseUint(group, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("web group %q is not in %s", group, a.GroupPath)
			}
			g.GID = uint32(id)
		}
		w.GID = g.GID
	}
	w.Groups = a.GroupsOf(w.Name, w.GID)
	return w, nil
}
