package server

import (
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/safefile"
)

// ApacheMains are the main configuration files of Apache's usual layouts, tried in this order
// where ReadApache is given none: Debian's and Ubuntu's, Red Hat's (and Fedora's, Arch's),
// Alpine's.
var ApacheMains = []string{
	"/etc/apache2/apache2.conf",
	"/etc/httpd/conf/httpd.conf",
	"/etc/apache2/httpd.conf",
}

// Directive is one line of Apache's configuration, or a section with the lines inside it.
// Conditional sections (<IfModule>, <IfDefine>, <IfVersion>, <IfFile>) are not kept: where their
// condition holds, their lines stand in their place; Include and IncludeOptional are not kept
// either, the directives of the files they name stand in their place (each with its own Pos).
// Every other section (<VirtualHost>, <Directory>, <Files>, <Location>, <If>, <Else>, <Limit>,
// <RequireAll>...) is a Directive whose Children are its lines.
type Directive struct {
	Name     string   // as written, without < >: "DocumentRoot", "Directory"
	Args     []string // quotes dropped, ${VAR} expanded
	Pos      Pos
	Children []*Directive
}

// Is reports whether the directive is named name; Apache's names are case-insensitive.
func (d *Directive) Is(name string) bool { return strings.EqualFold(d.Name, name) }

// Arg is the i-th argument, "" where there is none.
func (d *Directive) Arg(i int) string {
	if i < len(d.Args) {
		return d.Args[i]
	}
	return ""
}

// ApacheConfig is what ReadApache read.
type ApacheConfig struct {
	Main string // the main file, as the audited system names it
	// ServerRoot is where relative paths start: the ServerRoot directive's, else the layout's
	// (/etc/apache2 on Debian, /etc/httpd on Red Hat).
	ServerRoot string
	// Root holds the main server's directives, conditions evaluated and includes read, in the
	// order Apache reads them; it has no Name of its own.
	Root *Directive
	// Sites are the virtual hosts, in the order read, then the main server where it listens on
	// a port no virtual host is for.
	Sites []Site
	// User and Group are the main server's User and Group, ${VAR} expanded (Debian takes them
	// from envvars' APACHE_RUN_USER and APACHE_RUN_GROUP), as written: "#33" is a uid.
	User, Group string
	UserPos     Pos
	Modules     []string          // loaded: identifiers and source files (php_module, mod_php.c), built-ins too, sorted
	Defines     map[string]string // Define's, after the whole configuration
	Env         map[string]string // what envvars exports, which ${VAR} may name
}

