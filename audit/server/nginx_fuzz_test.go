package server

import (
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// FuzzParseNginx reads arbitrary bytes as nginx.conf, which may include itself and a second
// file holding the same bytes: no panic, every warning and every directive at a line of its
// file.
func FuzzParseNginx(f *testing.F) {
	for _, seed := range []string{
		"",
		"user www-data;\nhttp { include sites/*; server { listen 80; root /srv; location ~ \\.php$ { fastcgi_pass unix:/x; } } }\n",
		"http {\n server {\n",
		"}\n}\nuser a b c;\n",
		"include nginx.conf;\ninclude sites/*;\n",
		"location ~ a b { }\ninclude a b;\n",
		"x '${a}b' `c`;\ncontent_by_lua_block { local t = {} }\n",
		"types { text/html html; }\nmap $a $b { default 1; }\n",
		"root \"unterminated;\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := afero.NewMemMapFs()
		for _, name := range []string{"/etc/nginx/nginx.conf", "/etc/nginx/sites/a"} {
			if err := afero.WriteFile(fsys, name, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cfg, ws := ReadNginx(fsys, "/")
		if cfg == nil {
			t.Fatal("the main file exists and was not read")
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, w := range ws {
			if w.File == "" || w.Line < 1 || w.Line > lines || w.Msg == "" {
				t.Fatalf("warning %q of a file of %d lines", w, lines)
			}
		}
		var check func(ds []*NginxDirective)
		check = func(ds []*NginxDirective) {
			for _, d := range ds {
				if d.Pos.Line < 1 || d.Pos.Line > lines {
					t.Fatalf("directive %q at %v, in a file of %d lines", d.Name, d.Pos, lines)
				}
				check(d.Block)
			}
		}
		check(cfg.Directives)
		if len(cfg.Sites) != len(cfg.Servers) {
			t.Fatalf("%d sites of %d server blocks", len(cfg.Sites), len(cfg.Servers))
		}
	})
}
