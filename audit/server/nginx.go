package server

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/afero"
	"github.com/tufanbarisyildirim/gonginx/config"
	"github.com/tufanbarisyildirim/gonginx/parser"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/safefile"
)

// NginxMains are where nginx's main configuration file lies, tried in this order: Debian,
// Ubuntu, RHEL, Alpine, Arch and nginx.org's packages; nginx built from source with its default
// prefix; FreeBSD.
var NginxMains = []string{
	"/etc/nginx/nginx.conf",
	"/usr/local/nginx/conf/nginx.conf",
	"/usr/local/etc/nginx/nginx.conf",
}

// NginxDirective is one directive of an nginx configuration, as written: its name, its arguments
// unquoted as nginx unquotes them, where it is, and, for a block, the directives it holds.
//
// An include stays in its place, and the directives of the files it reads follow it in the same
// block, each with the file and line it is written at and the include it came through (Via): a
// block's directives are what nginx reads in it, in nginx's order.
type NginxDirective struct {
	Name string
	Args []string
	Pos  Pos
	// IsBlock says the directive opens a block ({ }), whose directives Block holds.
	IsBlock bool
	Block   []*NginxDirective
	// Included lists the files an include read, as the audited system names them, in the
	// order nginx reads them (a glob's matches sorted).
	Included []string
	// Via is the include whose file holds the directive; nil in the main file.
	Via *NginxDirective
}

// Find gives the directives of d's block named name, in order.
func (d *NginxDirective) Find(name string) []*NginxDirective {
	var found []*NginxDirective
	for _, c := range d.Block {
		if c.Name == name {
			found = append(found, c)
		}
	}
	return found
}

// Location gives a location block's modifier ("", "=", "^~", "~", "~*" or "@" for a named
// one) and what it matches, as nginx reads both from "location ~ \.php$" and from
// "location ~\.php$"; ok is false for any other directive or a location nginx refuses.
func (d *NginxDirective) Location() (modifier, match string, ok bool) {
	if d.Name != "location" || !d.IsBlock {
		return "", "", false
	}
	switch len(d.Args) {
	case 2:
		switch d.Args[0] {
		case "=", "^~", "~", "~*":
			return d.Args[0], d.Args[1], true
		}
		return "", "", false
	case 1:
		a := d.Args[0]
		for _, m := range []string{"=", "~*", "~", "@"} { // "~*" before "~"
			if strings.HasPrefix(a, m) && len(a) > len(m) {
				return m, a[len(m):], true
			}
		}
		return "", a, a != ""
	}
	return "", "", false
}

// NginxConfig is what webperm read of an nginx configuration.
type NginxConfig struct {
	// Main is the main file, as the audited system names it; Files every file read, Main
	// first, in the order nginx reads them.
	Main  string
	Files []string
	// Directives are the main context's, includes followed.
	Directives []*NginxDirective
	// User and Group are the user directive's: whom the workers run as when the master runs
	// as root. Without one, nginx takes its compiled default, "nobody nobody" (nginx's
	// documentation), and UserPos is the zero Pos; Debian's nginx.conf says "user www-data;".
	// With no group, nginx takes the group named as the user.
	User, Group string
	UserPos     Pos
	// Sites are the http context's server blocks, in order; Servers[i] is Sites[i]'s block.
	Sites   []Site
	Servers []*NginxDirective
}

// nginxCaps bound what one configuration may make webperm read: includes nested, files, bytes,
// directives, blocks nested in one file, directories listed for include patterns (each include
// lists again: a pattern repeated over a large directory would otherwise take hours). Real ones are far below: Debian's stock configuration
// is a dozen files, four includes deep at most, blocks five deep; a host of thousands of sites
// stays under the file and byte caps. Past a cap, the rest is not read and a warning says so.
// One file is at most safefile.ConfigLimit.
var nginxCaps = struct {
	depth, files, directives, nesting, listings, entries int
	bytes                                                int64
}{depth: 16, files: 10000, directives: 300000, nesting: 64, listings: 10000, entries: 100_000, bytes: 64 << 20}