// ReadApache reads Apache's configuration on fsys, every path below sysroot ("/" or "" for the
// host), starting from the first of mains (ApacheMains where none is given) that exists. It
// returns nil and no warning where none exists (no Apache there). Whatever could not be read is
// a warning naming file:line, and the rest is still read; it never runs Apache.
//
// On Debian's layout (a main file in /etc/apache2 or /etc/apache2-NAME) the envvars file beside
// it is parsed (never run) for the variables apache2ctl would export.
//
// Not read yet: mod_macro's <Macro> and Use (kept as written), <IfDirective> and <IfSection>
// (kept as sections, not evaluated), -D defines from the command line (APACHE_ARGUMENTS),
// ScriptAlias and UserDir (not given as aliases), Options and DirectoryIndex of <Directory>
// sections with wildcards or regular expressions, <DirectoryMatch> and <Location> (not used for a
// site's Index and Autoindex), and which virtual host answers a name (every one is a Site).
func ReadApache(fsys afero.Fs, sysroot string, mains ...string) (*ApacheConfig, []Warning) {
	if len(mains) == 0 {
		mains = ApacheMains
	}
	root := "/"
	if sysroot != "" {
		root = filepath.Clean(sysroot)
	}
	r := &apacheReader{fsys: fsys, root: root, defines: map[string]string{}, modules: map[string]bool{}, env: map[string]string{}}
	if lr, ok := fsys.(afero.LinkReader); ok {
		r.lr = lr
	}
	var main string
	for _, m := range mains {
		m = path.Clean("/" + m)
		if _, _, err := r.stat(m); err == nil || !errors.Is(err, fs.ErrNotExist) {
			main = m
			break
		}
	}
	if main == "" {
		return nil, nil
	}
	for i := 0; i < len(apacheBuiltin); i++ {
		r.modules[apacheBuiltin[i]] = true
	}
	cfg := &ApacheConfig{Main: main, Root: &Directive{Pos: Pos{File: main, Line: 1}}, Env: r.env}
	r.srvRoot = apacheServerRoot(main)
	if confdir := path.Dir(main); confdir == "/etc/apache2" || strings.HasPrefix(confdir, "/etc/apache2-") {
		r.readEnvvars(confdir)
	}
	r.readFile(main, cfg.Root, Pos{File: main}, 0)
	cfg.ServerRoot = r.srvRoot
	cfg.Defines = r.defines
	for m := range r.modules {
		cfg.Modules = append(cfg.Modules, m)
	}
	sort.Strings(cfg.Modules)
	for _, d := range cfg.Root.Children {
		switch {
		case d.Is("User") && len(d.Args) == 1:
			cfg.User, cfg.UserPos = d.Args[0], d.Pos
		case d.Is("Group") && len(d.Args) == 1:
			cfg.Group = d.Args[0]
		}
	}
	cfg.Sites = apacheSites(cfg, r.modules)
	return cfg, r.warnings
}

// apacheServerRoot is the ServerRoot a layout's Apache is built with, for a main file that sets
// none: Red Hat's /etc/httpd for /etc/httpd/conf/httpd.conf, Debian's /etc/apache2, else the
// main file's directory.
func apacheServerRoot(main string) string {
	dir := path.Dir(main)
	switch {
	case path.Base(dir) == "conf" && strings.HasPrefix(main, "/etc/httpd/"):
		return path.Dir(dir)
	case dir == "/etc/apache2" || strings.HasPrefix(dir, "/etc/apache2-"):
		return dir
	case dir == "/":
		return apacheDefaultRoot
	}
	return dir
}

// readEnvvars parses confdir/envvars, as apache2ctl sources it, for Apache's environment.
func (r *apacheReader) readEnvvars(confdir string) {
	p := path.Join(confdir, "envvars")
	real, err := r.realPath(p)
	var data []byte
	if err == nil {
		data, err = safefile.ReadFs(r.fsys, real, safefile.ConfigLimit)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		r.warn(Pos{File: p}, "cannot read %s: %v: ${APACHE_RUN_USER} and the like stay undefined", p, walk.UnwrapPath(err))
		return
	}
	suffix := ""
	if name, ok := strings.CutPrefix(confdir, "/etc/apache2-"); ok {
		suffix = "-" + name
	}
	for k, v := range parseEnvvars(p, string(data), map[string]string{"APACHE_CONFDIR": confdir, "SUFFIX": suffix}) {
		r.env[k] = v.value
	}
}

// ApacheUser gives the user and group Apache's workers run as, after ${VAR} expansion, with
// Apache's #uid form given as the bare number, and where User is set; ok is false where no
// configuration or no User is found.
func ApacheUser(fsys afero.Fs, sysroot string, mains ...string) (user, group string, pos Pos, ok bool) {
	cfg, _ := ReadApache(fsys, sysroot, mains...)
	if cfg == nil {
		return "", "", Pos{}, false
	}
	user, group = cfg.EffectiveUser()
	return user, group, cfg.UserPos, user != ""
}

// EffectiveUser is the main server's User and Group with Apache's #uid form as the bare number;
// "" for one left unset or naming an undefined ${VAR}.
func (c *ApacheConfig) EffectiveUser() (user, group string) {
	clean := func(v string) string {
		if strings.Contains(v, "${") {
			return ""
		}
		return strings.TrimPrefix(v, "#")
	}
	return clean(c.User), clean(c.Group)
}

