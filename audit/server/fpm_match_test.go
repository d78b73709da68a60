package server

import "testing"

func TestMatchPool(t *testing.T) {
	pools := []Pool{
		{Name: "sock", Listen: "/run/php/php8.2-fpm.sock"},
		{Name: "varrun", Listen: "/var/run/php/legacy.sock"},
		{Name: "v4", Listen: "127.0.0.1:9000"},
		{Name: "port", Listen: "9001"},
		{Name: "v6any", Listen: "[::]:9002"},
		{Name: "v4any", Listen: "0.0.0.0:9003"},
		{Name: "v6lo", Listen: "[::1]:9004"},
		{Name: "name", Listen: "localhost:9005"},
		{Name: "lo2", Listen: "127.0.0.2:9006"},
		{Name: "fcgidefault", Listen: "127.0.0.1:8000"},
		{Name: "remote", Listen: "php-fpm:9007"},
	}
	tests := []struct{ addr, want string }{
		// a socket's path alone, as ReadApache gives a Site's PHP
		{"/run/php/php8.2-fpm.sock", "sock"},
		{"/var/run/php/legacy.sock", "varrun"},
		{"/run/php/php7.4-fpm.sock", ""},
		// nginx fastcgi_pass
		{"unix:/run/php/php8.2-fpm.sock", "sock"},
		{"unix:/var/run/php/php8.2-fpm.sock", "sock"},
		{"unix:/run/php/legacy.sock", "varrun"},
		{"unix:/run/php/php7.4-fpm.sock", ""},
		{"127.0.0.1:9000", "v4"},
		{"localhost:9000", "v4"},
		{"[::1]:9000", ""}, // the pool listens on IPv4 only
		{"127.0.0.1:9999", ""},
		{"9000", "v4"},
		{"127.0.0.1:9001", "port"},
		{"[::1]:9001", "port"},
		{"localhost:9001", "port"},
		{"10.0.0.5:9001", ""}, // maybe this host, maybe not
		{"127.0.0.1:9002", "v6any"},
		{"[::1]:9002", "v6any"},
		{"127.0.0.1:9003", "v4any"},
		{"[::1]:9003", ""},
		{"[::1]:9004", "v6lo"},
		{"localhost:9004", "v6lo"},
		{"127.0.0.1:9004", ""},
		{"127.0.0.1:9005", "name"},
		{"[::ffff:127.0.0.1]:9005", "name"},
		{"127.0.0.2:9006", "lo2"},
		{"127.0.0.1:9006", ""},
		{"php-fpm:9007", "remote"},
		{"PHP-FPM:9007", "remote"},
		{"other:9007", ""},
		{"php", ""}, // an upstream's name, the nginx reader's to resolve
		{"", ""},
		// Apache SetHandler and ProxyPass
		{"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost", "sock"},
		{`"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost/"`, "sock"},
		{"PROXY:UNIX:/var/run/php/php8.2-fpm.sock|fcgi://localhost", "sock"},
		{"proxy:fcgi://127.0.0.1:9000", "v4"},
		{"proxy:fcgi://localhost:9000/", "v4"},
		{"fcgi://127.0.0.1:9000/var/www/html/$1", "v4"},
		{"proxy:fcgi://[::1]:9004", "v6lo"},
		{"proxy:fcgi://127.0.0.1", "fcgidefault"},
		{"proxy:unix:relative.sock|fcgi://localhost", ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got := MatchPool(pools, tt.addr)
			switch {
			case got == nil && tt.want != "":
				t.Errorf("no pool, want %s", tt.want)
			case got != nil && got.Name != tt.want:
				t.Errorf("pool %s, want %q", got.Name, tt.want)
			}
		})
	}
}

// Each pool listen form is matched from each handler form that reaches it, and the pointer is
// into the caller's slice.
func TestMatchPoolListenForms(t *testing.T) {
	tests := []struct {
		listen  string
		matches []string
		misses  []string
	}{
		{"/run/php/a.sock", []string{"unix:/run/php/a.sock", "proxy:unix:/run/php/a.sock|fcgi://localhost"}, []string{"unix:/run/php/b.sock", "127.0.0.1:9000"}},
		{"127.0.0.1:9000", []string{"127.0.0.1:9000", "localhost:9000", "proxy:fcgi://127.0.0.1:9000"}, []string{"unix:/run/php/a.sock", "[::1]:9000"}},
		{"9000", []string{"127.0.0.1:9000", "[::1]:9000", "localhost:9000", "9000", "proxy:fcgi://localhost:9000"}, []string{"127.0.0.1:9001"}},
		{"[::]:9000", []string{"127.0.0.1:9000", "[::1]:9000", "proxy:fcgi://[::1]:9000"}, []string{"192.0.2.1:9000"}},
	}
	for _, tt := range tests {
		pools := []Pool{{Name: "p", Listen: tt.listen}}
		for _, addr := range tt.matches {
			if got := MatchPool(pools, addr); got != &pools[0] {
				t.Errorf("listen %s: %s matched %v", tt.listen, addr, got)
			}
		}
		for _, addr := range tt.misses {
			if got := MatchPool(pools, addr); got != nil {
				t.Errorf("listen %s: %s matched, want no match", tt.listen, addr)
			}
		}
	}
}

// Debian's /run/php/php-fpm.sock leads to the www.conf pool of the newest PHP version.
func TestMatchPoolDebianDefaultSocket(t *testing.T) {
	pools := []Pool{
		{Name: "www", Listen: "/run/php/php8.10-fpm.sock", Version: "8.10", Pos: Pos{"/etc/php/8.10/fpm/pool.d/www.conf", 4}},
		{Name: "www", Listen: "/run/php/php8.9-fpm.sock", Version: "8.9", Pos: Pos{"/etc/php/8.9/fpm/pool.d/www.conf", 4}},
		{Name: "shop", Listen: "/run/php/shop.sock", Version: "9.0", Pos: Pos{"/etc/php/9.0/fpm/pool.d/shop.conf", 1}},
		{Name: "www", Listen: "127.0.0.1:9000", Version: "9.1", Pos: Pos{"/etc/php/9.1/fpm/pool.d/www.conf", 4}},
	}
	if got := MatchPool(pools, "unix:/var/run/php/php-fpm.sock"); got != &pools[0] {
		t.Errorf("matched %+v, want PHP 8.10's www", got)
	}
	if got := MatchPool(pools[2:], "unix:/run/php/php-fpm.sock"); got != nil {
		t.Errorf("matched %+v, want none", got)
	}
	own := append([]Pool{{Name: "default", Listen: "/run/php/php-fpm.sock"}}, pools...)
	if got := MatchPool(own, "unix:/run/php/php-fpm.sock"); got != &own[0] {
		t.Errorf("matched %+v, want the pool listening there", got)
	}
}
