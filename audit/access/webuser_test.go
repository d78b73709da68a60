package access

import (
	"fmt"
	"strings"
	"testing"
)

func TestResolveIdentities(t *testing.T) {
	users := []User{{Name: "root", UID: 0, GID: 0}, {Name: "www-data", UID: 33, GID: 33}, {Name: "nginx", UID: 101, GID: 101}, {Name: "deploy", UID: 1000, GID: 1000}}
	groups := []Group{{Name: "www-data", GID: 33}, {Name: "nginx", GID: 101}, {Name: "deploy", GID: 1000, Members: []string{"www-data"}}}
	a := NewAccounts(users, groups)
	a.PasswdPath, a.GroupPath = "/etc/passwd", "/etc/group"
	noDefaults := NewAccounts([]User{{Name: "root", UID: 0, GID: 0}}, nil)
	noDefaults.PasswdPath = "/etc/passwd"
	proc := &Candidate{User: "101", Group: "101", Source: "process", Evidence: "nginx worker, pid 812"}
	conf := &Candidate{User: "nginx", Group: "nginx", Source: "config", Evidence: "/etc/nginx/nginx.conf:1: user"}
	tests := []struct {
		name     string
		a        *Accounts
		fl       IdentityFlags
		found    Detected
		web, php string // "name uid gid groups source"
		err      string
	}{
		{"flag wins over detection", a, IdentityFlags{WebUser: "www-data"}, Detected{Web: proc}, "www-data 33 33 [33 1000] flag", "", ""},
		{"flag by uid", a, IdentityFlags{WebUser: "33"}, Detected{}, "www-data 33 33 [33 1000] flag", "", ""},
		{"flag with group", a, IdentityFlags{WebUser: "www-data", WebGroup: "deploy"}, Detected{}, "www-data 33 1000 [1000] flag", "", ""},
		{"unknown flag user", a, IdentityFlags{WebUser: "httpd"}, Detected{}, "", "", `--web-user "httpd": no such user in /etc/passwd`},
		{"unnamed uid with a group", a, IdentityFlags{WebUser: "4000", WebGroup: "33"}, Detected{}, "4000 33 [33] flag", "", ""},
		{"process", a, IdentityFlags{}, Detected{Web: proc}, "nginx 101 101 [101] process", "", ""},
		{"config", a, IdentityFlags{}, Detected{Web: conf}, "nginx 101 101 [101] config", "", ""},
		{"detected user unknown here falls back", a, IdentityFlags{}, Detected{Web: &Candidate{User: "lighttpd", Source: "config"}}, "www-data 33 33 [33 1000] default", "", ""},
		{"nginx group the system lacks", NewAccounts(users, groups[:1]), IdentityFlags{}, Detected{Web: &Candidate{User: "nginx", Group: "nobody-group", Source: "config"}}, "nginx 101 101 [101] config", "", ""},
		{"default", a, IdentityFlags{}, Detected{}, "www-data 33 33 [33 1000] default", "", ""},
		{"nothing known: Debian's www-data", noDefaults, IdentityFlags{}, Detected{}, "www-data 33 33 [33] default", "", ""},
		{"php flag", a, IdentityFlags{PHPUser: "deploy"}, Detected{}, "www-data 33 33 [33 1000] default", "deploy 1000 1000 [1000] flag", ""},
		{"php detected", a, IdentityFlags{}, Detected{PHP: &Candidate{User: "deploy", Source: "config"}}, "www-data 33 33 [33 1000] default", "deploy 1000 1000 [1000] config", ""},
		{"php as the web user is no php user", a, IdentityFlags{PHPUser: "www-data"}, Detected{}, "www-data 33 33 [33 1000] default", "", ""},
		{"unknown php flag", a, IdentityFlags{PHPUser: "pool"}, Detected{}, "", "", `--php-user "pool": no such user`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			web, php, err := ResolveIdentities(tt.a, tt.fl, tt.found)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(web); got != tt.web {
				t.Errorf("web %q, want %q", got, tt.web)
			}
			if got := describe(php); got != tt.php {
				t.Errorf("php %q, want %q", got, tt.php)
			}
			if web.Role != RoleWeb || (php != nil && php.Role != RolePHP) {
				t.Errorf("roles %q, %v", web.Role, php)
			}
		})
	}
}

func describe(w *WebUser) string {
	if w == nil {
		return ""
	}
	return strings.TrimSpace(fmt.Sprintf("%s %d %d %v %s", w.Name, w.UID, w.GID, w.Groups, w.Source))
}
