package server

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
)

// TestParseFPMValues pins values as PHP 8.2's parse_ini_string (INI_SCANNER_NORMAL) gives them.
func TestParseFPMValues(t *testing.T) {
	tests := []struct {
		line, key, value string
	}{
		{`user = www-data`, "user", "www-data"},
		{`user=www-data`, "user", "www-data"},
		{"\tlisten  =  /run/php/php8.2-fpm.sock   ", "listen", "/run/php/php8.2-fpm.sock"},
		{`listen = "/run/php/a b.sock"  `, "listen", "/run/php/a b.sock"},
		{`listen = '/run/php/x\y.sock'`, "listen", `/run/php/x\y.sock`},
		{`a = "a\"b\\c\d\$e"`, "a", `a"b\c\d$e`},
		{`listen = /run/$pool.sock`, "listen", "/run/$pool.sock"},
		{`a = x "y" z`, "a", "xyz"},
		{`a = b c  `, "a", "b c"},
		{`a = x ; comment`, "a", "x"},
		{`a = x;c`, "a", "x"},
		{`a = none`, "a", ""},
		{`a = nobody`, "a", "nobody"},
		{`a = yes `, "a", "1"},
		{`a = Off`, "a", ""},
		{`listen.mode = 0660`, "listen.mode", "0660"},
		{`Listen.Owner = nginx`, "Listen.Owner", "nginx"},
		{`#user = b`, "#user", "b"},
		{`a = ${HOME}/x`, "a", "${HOME}/x"},
		{`a = Null`, "a", ""},
		{`a = yes;c`, "a", "1"},
		{`a = 'yes' x`, "a", "yes x"},
		{`a = "yes"`, "a", "yes"},
		{`a = 'x' y`, "a", "x y"},
		{`a = "x" 'y'`, "a", "xy"},
		{`a = ""`, "a", ""},
		{`a = x{y}#z`, "a", "x{y}#z"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			dirs, _ := ParseFPM("f.conf", []byte(tt.line+"\n"))
			if len(dirs) != 1 {
				t.Fatalf("got %d directives, want 1: %+v", len(dirs), dirs)
			}
			if d := dirs[0]; d.Key != tt.key || d.Value != tt.value || d.Pos != (Pos{"f.conf", 1}) {
				t.Errorf("got %q = %q at %v, want %q = %q at f.conf:1", d.Key, d.Value, d.Pos, tt.key, tt.value)
			}
		})
	}
}

// Lines PHP's INI parser refuses, and so php-fpm: each is left out with a warning naming its line.
func TestParseFPMRefused(t *testing.T) {
	tests := []struct{ line, text string }{
		{`user`, `"user" has no '='`},
		{`user ; = x`, `"user" has no '='`},
		{`= x`, "not a name"},
		{`listen = "/run/a.sock`, "unterminated double quote"},
		{`listen = '/run/a.sock`, "unterminated single quote"},
		{`a = x=y`, "second '='"},
		{`a = x yes`, "joins yes"},
		{`a = none x`, "joins yes"},
		{`a = ${HOME`, "never closes it"},
		{`a[x = 1`, "never closes it"},
		{`[www`, "no closing ]"},
		{`[w;x]`, "no closing ]"},
		{"a\tb = c", `where '=' should be`},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			dirs, warns := ParseFPM("f.conf", []byte("; first\n"+tt.line+"\n"))
			if len(dirs) != 0 {
				t.Errorf("read %+v", dirs)
			}
			if len(warns) != 1 || warns[0].Pos.String() != "f.conf:2" || !strings.Contains(warns[0].Msg, tt.text) || !strings.HasSuffix(warns[0].Msg, refused) {
				t.Errorf("warnings %v, want one at f.conf:2 saying %q", warns, tt.text)
			}
		})
	}
}

// Values webperm reads but cannot take as php-fpm does: a warning, and the value as written.
func TestParseFPMValueWarnings(t *testing.T) {
	for _, line := range []string{`listen = ${SOCKET}`, `listen = "/run/${POOL}.sock"`, `listen.mode = 0660|0006`, `a = x^y`} {
		dirs, warns := ParseFPM("f.conf", []byte(line))
		if len(dirs) != 1 || len(warns) != 1 || warns[0].Pos.String() != "f.conf:1" {
			t.Errorf("%s: read %+v, warnings %v", line, dirs, warns)
		}
	}
}

