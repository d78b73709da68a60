package server

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/safefile"
)

// The bounds of what one PHP-FPM configuration makes webperm read.
const (
	// fpmMaxDepth is php-fpm's own: it refuses to include more than 5 files recursively, the
	// main file counted.
	fpmMaxDepth = 5
	// fpmMaxFiles caps the files one main file leads to, includes of includes counted: real
	// hosts have a pool file per site, a few hundred at most.
	fpmMaxFiles = 1000
	// fpmMaxDirEntries caps the names read from one directory an include pattern lists.
	fpmMaxDirEntries = 10000
	// fpmMaxListings caps the directories include patterns list in all: each include lists
	// again, and a pattern repeated over a large directory would otherwise take hours.
	fpmMaxListings = 10000
	// fpmMaxWarnings caps the warnings kept; that the cap was reached is said.
	fpmMaxWarnings = 1000
	// fpmMaxTotalFiles and fpmMaxTotalBytes cap the files and bytes read for all the main files
	// together: fpmMaxFiles is per main file, and an image may hold a thousand of them.
	fpmMaxTotalFiles = 10000
	fpmMaxTotalBytes = 64 << 20
)

// FPMConfig is what one php-fpm master reads: its main file and every file that includes, the
// statements, and the pools they make.
type FPMConfig struct {
	// File is the main file as the audited system names it (/etc/php/8.2/fpm/php-fpm.conf), or,
	// for pool files found with no main file beside them, the pattern they were read by.
	File    string
	Version string // the PHP version the path says, as in Pool.Version
	// Files lists every file read, the main file first, in the order php-fpm reads them.
	Files      []string
	Directives []FPMDirective
	Pools      []Pool
}

// fpmLayout is where a distribution puts php-fpm's configuration.
type fpmLayout struct {
	main    string // the main file, a pattern whose first wildcard element names the PHP version
	pools   string // the pool files its include reads, for hosts or images without the main file
	prefix  string // where php-fpm was built to live (PHP_PREFIX): relative paths are below it
	version func(elem string) string
}

// fpmLayouts are the places php-fpm's configuration is found, in the order they are read.
var fpmLayouts = []fpmLayout{
	{"/etc/php/*/fpm/php-fpm.conf", "/etc/php/*/fpm/pool.d/*.conf", "/usr", func(v string) string { return v }}, // Debian, Ubuntu
	{"/etc/php-fpm.conf", "/etc/php-fpm.d/*.conf", "/usr", nil},                                                 // Fedora, RHEL
	{"/usr/local/etc/php-fpm.conf", "/usr/local/etc/php-fpm.d/*.conf", "/usr/local", nil},                       // upstream, the php Docker images
	{"/etc/php*/php-fpm.conf", "/etc/php*/php-fpm.d/*.conf", "/usr", alpineVersion},                             // Alpine (/etc/php82), Arch (/etc/php)
}

// alpineVersion reads the PHP version from an Alpine directory name: php82 is 8.2, php7 is 7.
func alpineVersion(elem string) string {
	digits, ok := strings.CutPrefix(elem, "php")
	if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return ""
	}
	if len(digits) == 1 {
		return digits
	}
	return digits[:1] + "." + digits[1:]
}

// ReadFPM reads every PHP-FPM configuration of the system below sysroot and gives its pools, in
// the order of fpmLayouts, then of the files. A pool's Group is "" where the file sets none:
// php-fpm then runs it with the primary group of User, which the caller resolves with the
// system's accounts. ListenOwner, ListenGroup and ListenMode are "" where unset: php-fpm then
// leaves the socket to the master's user and group (root's, as it is started) with mode 0660;
// with listen.owner alone, the group is that user's primary group.
func ReadFPM(fsys afero.Fs, sysroot string) ([]Pool, []Warning) {
	configs, warns := ReadFPMConfigs(fsys, sysroot)
	var pools []Pool
	for _, c := range configs {
		pools = append(pools, c.Pools...)
	}
	return pools, warns
}

