package server

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/afero"
)

// writeSys writes files below a new sysroot (writeBelow) and returns it.
func writeSys(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	writeBelow(t, root, files)
	return root
}

// writeBelow writes files (system path → content) below root: a content beginning with "->"
// makes a symlink to the rest of it.
func writeBelow(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readSys reads the configuration below root, failing where there is none.
func readSys(t *testing.T, root string, mains ...string) (*ApacheConfig, []Warning) {
	t.Helper()
	cfg, warnings := ReadApache(afero.NewOsFs(), root, mains...)
	if cfg == nil {
		t.Fatalf("no configuration read below %s (warnings: %v)", root, warnings)
	}
	return cfg, warnings
}

// find gives the directives named name anywhere in the tree, in order.
func find(d *Directive, name string) []*Directive {
	var out []*Directive
	for _, c := range d.Children {
		if c.Is(name) {
			out = append(out, c)
		}
		out = append(out, find(c, name)...)
	}
	return out
}

// one is the single directive named name, with its arguments joined by blanks.
func one(t *testing.T, root *Directive, name string) *Directive {
	t.Helper()
	ds := find(root, name)
	if len(ds) != 1 {
		t.Fatalf("%d %s directives, want 1", len(ds), name)
	}
	return ds[0]
}

func noWarnings(t *testing.T, warnings []Warning) {
	t.Helper()
	for _, w := range warnings {
		t.Errorf("unexpected warning: %s", w)
	}
}

// hasWarning fails unless a warning is at file:line (any line of file where line is 0) and says
// want.
func hasWarning(t *testing.T, warnings []Warning, file string, line int, want string) {
	t.Helper()
	for _, w := range warnings {
		if w.File == file && (w.Line == line || line == 0) && strings.Contains(w.Msg, want) {
			return
		}
	}
	if len(warnings) > 10 {
		warnings = append(warnings[:5:5], warnings[len(warnings)-5:]...)
	}
	t.Errorf("no warning at %s:%d saying %q; got (first and last five) %v", file, line, want, warnings)
}

const debMain = "/etc/apache2/apache2.conf"

func TestApacheLexing(t *testing.T) {
	root := writeSys(t, map[string]string{debMain: `# a comment
  # an indented comment \
    continued comment
ServerAdmin "webmaster@example.org"
ErrorDocument 404 "not \"here\" at all"
Header set X-A 'single quoted' bare
LongOne a \
    b \
	c
Alias /x "/srv/with space"
`})
	cfg, warnings := readSys(t, root)
	noWarnings(t, warnings)
	if d := one(t, cfg.Root, "ServerAdmin"); !reflect.DeepEqual(d.Args, []string{"webmaster@example.org"}) || d.Pos.Line != 4 {
		t.Errorf("ServerAdmin = %q at %s", d.Args, d.Pos)
	}
	if d := one(t, cfg.Root, "ErrorDocument"); !reflect.DeepEqual(d.Args, []string{"404", `not "here" at all`}) {
		t.Errorf("ErrorDocument = %q", d.Args)
	}
	if d := one(t, cfg.Root, "Header"); !reflect.DeepEqual(d.Args, []string{"set", "X-A", "single quoted", "bare"}) {
		t.Errorf("Header = %q", d.Args)
	}
	if d := one(t, cfg.Root, "LongOne"); !reflect.DeepEqual(d.Args, []string{"a", "b", "c"}) || d.Pos.Line != 7 {
		t.Errorf("LongOne = %q at %s, want a b c at line 7", d.Args, d.Pos)
	}
	if d := one(t, cfg.Root, "alias"); d.Arg(1) != "/srv/with space" {
		t.Errorf("Alias = %q", d.Args)
	}
	if n := len(cfg.Root.Children); n != 5 {
		t.Errorf("%d directives, want 5 (comments dropped)", n)
	}
}

func TestApacheIncludes(t *testing.T) {
	root := writeSys(t, map[string]string{
		debMain: `Include ports.conf
IncludeOptional conf.d/*.conf
IncludeOptional nowhere/*.conf
IncludeOptional /etc/apache2/missing.conf
Include dir
Include /etc/apache2/missing.conf
Include nothing/*.conf
Include /etc/apache2/globdirs/*/site.conf
`,
		"/etc/apache2/ports.conf":              "Listen 80\n",
		"/etc/apache2/conf.d/b.conf":           "B 1\n",
		"/etc/apache2/conf.d/a.conf":           "A 1\n",
		"/etc/apache2/conf.d/.hidden.conf":     "Hidden 1\n",
		"/etc/apache2/conf.d/c.txt":            "NotConf 1\n",
		"/etc/apache2/dir/2":                   "D2 1\n",
		"/etc/apache2/dir/1":                   "D1 1\n",
		"/etc/apache2/dir/sub/3":               "D3 1\n",
		"/etc/apache2/nothing/x.load":          "X 1\n",
		"/etc/apache2/globdirs/one/site.conf":  "G1 1\n",
		"/etc/apache2/globdirs/two/site.conf":  "G2 1\n",
		"/etc/apache2/globdirs/two/other.conf": "G3 1\n",
	})
	cfg, warnings := readSys(t, root)
	var names []string
	for _, d := range cfg.Root.Children {
		names = append(names, d.Name+"@"+d.Pos.String())
	}
	want := []string{
		"Listen@/etc/apache2/ports.conf:1",
		"A@/etc/apache2/conf.d/a.conf:1", "B@/etc/apache2/conf.d/b.conf:1",
		"D1@/etc/apache2/dir/1:1", "D2@/etc/apache2/dir/2:1", "D3@/etc/apache2/dir/sub/3:1",
		"G1@/etc/apache2/globdirs/one/site.conf:1", "G2@/etc/apache2/globdirs/two/site.conf:1",
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("directives read:\n%q\nwant\n%q", names, want)
	}
	if len(warnings) != 2 {
		t.Errorf("%d warnings, want 2 (missing literal include, wildcard matching nothing): %v", len(warnings), warnings)
	}
	hasWarning(t, warnings, debMain, 6, "cannot include /etc/apache2/missing.conf")
	hasWarning(t, warnings, debMain, 7, "matches no file")
}

func TestApacheVariables(t *testing.T) {
	root := writeSys(t, map[string]string{
		"/etc/apache2/envvars": `unset HOME
if [ "${APACHE_CONFDIR##/etc/apache2-}" != "${APACHE_CONFDIR}" ] ; then
	SUFFIX="-${APACHE_CONFDIR##/etc/apache2-}"
	export NOT_ME=inside-if
else
	SUFFIX=
fi
export APACHE_RUN_USER=www-data
export APACHE_RUN_GROUP="www-data"
export APACHE_LOG_DIR=/var/log/apache2$SUFFIX
export CONF_COPY='${APACHE_CONFDIR}'
export CONF_EXPANDED="${APACHE_CONFDIR}/x"
PRIVATE=shell-only
LATER=late
export LATER
export DEFAULTED=${UNSET_ONE:-fallback}
export TRICKY=$(id -un)
`,
		debMain: `Define SITE example
Define FLAG
User ${APACHE_RUN_USER}
Group ${APACHE_RUN_GROUP}
ServerName ${SITE}.org
ErrorLog ${APACHE_LOG_DIR}/error.log
Literal ${CONF_COPY}
Expanded ${CONF_EXPANDED}
Private ${PRIVATE}
Later ${LATER} ${DEFAULTED}
NotMe ${NOT_ME}
UnDefine SITE
After ${SITE}
Tricky ${TRICKY}
`,
	})
	cfg, warnings := readSys(t, root)
	if cfg.User != "www-data" || cfg.Group != "www-data" || cfg.UserPos.Line != 3 {
		t.Errorf("User, Group = %q, %q at %s", cfg.User, cfg.Group, cfg.UserPos)
	}
	checks := map[string]string{
		"ServerName": "example.org",
		"ErrorLog":   "/var/log/apache2/error.log",
		"Literal":    "${APACHE_CONFDIR}",
		"Expanded":   "/etc/apache2/x",
		"Private":    "${PRIVATE}",
		"Later":      "late fallback",
		"NotMe":      "${NOT_ME}",
		"After":      "${SITE}",
		"Tricky":     "${TRICKY}",
	}
	for name, want := range checks {
		if got := strings.Join(one(t, cfg.Root, name).Args, " "); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for line, name := range map[int]string{9: "PRIVATE", 11: "NOT_ME", 13: "SITE", 14: "TRICKY"} {
		hasWarning(t, warnings, debMain, line, "${"+name+"} is not defined")
	}
	if len(warnings) != 4 {
		t.Errorf("%d warnings, want 4: %v", len(warnings), warnings)
	}
	if _, ok := cfg.Defines["FLAG"]; !ok {
		t.Errorf("Define FLAG not kept: %v", cfg.Defines)
	}
	u, g, pos, ok := ApacheUser(afero.NewOsFs(), root)
	if !ok || u != "www-data" || g != "www-data" || pos.Line != 3 {
		t.Errorf("ApacheUser = %q %q %s %v", u, g, pos, ok)
	}
}

func TestApacheEnvvarsSuffix(t *testing.T) {
	root := writeSys(t, map[string]string{
		"/etc/apache2-blue/envvars":      "export APACHE_LOG_DIR=/var/log/apache2$SUFFIX\nexport APACHE_RUN_USER=blue\n",
		"/etc/apache2-blue/apache2.conf": "ErrorLog ${APACHE_LOG_DIR}/error.log\nUser ${APACHE_RUN_USER}\nUser2 #33\n",
	})
	cfg, warnings := readSys(t, root, "/etc/apache2-blue/apache2.conf")
	noWarnings(t, warnings)
	if got := one(t, cfg.Root, "ErrorLog").Arg(0); got != "/var/log/apache2-blue/error.log" {
		t.Errorf("ErrorLog = %q", got)
	}
	if cfg.User != "blue" || cfg.ServerRoot != "/etc/apache2-blue" {
		t.Errorf("User %q, ServerRoot %q", cfg.User, cfg.ServerRoot)
	}
}

func TestApacheConditions(t *testing.T) {
	root := writeSys(t, map[string]string{debMain: `LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule php_module /usr/lib/apache2/modules/libphp8.2.so
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
Define DEV
<IfModule alias_module>
  ById 1
</IfModule>
<IfModule mod_alias.c>
  BySource 1
</IfModule>
<IfModule mod_php.c>
  PHPBySource 1
</IfModule>
<IfModule event.c>
  MPMBySource 1
</IfModule>
<IfModule !rewrite_module>
  NotRewrite 1
</IfModule>
<IfModule rewrite_module>
  Rewrite 1
  Include /etc/apache2/never-read.conf
  Define NEVER
</IfModule>
<IfModule mod_version.c>
  Builtin 1
  <IfModule !mod_unixd.c>
    NestedFalse 1
  </IfModule>
  <IfModule unixd_module>
    NestedTrue 1
  </IfModule>
</IfModule>
<IfModule ssl_module>
</IfModule>
<IfModule mod_ssl.c>
  BeforeLoad 1
</IfModule>
LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so
<IfModule mod_ssl.c>
  AfterLoad 1
</IfModule>
<IfDefine DEV>
  Dev 1
</IfDefine>
<IfDefine !DEV>
  NotDev 1
</IfDefine>
<IfDefine NEVER>
  Never 1
</IfDefine>
<IfVersion >= 2.3>
  V23 1
</IfVersion>
<IfVersion < 2.3>
  VOld 1
</IfVersion>
<IfVersion 2.4>
  V24 1
</IfVersion>
<IfVersion !~ ^2\.2>
  NotV22 1
</IfVersion>
<IfVersion /^2\.4\./>
  VRegex 1
</IfVersion>
<IfFile /etc/apache2/apache2.conf>
  FileThere 1
</IfFile>
<IfFile !conf/none>
  FileAbsent 1
</IfFile>
`})
	cfg, warnings := readSys(t, root)
	noWarnings(t, warnings)
	var got []string
	for _, d := range cfg.Root.Children {
		if !d.Is("LoadModule") && !d.Is("Define") {
			got = append(got, d.Name)
		}
	}
	want := []string{"ById", "BySource", "PHPBySource", "MPMBySource", "NotRewrite", "Builtin", "NestedTrue", "AfterLoad", "Dev", "V23", "V24", "NotV22", "VRegex", "FileThere", "FileAbsent"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("directives kept:\n%q\nwant\n%q", got, want)
	}
	if d := one(t, cfg.Root, "NestedTrue"); d.Pos.Line != 31 {
		t.Errorf("NestedTrue at %s, want line 31", d.Pos)
	}
	for _, m := range []string{"alias_module", "mod_alias.c", "php_module", "mod_php.c", "event.c", "core_module", "mod_so.c", "ssl_module"} {
		if !contains(cfg.Modules, m) {
			t.Errorf("module %s not in %v", m, cfg.Modules)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestApacheSectionsKept(t *testing.T) {
	root := writeSys(t, map[string]string{debMain: `<VirtualHost *:80>
  <Directory /srv/a>
    <RequireAll>
      Require all granted
      <RequireNone>
        Require ip 10.0.0.1
      </RequireNone>
    </RequireAll>
    <RequireAny>
      Require local
    </RequireAny>
    <Limit POST>
      Require all denied
    </Limit>
    <LimitExcept GET>
      Require all denied
    </LimitExcept>
  </Directory>
  <DirectoryMatch "^/srv/a/(x|y)">
  </DirectoryMatch>
  <Files "secret.txt">
  </Files>
  <FilesMatch "\.bak$">
  </FilesMatch>
  <Location /status>
  </Location>
  <LocationMatch "^/api">
  </LocationMatch>
  <If "%{REMOTE_ADDR} == '127.0.0.1'">
    Require all granted
  </If>
  <Else>
    Require all denied
  </Else>
</VirtualHost>
`})
	cfg, warnings := readSys(t, root)
	noWarnings(t, warnings)
	for name, line := range map[string]int{"VirtualHost": 1, "Directory": 2, "RequireAll": 3, "RequireNone": 5, "RequireAny": 9,
		"Limit": 12, "LimitExcept": 15, "DirectoryMatch": 19, "Files": 21, "FilesMatch": 23, "Location": 25, "LocationMatch": 27, "If": 29, "Else": 32} {
		if d := one(t, cfg.Root, name); d.Pos.Line != line {
			t.Errorf("<%s> at %s, want line %d", name, d.Pos, line)
		}
	}
	if d := one(t, cfg.Root, "If"); len(d.Args) != 1 || d.Args[0] != "%{REMOTE_ADDR} == '127.0.0.1'" || len(d.Children) != 1 {
		t.Errorf("<If> args %q, %d children", d.Args, len(d.Children))
	}
	none := one(t, cfg.Root, "RequireNone")
	if len(none.Children) != 1 || strings.Join(none.Children[0].Args, " ") != "ip 10.0.0.1" {
		t.Errorf("<RequireNone> children %v", none.Children)
	}
	if len(cfg.Root.Children) != 1 || len(cfg.Root.Children[0].Children) != 8 {
		t.Errorf("tree shape wrong: %d top-level, vhost %d children", len(cfg.Root.Children), len(cfg.Root.Children[0].Children))
	}
}

func TestApacheSites(t *testing.T) {
	root := writeSys(t, map[string]string{
		"/etc/apache2/envvars": "export APACHE_RUN_USER=www-data\nexport APACHE_RUN_GROUP=www-data\n",
		debMain: `LoadModule dir_module mod_dir.so
LoadModule autoindex_module mod_autoindex.so
LoadModule proxy_fcgi_module mod_proxy_fcgi.so
User ${APACHE_RUN_USER}
Group ${APACHE_RUN_GROUP}
Listen 80
Listen 8080
Listen 443
ServerName main.example
DocumentRoot /var/www/main
DirectoryIndex index.html
DirectoryIndex index.htm
Alias /shared /usr/share/shared
<Directory /srv>
  Options Indexes FollowSymLinks
</Directory>
<Directory /srv/b>
  Options -Indexes
</Directory>
<Directory /srv/c/>
  Options +Indexes
</Directory>
<FilesMatch ".+\.ph(?:ar|p|tml)$">
    SetHandler "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost"
</FilesMatch>
IncludeOptional sites-enabled/*.conf
`,
		"/etc/apache2/sites-enabled/a.conf": `<VirtualHost *:80 [::1]:80>
  ServerName https://a.example:443
  ServerAlias www.a.example *.a.example
  DocumentRoot /srv/a
  Alias /static/ "/srv/static/"
  AliasMatch ^/img/(.*)$ /srv/img/$1
  DirectoryIndex index.php
  AssignUserID alice alicegrp
  SuexecUserGroup alice alicegrp
  <FilesMatch \.php$>
    SetHandler proxy:fcgi://127.0.0.1:9001
  </FilesMatch>
</VirtualHost>
`,
		"/etc/apache2/sites-enabled/b.conf": `<VirtualHost 192.0.2.1:443>
  DocumentRoot /srv/b
  <Directory /srv/b>
    DirectoryIndex default.html
  </Directory>
</VirtualHost>
`,
		"/etc/apache2/sites-enabled/c.conf": `<VirtualHost *:80>
  ServerName c.example
  DocumentRoot /srv/c
  Options -Indexes
</VirtualHost>
`,
	})
	cfg, warnings := readSys(t, root)
	noWarnings(t, warnings)
	if len(cfg.Sites) != 4 {
		t.Fatalf("%d sites, want 3 virtual hosts and the main server: %+v", len(cfg.Sites), cfg.Sites)
	}
	a, b, c, m := cfg.Sites[0], cfg.Sites[1], cfg.Sites[2], cfg.Sites[3]
	want := Site{
		Server: Apache, Names: []string{"a.example", "www.a.example", "*.a.example"}, Listen: []string{"*:80", "[::1]:80"},
		Root: "/srv/a",
		Aliases: []Alias{
			{URL: "/static/", Path: "/srv/static/", Pos: Pos{"/etc/apache2/sites-enabled/a.conf", 5}},
			{URL: "^/img/(.*)$", Path: "/srv/img/$1", Pos: Pos{"/etc/apache2/sites-enabled/a.conf", 6}},
			{URL: "/shared", Path: "/usr/share/shared", Pos: Pos{debMain, 13}},
		},
		Index: []string{"index.php"}, Autoindex: true,
		User: "alice", Group: "alicegrp", SuexecUser: "alice", SuexecGroup: "alicegrp",
		PHP: "127.0.0.1:9001", Pos: Pos{"/etc/apache2/sites-enabled/a.conf", 1},
	}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("site a:\n%+v\nwant\n%+v", a, want)
	}
	// b: no ServerName, so the main server's; DirectoryIndex of its root's <Directory>; -Indexes
	// there; the global FPM handler; the main server's user.
	if !reflect.DeepEqual(b.Names, []string{"main.example"}) || b.Root != "/srv/b" || !reflect.DeepEqual(b.Index, []string{"default.html"}) ||
		b.Autoindex || b.PHP != "/run/php/php8.2-fpm.sock" || b.User != "www-data" || b.Group != "www-data" || b.SuexecUser != "" {
		t.Errorf("site b: %+v", b)
	}
	// c: the vhost-wide Options -Indexes gives way to the <Directory> sections above its root, as
	// Apache applies Directory sections after the server's Options.
	if !c.Autoindex || !reflect.DeepEqual(c.Index, []string{"index.html", "index.htm"}) {
		t.Errorf("site c: autoindex %v, index %q", c.Autoindex, c.Index)
	}
	// The main server answers on 8080 only: 80 and 443 have virtual hosts.
	if !reflect.DeepEqual(m.Listen, []string{"8080"}) || m.Root != "/var/www/main" || m.Pos != (Pos{debMain, 7}) ||
		!reflect.DeepEqual(m.Names, []string{"main.example"}) || m.PHP != "/run/php/php8.2-fpm.sock" || m.Autoindex {
		t.Errorf("main server site: %+v", m)
	}
}

func TestApacheModPHPAndLayouts(t *testing.T) {
	root := writeSys(t, map[string]string{
		"/etc/httpd/conf/httpd.conf": `ServerRoot "/etc/httpd"
Listen 80
Include conf.modules.d/*.conf
User apache
Group apache
DocumentRoot "/var/www/html"
`,
		"/etc/httpd/conf.modules.d/15-php.conf": "LoadModule php7_module modules/libphp7.so\n",
		"/etc/apache2/httpd.conf":               "User alpine\nGroup #82\nListen 80\n",
	})
	cfg, warnings := readSys(t, root)
	noWarnings(t, warnings)
	if cfg.Main != "/etc/httpd/conf/httpd.conf" || cfg.ServerRoot != "/etc/httpd" || cfg.User != "apache" {
		t.Errorf("main %q, server root %q, user %q", cfg.Main, cfg.ServerRoot, cfg.User)
	}
	if len(cfg.Sites) != 1 || cfg.Sites[0].PHP != "module" || cfg.Sites[0].Root != "/var/www/html" || cfg.Sites[0].Listen[0] != "80" {
		t.Errorf("sites: %+v", cfg.Sites)
	}
	cfg, _ = readSys(t, root, "/etc/apache2/apache2.conf", "/etc/apache2/httpd.conf")
	if cfg.Main != "/etc/apache2/httpd.conf" || cfg.User != "alpine" || cfg.Group != "#82" || cfg.Sites[0].PHP != "" {
		t.Errorf("alpine layout: main %q user %q group %q sites %+v", cfg.Main, cfg.User, cfg.Group, cfg.Sites)
	}
	if u, g := cfg.EffectiveUser(); u != "alpine" || g != "82" {
		t.Errorf("effective user %q group %q, want alpine and gid 82", u, g)
	}
	if cfg, w := ReadApache(afero.NewOsFs(), t.TempDir()); cfg != nil || w != nil {
		t.Errorf("no Apache: got %v, %v", cfg, w)
	}
}

// TestApacheSysroot checks that every path, symlinks' absolute targets included, is looked up
// below the audited system's root and never on the host.
func TestApacheSysroot(t *testing.T) {
	root := writeSys(t, map[string]string{
		debMain:                                 "IncludeOptional conf-enabled/*.conf\nInclude /etc/shared.conf\n",
		"/etc/apache2/conf-enabled/app.conf":    "->/etc/app/apache.conf",
		"/etc/apache2/conf-enabled/escape.conf": "->../../../../../../../../etc/app/apache.conf",
		"/etc/app/apache.conf":                  "Alias /app /usr/share/app\n",
		"/etc/shared.conf":                      "->/etc/passwd",
	})
	cfg, warnings := readSys(t, root)
	aliases := find(cfg.Root, "Alias")
	if len(aliases) != 2 || aliases[0].Pos != (Pos{"/etc/apache2/conf-enabled/app.conf", 1}) || aliases[1].Pos.File != "/etc/apache2/conf-enabled/escape.conf" {
		t.Errorf("aliases read through the symlinks: %v", aliases)
	}
	hasWarning(t, warnings, debMain, 2, "cannot include /etc/shared.conf")
}

func TestApacheBadConfigs(t *testing.T) {
	t.Run("unterminated section", func(t *testing.T) {
		root := writeSys(t, map[string]string{debMain: "Include site.conf\nAfter 1\n", "/etc/apache2/site.conf": "<VirtualHost *:80>\n  <Directory /srv>\n  DocumentRoot /srv\n"})
		cfg, warnings := readSys(t, root)
		hasWarning(t, warnings, "/etc/apache2/site.conf", 1, "<virtualhost> is not closed before the end of /etc/apache2/site.conf")
		hasWarning(t, warnings, "/etc/apache2/site.conf", 2, "<directory> is not closed")
		if d := one(t, cfg.Root, "After"); len(cfg.Root.Children) != 2 || cfg.Root.Children[1] != d {
			t.Errorf("the section was not closed at the end of its file: %v", cfg.Root.Children)
		}
	})
	t.Run("mismatched close", func(t *testing.T) {
		root := writeSys(t, map[string]string{debMain: "<VirtualHost *:80>\n<Directory /srv>\n</Files>\n</VirtualHost>\n</Directory>\nTop 1\n"})
		cfg, warnings := readSys(t, root)
		hasWarning(t, warnings, debMain, 3, "</files> does not match <directory> of line 2")
		hasWarning(t, warnings, debMain, 4, "</virtualhost> closes <directory> of line 2")
		hasWarning(t, warnings, debMain, 5, "</directory> without a matching <directory>")
		if len(cfg.Root.Children) != 2 {
			t.Errorf("top level: %v", cfg.Root.Children)
		}
	})
	t.Run("include loop", func(t *testing.T) {
		root := writeSys(t, map[string]string{
			debMain:                      "Include conf.d\n",
			"/etc/apache2/conf.d/a.conf": "A 1\nInclude conf.d/b.conf\n",
			"/etc/apache2/conf.d/b.conf": "B 1\nInclude /etc/apache2/apache2.conf\n",
		})
		cfg, warnings := readSys(t, root)
		hasWarning(t, warnings, "/etc/apache2/conf.d/b.conf", 2, "include loop")
		if n := len(find(cfg.Root, "A")); n != 1 {
			t.Errorf("a.conf read %d times", n)
		}
	})
	t.Run("fifo", func(t *testing.T) {
		root := writeSys(t, map[string]string{debMain: "Include fifo.conf\nAfter 1\n"})
		if err := syscall.Mkfifo(filepath.Join(root, "/etc/apache2/fifo.conf"), 0o644); err != nil {
			t.Skip("cannot make a FIFO:", err)
		}
		cfg, warnings := readSys(t, root)
		hasWarning(t, warnings, debMain, 1, "not a regular file")
		one(t, cfg.Root, "After")
	})
	t.Run("deep includes", func(t *testing.T) {
		files := map[string]string{debMain: "Include f0.conf\n"}
		for i := 0; i < 10_000; i++ {
			files[fmt.Sprintf("/etc/apache2/f%d.conf", i)] = fmt.Sprintf("Level %d\nInclude f%d.conf\n", i, i+1)
		}
		cfg, warnings := readSys(t, writeSys(t, files))
		hasWarning(t, warnings, fmt.Sprintf("/etc/apache2/f%d.conf", apacheMaxIncludeDepth-1), 2, "includes nest deeper than")
		if n := len(find(cfg.Root, "Level")); n != apacheMaxIncludeDepth {
			t.Errorf("%d levels read, want %d", n, apacheMaxIncludeDepth)
		}
	})
	t.Run("many includes", func(t *testing.T) {
		files := map[string]string{debMain: "Include conf.d/*.conf\nInclude conf.d/*.conf\n"}
		for i := 0; i < 6000; i++ {
			files[fmt.Sprintf("/etc/apache2/conf.d/%05d.conf", i)] = "X 1\n"
		}
		cfg, warnings := readSys(t, writeSys(t, files))
		hasWarning(t, warnings, debMain, 2, fmt.Sprintf("more than %d configuration files", apacheMaxFiles))
		if n := len(cfg.Root.Children); n != apacheMaxFiles-1 {
			t.Errorf("%d directives, want %d (the main file counts)", n, apacheMaxFiles-1)
		}
	})
	t.Run("include fan-out", func(t *testing.T) {
		// Two files including their directory 300 times each: every inclusion but the first is a
		// loop, and each is counted, so the reading ends soon.
		fan := strings.Repeat("Include /etc/apache2\n", 300)
		root := writeSys(t, map[string]string{debMain: fan, "/etc/apache2/inc.conf": fan})
		_, warnings := readSys(t, root)
		hasWarning(t, warnings, "/etc/apache2/inc.conf", 0, fmt.Sprintf("more than %d configuration files", apacheMaxFiles))
	})
	t.Run("glob fan-out", func(t *testing.T) {
		root := writeSys(t, map[string]string{debMain: strings.Repeat("IncludeOptional /etc/*/*/*.none\n", 20_000)})
		_, warnings := readSys(t, root)
		hasWarning(t, warnings, debMain, apacheMaxListings/2+1, fmt.Sprintf("more than %d directories listed", apacheMaxListings))
	})
	t.Run("huge file", func(t *testing.T) {
		root := writeSys(t, map[string]string{debMain: "Include huge.conf\nAfter 1\n", "/etc/apache2/huge.conf": strings.Repeat("Big 1\n", 400_000)})
		cfg, warnings := readSys(t, root)
		hasWarning(t, warnings, debMain, 1, "cannot read /etc/apache2/huge.conf")
		one(t, cfg.Root, "After")
	})
	t.Run("define bomb", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Define A0 " + strings.Repeat("x", 1000) + "\n")
		for i := 1; i < 40; i++ {
			fmt.Fprintf(&b, "Define A%d ${A%d}${A%d}\n", i, i-1, i-1)
		}
		b.WriteString("Use ${A39}\nAfter 1\n")
		cfg, warnings := readSys(t, writeSys(t, map[string]string{debMain: b.String()}))
		// A7 would be 128,000 bytes: its Define is dropped, and what names it stays as written.
		hasWarning(t, warnings, debMain, 8, "longer than")
		if _, ok := cfg.Defines["A7"]; ok || len(cfg.Defines["A6"]) != 64_000 {
			t.Errorf("A6 is %d bytes, A7 defined: %v", len(cfg.Defines["A6"]), ok)
		}
		for _, d := range find(cfg.Root, "Define") {
			if len(d.Arg(1)) > apacheMaxLine {
				t.Errorf("%s: a value of %d bytes kept", d.Pos, len(d.Arg(1)))
			}
		}
		one(t, cfg.Root, "After")
	})
	t.Run("deep sections", func(t *testing.T) {
		text := strings.Repeat("<Location />\n", 1000) + "Inner 1\n"
		cfg, warnings := readSys(t, writeSys(t, map[string]string{debMain: text}))
		hasWarning(t, warnings, debMain, apacheMaxNesting+1, "sections nest deeper than")
		if len(find(cfg.Root, "Inner")) != 0 {
			t.Error("read past the nesting cap")
		}
	})
	t.Run("bad conditions", func(t *testing.T) {
		root := writeSys(t, map[string]string{debMain: "<IfVersion >> 2>\nA 1\n</IfVersion>\n<IfModule>\nB 1\n</IfModule>\n<IfVersion ~ (>\nC 1\n</IfVersion>\nIncludeOptional [.conf\nD 1\n"})
		cfg, warnings := readSys(t, root)
		hasWarning(t, warnings, debMain, 1, "operator")
		hasWarning(t, warnings, debMain, 4, "takes one argument")
		hasWarning(t, warnings, debMain, 7, "regular expression")
		hasWarning(t, warnings, debMain, 10, "bad wildcard")
		if len(cfg.Root.Children) != 1 || !cfg.Root.Children[0].Is("D") {
			t.Errorf("directives: %v", cfg.Root.Children)
		}
	})
}

// TestApacheHandlerScope checks that a virtual host's PHP handler stays its own: the main server
// and the other virtual hosts do not get it.
func TestApacheHandlerScope(t *testing.T) {
	root := writeSys(t, map[string]string{debMain: `Listen 80
Listen 81
<VirtualHost *:80>
  DocumentRoot /srv/a
  <Directory /srv/a>
    <FilesMatch "\.php$">
      SetHandler "proxy:unix:/run/php/a.sock|fcgi://localhost"
    </FilesMatch>
  </Directory>
</VirtualHost>
<VirtualHost *:80>
  DocumentRoot /srv/b
  ProxyPassMatch ^/(.*\.php(/.*)?)$ fcgi://127.0.0.1:9000/srv/b/$1
</VirtualHost>
<VirtualHost *:80>
  DocumentRoot /srv/c
  <FilesMatch "\.txt$">
    SetHandler "proxy:unix:/run/php/c.sock|fcgi://localhost"
  </FilesMatch>
</VirtualHost>
`})
	cfg, warnings := readSys(t, root)
	noWarnings(t, warnings)
	var got []string
	for _, s := range cfg.Sites {
		got = append(got, s.Root+"="+s.PHP)
	}
	want := []string{"/srv/a=/run/php/a.sock", "/srv/b=127.0.0.1:9000", "/srv/c=", "="}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("handlers %q, want %q", got, want)
	}
}

// TestApacheIncludeInSection checks that a file included inside a virtual host gives its
// directives to that virtual host, as Apache reads them there.
func TestApacheIncludeInSection(t *testing.T) {
	root := writeSys(t, map[string]string{
		debMain:                        "Listen 80\n<VirtualHost *:80>\n  ServerName a.example\n  Include snippets/a.conf\n</VirtualHost>\n",
		"/etc/apache2/snippets/a.conf": "DocumentRoot /srv/a\n<FilesMatch \\.php$>\n  SetHandler proxy:unix:/run/php/a.sock|fcgi://localhost\n</FilesMatch>\n",
	})
	cfg, warnings := readSys(t, root)
	noWarnings(t, warnings)
	vh := one(t, cfg.Root, "VirtualHost")
	if len(vh.Children) != 3 || vh.Children[1].Pos != (Pos{"/etc/apache2/snippets/a.conf", 1}) {
		t.Errorf("virtual host's children: %v", vh.Children)
	}
	if len(cfg.Sites) != 1 || cfg.Sites[0].Root != "/srv/a" || cfg.Sites[0].PHP != "/run/php/a.sock" {
		t.Errorf("sites: %+v", cfg.Sites)
	}
}