func TestParseFPMArrayAndHeader(t *testing.T) {
	dirs, warns := ParseFPM("p.conf", []byte("; comment\n\n[www] ; pool\r\nphp_admin_value[open_basedir] = /var/www\n"))
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	want := []FPMDirective{
		{Pos: Pos{"p.conf", 3}, Header: true, Section: "www"},
		{Pos: Pos{"p.conf", 4}, Key: "php_admin_value", Offset: "open_basedir", HasOffset: true, Value: "/var/www"},
	}
	if !slices.Equal(dirs, want) {
		t.Errorf("got %+v\nwant %+v", dirs, want)
	}
	for _, tt := range []struct{ line, name string }{{`["www"]`, "www"}, {`['w w']`, "w w"}, {`[]`, ""}, {`[ www ]`, " www "}, {`["a"b"]`, `"a"b"`}} {
		dirs, _ := ParseFPM("p.conf", []byte(tt.line))
		if len(dirs) != 1 || !dirs[0].Header || dirs[0].Section != tt.name {
			t.Errorf("%s read as %+v, want section %q", tt.line, dirs, tt.name)
		}
	}
}

func poolNamed(t *testing.T, pools []Pool, name string) Pool {
	t.Helper()
	for _, p := range pools {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no pool %q in %+v", name, pools)
	return Pool{}
}

// hasWarning says whether warns holds one at pos whose message contains text.
func fpmHasWarning(warns []Warning, pos string, text string) bool {
	for _, w := range warns {
		if w.Pos.String() == pos && strings.Contains(w.Msg, text) {
			return true
		}
	}
	return false
}

func TestReadFPMDebianTwoPools(t *testing.T) {
	root := writeSys(t, map[string]string{
		"/etc/php/8.2/fpm/php-fpm.conf": "[global]\npid = /run/php/php8.2-fpm.pid\ninclude=/etc/php/8.2/fpm/pool.d/*.conf\n",
		"/etc/php/8.2/fpm/pool.d/alice.conf": "[alice]\nuser = alice\ngroup = \"alice\"\n" +
			"listen = /run/php/php8.2-fpm-$pool.sock\nlisten.owner = www-data\nlisten.group = www-data\nlisten.mode = 0660\n" +
			"chdir = /home/alice\nsecurity.limit_extensions = .php .php8\npm = ondemand\npm.max_children = 5\n",
		"/etc/php/8.2/fpm/pool.d/bob.conf": "; bob's shop\n[bob]\nuser = 'bob'\nlisten = 127.0.0.1:9001\nprefix = /srv/$pool\n",
		"/etc/php/7.4/fpm/php-fpm.conf":    "include=/etc/php/7.4/fpm/pool.d/*.conf\n",
		"/etc/php/7.4/fpm/pool.d/www.conf": "[www]\nuser = www-data\nlisten = /run/php/php7.4-fpm.sock\nsecurity.limit_extensions =\n",
	})
	pools, warns := ReadFPM(afero.NewOsFs(), root)
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	if len(pools) != 3 {
		t.Fatalf("got %d pools, want 3: %+v", len(pools), pools)
	}
	a := poolNamed(t, pools, "alice")
	if a.User != "alice" || a.Group != "alice" || a.Listen != "/run/php/php8.2-fpm-alice.sock" ||
		a.ListenOwner != "www-data" || a.ListenGroup != "www-data" || a.ListenMode != "0660" ||
		a.Chdir != "/home/alice" || a.Version != "8.2" || !slices.Equal(a.LimitExtensions, []string{".php", ".php8"}) {
		t.Errorf("alice: %+v", a)
	}
	if a.Pos.String() != "/etc/php/8.2/fpm/pool.d/alice.conf:1" {
		t.Errorf("alice at %v", a.Pos)
	}
	b := poolNamed(t, pools, "bob")
	if b.User != "bob" || b.Group != "" || b.Listen != "127.0.0.1:9001" || b.Prefix != "/srv/bob" || b.ListenOwner != "" ||
		!slices.Equal(b.LimitExtensions, []string{".php", ".phar"}) || b.Pos.String() != "/etc/php/8.2/fpm/pool.d/bob.conf:2" {
		t.Errorf("bob: %+v", b)
	}
	w := poolNamed(t, pools, "www")
	if w.Version != "7.4" || w.LimitExtensions != nil {
		t.Errorf("www: %+v", w)
	}
	// The 7.4 master comes first: /etc/php/* lists 7.4 before 8.2.
	if pools[0].Name != "www" {
		t.Errorf("pools in order %s, %s, %s", pools[0].Name, pools[1].Name, pools[2].Name)
	}
}

func TestReadFPMLayouts(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		version string
		listen  string
		check   func(Pool) bool
	}{
		{"fedora", map[string]string{
			"/etc/php-fpm.conf":       "include=/etc/php-fpm.d/*.conf\n[global]\npid = /run/php-fpm/php-fpm.pid\n",
			"/etc/php-fpm.d/www.conf": "[www]\nuser = apache\ngroup = apache\nlisten = /run/php-fpm/www.sock\nlisten.acl_users = apache,nginx\n",
		}, "", "/run/php-fpm/www.sock", func(p Pool) bool { return p.ListenACLUsers == "apache,nginx" && p.User == "apache" }},
		{"alpine", map[string]string{
			"/etc/php82/php-fpm.conf":       "[global]\ninclude=/etc/php82/php-fpm.d/*.conf\n",
			"/etc/php82/php-fpm.d/www.conf": "[www]\nuser = nobody\nlisten = 127.0.0.1:9000\n",
		}, "8.2", "127.0.0.1:9000", func(p Pool) bool { return p.User == "nobody" }},
		{"docker", map[string]string{
			"/usr/local/etc/php-fpm.conf":             "[global]\ninclude=etc/php-fpm.d/*.conf\n",
			"/usr/local/etc/php-fpm.d/docker.conf":    "[www]\nlisten = 9000\n",
			"/usr/local/etc/php-fpm.d/www.conf":       "[www]\nuser = www-data\ngroup = www-data\nlisten = 127.0.0.1:9000\n",
			"/usr/local/etc/php-fpm.d/zz-socket.conf": "[www]\nlisten = php-fpm.sock\n",
		}, "", "/usr/local/php-fpm.sock", func(p Pool) bool { return p.User == "www-data" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pools, warns := ReadFPM(afero.NewOsFs(), writeSys(t, tt.files))
			if len(warns) != 0 {
				t.Errorf("warnings: %v", warns)
			}
			if len(pools) != 1 {
				t.Fatalf("got %+v, want one pool", pools)
			}
			if p := pools[0]; p.Version != tt.version || p.Listen != tt.listen || !tt.check(p) {
				t.Errorf("got %+v", p)
			}
		})
	}
}