// ReadFPMConfigs reads every PHP-FPM configuration of the system below sysroot: each main file
// with what it includes and, where pool files lie in a layout's pool directory with no main file
// beside them, those pool files on their own (with a warning).
func ReadFPMConfigs(fsys afero.Fs, sysroot string) ([]FPMConfig, []Warning) {
	r := newFPMReader(fsys, sysroot)
	var configs []FPMConfig
	seen := map[string]bool{}
	for _, l := range fpmLayouts {
		for _, main := range r.glob(l.main, Pos{File: l.main}) {
			if seen[main] || strings.Contains(main, "/php-fpm.d/") {
				continue
			}
			seen[main] = true
			configs = append(configs, r.readConfig(main, fpmVersion(l, main), l.prefix, ""))
		}
		// Pool directories whose main file is missing: php-fpm cannot start there, but an image
		// may keep only the pools, and they are what webperm needs.
		for _, pool := range r.glob(l.pools, Pos{File: l.pools}) {
			main := path.Join(path.Dir(path.Dir(pool)), path.Base(l.main))
			if seen[main] || seen[path.Dir(pool)] {
				continue
			}
			if _, ok := r.hostPath(main); ok {
				continue // read above, or not a layout's main file
			}
			seen[path.Dir(pool)] = true
			pattern := path.Join(path.Dir(pool), "*.conf")
			r.warns = append(r.warns, Warning{Pos: Pos{File: path.Dir(pool)}, Msg: "pool files with no " + path.Base(l.main) + " beside them: read on their own"})
			configs = append(configs, r.readConfig(pattern, fpmVersion(l, pattern), l.prefix, pattern))
		}
	}
	return configs, r.warns
}

// fpmVersion reads the PHP version from the element of p that matches the layout's first
// wildcard.
func fpmVersion(l fpmLayout, p string) string {
	if l.version == nil {
		return ""
	}
	pe := strings.Split(p, "/")
	for i, e := range strings.Split(l.main, "/") {
		if strings.ContainsAny(e, "*?[") && i < len(pe) {
			return l.version(pe[i])
		}
	}
	return ""
}

// ReadFPMFile reads one php-fpm main file, as the system below sysroot names it, and what it
// includes; prefix is where relative include and socket paths lie ("/usr" where "").
func ReadFPMFile(fsys afero.Fs, sysroot, file, prefix string) (FPMConfig, []Warning) {
	r := newFPMReader(fsys, sysroot)
	c := r.readConfig(file, "", prefix, "")
	return c, r.warns
}

// fpmReader reads the files of one system, one main file after another.
type fpmReader struct {
	fsys  afero.Fs
	root  string // sysroot, clean; "/" for the host
	warns []Warning
	// listings counts the directories include patterns listed, across every main file.
	listings int
	// totalFiles and totalBytes count what was read for every main file; past either cap,
	// capped, nothing more is read.
	totalFiles int
	totalBytes int64
	capped     bool

	// What one main file's reading keeps, as php-fpm does across its includes.
	cfg     *FPMConfig
	prefix  string
	stack   []string // the files being read, the main file first
	files   int
	section int // the pool lines go to: an index in cfg.Pools, or -1 for [global]
	setExt  []bool
}

func newFPMReader(fsys afero.Fs, sysroot string) *fpmReader {
	root := "/"
	if sysroot != "" {
		root = filepath.Clean(sysroot)
	}
	return &fpmReader{fsys: fsys, root: root}
}

