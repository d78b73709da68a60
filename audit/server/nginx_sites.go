package server

import (
	"path/filepath"
	"regexp"
	"strings"
)

// nginxSites fills cfg's user and sites from its directives.
func nginxSites(cfg *NginxConfig, r *nginxReader) {
	cfg.User, cfg.Group = "nobody", "nobody"
	for _, d := range cfg.Directives {
		if d.Name != "user" {
			continue
		}
		if len(d.Args) == 0 || len(d.Args) > 2 {
			r.warn(d.Pos, "user takes a user and a group, not %d arguments: nginx refuses the configuration", len(d.Args))
			continue
		}
		cfg.User, cfg.Group, cfg.UserPos = d.Args[0], d.Args[0], d.Pos
		if len(d.Args) == 2 {
			cfg.Group = d.Args[1]
		}
		break
	}
	relWarned := map[*NginxDirective]bool{} // relative roots warned of: an http block's once
	for _, http := range cfg.Directives {
		if http.Name != "http" || !http.IsBlock {
			continue
		}
		for _, srv := range http.Block {
			if srv.Name == "server" && srv.IsBlock {
				site := nginxSite(cfg, http, srv)
				if site.Root != "" && !strings.HasPrefix(site.Root, "/") && !strings.HasPrefix(site.Root, "$") {
					if rt := inherited(http, srv, "root")[0]; !relWarned[rt] {
						relWarned[rt] = true
						r.warn(rt.Pos, "relative root %s: nginx takes it from its prefix, which the configuration does not say (Debian's is /usr/share/nginx, nginx.org's /etc/nginx); left as written", site.Root)
					}
				}
				cfg.Sites = append(cfg.Sites, site)
				cfg.Servers = append(cfg.Servers, srv)
			}
		}
	}
}

// nginxSite is the Site of the server block srv of the http block http.
//
// Root, Index and Autoindex are the server block's, or else the http block's, which it
// inherits; without either, Root is "" (nginx's compiled default is html below its prefix, which
// the files do not say), Index nginx's default "index.html" and Autoindex off. Listen is
// nginx's default "*:80" where no listen is written (a master run as root; 8000 otherwise).
// Aliases are the prefix locations' alias directives, and their root directives other than the
// server's (a location's root serves its URL below that root); regex locations' aliases, whose
// paths come from the request, are not among them.
func nginxSite(cfg *NginxConfig, http, srv *NginxDirective) Site {
	s := Site{Server: Nginx, Pos: srv.Pos, User: cfg.User, Group: cfg.Group}
	for _, d := range srv.Find("server_name") {
		s.Names = append(s.Names, d.Args...)
	}
	for _, d := range srv.Find("listen") {
		s.Listen = append(s.Listen, strings.Join(d.Args, " "))
	}
	if len(s.Listen) == 0 {
		s.Listen = []string{"*:80"}
	}
	s.Root = firstArg(inherited(http, srv, "root"))
	s.Index = []string{"index.html"}
	if idx := inherited(http, srv, "index"); idx != nil {
		s.Index = nil
		for _, d := range idx {
			s.Index = append(s.Index, d.Args...)
		}
	}
	s.Autoindex = firstArg(inherited(http, srv, "autoindex")) == "on"
	upstreams := map[string]string{}
	for _, u := range http.Find("upstream") {
		if len(u.Args) == 1 {
			if servers := u.Find("server"); len(servers) > 0 {
				upstreams[u.Args[0]] = firstArg(servers)
			}
		}
	}
	walkLocations(srv, func(loc *NginxDirective) {
		mod, match, _ := loc.Location()
		prefix := mod == "" || mod == "^~" || mod == "="
		for _, a := range loc.Find("alias") {
			if prefix && len(a.Args) == 1 {
				s.Aliases = append(s.Aliases, Alias{URL: match, Path: a.Args[0], Pos: a.Pos})
			}
		}
		for _, rt := range loc.Find("root") {
			if prefix && len(rt.Args) == 1 && rt.Args[0] != s.Root && !strings.Contains(rt.Args[0], "$") {
				s.Aliases = append(s.Aliases, Alias{URL: match, Path: filepath.Join(rt.Args[0], match), Pos: rt.Pos})
			}
		}
		if s.PHP == "" && servesPHP(mod, match) {
			if pass := firstPass(loc); pass != "" {
				if addr, ok := upstreams[pass]; ok {
					pass = addr
				}
				s.PHP = pass
			}
		}
	})
	return s
}

// inherited gives srv's directives named name, or else http's.
func inherited(http, srv *NginxDirective, name string) []*NginxDirective {
	if ds := srv.Find(name); len(ds) > 0 {
		return ds
	}
	return http.Find(name)
}

// firstArg is the first directive's first argument, "" for none.
func firstArg(ds []*NginxDirective) string {
	if len(ds) == 0 || len(ds[0].Args) == 0 {
		return ""
	}
	return ds[0].Args[0]
}

// walkLocations calls visit for every location in d's block and in theirs, in the order they
// are written, each before those it holds.
func walkLocations(d *NginxDirective, visit func(loc *NginxDirective)) {
	for _, c := range d.Block {
		if _, _, ok := c.Location(); ok {
			visit(c)
			walkLocations(c, visit)
		}
	}
}

// servesPHP says a location of modifier mod and match takes PHP scripts: a regular expression
// that matches /index.php (~* ignoring case). nginx's are PCRE's; one Go's regexp cannot
// compile is taken as not matching.
func servesPHP(mod, match string) bool {
	switch mod {
	case "~*":
		match = "(?i)" + match
	case "~":
	default:
		return false
	}
	re, err := regexp.Compile(match)
	return err == nil && re.MatchString("/index.php")
}

// firstPass is the fastcgi_pass address of loc, or of the first location it holds that has
// one (nginx takes fastcgi_pass in "if" blocks too); "" for none.
func firstPass(loc *NginxDirective) string {
	for _, c := range loc.Block {
		if c.Name == "fastcgi_pass" && len(c.Args) == 1 {
			return c.Args[0]
		}
	}
	for _, c := range loc.Block {
		if c.IsBlock && (c.Name == "location" || c.Name == "if") {
			if p := firstPass(c); p != "" {
				return p
			}
		}
	}
	return ""
}