func TestReadFPMIncludeGlob(t *testing.T) {
	root := writeSys(t, map[string]string{
		"/etc/php-fpm.conf":             "include=/etc/php-fpm.d/*.conf\ninclude=/etc/php-fpm.d/missing/*.conf\n",
		"/etc/php-fpm.d/b.conf":         "[b]\nuser = b\nlisten = /run/b.sock\n",
		"/etc/php-fpm.d/a.conf":         "[a]\nuser = a\nlisten = /run/a.sock\n",
		"/etc/php-fpm.d/.hidden.conf":   "[hidden]\nuser = h\nlisten = /run/h.sock\n",
		"/etc/php-fpm.d/dir.conf/x":     "not read",
		"/etc/php-fpm.d/c.conf.rpmsave": "[c]\nuser = c\nlisten = /run/c.sock\n",
	})
	configs, warns := ReadFPMConfigs(afero.NewOsFs(), root)
	if len(configs) != 1 {
		t.Fatalf("got %d configurations", len(configs))
	}
	var names []string
	for _, p := range configs[0].Pools {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"a", "b"}) {
		t.Errorf("pools %v, want [a b]", names)
	}
	if want := []string{"/etc/php-fpm.conf", "/etc/php-fpm.d/a.conf", "/etc/php-fpm.d/b.conf"}; !slices.Equal(configs[0].Files, want) {
		t.Errorf("files %v, want %v", configs[0].Files, want)
	}
	if !fpmHasWarning(warns, "/etc/php-fpm.conf:2", "matches no file") || len(warns) != 1 {
		t.Errorf("warnings: %v", warns)
	}
}