// apacheSites gives a Site for each <VirtualHost>, and one for the main server where it listens
// on a port no virtual host is for.
func apacheSites(cfg *ApacheConfig, modules map[string]bool) []Site {
	main := apacheScope{}
	main.read(cfg.Root.Children)
	var sites []Site
	covered := map[string]bool{} // ports a virtual host is for; "*" for all
	for _, d := range cfg.Root.Children {
		if !d.Is("VirtualHost") {
			continue
		}
		vh := apacheScope{}
		vh.read(d.Children)
		s := Site{Server: Apache, Listen: append([]string(nil), d.Args...), Pos: d.Pos, User: cfg.User, Group: cfg.Group}
		for _, a := range d.Args {
			covered[vhostPort(a)] = true
		}
		vh.fill(&s, &main, modules, cfg.ServerRoot)
		sites = append(sites, s)
	}
	var listen []string
	var pos Pos
	for _, d := range main.listen {
		port := d.Arg(0)
		if i := strings.LastIndexByte(port, ':'); i >= 0 {
			port = port[i+1:]
		}
		if covered[port] || covered["*"] {
			continue
		}
		if pos.File == "" {
			pos = d.Pos
		}
		listen = append(listen, d.Arg(0))
	}
	if len(listen) > 0 {
		s := Site{Server: Apache, Listen: listen, Pos: pos, User: cfg.User, Group: cfg.Group}
		(&apacheScope{}).fill(&s, &main, modules, cfg.ServerRoot)
		sites = append(sites, s)
	}
	return sites
}

// vhostPort is the port a <VirtualHost> address is for: "*" for any.
func vhostPort(addr string) string {
	if strings.HasPrefix(addr, "[") { // [::1]:80
		if i := strings.Index(addr, "]:"); i >= 0 {
			return addr[i+2:]
		}
		return "*"
	}
	if i := strings.LastIndexByte(addr, ':'); i >= 0 && strings.Count(addr, ":") == 1 {
		return addr[i+1:]
	}
	return "*"
}

// apacheScope is what the main server's or a virtual host's own lines (not those of its
// Directory, Files or Location sections) say about a site.
type apacheScope struct {
	names    []string
	root     *Directive
	aliases  []Alias
	index    []string
	indexSet bool
	listen   []*Directive
	itk      *Directive // mpm-itk AssignUserID
	suexec   *Directive
	options  []*Directive            // server-wide Options
	dirs     map[string][]*Directive // <Directory> sections naming one directory, by its clean path
	php      string                  // an FPM handler for .php
	phpPos   Pos
}

func (sc *apacheScope) read(ds []*Directive) {
	for _, d := range ds {
		switch {
		case d.Is("ServerName") && len(d.Args) >= 1:
			sc.names = append([]string{hostOnly(d.Args[0])}, sc.names...)
		case d.Is("ServerAlias"):
			for _, a := range d.Args {
				sc.names = append(sc.names, hostOnly(a))
			}
		case d.Is("DocumentRoot") && len(d.Args) == 1:
			sc.root = d
		case (d.Is("Alias") || d.Is("AliasMatch")) && len(d.Args) == 2:
			sc.aliases = append(sc.aliases, Alias{URL: d.Args[0], Path: d.Args[1], Pos: d.Pos})
		case d.Is("DirectoryIndex"):
			sc.indexSet = true
			sc.index = addIndex(sc.index, d.Args)
		case d.Is("Listen") && len(d.Args) >= 1:
			sc.listen = append(sc.listen, d)
		case d.Is("AssignUserID") && len(d.Args) == 2:
			sc.itk = d
		case d.Is("SuexecUserGroup") && len(d.Args) == 2:
			sc.suexec = d
		case d.Is("Options"):
			sc.options = append(sc.options, d)
		case d.Is("Directory"):
			if p, ok := dirPath(d); ok {
				if sc.dirs == nil {
					sc.dirs = map[string][]*Directive{}
				}
				sc.dirs[p] = append(sc.dirs[p], d)
			}
		}
		if sc.php == "" {
			if h, pos := phpHandler(d); h != "" {
				sc.php, sc.phpPos = h, pos
			}
		}
	}
}

