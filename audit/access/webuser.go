package access

import (
	"errors"
	"fmt"
	"strconv"
)

// Role is what an identity does for the web site.
type Role string

// Roles. The web server must search every directory down to what it serves and read static files;
// PHP (a PHP-FPM pool) must read scripts. Under Apache's mod_php the web user is both.
const (
	RoleWeb Role = "web"
	RolePHP Role = "php"
)

// WebUser is an identity the web site runs as: the web server's user, whose access decides what
// answers 403, or PHP-FPM's.
type WebUser struct {
	Name   string   `json:"name"`
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups"`
	// Source says how webperm decided: "flag", "process", "config" or "default".
	Source string `json:"source"`
	// Evidence says what it went by: "nginx worker, pid 812", "/etc/apache2/envvars:4".
	Evidence string `json:"evidence,omitempty"`
	Role     Role   `json:"-"`
}

// Identity returns the credentials the kernel checks for this user.
func (w *WebUser) Identity() Identity { return Identity{UID: w.UID, GID: w.GID, Groups: w.Groups} }

// DefaultWebUsers are the accounts distributions run their web servers as, in the order webperm
// tries them: Debian and Ubuntu, RHEL and Fedora (Apache, then nginx), Arch, openSUSE.
var DefaultWebUsers = []string{"www-data", "apache", "nginx", "http", "wwwrun"}

// assumedWebUser is the last resort when the audited system names none of DefaultWebUsers:
// Debian's www-data, whose ids base-passwd fixes at 33.
var assumedWebUser = WebUser{Name: "www-data", UID: 33, GID: 33, Groups: []uint32{33}, Source: "default",
	Evidence: "assumed: the system names none of the usual web server users"}

// IdentityFlags are what the user said on the command line; empty means "detect".
type IdentityFlags struct {
	WebUser, WebGroup, PHPUser string
}

// ResolveIdentities decides who the web server and PHP run as: the flags first, then what
// detection found running or configured, then the distribution's default web user. PHP is nil
// where nothing says PHP runs apart from the web server, or it runs as the same user.
func ResolveIdentities(a *Accounts, fl IdentityFlags, found Detected) (web, php *WebUser, err error) {
	switch {
	case fl.WebUser != "":
		web, err = lookupIdentity(a, fl.WebUser, fl.WebGroup, "flag", "--web-user")
	case found.Web != nil:
		web = lookupDetected(a, found.Web)
	}
	if err != nil {
		return nil, nil, err
	}
	if web == nil {
		web = defaultWebUser(a)
	}
	if fl.WebUser == "" && fl.WebGroup != "" {
		if err := setGroup(a, web, fl.WebGroup, "--web-group"); err != nil {
			return nil, nil, err
		}
	}
	web.Role = RoleWeb
	switch {
	case fl.PHPUser != "":
		php, err = lookupIdentity(a, fl.PHPUser, "", "flag", "--php-user")
	case found.PHP != nil:
		php = lookupDetected(a, found.PHP)
	}
	if err != nil {
		return nil, nil, err
	}
	if php != nil && php.UID == web.UID && php.GID == web.GID {
		php = nil
	}
	if php != nil {
		php.Role = RolePHP
	}
	return web, php, nil
}

// lookupDetected resolves what detection found; nil when the audited system does not know the
// user, so that evidence webperm cannot use falls back to the defaults rather than stop the audit.
func lookupDetected(a *Accounts, c *Candidate) *WebUser {
	w, err := lookupIdentity(a, c.User, c.Group, c.Source, c.Evidence)
	if err != nil && c.Group != "" {
		// nginx's "user www;" names a group www too, which the system may not have: the user's
		// primary group is then what the worker runs with.
		w, err = lookupIdentity(a, c.User, "", c.Source, c.Evidence)
	}
	if err != nil {
		return nil
	}
	return w
}

// defaultWebUser returns the first of DefaultWebUsers the system has, or Debian's www-data.
func defaultWebUser(a *Accounts) *WebUser {
	for _, name := range DefaultWebUsers {
		if u, ok := a.LookupUser(name); ok {
			return &WebUser{Name: u.Name, UID: u.UID, GID: u.GID, Groups: a.GroupsOf(u.Name, u.GID), Source: "default",
				Evidence: "the first of " + JoinAnd(DefaultWebUsers) + " in " + a.PasswdPath}
		}
	}
	w := assumedWebUser
	return &w
}

// lookupIdentity resolves a user (and optionally a group), each a name or a numeric id, in the
// audited system's accounts. A uid the system does not name is accepted together with a group,
// since its access is still well defined.
func lookupIdentity(a *Accounts, user, group, source, evidence string) (*WebUser, error) {
	var w *WebUser
	if u, ok := a.LookupUser(user); ok {
		w = &WebUser{Name: u.Name, UID: u.UID, GID: u.GID}
	} else if id, err := strconv.ParseUint(user, 10, 32); err == nil && group != "" {
		w = &WebUser{UID: uint32(id)}
	} else {
		return nil, fmt.Errorf("%s %q: no such user in %s", evidence, user, a.PasswdPath)
	}
	w.Source, w.Evidence = source, evidence
	if source == "flag" {
		w.Evidence = ""
	}
	if group != "" {
		what := "group"
		if source == "flag" {
			what = "--web-group"
		}
		if err := setGroup(a, w, group, what); err != nil {
			return nil, err
		}
	}
	w.Groups = a.GroupsOf(w.Name, w.GID)
	return w, nil
}

// ErrNoSuchGroup marks a web server group, named on the command line or found configured, that
// the audited system does not have.
var ErrNoSuchGroup = errors.New("no such group")

// setGroup makes group, a name or a numeric gid, w's primary group; what says where the group
// was named, for the error.
func setGroup(a *Accounts, w *WebUser, group, what string) error {
	g, ok := a.LookupGroup(group)
	if !ok {
		id, err := strconv.ParseUint(group, 10, 32)
		if err != nil {
			return fmt.Errorf("%s %q: %w in %s", what, group, ErrNoSuchGroup, a.GroupPath)
		}
		g.GID = uint32(id)
	}
	w.GID = g.GID
	w.Groups = a.GroupsOf(w.Name, w.GID)
	return nil
}

// Candidate is an identity webperm found evidence for.
type Candidate struct {
	User     string // a name or a numeric uid, as the evidence gives it
	Group    string // may be empty: the user's primary group applies
	Source   string // "process" or "config"
	Evidence string // what said so, for the report: "nginx worker, pid 812" or "/etc/nginx/nginx.conf:3: user"
}

// Detected is what detection found; a nil field means no evidence.
type Detected struct {
	Web *Candidate // the web server: nginx, Apache (apache2, httpd) or LiteSpeed
	PHP *Candidate // a PHP-FPM pool (a running worker, or the first configured pool in name order)
}