// A pool file that is an absolute symlink in an image is read inside the image, never on the host.
func TestReadFPMSymlinkInsideRoot(t *testing.T) {
	root := writeSys(t, map[string]string{
		"/etc/php-fpm.conf":       "include=/etc/php-fpm.d/*.conf\n",
		"/etc/php-fpm.d/www.conf": "->/srv/pools/www.conf",
		"/srv/pools/www.conf":     "[www]\nuser = inside\nlisten = /run/www.sock\n",
	})
	pools, warns := ReadFPM(afero.NewOsFs(), root)
	if len(pools) != 1 || pools[0].User != "inside" || len(warns) != 0 {
		t.Errorf("got %+v, warnings %v", pools, warns)
	}
}

// A link that leads out of the image is followed inside it: a file of the host is never read.
func TestReadFPMSymlinkNeverLeavesRoot(t *testing.T) {
	if _, err := os.Stat("/etc/passwd"); err != nil {
		t.Skip("the host has no /etc/passwd to be tempted by")
	}
	root := writeSys(t, map[string]string{
		"/etc/php-fpm.conf":        "include=/etc/php-fpm.d/*.conf\n",
		"/etc/php-fpm.d/evil.conf": "->/etc/passwd",
		"/etc/php-fpm.d/up.conf":   "->../../../../../../../../etc/passwd",
		"/etc/php-fpm.d/www.conf":  "[www]\nuser = www-data\nlisten = /run/www.sock\n",
	})
	configs, warns := ReadFPMConfigs(afero.NewOsFs(), root)
	if len(configs) != 1 || !slices.Equal(configs[0].Files, []string{"/etc/php-fpm.conf", "/etc/php-fpm.d/www.conf"}) {
		t.Errorf("read %+v", configs)
	}
	for _, f := range []string{"evil", "up"} {
		if !fpmHasWarning(warns, "/etc/php-fpm.conf:1", "cannot read /etc/php-fpm.d/"+f+".conf") {
			t.Errorf("no warning of %s.conf in %v", f, warns)
		}
	}
}

// An include that matches thousands of files reads no more than fpmMaxFiles of them.
func TestReadFPMIncludeBomb(t *testing.T) {
	files := map[string]string{"/etc/php-fpm.conf": "include=/etc/php-fpm.d/*.conf\n"}
	for i := 0; i < fpmMaxFiles+5; i++ {
		name := fmt.Sprintf("p%04d", i)
		files["/etc/php-fpm.d/"+name+".conf"] = "[" + name + "]\nuser = u\nlisten = /run/" + name + ".sock\n"
	}
	configs, warns := ReadFPMConfigs(afero.NewOsFs(), writeSys(t, files))
	if len(configs) != 1 || len(configs[0].Files) != fpmMaxFiles || len(configs[0].Pools) != fpmMaxFiles-1 {
		t.Fatalf("read %d files", len(configs[0].Files))
	}
	if !fpmHasWarning(warns, "/etc/php-fpm.conf:1", "matches more than 1000 paths") || !fpmHasWarning(warns, "/etc/php-fpm.conf:1", "more than 1000 files included") {
		t.Errorf("warnings: %v", warns)
	}
}

func TestReadFPMOrphanPools(t *testing.T) {
	root := writeSys(t, map[string]string{
		"/etc/php/8.3/fpm/pool.d/www.conf": "[www]\nuser = www-data\nlisten = /run/php/php8.3-fpm.sock\n",
	})
	pools, warns := ReadFPM(afero.NewOsFs(), root)
	if len(pools) != 1 || pools[0].Version != "8.3" || pools[0].Pos.String() != "/etc/php/8.3/fpm/pool.d/www.conf:1" {
		t.Errorf("got %+v", pools)
	}
	if len(warns) != 1 || !strings.Contains(warns[0].Msg, "no php-fpm.conf beside them") {
		t.Errorf("warnings: %v", warns)
	}
}

