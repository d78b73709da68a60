package server

import (
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
)

// MatchPool finds the pool a site's PHP handler passes requests to: addr is the handler's
// address as nginx's fastcgi_pass writes it (unix:/run/php/php8.2-fpm.sock, 127.0.0.1:9000,
// localhost:9000, [::1]:9000, 9000), Apache's SetHandler / ProxyPass
// (proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost, proxy:fcgi://127.0.0.1:9000), or a
// socket's path alone (/run/php/php8.2-fpm.sock, as ReadApache gives a Site's PHP). It gives
// the first pool listening there, or nil.
//
// A socket path matches the pool's path, /var/run and /run taken as one (a link on every current
// distribution); Debian's /run/php/php-fpm.sock, where no pool listens on it, matches the pool
// its alternative leads to (see debianDefaultPool). A TCP address matches a pool on the same port whose address is the same, or
// covers it: a bare port or [::] takes every local address, 0.0.0.0 every IPv4 one; localhost is
// 127.0.0.1 and ::1. A wildcard pool is matched only from a loopback address or localhost: the
// host's other addresses are not known here, and the handler may pass to another machine.
func MatchPool(pools []Pool, addr string) *Pool {
	c, ok := parseHandlerAddr(addr)
	if !ok {
		return nil
	}
	for i := range pools {
		if p, ok := parseListenAddr(pools[i].Listen); ok && c.reaches(p) {
			return &pools[i]
		}
	}
	if c.unix == debianDefaultSocket {
		return debianDefaultPool(pools)
	}
	return nil
}

// debianDefaultSocket is the socket Debian's php-fpm packages point, through the php-fpm.sock
// alternative, at the socket of the pool file www.conf of the newest PHP version running (its
// php-fpm-socket-helper gives each version the priority of its number: 82 for 8.2).
const debianDefaultSocket = "/run/php/php-fpm.sock"

// debianDefaultPool is the pool of the newest version's /etc/php/VERSION/fpm/pool.d/www.conf,
// where no pool listens on debianDefaultSocket itself. The alternative is made when the service
// starts, so this is the pool it leads to once the newest version has started.
func debianDefaultPool(pools []Pool) *Pool {
	var best *Pool
	for i := range pools {
		p := &pools[i]
		if p.Version == "" || p.Pos.File != "/etc/php/"+p.Version+"/fpm/pool.d/www.conf" || !listenIsUnix(p.Listen) {
			continue
		}
		if best == nil || versionLess(best.Version, p.Version) {
			best = p
		}
	}
	return best
}

// versionLess compares dotted version numbers: 8.10 is newer than 8.9.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

// fcgiEndpoint is a FastCGI address: a Unix socket's path, or a host and port.
type fcgiEndpoint struct {
	unix string
	host string // "" with any set: every address
	port int
	any  bool // a wildcard: every address (v4only: every IPv4 one)
	v4   bool
}

// parseHandlerAddr reads a web server's handler address.
func parseHandlerAddr(addr string) (fcgiEndpoint, bool) {
	a := strings.TrimSpace(strings.Trim(strings.TrimSpace(addr), `"`))
	if len(a) >= 6 && strings.EqualFold(a[:6], "proxy:") {
		a = a[6:]
	}
	if path.IsAbs(a) {
		a = "unix:" + a // a socket's path alone, as the Apache reader gives a Site's PHP
	}
	if len(a) >= 5 && strings.EqualFold(a[:5], "unix:") {
		p, _, _ := strings.Cut(a[5:], "|") // Apache: unix:/path|fcgi://localhost
		if !path.IsAbs(p) {
			return fcgiEndpoint{}, false
		}
		return fcgiEndpoint{unix: runPath(p)}, true
	}
	defPort := 0
	if len(a) >= 7 && strings.EqualFold(a[:7], "fcgi://") {
		a = a[7:]
		if i := strings.IndexByte(a, '/'); i >= 0 {
			a = a[:i] // fcgi://127.0.0.1:9000/var/www/$1: the path is the script's
		}
		defPort = 8000 // mod_proxy_fcgi's default
	}
	if a != "" && strings.Trim(a, "0123456789") == "" {
		port, err := strconv.Atoi(a)
		return fcgiEndpoint{host: "localhost", port: port}, err == nil && port > 0 && port < 65536
	}
	host, port, ok := splitHostPort(a, defPort)
	if !ok || host == "" {
		return fcgiEndpoint{}, false
	}
	return fcgiEndpoint{host: host, port: port}, true
}

// parseListenAddr reads a pool's listen address as php-fpm does.
func parseListenAddr(listen string) (fcgiEndpoint, bool) {
	if listen == "" {
		return fcgiEndpoint{}, false
	}
	if listenIsUnix(listen) {
		return fcgiEndpoint{unix: runPath(listen)}, true
	}
	if !strings.Contains(listen, ":") {
		port, err := strconv.Atoi(listen)
		return fcgiEndpoint{any: true, port: port}, err == nil && port > 0 && port < 65536
	}
	host, port, ok := splitHostPort(listen, 0)
	if !ok {
		return fcgiEndpoint{}, false
	}
	switch host {
	case "0.0.0.0", "*":
		return fcgiEndpoint{any: true, v4: true, port: port}, true
	case "::":
		return fcgiEndpoint{any: true, port: port}, true // dual-stack, as Linux binds it by default
	}
	return fcgiEndpoint{host: host, port: port}, true
}

// splitHostPort splits host:port or [v6]:port; a missing port is def, and no port at all fails.
func splitHostPort(s string, def int) (string, int, bool) {
	host, portStr := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, false
		}
		host, portStr = s[1:end], strings.TrimPrefix(s[end+1:], ":")
		if s[end+1:] != "" && !strings.HasPrefix(s[end+1:], ":") {
			return "", 0, false
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, portStr = s[:i], s[i+1:]
		if strings.Contains(host, ":") {
			return "", 0, false // a bare IPv6 address with no brackets
		}
	}
	port := def
	if portStr != "" {
		n, err := strconv.Atoi(portStr)
		if err != nil {
			return "", 0, false
		}
		port = n
	}
	if port <= 0 || port > 65535 {
		return "", 0, false
	}
	return strings.ToLower(host), port, true
}

// runPath is a socket path with /var/run read as /run.
func runPath(p string) string {
	p = path.Clean(p)
	if rest, ok := strings.CutPrefix(p, "/var/run/"); ok {
		return "/run/" + rest
	}
	if p == "/var/run" {
		return "/run"
	}
	return p
}

// reaches says whether a handler at c connects to a pool listening at p.
func (c fcgiEndpoint) reaches(p fcgiEndpoint) bool {
	if c.unix != "" || p.unix != "" {
		return c.unix != "" && c.unix == p.unix
	}
	if c.port != p.port {
		return false
	}
	cips := hostAddrs(c.host)
	if p.any {
		for _, ip := range cips {
			if ip.IsLoopback() && (!p.v4 || ip.Is4()) {
				return true
			}
		}
		return false
	}
	pips := hostAddrs(p.host)
	if len(cips) == 0 || len(pips) == 0 {
		return c.host == p.host // host names other than localhost: the same name
	}
	for _, a := range cips {
		if slices.Contains(pips, a) {
			return true
		}
	}
	return false
}

// hostAddrs gives the addresses a host stands for where known without a resolver: a literal
// address (IPv4-mapped ones unmapped), and localhost's.
func hostAddrs(host string) []netip.Addr {
	if host == "localhost" || host == "" {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip.Unmap().WithZone("")}
	}
	return nil
}