// hostOnly drops a scheme and a port from a ServerName: https://www.example.com:443.
func hostOnly(name string) string {
	if _, rest, ok := strings.Cut(name, "://"); ok {
		name = rest
	}
	if strings.HasPrefix(name, "[") {
		if i := strings.IndexByte(name, ']'); i >= 0 {
			return name[:i+1]
		}
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 && strings.Count(name, ":") == 1 {
		return name[:i]
	}
	return name
}

// fill sets what a site gets from its virtual host's lines (sc) and the main server's. A
// relative DocumentRoot is taken from serverRoot, as Apache does.
func (sc *apacheScope) fill(s *Site, main *apacheScope, modules map[string]bool, serverRoot string) {
	s.Names = sc.names
	if len(s.Names) == 0 && len(main.names) > 0 {
		s.Names = main.names[:1] // a virtual host without ServerName takes the main server's
	}
	switch {
	case sc.root != nil:
		s.Root = sc.root.Arg(0)
	case main.root != nil:
		s.Root = main.root.Arg(0)
	}
	if s.Root != "" && !path.IsAbs(s.Root) {
		s.Root = path.Join(serverRoot, s.Root)
	}
	// mod_alias tries a virtual host's aliases before the main server's.
	s.Aliases = append(append([]Alias(nil), sc.aliases...), main.aliases...)
	switch {
	case sc.indexSet:
		s.Index = sc.index
	case main.indexSet:
		s.Index = main.index
	case modules["dir_module"]:
		s.Index = []string{"index.html"}
	}
	if s.Root != "" {
		dirs := sectionsAbove(s.Root, main.dirs, sc.dirs)
		if idx, ok := directoryIndexAt(dirs); ok {
			s.Index = idx
		}
		s.Autoindex = modules["autoindex_module"] && indexesAt(append(append([]*Directive(nil), main.options...), sc.options...), dirs)
	}
	if sc.itk != nil {
		s.User, s.Group = sc.itk.Args[0], sc.itk.Args[1]
	}
	if sc.suexec != nil {
		s.SuexecUser, s.SuexecGroup = sc.suexec.Args[0], sc.suexec.Args[1]
	}
	switch {
	case sc.php != "":
		s.PHP = sc.php
	case main.php != "":
		s.PHP = main.php
	case modules["php_module"] || modules["php7_module"] || modules["php5_module"] || hasPrefixed(modules, "mod_php"):
		s.PHP = "module"
	}
}

func hasPrefixed(set map[string]bool, prefix string) bool {
	for k := range set {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// dirPath is a <Directory> section's path, cleaned, where it names one directory (no wildcard,
// not a ~ regular expression).
func dirPath(d *Directive) (string, bool) {
	if len(d.Args) != 1 || strings.ContainsAny(d.Args[0], "*?[~") || !path.IsAbs(d.Args[0]) {
		return "", false
	}
	return path.Clean(d.Args[0]), true
}

// sectionsAbove are the <Directory> sections for root or a directory above it, shortest path
// first as Apache merges them, the main server's before the virtual host's at each path.
func sectionsAbove(root string, main, vhost map[string][]*Directive) []*Directive {
	var out []*Directive
	for _, dir := range walk.PathTo(path.Clean(root)) {
		out = append(append(out, main[dir]...), vhost[dir]...)
	}
	return out
}

// addIndex adds the arguments of a DirectoryIndex to the list idx its context has so far, as
// mod_dir does: a lone "disabled" empties it; with other arguments, "disabled" is a file name.
func addIndex(idx, args []string) []string {
	if len(args) == 1 && strings.EqualFold(args[0], "disabled") {
		return nil
	}
	return append(idx, args...)
}

// directoryIndexAt is the DirectoryIndex the <Directory> sections dirs (sectionsAbove) set.
func directoryIndexAt(dirs []*Directive) ([]string, bool) {
	var idx []string
	set := false
	for _, d := range dirs {
		var here []string
		hereSet := false
		for _, c := range d.Children {
			if !c.Is("DirectoryIndex") {
				continue
			}
			hereSet = true
			here = addIndex(here, c.Args)
		}
		if hereSet {
			idx, set = here, true
		}
	}
	return idx, set
}

// indexesAt says whether Options Indexes holds at a site's root: server-wide Options, then those
// of the <Directory> sections dirs (sectionsAbove). Options without + or - replace what
// came before; +Indexes and -Indexes change it.
func indexesAt(server, dirs []*Directive) bool {
	on := false
	signed := func(a string) bool { return a != "" && (a[0] == '+' || a[0] == '-') }
	apply := func(d *Directive) {
		if len(d.Args) > 0 && !signed(d.Args[0]) {
			on = false // Options without + or - replaces the set
		}
		for _, a := range d.Args {
			name := strings.TrimLeft(a, "+-")
			if !strings.EqualFold(name, "Indexes") && !(strings.EqualFold(name, "All") && !signed(a)) {
				continue
			}
			on = !strings.HasPrefix(a, "-")
		}
	}
	for _, d := range server {
		apply(d)
	}
	for _, sec := range dirs {
		for _, c := range sec.Children {
			if c.Is("Options") {
				apply(c)
			}
		}
	}
	return on
}

// phpHandler finds, in d or the sections inside it, what PHP scripts are handed to: a FastCGI
// address from SetHandler "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost" in a <Files> or
// <FilesMatch> section for .php files, or from ProxyPassMatch with a pattern for .php. A Unix
// socket is given as its path, a TCP address as host:port.
func phpHandler(d *Directive) (string, Pos) {
	switch {
	case d.Is("FilesMatch") || d.Is("Files"):
		if !forPHP(d) {
			return "", Pos{}
		}
		for _, c := range d.Children {
			if c.Is("SetHandler") && len(c.Args) == 1 {
				if a := fcgiAddress(c.Args[0]); a != "" {
					return a, c.Pos
				}
			}
		}
		return "", Pos{}
	case d.Is("ProxyPassMatch") && len(d.Args) >= 2 && strings.Contains(strings.ToLower(d.Args[0]), "php"):
		return fcgiAddress(d.Args[1]), d.Pos
	case d.Is("VirtualHost"):
		return "", Pos{} // its own handler is its own, not the main server's
	}
	for _, c := range d.Children {
		if h, pos := phpHandler(c); h != "" {
			return h, pos
		}
	}
	return "", Pos{}
}

// forPHP says whether a <Files> or <FilesMatch> section takes index.php.
func forPHP(d *Directive) bool {
	if len(d.Args) == 0 {
		return false
	}
	pat := d.Args[len(d.Args)-1]
	if d.Is("FilesMatch") || len(d.Args) == 2 && d.Args[0] == "~" {
		re, err := regexp.Compile(pat)
		if err != nil {
			return strings.Contains(pat, "php")
		}
		return re.MatchString("index.php")
	}
	ok, _ := path.Match(pat, "index.php")
	return ok
}

// fcgiAddress is the address a proxy handler or target passes to: "/run/php/php8.2-fpm.sock"
// for "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost", "127.0.0.1:9000" for
// "proxy:fcgi://127.0.0.1:9000" or "fcgi://127.0.0.1:9000/var/www/$1"; "" for anything else.
func fcgiAddress(h string) string {
	h = strings.TrimPrefix(h, "proxy:")
	if sock, ok := strings.CutPrefix(h, "unix:"); ok {
		sock, _, _ = strings.Cut(sock, "|")
		return sock
	}
	if addr, ok := strings.CutPrefix(h, "fcgi://"); ok {
		addr, _, _ = strings.Cut(addr, "/")
		return addr
	}
	return ""
}