func (r *fpmReader) warn(pos Pos, format string, args ...any) {
	r.addWarns(Warning{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// stop says a cap on the whole reading was reached, even past the cap on warnings, and reads
// nothing more.
func (r *fpmReader) stop(pos Pos, format string, args ...any) {
	r.warns = append(r.warns, Warning{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	r.capped = true
}

// addWarns keeps ws, up to fpmMaxWarnings in all, and says once that the rest were left out.
func (r *fpmReader) addWarns(ws ...Warning) {
	for _, w := range ws {
		switch n := len(r.warns); {
		case n < fpmMaxWarnings:
			r.warns = append(r.warns, w)
		case n == fpmMaxWarnings:
			r.warns = append(r.warns, Warning{Pos: w.Pos, Msg: fmt.Sprintf("more than %d warnings: the rest not kept", fpmMaxWarnings)})
		default:
			return
		}
	}
}

// readConfig reads a main file, or with pattern set the pool files it matches as one main
// file's includes would be.
func (r *fpmReader) readConfig(file, version, prefix, pattern string) FPMConfig {
	if prefix == "" {
		prefix = "/usr"
	}
	r.cfg = &FPMConfig{File: file, Version: version}
	r.prefix, r.stack, r.files, r.section, r.setExt = prefix, nil, 0, -1, nil
	if pattern != "" {
		r.include(pattern, Pos{File: pattern})
	} else {
		r.readFile(file, Pos{File: file})
	}
	r.finish()
	c := *r.cfg
	r.cfg = nil
	return c
}

// readFile reads one file and every file it includes; from is the include that names it.
func (r *fpmReader) readFile(file string, from Pos) {
	if i := slices.Index(r.stack, file); i >= 0 {
		r.warn(from, "include loop: %s includes itself through %s: not read again (php-fpm refuses the configuration)", file, strings.Join(r.stack[i:], " -> "))
		return
	}
	if len(r.stack) >= fpmMaxDepth {
		r.warn(from, "includes %s more than %d files deep: not read (php-fpm refuses the configuration)", file, fpmMaxDepth)
		return
	}
	if r.files++; r.files > fpmMaxFiles {
		if r.files == fpmMaxFiles+1 {
			r.warn(from, "more than %d files included: %s and the files after it not read", fpmMaxFiles, file)
		}
		return
	}
	if r.capped {
		return
	}
	if r.totalFiles++; r.totalFiles > fpmMaxTotalFiles {
		r.stop(from, "more than %d files read in all: %s and the files after it not read", fpmMaxTotalFiles, file)
		return
	}
	data, err := r.read(file)
	if err != nil {
		r.warn(from, "cannot read %s: %v", file, err)
		return
	}
	if r.totalBytes += int64(len(data)); r.totalBytes > fpmMaxTotalBytes {
		r.stop(from, "more than %d MiB of configuration read in all: %s and the files after it not read", fpmMaxTotalBytes>>20, file)
		return
	}
	r.cfg.Files = append(r.cfg.Files, file)
	r.stack = append(r.stack, file)
	defer func() { r.stack = r.stack[:len(r.stack)-1] }()
	dirs, warns := ParseFPM(file, data)
	r.addWarns(warns...)
	for _, d := range dirs {
		r.apply(d)
	}
}

// read reads a file of the system, refusing what safefile refuses (FIFOs, devices, files over
// safefile.ConfigLimit).
func (r *fpmReader) read(file string) ([]byte, error) {
	host, ok := r.hostPath(file)
	if !ok {
		return nil, os.ErrNotExist
	}
	return safefile.ReadFs(r.fsys, host, safefile.ConfigLimit)
}

// hostPath gives where the system path p lies on fsys: below the root, every symlink on the way
// resolved inside it, as php-fpm chrooted there would. It is false where p does not exist (or
// cannot be looked up).
func (r *fpmReader) hostPath(p string) (string, bool) {
	p = path.Clean("/" + p)
	if r.root == "/" {
		_, err := r.fsys.Stat(p)
		return p, err == nil
	}
	lr, ok := r.fsys.(afero.LinkReader)
	if !ok {
		host := filepath.Join(r.root, p)
		_, err := r.fsys.Stat(host)
		return host, err == nil
	}
	real, t := walk.ResolveWithin(r.fsys, lr, r.root, r.root, strings.Split(strings.TrimPrefix(p, "/"), "/"), nil)
	return real, t == walk.TargetExists
}

// apply takes one statement into the configuration.
func (r *fpmReader) apply(d FPMDirective) {
	if d.Header {
		r.openSection(d)
		r.cfg.Directives = append(r.cfg.Directives, d)
		return
	}
	d.Section = "global"
	if r.section >= 0 {
		d.Section = r.cfg.Pools[r.section].Name
	}
	r.cfg.Directives = append(r.cfg.Directives, d)
	if d.Key == "include" && !d.HasOffset {
		inc := d.Value
		if inc != "" && !path.IsAbs(inc) {
			inc = path.Join(r.prefix, inc)
		}
		r.include(inc, d.Pos)
		return
	}
	if r.section < 0 {
		r.applyGlobal(d)
		return
	}
	r.applyPool(d)
}

// openSection switches to [global] or to a pool, opening it where it is new. Pool names compare
// without case, as php-fpm compares them: [WWW] reopens [www].
func (r *fpmReader) openSection(d FPMDirective) {
	if strings.EqualFold(d.Section, "global") {
		r.section = -1
		return
	}
	for i, p := range r.cfg.Pools {
		if strings.EqualFold(p.Name, d.Section) {
			r.section = i
			return
		}
	}
	if odd := oddPoolName(d.Section); odd != "" {
		r.warn(d.Pos, "pool name %q %s: read as written", d.Section, odd)
	}
	r.cfg.Pools = append(r.cfg.Pools, Pool{Name: d.Section, Pos: d.Pos, Version: r.cfg.Version})
	r.setExt = append(r.setExt, false)
	r.section = len(r.cfg.Pools) - 1
}

// oddPoolName says what is odd about a pool name, "" where nothing is. php-fpm takes any name,
// but the name goes into $pool paths and process titles, where blanks and slashes surprise.
func oddPoolName(name string) string {
	switch {
	case name == "":
		return "is empty"
	case strings.TrimSpace(name) != name:
		return "starts or ends with blanks, which php-fpm keeps in $pool"
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return "holds control characters"
	case strings.Contains(name, "/"):
		return "holds a slash, which makes $pool in a path a directory"
	}
	return ""
}

// fpmGlobalKeys are the entries php-fpm takes in [global]; any other stops it.
var fpmGlobalKeys = []string{
	"pid", "error_log", "syslog.ident", "syslog.facility", "log_buffering", "log_level",
	"log_limit", "emergency_restart_threshold", "emergency_restart_interval",
	"process_control_timeout", "process.max", "process.priority", "daemonize", "rlimit_files",
	"rlimit_core", "events.mechanism", "systemd_interval",
}

// fpmPoolKeys are the entries php-fpm takes in a pool; any other stops it.
var fpmPoolKeys = []string{
	"prefix", "user", "group", "listen", "listen.backlog", "listen.acl_users", "listen.acl_groups",
	"listen.owner", "listen.group", "listen.mode", "listen.allowed_clients", "listen.setfib",
	"process.priority", "process.dumpable", "pm", "pm.max_children", "pm.start_servers",
	"pm.min_spare_servers", "pm.max_spare_servers", "pm.max_spawn_rate",
	"pm.process_idle_timeout", "pm.max_requests", "pm.status_path", "pm.status_listen",
	"ping.path", "ping.response", "access.log", "access.format", "slowlog",
	"request_slowlog_timeout", "request_slowlog_trace_depth", "request_terminate_timeout",
	"request_terminate_timeout_track_finished", "rlimit_files", "rlimit_core", "chroot", "chdir",
	"catch_workers_output", "decorate_workers_output", "clear_env", "security.limit_extensions",
	"apparmor_hat",
}

// fpmPoolArrays are the array entries (name[key] = value) php-fpm takes in a pool; their names
// compare with case, unlike the other entries'.
var fpmPoolArrays = []string{"env", "php_value", "php_admin_value", "php_flag", "php_admin_flag", "access.suppress_path"}

const unknownEntry = "unknown entry %q in [%s]: php-fpm refuses to load the configuration (unless it is newer than webperm knows)"

func (r *fpmReader) applyGlobal(d FPMDirective) {
	if d.HasOffset {
		r.warn(d.Pos, "%s[%s] in [global], where php-fpm takes no array%s", d.Key, d.Offset, refused)
		return
	}
	if !slices.Contains(fpmGlobalKeys, strings.ToLower(d.Key)) {
		r.warn(d.Pos, unknownEntry, d.Key, "global")
		return
	}
	if strings.Contains(d.Value, "$pool") {
		r.warn(d.Pos, "$pool in [global], outside any pool%s", refused)
	}
}

func (r *fpmReader) applyPool(d FPMDirective) {
	p := &r.cfg.Pools[r.section]
	if d.HasOffset {
		if !slices.Contains(fpmPoolArrays, d.Key) {
			r.warn(d.Pos, unknownEntry, d.Key+"[]", p.Name)
		}
		return
	}
	key := strings.ToLower(d.Key)
	if !slices.Contains(fpmPoolKeys, key) {
		r.warn(d.Pos, unknownEntry, d.Key, p.Name)
		return
	}
	// php-fpm expands $pool in every string it is given, with the name the pool was opened with.
	v := strings.ReplaceAll(d.Value, "$pool", p.Name)
	switch key {
	case "user":
		p.User = v
	case "group":
		p.Group = v
	case "listen":
		p.Listen = v
	case "listen.owner":
		p.ListenOwner = v
	case "listen.group":
		p.ListenGroup = v
	case "listen.mode":
		p.ListenMode = v
	case "listen.acl_users":
		p.ListenACLUsers = v
	case "listen.acl_groups":
		p.ListenACLGroups = v
	case "prefix":
		p.Prefix = v
	case "chroot":
		p.Chroot = v
	case "chdir":
		p.Chdir = v
	case "security.limit_extensions":
		p.LimitExtensions = nil // set empty: any extension
		if exts := strings.Fields(v); len(exts) > 0 {
			p.LimitExtensions = exts
		}
		r.setExt[r.section] = true
	}
}

// include reads the files an include pattern matches, in glob(3)'s order. php-fpm warns of a
// pattern that matches nothing and goes on; so does webperm.
func (r *fpmReader) include(pattern string, from Pos) {
	matches := r.glob(pattern, from)
	if len(matches) == 0 {
		r.warn(from, "include %q matches no file", pattern)
	}
	for _, m := range matches {
		r.readFile(m, from)
	}
}

// finish checks each pool as php-fpm does once every file is read, and sets what it derives.
func (r *fpmReader) finish() {
	if len(r.cfg.Pools) == 0 {
		r.warn(Pos{File: r.cfg.File}, "no pool is defined%s", refused)
	}
	for i := range r.cfg.Pools {
		p := &r.cfg.Pools[i]
		if !r.setExt[i] {
			p.LimitExtensions = []string{".php", ".phar"}
		}
		if p.User == "" {
			r.warn(p.Pos, "pool %q sets no user: php-fpm started as root refuses it, one started as another user runs it as that user", p.Name)
		}
		switch {
		case p.Listen == "":
			r.warn(p.Pos, "pool %q sets no listen address%s", p.Name, refused)
		case listenIsUnix(p.Listen) && !path.IsAbs(p.Listen):
			base := r.prefix
			if p.Prefix != "" {
				base = path.Join(r.prefix, p.Prefix) // an absolute Prefix stays itself
				if path.IsAbs(p.Prefix) {
					base = p.Prefix
				}
			}
			p.Listen = path.Join(base, p.Listen)
		}
		for _, q := range r.cfg.Pools[:i] {
			if p.Listen != "" && q.Listen == p.Listen {
				r.warn(p.Pos, "pool %q listens on %s, as pool %q does%s", p.Name, p.Listen, q.Name, refused)
			}
		}
	}
}

// listenIsUnix says whether php-fpm takes a listen address as a Unix socket's path: it does
// where the address has no ':' and is not a bare port number.
func listenIsUnix(listen string) bool {
	return !strings.Contains(listen, ":") && strings.Trim(listen, "0123456789") != ""
}

// glob expands pattern, an absolute path of the system with wildcards, to the regular files and
// links below the root that match, sorted in each directory, as glob(3) does for php-fpm: a
// wildcard does not match a leading dot, and directories are left out.
func (r *fpmReader) glob(pattern string, from Pos) []string {
	if pattern == "" || !path.IsAbs(pattern) {
		return nil
	}
	paths := []string{"/"}
	elems := strings.Split(strings.Trim(path.Clean(pattern), "/"), "/")
	listed := strings.ContainsAny(elems[len(elems)-1], `*?[\`) // the last names come from a listing
	for _, elem := range elems {
		var next []string
		for _, dir := range paths {
			if !strings.ContainsAny(elem, `*?[\`) {
				next = append(next, path.Join(dir, elem))
				continue
			}
			for _, name := range r.readDirNames(dir, from) {
				if name[0] == '.' && elem[0] != '.' {
					continue
				}
				if ok, _ := path.Match(elem, name); ok {
					next = append(next, path.Join(dir, name))
				}
			}
			if len(next) > fpmMaxFiles {
				r.warn(from, "include %q matches more than %d paths: the rest left out", pattern, fpmMaxFiles)
				next = next[:fpmMaxFiles]
				break
			}
		}
		paths = next
	}
	var files []string
	for _, p := range paths {
		host, ok := r.hostPath(p)
		if !ok {
			if listed {
				files = append(files, p) // a dangling link: glob(3) gives it, and php-fpm cannot open it
			}
			continue
		}
		if fi, err := r.fsys.Stat(host); err == nil && fi.IsDir() {
			continue
		}
		files = append(files, p)
	}
	return files
}

// readDirNames lists the directory dir of the system, sorted, at most fpmMaxDirEntries names.
func (r *fpmReader) readDirNames(dir string, from Pos) []string {
	host, ok := r.hostPath(dir)
	if !ok {
		return nil
	}
	// Only a directory is opened (openDir): opening a FIFO would block.
	if fi, err := r.fsys.Stat(host); err != nil || !fi.IsDir() {
		return nil
	}
	if r.listings++; r.listings > fpmMaxListings {
		if r.listings == fpmMaxListings+1 {
			// Said even past the cap on warnings: the configuration is read in part.
			r.warns = append(r.warns, Warning{Pos: from, Msg: fmt.Sprintf("more than %d directories listed for include patterns: %s and the rest not listed", fpmMaxListings, dir)})
		}
		return nil
	}
	names, more, err := listNames(r.fsys, host, fpmMaxDirEntries)
	if err != nil {
		r.warn(from, "cannot list %s: %v", dir, err) // the names read before the fault are kept
	}
	if more {
		r.warn(from, "%s holds more than %d names: the rest left out", dir, fpmMaxDirEntries)
	}
	return names
}
