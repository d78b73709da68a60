package server

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/tufanbarisyildirim/gonginx/config"
	"github.com/webperm/webperm/internal/fixture"
	"golang.org/x/sys/unix"
)

// memFiles is a memory file system holding files (path → content).
func memFiles(t *testing.T, files map[string]string) afero.Fs {
	t.Helper()
	fsys := afero.NewMemMapFs()
	for name, text := range files {
		if err := afero.WriteFile(fsys, name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return fsys
}

// needDebianNginx skips the test where Debian's nginx configuration is not installed, and fails
// it where CI says it must be (WEBPERM_E2E_REQUIRED).
func needDebianNginx(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/etc/nginx/sites-available/default"); err != nil {
		fixture.Unavailable(t, fmt.Sprintf("Debian's nginx configuration is missing (%v): apt-get install nginx-light", err))
	}
}

// lineOf gives the line, from 1, of the first line of the host's file that holds text.
func lineOf(t *testing.T, file, text string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("%s holds no %q", file, text)
	return 0
}

func warningsText(ws []Warning) string {
	var b strings.Builder
	for _, w := range ws {
		b.WriteString(w.String() + "\n")
	}
	return b.String()
}

// TestReadNginxDebian reads Debian's stock configuration, copied from the host into an image in
// a temp dir, whose sites-enabled/default and modules-enabled links are absolute: they must be
// followed inside the image.
func TestReadNginxDebian(t *testing.T) {
	needDebianNginx(t)
	root := t.TempDir()
	copyTree(t, "/etc/nginx", root)
	if _, err := os.Stat("/usr/share/nginx/modules-available"); err == nil {
		copyTree(t, "/usr/share/nginx/modules-available", root)
	}
	// The host's default site is not the image's: a root the image's own file says.
	if err := os.WriteFile(filepath.Join(root, "etc/nginx/sites-available/default"),
		[]byte(strings.Replace(mustRead(t, "/etc/nginx/sites-available/default"), "root /var/www/html;", "root /var/www/image;", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, ws := ReadNginx(afero.NewOsFs(), root)
	if cfg == nil {
		t.Fatal("no configuration read")
	}
	if len(ws) > 0 {
		t.Errorf("warnings on Debian's stock configuration:\n%s", warningsText(ws))
	}
	if cfg.Main != "/etc/nginx/nginx.conf" {
		t.Errorf("main file %q", cfg.Main)
	}
	for _, f := range []string{"/etc/nginx/mime.types", "/etc/nginx/sites-enabled/default"} {
		if !slices.Contains(cfg.Files, f) {
			t.Errorf("%s not read; files read: %v", f, cfg.Files)
		}
	}
	if cfg.User != "www-data" || cfg.Group != "www-data" {
		t.Errorf("user %q group %q, want www-data (nginx.conf's user)", cfg.User, cfg.Group)
	}
	if want := (Pos{"/etc/nginx/nginx.conf", lineOf(t, "/etc/nginx/nginx.conf", "user www-data")}); cfg.UserPos != want {
		t.Errorf("user at %v, want %v", cfg.UserPos, want)
	}
	if len(cfg.Sites) != 1 {
		t.Fatalf("%d sites, want Debian's default one: %+v", len(cfg.Sites), cfg.Sites)
	}
	s := cfg.Sites[0]
	def := "/etc/nginx/sites-available/default"
	if s.Root != "/var/www/image" {
		t.Errorf("root %q, want the image's /var/www/image (not the host's file)", s.Root)
	}
	if want := []string{"index.html", "index.htm", "index.nginx-debian.html"}; !slices.Equal(s.Index, want) {
		t.Errorf("index %q, want %q", s.Index, want)
	}
	if want := []string{"80 default_server", "[::]:80 default_server"}; !slices.Equal(s.Listen, want) {
		t.Errorf("listen %q, want %q", s.Listen, want)
	}
	if !slices.Equal(s.Names, []string{"_"}) || s.User != "www-data" || s.Autoindex || s.PHP != "" {
		t.Errorf("site %+v", s)
	}
	// Where the file is as the system names it: through the sites-enabled link.
	if want := (Pos{"/etc/nginx/sites-enabled/default", lineOf(t, def, "server {")}); s.Pos != want {
		t.Errorf("site at %v, want %v", s.Pos, want)
	}
	srv := cfg.Servers[0]
	root0 := srv.Find("root")
	if len(root0) != 1 || root0[0].Pos.Line != lineOf(t, def, "root /var/www/html;") {
		t.Errorf("root directive %+v", root0)
	}
	if root0[0].Via == nil || root0[0].Via.Args[0] != "/etc/nginx/sites-enabled/*" {
		t.Errorf("root directive came through %+v, want the sites-enabled include", root0[0].Via)
	}
	locs := srv.Find("location")
	if len(locs) != 1 || locs[0].Pos.Line != lineOf(t, def, "location / {") {
		t.Fatalf("locations %+v", locs)
	}
	tf := locs[0].Find("try_files")
	if len(tf) != 1 || !slices.Equal(tf[0].Args, []string{"$uri", "$uri/", "=404"}) || tf[0].Pos.Line != lineOf(t, def, "try_files $uri $uri/ =404;") {
		t.Errorf("try_files %+v", tf)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestReadNginxDebianPHP includes Debian's snippets/fastcgi-php.conf, which includes
// fastcgi.conf relative to /etc/nginx, in a PHP location as Debian's default site suggests.
func TestReadNginxDebianPHP(t *testing.T) {
	needDebianNginx(t)
	root := t.TempDir()
	copyTree(t, "/etc/nginx", root)
	writeBelow(t, root, map[string]string{"/etc/nginx/nginx.conf": `user www-data;
events {}
http {
	server {
		root /srv/app;
		location ~ \.php$ {
			include snippets/fastcgi-php.conf;
			fastcgi_pass unix:/run/php/php8.2-fpm.sock;
		}
	}
}
`})
	cfg, ws := ReadNginx(afero.NewOsFs(), root)
	if len(ws) > 0 {
		t.Errorf("warnings:\n%s", warningsText(ws))
	}
	if cfg == nil || len(cfg.Sites) != 1 {
		t.Fatalf("config %+v", cfg)
	}
	if cfg.Sites[0].PHP != "unix:/run/php/php8.2-fpm.sock" {
		t.Errorf("php %q", cfg.Sites[0].PHP)
	}
	loc := cfg.Servers[0].Find("location")[0]
	inc := loc.Find("include")
	if len(inc) != 2 || !slices.Equal(inc[0].Included, []string{"/etc/nginx/snippets/fastcgi-php.conf"}) || !slices.Equal(inc[1].Included, []string{"/etc/nginx/fastcgi.conf"}) {
		t.Fatalf("includes %+v", inc)
	}
	snippet := "/etc/nginx/snippets/fastcgi-php.conf"
	tf := loc.Find("try_files")
	if len(tf) != 1 || tf[0].Pos != (Pos{snippet, lineOf(t, snippet, "try_files")}) || tf[0].Via != inc[0] {
		t.Errorf("try_files %+v", tf)
	}
	params := loc.Find("fastcgi_param")
	var script *NginxDirective
	for _, p := range params {
		if len(p.Args) > 0 && p.Args[0] == "SCRIPT_FILENAME" {
			script = p
		}
	}
	if script == nil || script.Pos != (Pos{"/etc/nginx/fastcgi.conf", lineOf(t, "/etc/nginx/fastcgi.conf", "SCRIPT_FILENAME")}) || script.Via != inc[1] {
		t.Errorf("SCRIPT_FILENAME from fastcgi.conf: %+v", script)
	}
}

// TestReadNginxVhosts reads a configuration of several sites written with every directive the
// reader knows, included through a glob, in a memory file system.
func TestReadNginxVhosts(t *testing.T) {
	files := map[string]string{
		"/etc/nginx/nginx.conf": `# no user: nginx's default
events { worker_connections 64; }
http {
    index index.php index.html;
    autoindex on;
    upstream php { server 127.0.0.1:9000; }
    include sites/*.conf;
    include "sites/.hidden/*";
}
`,
		"/etc/nginx/sites/a.conf": `server {
    listen 8080;
    listen [::]:8080 ssl;
    server_name a.example  www.a.example;
    server_name
        alt.a.example;
    root "/srv/a/public";
    location / {
        try_files $uri $uri/ /index.php?$args;
    }
    location = /health { return 200 "ok\n"; }
    location ^~ /static/ {
        alias /srv/a/static/;
        autoindex off;
        disable_symlinks if_not_owner from=/srv/a;
    }
    location /admin/ {
        allow 127.0.0.2;
        deny all;
        location ~* \.PHP$ {
            fastcgi_pass unix:/run/php/a.sock;
            include fastcgi_params;
        }
    }
    location ~ /\.ht { return 403; }
    location ~ \.php$ {
        fastcgi_pass php;
    }
    location /docs { root /usr/share; }
}
`,
		"/etc/nginx/sites/b.conf": `server {
	server_name b.example;
	root /srv/b;
	index default.htm;
	autoindex off;
	location ~\.php$ { fastcgi_pass unix:/run/php/php8.2-fpm.sock; }
}
server { server_name c.example; }
`,
		"/etc/nginx/sites/c.txt":          "this is not read;\n",
		"/etc/nginx/sites/.old.conf":      "not read either;\n",
		"/etc/nginx/fastcgi_params":       "fastcgi_param QUERY_STRING $query_string;\n",
		"/etc/nginx/sites/.hidden/z.conf": "server { server_name hidden.example; }\n",
	}
	fsys := memFiles(t, files)
	cfg, ws := ReadNginx(fsys, "/")
	if len(ws) > 0 {
		t.Errorf("warnings:\n%s", warningsText(ws))
	}
	if cfg == nil {
		t.Fatal("nothing read")
	}
	wantFiles := []string{"/etc/nginx/nginx.conf", "/etc/nginx/sites/a.conf", "/etc/nginx/fastcgi_params", "/etc/nginx/sites/b.conf", "/etc/nginx/sites/.hidden/z.conf"}
	if !slices.Equal(cfg.Files, wantFiles) {
		t.Errorf("files %q, want %q", cfg.Files, wantFiles)
	}
	if cfg.User != "nobody" || cfg.Group != "nobody" || cfg.UserPos != (Pos{}) {
		t.Errorf("user %q:%q at %v, want nginx's default nobody nobody", cfg.User, cfg.Group, cfg.UserPos)
	}
	if len(cfg.Sites) != 4 {
		t.Fatalf("%d sites: %+v", len(cfg.Sites), cfg.Sites)
	}
	a, b, c, hidden := cfg.Sites[0], cfg.Sites[1], cfg.Sites[2], cfg.Sites[3]
	sa := "/etc/nginx/sites/a.conf"
	if a.Pos != (Pos{sa, 1}) || a.Root != "/srv/a/public" || !a.Autoindex ||
		!slices.Equal(a.Names, []string{"a.example", "www.a.example", "alt.a.example"}) ||
		!slices.Equal(a.Listen, []string{"8080", "[::]:8080 ssl"}) ||
		!slices.Equal(a.Index, []string{"index.php", "index.html"}) {
		t.Errorf("site a: %+v", a)
	}
	wantAliases := []Alias{{URL: "/static/", Path: "/srv/a/static/", Pos: Pos{sa, 13}}, {URL: "/docs", Path: "/usr/share/docs", Pos: Pos{sa, 29}}}
	if !slices.Equal(a.Aliases, wantAliases) {
		t.Errorf("aliases %+v, want %+v", a.Aliases, wantAliases)
	}
	// The first location matching \.php$ is the nested \.PHP$ one, ignoring case.
	if a.PHP != "unix:/run/php/a.sock" {
		t.Errorf("php of a %q", a.PHP)
	}
	if b.Root != "/srv/b" || b.Autoindex || !slices.Equal(b.Index, []string{"default.htm"}) || b.PHP != "unix:/run/php/php8.2-fpm.sock" {
		t.Errorf("site b: %+v", b)
	}
	if c.Pos != (Pos{"/etc/nginx/sites/b.conf", 8}) || c.Root != "" || !slices.Equal(c.Listen, []string{"*:80"}) || !c.Autoindex {
		t.Errorf("site c: %+v", c)
	}
	if !slices.Equal(hidden.Names, []string{"hidden.example"}) {
		t.Errorf("site in .hidden: %+v", hidden)
	}

	// The tree: every directive where it begins, nested locations kept.
	srv := cfg.Servers[0]
	type want struct {
		path []string // location matches down to the directive, then its name
		args []string
		line int
	}
	find := func(path []string) *NginxDirective {
		d := srv
		for _, m := range path[:len(path)-1] {
			var next *NginxDirective
			for _, l := range d.Find("location") {
				if _, match, _ := l.Location(); match == m {
					next = l
				}
			}
			if next == nil {
				return nil
			}
			d = next
		}
		if ds := d.Find(path[len(path)-1]); len(ds) > 0 {
			return ds[0]
		}
		return nil
	}
	for _, w := range []want{
		{[]string{"server_name"}, []string{"a.example", "www.a.example"}, 4},
		{[]string{"root"}, []string{"/srv/a/public"}, 7},
		{[]string{"/", "try_files"}, []string{"$uri", "$uri/", "/index.php?$args"}, 9},
		{[]string{"/health", "return"}, []string{"200", "ok\n"}, 11},
		{[]string{"/static/", "alias"}, []string{"/srv/a/static/"}, 13},
		{[]string{"/static/", "autoindex"}, []string{"off"}, 14},
		{[]string{"/static/", "disable_symlinks"}, []string{"if_not_owner", "from=/srv/a"}, 15},
		{[]string{"/admin/", "allow"}, []string{"127.0.0.2"}, 18},
		{[]string{"/admin/", "deny"}, []string{"all"}, 19},
		{[]string{"/admin/", `\.PHP$`, "fastcgi_pass"}, []string{"unix:/run/php/a.sock"}, 21},
		{[]string{"/admin/", `\.PHP$`, "include"}, []string{"fastcgi_params"}, 22},
		{[]string{"/admin/", `\.PHP$`, "fastcgi_param"}, []string{"QUERY_STRING", "$query_string"}, 1},
		{[]string{`/\.ht`, "return"}, []string{"403"}, 25},
		{[]string{`\.php$`, "fastcgi_pass"}, []string{"php"}, 27},
	} {
		d := find(w.path)
		if d == nil {
			t.Errorf("%q: not found", w.path)
			continue
		}
		if !slices.Equal(d.Args, w.args) || d.Pos.Line != w.line {
			t.Errorf("%q: %q at %v, want %q at line %d", w.path, d.Args, d.Pos, w.args, w.line)
		}
	}
	mods := map[string]string{}
	for _, l := range srv.Find("location") {
		mod, match, ok := l.Location()
		if !ok {
			t.Errorf("location %q not understood", l.Args)
		}
		mods[match] = mod
	}
	wantMods := map[string]string{"/": "", "/health": "=", "/static/": "^~", "/admin/": "", `/\.ht`: "~", `\.php$`: "~", "/docs": ""}
	for m, mod := range wantMods {
		if got, ok := mods[m]; !ok || got != mod {
			t.Errorf("location %q: modifier %q, want %q", m, got, mod)
		}
	}
	if admin := find([]string{"/admin/", "location"}); admin == nil || admin.Pos.Line != 20 {
		t.Errorf("nested location %+v", admin)
	}
}

// TestReadNginxBad reads broken configurations: each gives warnings naming file:line, reads
// what it can, and never panics.
func TestReadNginxBad(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		warn  []string // file:line: and a part of the message, each
		sites int
	}{
		{"unterminated block", map[string]string{"/etc/nginx/nginx.conf": "user www-data;\nhttp {\n  server {\n    root /srv/x;\n  }\n"},
			[]string{"/etc/nginx/nginx.conf:2: block not closed"}, 1},
		{"stray brace", map[string]string{"/etc/nginx/nginx.conf": "user www-data;\n}\nhttp { server { root /srv/x; } }\n"},
			[]string{`/etc/nginx/nginx.conf:2: unexpected "}"`}, 1},
		{"unknown directive", map[string]string{"/etc/nginx/nginx.conf": "http {\n  server {\n    rooot /srv/x;\n  }\n}\n"},
			[]string{`/etc/nginx/nginx.conf:3: unknown directive "rooot"`}, 1},
		{"missing semicolon", map[string]string{"/etc/nginx/nginx.conf": "http {\n  server {\n    root /srv/x\n  }\n}\n"},
			[]string{`/etc/nginx/nginx.conf:4: cannot parse`}, 0},
		{"unterminated quote", map[string]string{"/etc/nginx/nginx.conf": "http {\n  server {\n    root \"/srv/x;\n  }\n}\n"},
			[]string{`/etc/nginx/nginx.conf:3: cannot parse`}, 0},
		{"include loop", map[string]string{
			"/etc/nginx/nginx.conf": "http {\n  include a.conf;\n}\n",
			"/etc/nginx/a.conf":     "server { root /srv/a; }\ninclude b.conf;\n",
			"/etc/nginx/b.conf":     "\n\ninclude a.conf;\n"},
			[]string{"/etc/nginx/b.conf:3: include loop: /etc/nginx/a.conf"}, 1},
		{"missing include", map[string]string{"/etc/nginx/nginx.conf": "http {\n  include nothere.conf;\n  include none/*.conf;\n}\n"},
			[]string{"/etc/nginx/nginx.conf:2: cannot read /etc/nginx/nothere.conf: no such file"}, 0},
		{"include with two files", map[string]string{"/etc/nginx/nginx.conf": "\ninclude a b;\n"},
			[]string{"/etc/nginx/nginx.conf:2: include takes one file"}, 0},
		{"location with three arguments", map[string]string{"/etc/nginx/nginx.conf": "http { server {\n location ~ a b { root /x; }\n root /srv/y;\n} }\n"},
			nil, 1},
		{"block with no name", map[string]string{"/etc/nginx/nginx.conf": "user www-data;\n{\n  worker_processes 1;\n}\nhttp { server { root /srv/x; } }\n"},
			[]string{"/etc/nginx/nginx.conf:2: block with no directive name"}, 1},
		{"deep blocks", map[string]string{"/etc/nginx/nginx.conf": strings.Repeat("a {\n", 100) + strings.Repeat("}\n", 100)},
			[]string{"/etc/nginx/nginx.conf:65: blocks nested more than 64 deep"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := memFiles(t, tc.files)
			cfg, ws := ReadNginx(fsys, "/")
			if cfg == nil {
				t.Fatal("nothing read")
			}
			got := warningsText(ws)
			for _, w := range tc.warn {
				if !strings.Contains(got, w) {
					t.Errorf("no warning %q; got:\n%s", w, got)
				}
			}
			if tc.warn == nil && got != "" {
				t.Errorf("warnings:\n%s", got)
			}
			if len(cfg.Sites) != tc.sites {
				t.Errorf("%d sites, want %d", len(cfg.Sites), tc.sites)
			}
		})
	}
}

// TestReadNginxHostile includes what a hostile image or host holds: a FIFO, a file of the
// host's /proc, a symlink leading out of the image, a 10 MB file, includes nested past the cap.
// Each is refused with a warning at the include, and nothing blocks.
func TestReadNginxHostile(t *testing.T) {
	root := t.TempDir()
	deep := map[string]string{}
	for i := range 20 {
		deep["/etc/nginx/deep/"+string(rune('a'+i))+".conf"] = "include deep/" + string(rune('a'+i+1)) + ".conf;\n"
	}
	writeBelow(t, root, deep)
	writeBelow(t, root, map[string]string{
		"/etc/nginx/nginx.conf": `user www-data;
include fifo.conf;
include big.conf;
include escape.conf;
include deep/a.conf;
http { server { root /srv/ok; } }
`,
		"/etc/nginx/big.conf": strings.Repeat("# padding\n", 1<<20),
	})
	if err := unix.Mkfifo(filepath.Join(root, "etc/nginx/fifo.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An absolute link is followed inside the image: to the image's /proc/self/status, which
	// does not exist, never to the host's.
	if err := os.Symlink("/proc/self/status", filepath.Join(root, "etc/nginx/escape.conf")); err != nil {
		t.Fatal(err)
	}
	cfg, ws := ReadNginx(afero.NewOsFs(), root)
	if cfg == nil {
		t.Fatal("nothing read")
	}
	got := warningsText(ws)
	for _, w := range []string{
		"/etc/nginx/nginx.conf:2: cannot read /etc/nginx/fifo.conf: a named pipe",
		"/etc/nginx/nginx.conf:3: cannot read /etc/nginx/big.conf: larger than 1 MiB",
		"/etc/nginx/nginx.conf:4: cannot read /etc/nginx/escape.conf: no such file",
		"/etc/nginx/deep/p.conf:1: includes nested more than 16 deep; /etc/nginx/deep/q.conf not read",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("no warning %q; got:\n%s", w, got)
		}
	}
	if len(cfg.Sites) != 1 || cfg.Sites[0].Root != "/srv/ok" || cfg.User != "www-data" {
		t.Errorf("what could be read was not: %+v", cfg)
	}

	// On the host (sysroot /), a file of /proc is the kernel's, and refused.
	host := t.TempDir()
	writeBelow(t, host, map[string]string{"/nginx.conf": "include /proc/self/status;\n"})
	main := filepath.Join(host, "nginx.conf")
	cfg, ws = ReadNginx(afero.NewOsFs(), "/", main)
	if cfg == nil || cfg.Main != main {
		t.Fatalf("main %s not read: %+v", main, cfg)
	}
	if got := warningsText(ws); !strings.Contains(got, main+":1: cannot read /proc/self/status: ") || strings.Contains(got, "unknown directive") {
		t.Errorf("warnings:\n%s", got)
	}
}

// TestReadNginxNoMain gives nothing where no main file exists, and takes the first candidate
// that does.
func TestReadNginxNoMain(t *testing.T) {
	fsys := afero.NewMemMapFs()
	if cfg, ws := ReadNginx(fsys, "/"); cfg != nil || ws != nil {
		t.Errorf("config %+v, warnings %v on an empty system", cfg, ws)
	}
	if err := afero.WriteFile(fsys, "/usr/local/etc/nginx/nginx.conf", []byte("user www;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _ := ReadNginx(fsys, "/")
	if cfg == nil || cfg.Main != "/usr/local/etc/nginx/nginx.conf" || cfg.User != "www" {
		t.Errorf("config %+v", cfg)
	}
}

func TestUnquoteNginx(t *testing.T) {
	for in, want := range map[string]string{
		`"/var/www"`:  "/var/www",
		`'a b'`:       "a b",
		`"a\"b"`:      `a"b`,
		`\.php$`:      `\.php$`,
		`"ok\n"`:      "ok\n",
		`a\\b`:        `a\b`,
		`"`:           `"`,
		`'mismatch"`:  `'mismatch"`,
		`"tab\there"`: "tab\there",
	} {
		if got := unquoteNginx(in); got != want {
			t.Errorf("unquoteNginx(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReadNginxDataInclude follows an include in a types block, as nginx does, and takes its
// lines as MIME types, not directives.
func TestReadNginxDataInclude(t *testing.T) {
	fsys := memFiles(t, map[string]string{
		"/etc/nginx/nginx.conf":  "http {\n  types {\n    include extra.types;\n  }\n}\n",
		"/etc/nginx/extra.types": "application/x-thing thing;\n",
	})
	cfg, ws := ReadNginx(fsys, "/")
	if len(ws) > 0 {
		t.Errorf("warnings:\n%s", warningsText(ws))
	}
	types := cfg.Directives[0].Find("types")
	if len(types) != 1 || len(types[0].Block) != 2 || types[0].Block[1].Name != "application/x-thing" || types[0].Block[1].Pos != (Pos{"/etc/nginx/extra.types", 1}) {
		t.Errorf("types %+v", types)
	}
}

// TestReadNginxCaps stops at the caps on files, bytes and directives, with a warning, and keeps
// what it read before.
func TestReadNginxCaps(t *testing.T) {
	saved := nginxCaps
	t.Cleanup(func() { nginxCaps = saved })
	files := map[string]string{"/etc/nginx/nginx.conf": "http {\n  include sites/*;\n}\n"}
	for i := range 5 {
		files["/etc/nginx/sites/"+string(rune('a'+i))] = "server { root /srv/" + string(rune('a'+i)) + "; }\n"
	}
	fsys := memFiles(t, files)
	for _, tc := range []struct {
		name  string
		set   func()
		warn  string
		sites int
	}{
		{"files", func() { nginxCaps.files = 3 }, "/etc/nginx/nginx.conf:2: more than 3 files included; /etc/nginx/sites/c and the files after it not read", 2},
		{"glob", func() { nginxCaps.files = 1 }, "/etc/nginx/nginx.conf:2: include sites/*: matches more than 4 files", 0},
		// nginx.conf is 28 bytes, each site 24: the fourth file passes 100.
		{"bytes", func() { nginxCaps.bytes = 100 }, "/etc/nginx/nginx.conf:2: more than 100 bytes of configuration read; /etc/nginx/sites/d and the files after it not read", 3},
		// Two directives in nginx.conf, two in each site.
		{"directives", func() { nginxCaps.directives = 7 }, "/etc/nginx/nginx.conf:2: more than 7 directives read; /etc/nginx/sites/c and the files after it not read", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nginxCaps = saved
			tc.set()
			cfg, ws := ReadNginx(fsys, "/")
			if got := warningsText(ws); len(ws) != 1 || !strings.Contains(got, tc.warn) {
				t.Errorf("not the one warning %q; got:\n%s", tc.warn, got)
			}
			if len(cfg.Sites) != tc.sites {
				t.Errorf("%d sites, want %d", len(cfg.Sites), tc.sites)
			}
		})
	}
}

// TestReadNginxMainFIFO refuses a main file that is a FIFO without blocking on it: a
// configuration with nothing read, and a warning at the file's line 0.
func TestReadNginxMainFIFO(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/nginx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(root, "etc/nginx/nginx.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, ws := ReadNginx(afero.NewOsFs(), root)
	if cfg == nil || len(cfg.Directives) != 0 || len(cfg.Files) != 0 {
		t.Fatalf("config %+v", cfg)
	}
	if len(ws) != 1 || ws[0].Pos != (Pos{File: "/etc/nginx/nginx.conf"}) || !strings.Contains(ws[0].Msg, "named pipe") {
		t.Errorf("warnings:\n%s", warningsText(ws))
	}
}

// TestNginxScanAgreesWithGonginx finds, for every directive gonginx parses, the statement the
// scan saw begin, on Debian's files and on tricky text: quotes over lines, ${var} in a word, a
// directive over several lines, a lua block, comments, an if block.
func TestNginxScanAgreesWithGonginx(t *testing.T) {
	texts := map[string]string{
		"tricky": "server_name\n  a.example\n  b.example;\nset $x \"multi\nline\";\nif ($host = ${x}y) {\n  return 403;\n}\n" +
			"content_by_lua_block { local t = { a = 1 } }\nlocation ~ \\.php$ { # comment {\n  fastcgi_pass 'unix:/x';\n}\n" +
			"a\\\"b c;\ncontent_by_lua_block\n{\n  x;\n}\ny `a;\nb`;\n",
	}
	if _, err := os.Stat("/etc/nginx/nginx.conf"); err == nil {
		_ = filepath.WalkDir("/etc/nginx", func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				texts[p] = mustRead(t, p)
			}
			return nil
		})
	}
	for name, text := range texts {
		scan := scanNginx(text, 64)
		conf, err := parseNginx(text)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		next := 0
		var lines []int
		var walkAll func(ds []config.IDirective)
		walkAll = func(ds []config.IDirective) {
			for _, d := range ds {
				before := next
				line := scan.startLine(&next, d.GetName(), d.GetLine())
				lines = append(lines, line)
				if next == before {
					t.Errorf("%s: directive %q ending on line %d not found by the scan (line %d taken)", name, d.GetName(), d.GetLine(), line)
				}
				if b := d.GetBlock(); b != nil {
					walkAll(b.GetDirectives())
				}
			}
		}
		walkAll(conf.GetDirectives())
		// server_name, set, if, return, content_by_lua_block, location, fastcgi_pass, a\"b,
		// content_by_lua_block, y.
		if want := []int{1, 4, 6, 7, 9, 10, 11, 13, 14, 18}; name == "tricky" && !slices.Equal(lines, want) {
			t.Errorf("tricky text: directives begin on lines %v, want %v", lines, want)
		}
	}
}

// TestReadNginxParserPanic turns a panic of gonginx's, here one of a wrapper the test installs,
// into a warning naming the file, and reads the other files.
func TestReadNginxParserPanic(t *testing.T) {
	config.BlockWrappers["boom"] = func(*config.Directive) (config.IDirective, error) { panic("boom") }
	t.Cleanup(func() { delete(config.BlockWrappers, "boom") })
	fsys := memFiles(t, map[string]string{
		"/etc/nginx/nginx.conf": "user www-data;\nhttp {\n  include boom.conf;\n  server { root /srv/x; }\n}\n",
		"/etc/nginx/boom.conf":  "boom { }\n",
	})
	cfg, ws := ReadNginx(fsys, "/")
	if len(ws) != 1 || ws[0].Pos != (Pos{"/etc/nginx/boom.conf", 1}) || !strings.Contains(ws[0].Msg, "nginx parser failed (boom)") {
		t.Errorf("warnings:\n%s", warningsText(ws))
	}
	if cfg == nil || len(cfg.Sites) != 1 || cfg.User != "www-data" {
		t.Errorf("config %+v", cfg)
	}
}