func TestReadFPMBadConfigurations(t *testing.T) {
	huge := "[huge]\n" + strings.Repeat("; padding padding padding padding\n", 40000)
	root := writeSys(t, map[string]string{
		"/etc/php-fpm.conf": "include=/etc/php-fpm.d/*.conf\n",
		"/etc/php-fpm.d/bad.conf": "[bad]\n" +
			"user\n" + // 2: no =
			"listen = \"/run/bad.sock\n" + // 3: unterminated quote
			"user = ok\n" + // 4
			"[ odd name ]\n" + // 5
			"listen = /run/$pool.sock\n" + // 6
			"[www] junk\n" + // 7
			"bogus = 1\n" + // 8
			"listen = /run/www.sock\n" + // 9
			"[global]\n" + // 10
			"user = x\n", // 11
		"/etc/php-fpm.d/huge.conf":  huge,
		"/etc/php-fpm.d/loop.conf":  "include=/etc/php-fpm.d/loop2.inc\n",
		"/etc/php-fpm.d/loop2.inc":  "include=/etc/php-fpm.d/loop.conf\n[loop]\nuser = l\nlisten = /run/l.sock\n",
		"/etc/php-fpm.d/notes.conf": "\x00\xff[\n=\n]]]\n\"\n",
	})
	configs, warns := ReadFPMConfigs(afero.NewOsFs(), root)
	for _, want := range []struct{ pos, text string }{
		{"/etc/php-fpm.d/bad.conf:2", `"user" has no '='`},
		{"/etc/php-fpm.d/bad.conf:3", "unterminated double quote"},
		{"/etc/php-fpm.d/bad.conf:5", `pool name " odd name " starts or ends with blanks`},
		{"/etc/php-fpm.d/bad.conf:7", "text after the section header [www]"},
		{"/etc/php-fpm.d/bad.conf:8", `unknown entry "bogus" in [www]`},
		{"/etc/php-fpm.d/bad.conf:11", `unknown entry "user" in [global]`},
		{"/etc/php-fpm.conf:1", "cannot read /etc/php-fpm.d/huge.conf: larger than 1 MiB"},
		{"/etc/php-fpm.d/loop2.inc:1", "include loop: /etc/php-fpm.d/loop.conf includes itself"},
		{"/etc/php-fpm.d/notes.conf:2", "not a name"},
	} {
		if !fpmHasWarning(warns, want.pos, want.text) {
			t.Errorf("no warning %q at %s in:\n%v", want.text, want.pos, warns)
		}
	}
	if len(configs) != 1 {
		t.Fatalf("got %d configurations", len(configs))
	}
	pools := configs[0].Pools
	bad := poolNamed(t, pools, "bad")
	if bad.User != "ok" || bad.Listen != "" {
		t.Errorf("bad: %+v", bad)
	}
	if !fpmHasWarning(warns, "/etc/php-fpm.d/bad.conf:1", `pool "bad" sets no listen address`) {
		t.Errorf("no warning of bad's missing listen in %v", warns)
	}
	if odd := poolNamed(t, pools, " odd name "); odd.Listen != "/run/ odd name .sock" {
		t.Errorf("odd: %+v", odd)
	}
	if l := poolNamed(t, pools, "loop"); l.User != "l" {
		t.Errorf("loop: %+v", l)
	}
}

// The include chain stops where php-fpm's does, at 5 files, and a bomb of includes is capped.
func TestReadFPMIncludeDepth(t *testing.T) {
	files := map[string]string{"/etc/php-fpm.conf": "include=/etc/f1.inc\n[p0]\nuser = u\nlisten = /run/p0.sock\n"}
	for i := 1; i <= 6; i++ {
		files["/etc/f"+string(rune('0'+i))+".inc"] = "include=/etc/f" + string(rune('0'+i+1)) + ".inc\n"
	}
	root := writeSys(t, files)
	configs, warns := ReadFPMConfigs(afero.NewOsFs(), root)
	if len(configs) != 1 || len(configs[0].Files) != fpmMaxDepth {
		t.Fatalf("read %v", configs)
	}
	if !fpmHasWarning(warns, "/etc/f4.inc:1", "more than 5 files deep") {
		t.Errorf("warnings: %v", warns)
	}
}