// ReadNginx reads nginx's configuration from fsys, where the audited system's root is sysroot
// ("/" for the host): the first of mains that exists below sysroot (NginxMains where none are
// given) and the files it includes, every path looked up below sysroot, absolute symlinks too.
// A relative include is taken from the main file's directory, as nginx does. It gives nil where
// no main file exists. Whatever cannot be read (an unreadable include, a block left open, a
// directive nginx does not know, an include loop, a cap reached) is a warning naming file:line;
// the rest is read. A main file that cannot be read at all is a warning at its line 0.
func ReadNginx(fsys afero.Fs, sysroot string, mains ...string) (*NginxConfig, []Warning) {
	if len(mains) == 0 {
		mains = NginxMains
	}
	if sysroot == "" {
		sysroot = "/"
	}
	r := &nginxReader{fsys: fsys, sysroot: filepath.Clean(sysroot)}
	r.lr, _ = fsys.(afero.LinkReader)
	if r.lr == nil {
		r.lr = noLinks{}
	}
	for _, m := range mains {
		m = filepath.Join("/", m)
		if _, t := r.resolve(m); t == walk.TargetMissing {
			continue
		}
		cfg := &NginxConfig{Main: m}
		r.confDir = filepath.Dir(m)
		cfg.Directives = r.readFile(m, nil, Pos{File: m}, 0, false)
		cfg.Files = r.files
		nginxSites(cfg, r)
		return cfg, r.warnings
	}
	return nil, nil
}

// noLinks is the LinkReader of a file system without symlinks (afero.MemMapFs).
type noLinks struct{}

func (noLinks) ReadlinkIfPossible(string) (string, error) { return "", errors.ErrUnsupported }

// nginxReader reads one configuration: its main file and what it includes.
type nginxReader struct {
	fsys       afero.Fs
	lr         afero.LinkReader
	sysroot    string
	confDir    string   // the main file's directory: relative includes are taken from it
	files      []string // read so far, as the system names them
	bytes      int64
	directives int
	listings   int      // directories listed for include patterns
	stack      []string // real paths of the files being read, outermost first
	capped     bool     // a cap on files, bytes or directives was reached: no more is read
	warnings   []Warning
}

func (r *nginxReader) warn(pos Pos, format string, args ...any) {
	r.warnings = append(r.warnings, Warning{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// stop reads no more files past name, a cap reached, and says so at at.
func (r *nginxReader) stop(at Pos, name, format string, args ...any) {
	r.warn(at, fmt.Sprintf(format, args...)+"; %s and the files after it not read", name)
	r.capped = true
}

// resolve finds the real path of p, a path of the audited system, every symlink on the way
// followed inside sysroot.
func (r *nginxReader) resolve(p string) (string, walk.Target) {
	return walk.ResolveWithin(r.fsys, r.lr, r.sysroot, r.sysroot, strings.Split(strings.TrimPrefix(p, "/"), "/"), nil)
}

// readFile reads the file the system names name, included at depth by via (nil for the main
// file), and gives its directives, data lines where inData (included in a types or map
// block); at is where a failure to read it is told: via's place, or the main file itself.
func (r *nginxReader) readFile(name string, via *NginxDirective, at Pos, depth int, inData bool) []*NginxDirective {
	real, t := r.resolve(name)
	switch t {
	case walk.TargetExists:
	case walk.TargetMissing:
		r.warn(at, "cannot read %s: no such file in the audited system", name)
		return nil
	case walk.TargetLoop:
		r.warn(at, "cannot read %s: too many levels of symlinks", name)
		return nil
	default:
		r.warn(at, "cannot read %s: its path cannot be followed inside the audited system", name)
		return nil
	}
	for _, open := range r.stack {
		if open == real {
			r.warn(at, "include loop: %s is already being read; not read again (nginx would include it until it runs out of files)", name)
			return nil
		}
	}
	if depth > nginxCaps.depth {
		r.warn(at, "includes nested more than %d deep; %s not read", nginxCaps.depth, name)
		return nil
	}
	if r.capped {
		return nil
	}
	if len(r.files) >= nginxCaps.files {
		r.stop(at, name, "more than %d files included", nginxCaps.files)
		return nil
	}
	data, err := safefile.ReadFs(r.fsys, real, safefile.ConfigLimit)
	if err != nil {
		r.warn(at, "cannot read %s: %v", name, walk.UnwrapPath(err))
		return nil
	}
	if r.bytes += int64(len(data)); r.bytes > nginxCaps.bytes {
		r.stop(at, name, "more than %d bytes of configuration read", nginxCaps.bytes)
		return nil
	}
	r.files = append(r.files, name)
	text := string(data)
	scan := scanNginx(text, nginxCaps.nesting)
	if scan.tooDeep > 0 {
		r.warn(Pos{name, scan.tooDeep}, "blocks nested more than %d deep; file not read", nginxCaps.nesting)
		return nil
	}
	if r.directives += len(scan.statements); r.directives > nginxCaps.directives {
		r.files = r.files[:len(r.files)-1]
		r.stop(at, name, "more than %d directives read", nginxCaps.directives)
		return nil
	}
	if len(scan.stray) > 0 || len(scan.nameless) > 0 {
		b := []byte(text)
		for k, off := range scan.stray {
			b[off] = ' '
			r.warn(Pos{name, scan.strayLines[k]}, "unexpected \"}\", which closes no block: nginx refuses the configuration; read on as if it were not there")
		}
		for _, off := range scan.nameless {
			b[off] = ' '
		}
		for _, line := range scan.namelessLines {
			r.warn(Pos{name, line}, "block with no directive name: nginx refuses the configuration; its directives read as the enclosing block's")
		}
		text = string(b)
	}
	for _, line := range scan.open {
		r.warn(Pos{name, line}, "block not closed by the end of the file: nginx refuses the configuration; read as if closed there")
	}
	if len(scan.open) > 0 {
		text += "\n" + strings.Repeat("}", len(scan.open))
	}
	conf, err := parseNginx(text)
	if err != nil {
		r.warn(Pos{name, min(errorLine(err), scan.lines)}, "cannot parse: %v; the file's directives are not read", err)
		return nil
	}
	r.stack = append(r.stack, real)
	defer func() { r.stack = r.stack[:len(r.stack)-1] }()
	next := 0
	return r.convert(conf.GetDirectives(), name, scan, &next, via, depth, inData)
}

// parseNginx parses text with gonginx, whose own panics are its error.
func parseNginx(text string) (conf *config.Config, err error) {
	defer func() {
		if v := recover(); v != nil {
			conf, err = nil, fmt.Errorf("nginx parser failed (%v)", v)
		}
	}()
	// Unknown directives are not gonginx's errors but webperm's warnings, so that one does not
	// hide the rest of its file.
	return parser.NewStringParser(text, parser.WithSkipValidDirectivesErr(), parser.WithSkipComments()).Parse()
}

// init switches off gonginx's types for some directives: webperm takes every directive as a
// plain one, since the types reorder an http block's directives (its servers after the rest), rebuild
// an upstream's server lines, and make an include with two arguments or a location with three
// fail the whole file. Emptying the tables (gonginx's own, with no other user in webperm) keeps
// the directives as written; *_by_lua_block's, which gonginx's parser calls unconditionally,
// stays.
func init() {
	for name := range config.BlockWrappers {
		if name != "_by_lua_block" {
			delete(config.BlockWrappers, name)
		}
	}
	clear(config.DirectiveWrappers)
	clear(config.IncludeWrappers)
}

// lineInError finds the line in a gonginx error: "... on line 4, column 5".
var lineInError = regexp.MustCompile(`\bline (\d+)`)

// errorLine gives the line a gonginx error names, 1 where it names none.
func errorLine(err error) int {
	if m := lineInError.FindStringSubmatch(err.Error()); m != nil {
		if n, e := strconv.Atoi(m[1]); e == nil && n > 0 {
			return n
		}
	}
	return 1
}

// dataBlocks hold lines that are data, not directives: types' MIME types, map's and geo's
// values, split_clients' percentages, charset_map's codes, match's conditions.
var dataBlocks = map[string]bool{"types": true, "map": true, "geo": true, "split_clients": true, "charset_map": true, "match": true}

// convert turns gonginx's directives of the file name into webperm's, in order, each given the
// line it begins on, includes followed; inData says they are data lines of a dataBlocks block.
func (r *nginxReader) convert(ds []config.IDirective, name string, scan *nginxScan, next *int, via *NginxDirective, depth int, inData bool) []*NginxDirective {
	var out []*NginxDirective
	for _, g := range ds {
		if g == nil {
			continue
		}
		d := &NginxDirective{Name: unquoteNginx(g.GetName()), Via: via}
		d.Pos = Pos{name, scan.startLine(next, g.GetName(), g.GetLine())}
		for _, p := range g.GetParameters() {
			d.Args = append(d.Args, unquoteNginx(p.Value))
		}
		_, known := parser.ValidDirectives[d.Name]
		if !inData && (!known || d.Name == "") {
			r.warn(d.Pos, "unknown directive %q: nginx refuses the configuration unless a module it loads defines it", d.Name)
		}
		if b := g.GetBlock(); b != nil {
			d.IsBlock = true
			lua := strings.HasSuffix(d.Name, "_by_lua_block")
			if !lua {
				d.Block = r.convert(b.GetDirectives(), name, scan, next, via, depth, inData || dataBlocks[d.Name])
			}
		}
		out = append(out, d)
		// nginx follows an include in a types or map block too, and takes its file's lines
		// as data.
		if d.Name == "include" && !d.IsBlock {
			out = append(out, r.include(d, depth, inData)...)
		}
	}
	return out
}

// include reads the files of the include d, in nginx's order, and gives their directives.
func (r *nginxReader) include(d *NginxDirective, depth int, inData bool) []*NginxDirective {
	if len(d.Args) != 1 {
		r.warn(d.Pos, "include takes one file or pattern, not %d arguments: nginx refuses the configuration; not followed", len(d.Args))
		return nil
	}
	pattern := d.Args[0]
	if pattern == "" {
		r.warn(d.Pos, "include of an empty path: nginx refuses the configuration; not followed")
		return nil
	}
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(r.confDir, pattern)
	}
	pattern = filepath.Clean(pattern)
	if r.capped {
		return nil
	}
	var names []string
	if strings.ContainsAny(pattern, "*?[") {
		var err error
		if names, err = r.glob(pattern, d.Pos); err == errNginxListings {
			r.stop(d.Pos, pattern, "more than %d directories listed for include patterns", nginxCaps.listings)
			return nil
		} else if err != nil {
			r.warn(d.Pos, "include %s: %v; not followed", d.Args[0], err)
			return nil
		}
	} else {
		names = []string{pattern}
	}
	var out []*NginxDirective
	for _, n := range names {
		read := len(r.files)
		ds := r.readFile(n, d, d.Pos, depth+1, inData)
		if len(r.files) > read {
			d.Included = append(d.Included, n)
		}
		out = append(out, ds...)
	}
	return out
}

var errNginxEntries = errors.New("too many names in one directory")

// readDirOnly lists the directory real of fsys, sorted by name, as afero.ReadDir does, but never
// opens anything else (openDir). It reads at most limit names, the first the directory gives,
// and then also gives errNginxEntries.
func readDirOnly(fsys afero.Fs, real string, limit int) ([]fs.FileInfo, error) {
	if fi, err := fsys.Stat(real); err != nil {
		return nil, err
	} else if !fi.IsDir() {
		return nil, syscall.ENOTDIR
	}
	f, err := openDir(fsys, real)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var entries []fs.FileInfo
	var capped error
	for {
		batch, err := f.Readdir(256)
		entries = append(entries, batch...)
		if len(entries) > limit {
			entries, capped = entries[:limit], errNginxEntries
			break
		}
		if err == io.EOF || len(batch) == 0 {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return entries, capped
}

var errNginxListings = errors.New("too many directories listed")

// glob gives the files of the audited system that pattern, an absolute clean path, matches, as
// glob(3) does for nginx: a name beginning with a dot only where the pattern's name does, sorted
// byte by byte. A pattern that matches nothing gives nothing, and nginx reads nothing.
func (r *nginxReader) glob(pattern string, at Pos) ([]string, error) {
	parts := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	for _, p := range parts {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, errors.New("malformed pattern")
		}
	}
	paths := []string{"/"}
	for i, part := range parts {
		last := i == len(parts)-1
		if !strings.ContainsAny(part, "*?[") {
			for k := range paths {
				paths[k] = filepath.Join(paths[k], part)
			}
			continue
		}
		var matched []string
		for _, dir := range paths {
			real, t := r.resolve(dir)
			if t != walk.TargetExists {
				continue
			}
			if r.listings++; r.listings > nginxCaps.listings {
				return nil, errNginxListings
			}
			entries, err := readDirOnly(r.fsys, real, nginxCaps.entries)
			if err == errNginxEntries {
				r.warn(at, "%s holds more than %d names: the rest left out", dir, nginxCaps.entries)
				err = nil
			}
			if err != nil {
				continue
			}
			for _, e := range entries {
				n := e.Name()
				if strings.HasPrefix(n, ".") && !strings.HasPrefix(part, ".") {
					continue
				}
				if ok, _ := filepath.Match(part, n); !ok {
					continue
				}
				if !last && !e.IsDir() && e.Mode()&fs.ModeSymlink == 0 {
					continue
				}
				// Past the cap on files the first are read; past four times it, the
				// listing itself is too large to keep.
				matched = append(matched, filepath.Join(dir, n))
				if len(matched) > 4*nginxCaps.files {
					return nil, fmt.Errorf("matches more than %d files", 4*nginxCaps.files)
				}
			}
		}
		paths = matched
	}
	sort.Strings(paths)
	return paths, nil
}

// unquoteNginx gives a word as nginx takes it: without the quotes around it, and with \" \' \\
// \t \r \n replaced by what they stand for (any other backslash stays).
func unquoteNginx(w string) string {
	if len(w) >= 2 && (w[0] == '"' || w[0] == '\'') && w[len(w)-1] == w[0] {
		w = w[1 : len(w)-1]
	}
	if !strings.Contains(w, `\`) {
		return w
	}
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		if w[i] == '\\' && i+1 < len(w) {
			switch w[i+1] {
			case '"', '\'', '\\':
				i++
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case 'r':
				b.WriteByte('\r')
				i++
				continue
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			}
		}
		b.WriteByte(w[i])
	}
	return b.String()
}