// TestReadFPMDebianStock reads the www pool Debian's php-fpm installs, from a copy of the host's
// /etc/php.
func TestReadFPMDebianStock(t *testing.T) {
	mains, _ := filepath.Glob("/etc/php/*/fpm/php-fpm.conf")
	if len(mains) == 0 {
		fixture.Unavailable(t, "php-fpm is not installed (Debian package php-fpm)")
	}
	version := filepath.Base(filepath.Dir(filepath.Dir(mains[0])))
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "etc/php"), os.DirFS("/etc/php")); err != nil {
		t.Fatal(err)
	}
	configs, warns := ReadFPMConfigs(afero.NewOsFs(), root)
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	var cfg *FPMConfig
	for i := range configs {
		if configs[i].Version == version {
			cfg = &configs[i]
		}
	}
	if cfg == nil {
		t.Fatalf("no configuration of PHP %s in %+v", version, configs)
	}
	poolFile := "/etc/php/" + version + "/fpm/pool.d/www.conf"
	if want := []string{"/etc/php/" + version + "/fpm/php-fpm.conf", poolFile}; !slices.Equal(cfg.Files, want) {
		t.Errorf("files %v, want %v", cfg.Files, want)
	}
	www := poolNamed(t, cfg.Pools, "www")
	if www.User != "www-data" || www.Group != "www-data" || www.Listen != "/run/php/php"+version+"-fpm.sock" ||
		www.ListenOwner != "www-data" || www.ListenGroup != "www-data" || www.ListenMode != "" || www.Version != version {
		t.Errorf("www: %+v", www)
	}
	// Every position names the line of the host's file that says it.
	text, err := os.ReadFile(poolFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	if www.Pos.File != poolFile || strings.TrimSpace(lines[www.Pos.Line-1]) != "[www]" {
		t.Errorf("www at %v", www.Pos)
	}
	found := 0
	for _, d := range cfg.Directives {
		if d.Pos.File == poolFile && (d.Key == "user" || d.Key == "listen" || d.Key == "listen.owner") {
			found++
			if got := strings.ReplaceAll(lines[d.Pos.Line-1], " ", ""); got != d.Key+"="+d.Value || d.Section != "www" {
				t.Errorf("%s = %s in [%s] at %v, where the file says %q", d.Key, d.Value, d.Section, d.Pos, lines[d.Pos.Line-1])
			}
		}
	}
	if found != 3 {
		t.Errorf("found %d of user, listen and listen.owner", found)
	}
	if p := MatchPool(cfg.Pools, "proxy:unix:/run/php/php"+version+"-fpm.sock|fcgi://localhost"); p == nil || p.Name != "www" {
		t.Errorf("Debian's Apache handler matched %+v", p)
	}
}

// A section stays open across include, as php-fpm keeps it; [WWW] reopens [www], whose name
// $pool keeps as first written; a relative include lies below the prefix.
func TestReadFPMFileSections(t *testing.T) {
	fsys := afero.NewMemMapFs()
	for p, content := range map[string]string{
		"/opt/fpm/main.conf":     "[www]\nuser = a\ninclude = etc/more.conf\nlisten = /run/$pool.sock\n[global]\npid = /run/x.pid\n",
		"/opt/fpm/etc/more.conf": "group = g\n[WWW]\nlisten.mode = 0600\n",
	} {
		if err := afero.WriteFile(fsys, p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, warns := ReadFPMFile(fsys, "/", "/opt/fpm/main.conf", "/opt/fpm")
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	if len(cfg.Pools) != 1 {
		t.Fatalf("pools %+v", cfg.Pools)
	}
	if p := cfg.Pools[0]; p.Name != "www" || p.User != "a" || p.Group != "g" || p.ListenMode != "0600" || p.Listen != "/run/www.sock" {
		t.Errorf("www: %+v", p)
	}
	var sections []string
	for _, d := range cfg.Directives {
		if !d.Header {
			sections = append(sections, d.Section)
		}
	}
	if want := []string{"www", "www", "www", "www", "www", "global"}; !slices.Equal(sections, want) {
		t.Errorf("sections %v, want %v", sections, want)
	}
}
