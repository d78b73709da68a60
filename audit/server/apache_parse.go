package server

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/afero"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/safefile"
)

// Caps on what one reading of Apache's configuration takes, whatever the files say: a host's
// real configuration, thousands of virtual hosts included, stays far below each.
const (
	apacheMaxIncludeDepth = 64             // Include within Include; Apache itself stops at 128
	apacheMaxFiles        = 10_000         // files read, or named again in a loop
	apacheMaxBytes        = 64 << 20       // bytes read in all (each file: safefile.ConfigLimit)
	apacheMaxDirectives   = 500_000        // directives kept
	apacheMaxKept         = 128 << 20      // bytes of names and arguments kept, ${VAR}s expanded
	apacheMaxLine         = 64 << 10       // one logical line once its ${VAR}s are expanded
	apacheMaxNesting      = 128            // sections open at once in one file
	apacheMaxWarnings     = 1000           // kept; a cap reached is always said
	apacheMaxListings     = 10_000         // directories listed for includes and globs
	apacheMaxDirEntries   = 100_000        // names listed by one directory include or glob
	apacheVersion         = "2.4.62"       // what <IfVersion> compares with: Debian 12's Apache
	apacheDefaultRoot     = "/etc/apache2" // Debian's compiled-in ServerRoot
)

// apacheBuiltin are the modules compiled into Debian's apache2 binary (apache2 -l), loaded with
// no LoadModule: their identifiers and their source files, as <IfModule> may name either. Other
// builds (Red Hat's httpd) compile in fewer; a configuration for them loads the others with
// LoadModule, which counts the same.
var apacheBuiltin = []string{
	"core_module", "core.c",
	"so_module", "mod_so.c",
	"watchdog_module", "mod_watchdog.c",
	"http_module", "http_core.c",
	"log_config_module", "mod_log_config.c",
	"logio_module", "mod_logio.c",
	"version_module", "mod_version.c",
	"unixd_module", "mod_unixd.c",
}

// apacheModuleSources names the source file of the modules whose identifier does not follow
// foo_module ↔ mod_foo.c.
var apacheModuleSources = map[string]string{
	"mpm_prefork_module": "prefork.c",
	"mpm_event_module":   "event.c",
	"mpm_worker_module":  "worker.c",
	"mpm_itk_module":     "mpm_itk.c",
	"http_module":        "http_core.c",
	"core_module":        "core.c",
}

// apacheReader is one reading of a configuration: what was defined and loaded so far (Apache
// acts on Define, LoadModule and Include as it reads, so a condition sees only what came before
// it), the includes open, what the caps have counted.
type apacheReader struct {
	fsys     afero.Fs
	lr       afero.LinkReader // nil where the backend has no symlinks
	root     string           // the audited system's root on fsys, clean
	env      map[string]string
	defines  map[string]string
	modules  map[string]bool
	srvRoot  string
	open     []string // real paths of the files being read, outermost first
	files    int
	listings int
	bytes    int64
	kept     int64
	nodes    int
	stopped  bool // a cap on the whole reading was hit: nothing more is read
	warnings []Warning
}

// stop ends the reading where a cap on the whole of it is reached; its warning is always kept.
func (r *apacheReader) stop(pos Pos, format string, args ...any) {
	r.warnings = append(r.warnings, Warning{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	r.stopped = true
}

func (r *apacheReader) warn(pos Pos, format string, args ...any) {
	switch n := len(r.warnings); {
	case n < apacheMaxWarnings:
		r.warnings = append(r.warnings, Warning{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	case n == apacheMaxWarnings:
		r.warnings = append(r.warnings, Warning{Pos: pos, Msg: fmt.Sprintf("more than %d warnings: the rest not kept", apacheMaxWarnings)})
	}
}

// realPath is where the system path p lies on fsys: below the root, every symlink on the way
// followed inside it as a server chrooted there would.
func (r *apacheReader) realPath(p string) (string, error) {
	if r.lr == nil {
		return filepath.Join(r.root, p), nil
	}
	real, t := walk.ResolveWithin(r.fsys, r.lr, r.root, r.root, strings.Split(p, "/"), nil)
	switch t {
	case walk.TargetExists:
		return real, nil
	case walk.TargetMissing:
		return "", fs.ErrNotExist
	case walk.TargetLoop:
		return "", errors.New("too many levels of symbolic links")
	}
	return "", errors.New("cannot be looked up inside the audited system's root")
}

// stat is the file p names, symlinks followed inside the root.
func (r *apacheReader) stat(p string) (real string, fi fs.FileInfo, err error) {
	if real, err = r.realPath(p); err != nil {
		return "", nil, err
	}
	fi, err = r.fsys.Stat(real)
	return real, fi, walk.UnwrapPath(err)
}

// absolute makes a path of the configuration absolute, relative ones from ServerRoot.
func (r *apacheReader) absolute(p string) string {
	if !path.IsAbs(p) {
		p = path.Join(r.srvRoot, p)
	}
	return path.Clean(p)
}

// readFile reads the configuration file p (a system path) into parent's children. depth counts
// the includes that led here.
func (r *apacheReader) readFile(p string, parent *Directive, from Pos, depth int) {
	if r.stopped {
		return
	}
	if depth > apacheMaxIncludeDepth {
		r.warn(from, "includes nest deeper than %d files: %s and what it includes not read", apacheMaxIncludeDepth, p)
		return
	}
	// Every file named counts, one refused as a loop too: a few files including each other many
	// times over would otherwise take time without reading anything.
	if r.files >= apacheMaxFiles {
		r.stop(from, "more than %d configuration files: %s and the rest not read", apacheMaxFiles, p)
		return
	}
	r.files++
	real, err := r.realPath(p)
	if err == nil {
		for _, o := range r.open {
			if o == real {
				r.warn(from, "include loop: %s includes itself, not read again", p)
				return
			}
		}
	}
	var data []byte
	if err == nil {
		data, err = safefile.ReadFs(r.fsys, real, safefile.ConfigLimit)
	}
	if err != nil {
		r.warn(from, "cannot read %s: %v", p, walk.UnwrapPath(err))
		return
	}
	if r.bytes += int64(len(data)); r.bytes > apacheMaxBytes {
		r.stop(from, "more than %d MiB of configuration: %s and the rest not read", apacheMaxBytes>>20, p)
		return
	}
	r.open = append(r.open, real)
	defer func() { r.open = r.open[:len(r.open)-1] }()
	r.parse(p, string(data), parent, depth)
}

// apacheLine is one logical line: continuations joined, numbered by its first physical line.
type apacheLine struct {
	text string
	line int
}

// apacheLines splits a file into logical lines: a line whose last character (trailing blanks
// aside) is a backslash goes on with the next, as Apache joins them. Blank and comment lines
// (# first, continuations included) are dropped.
func apacheLines(text string) []apacheLine {
	var out []apacheLine
	var cur strings.Builder
	start := 0
	physical := strings.Split(text, "\n")
	for i, l := range physical {
		l = strings.TrimRight(l, " \t\r\f\v")
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(l, "\\") && i < len(physical)-1 {
			cur.WriteString(l[:len(l)-1])
			continue
		}
		cur.WriteString(l)
		s := strings.TrimLeft(cur.String(), " \t\r\f\v")
		cur.Reset()
		if s == "" || s[0] == '#' {
			continue
		}
		out = append(out, apacheLine{text: s, line: start})
	}
	return out
}

// apacheFrame is a section open while a file is read.
type apacheFrame struct {
	d    *Directive // nil for a condition that was false: its lines are skipped
	name string     // the section's name, lower-case, as its closing tag must say
	pos  Pos
	// splice marks a condition that was true: its lines go to the enclosing section.
	splice bool
}

// parse reads the lines of the file p into parent. Sections are closed in the file that opened
// them, as Apache requires.
func (r *apacheReader) parse(p, text string, parent *Directive, depth int) {
	stack := []apacheFrame{{d: parent, name: ""}}
	// target is where a directive read now goes: the innermost kept section.
	target := func() *Directive {
		for i := len(stack) - 1; i >= 0; i-- {
			if stack[i].d != nil && !stack[i].splice {
				return stack[i].d
			}
		}
		return parent
	}
	skipping := func() bool {
		for _, f := range stack {
			if f.d == nil {
				return true
			}
		}
		return false
	}
	for _, ln := range apacheLines(text) {
		if r.stopped {
			return
		}
		pos := Pos{File: p, Line: ln.line}
		s := ln.text
		if strings.HasPrefix(s, "</") {
			name := strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "</"), ">")))
			r.closeSection(&stack, name, pos)
			continue
		}
		if s[0] == '<' {
			name, rest := splitName(strings.TrimPrefix(s, "<"))
			if !strings.HasSuffix(rest, ">") && !strings.HasSuffix(name, ">") {
				r.warn(pos, "<%s lacks its closing >: taken as if it had one", name)
			}
			name = strings.TrimSuffix(name, ">")
			rest = strings.TrimSuffix(strings.TrimRight(rest, " \t"), ">")
			if len(stack) > apacheMaxNesting {
				r.warn(pos, "sections nest deeper than %d: the rest of %s not read", apacheMaxNesting, p)
				return
			}
			frame := apacheFrame{name: strings.ToLower(name), pos: pos}
			if skipping() {
				stack = append(stack, frame) // only to find where the skipped part ends
				continue
			}
			args, ok := r.args(rest, pos)
			if !ok {
				args = nil
			}
			if cond, isCond := r.condition(frame.name, args, pos); isCond {
				if cond {
					frame.d, frame.splice = target(), true
				}
				stack = append(stack, frame)
				continue
			}
			d := &Directive{Name: name, Args: args, Pos: pos}
			if !r.add(target(), d, pos) {
				return
			}
			frame.d = d
			stack = append(stack, frame)
			continue
		}
		if skipping() {
			continue
		}
		name, rest := splitName(s)
		args, ok := r.args(rest, pos)
		if !ok {
			continue
		}
		if r.execOnRead(name, args, pos, target(), depth) {
			continue
		}
		if !r.add(target(), &Directive{Name: name, Args: args, Pos: pos}, pos) {
			return
		}
	}
	for i := len(stack) - 1; i > 0; i-- {
		r.warn(stack[i].pos, "<%s> is not closed before the end of %s: closed there", stack[i].name, p)
	}
}

// closeSection closes the innermost open section, which the closing tag must name. A closing tag
// naming a section further out closes the ones inside it too; one naming none is ignored.
func (r *apacheReader) closeSection(stack *[]apacheFrame, name string, pos Pos) {
	st := *stack
	for i := len(st) - 1; i > 0; i-- {
		if st[i].name != name {
			continue
		}
		for j := len(st) - 1; j > i; j-- {
			r.warn(pos, "</%s> closes <%s> of line %d, still open: closed there", name, st[j].name, st[j].pos.Line)
		}
		*stack = st[:i]
		return
	}
	if len(st) > 1 {
		r.warn(pos, "</%s> does not match <%s> of line %d: ignored", name, st[len(st)-1].name, st[len(st)-1].pos.Line)
		return
	}
	r.warn(pos, "</%s> without a matching <%s>: ignored", name, name)
}

// add appends d to parent's children, within the caps.
func (r *apacheReader) add(parent *Directive, d *Directive, pos Pos) bool {
	r.nodes++
	r.kept += int64(len(d.Name))
	for _, a := range d.Args {
		r.kept += int64(len(a))
	}
	if r.nodes > apacheMaxDirectives || r.kept > apacheMaxKept {
		r.stop(pos, "more than %d directives or %d MiB of them: the rest of the configuration not read", apacheMaxDirectives, apacheMaxKept>>20)
		return false
	}
	parent.Children = append(parent.Children, d)
	return true
}

// splitName cuts a line into its first word and the rest.
func splitName(s string) (name, rest string) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

// args expands ${VAR} in rest, as Apache does before a directive sees its arguments, and splits
// it into words. It is false where the expanded line is too long to keep.
func (r *apacheReader) args(rest string, pos Pos) ([]string, bool) {
	rest = r.expand(rest, pos)
	if len(rest) > apacheMaxLine {
		r.warn(pos, "line longer than %d KiB once its variables are expanded: ignored", apacheMaxLine>>10)
		return nil, false
	}
	return apacheWords(rest), true
}

// expand replaces ${NAME} with what Define, then the environment (envvars' exports), gives NAME.
// An undefined one stays as written, with a warning, as Apache leaves it. Apache expands the
// whole line, the directive's name too; webperm expands the arguments only.
func (r *apacheReader) expand(s string, pos Pos) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		name := s[i+2 : i+j]
		b.WriteString(s[:i])
		if v, ok := r.defines[name]; ok {
			b.WriteString(v)
		} else if v, ok := r.env[name]; ok {
			b.WriteString(v)
		} else {
			r.warn(pos, "${%s} is not defined: left as written", name)
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
		if b.Len() > apacheMaxLine {
			return b.String()
		}
	}
	b.WriteString(s)
	return b.String()
}

// apacheWords splits a line's arguments as Apache's ap_getword_conf does: at blanks, a word in
// double or single quotes kept whole with the quotes dropped, \" and \\ inside quotes unescaped.
func apacheWords(s string) []string {
	var words []string
	for {
		s = strings.TrimLeft(s, " \t\r\f\v")
		if s == "" {
			return words
		}
		if q := s[0]; q == '"' || q == '\'' {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != q; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == q || s[i+1] == '\\') {
					i++
				}
				b.WriteByte(s[i])
			}
			words = append(words, b.String())
			if i < len(s) {
				i++
			}
			s = s[i:]
			continue
		}
		i := strings.IndexAny(s, " \t\r\f\v")
		if i < 0 {
			i = len(s)
		}
		words = append(words, s[:i])
		s = s[i:]
	}
}

// execOnRead does what Apache does with a directive as soon as it reads it: Define, UnDefine,
// LoadModule, ServerRoot, Include. It is true where the directive is not to be kept in the tree
// (an Include's files take its place).
func (r *apacheReader) execOnRead(name string, args []string, pos Pos, parent *Directive, depth int) bool {
	switch strings.ToLower(name) {
	case "define":
		if len(args) >= 1 {
			v := ""
			if len(args) >= 2 {
				v = args[1]
			}
			r.defines[args[0]] = v
		}
	case "undefine":
		if len(args) >= 1 {
			delete(r.defines, args[0])
		}
	case "loadmodule":
		if len(args) >= 2 {
			r.load(args[0], args[1])
		}
	case "serverroot":
		if len(args) == 1 && path.IsAbs(args[0]) {
			r.srvRoot = path.Clean(args[0])
		}
	case "include", "includeoptional":
		optional := strings.EqualFold(name, "IncludeOptional")
		if len(args) != 1 {
			r.warn(pos, "%s takes one path, not %d words: ignored", name, len(args))
			return true
		}
		r.include(r.absolute(args[0]), optional, parent, pos, depth)
		return true
	}
	return false
}

// load notes a module LoadModule loads, under its identifier and its source file's name.
func (r *apacheReader) load(id, file string) {
	r.modules[id] = true
	if src, ok := apacheModuleSources[id]; ok {
		r.modules[src] = true
		return
	}
	if base, ok := strings.CutSuffix(id, "_module"); ok {
		r.modules["mod_"+base+".c"] = true
	}
	if base := path.Base(file); strings.HasPrefix(base, "mod_") && strings.HasSuffix(base, ".so") {
		r.modules[strings.TrimSuffix(base, ".so")+".c"] = true
	}
}

// include reads what Include or IncludeOptional names: a file, a directory (every file in it
// and below, in name order) or a glob, whose wildcards may stand in any part of the path.
func (r *apacheReader) include(pattern string, optional bool, parent *Directive, pos Pos, depth int) {
	if !strings.ContainsAny(pattern, "*?[") {
		r.includePath(pattern, optional, parent, pos, depth, 0)
		return
	}
	matches := r.glob(pattern, pos)
	if len(matches) == 0 && !optional {
		r.warn(pos, "include %s matches no file", pattern)
	}
	for _, m := range matches {
		r.includePath(m, optional, parent, pos, depth, 0)
	}
}

// includePath reads the file p, or every file in the directory p, recursively.
func (r *apacheReader) includePath(p string, optional bool, parent *Directive, pos Pos, depth, dirDepth int) {
	real, fi, err := r.stat(p)
	if err != nil {
		if !(optional && errors.Is(err, fs.ErrNotExist)) {
			r.warn(pos, "cannot include %s: %v", p, err)
		}
		return
	}
	if !fi.IsDir() {
		r.readFile(p, parent, pos, depth+1)
		return
	}
	if dirDepth >= apacheMaxIncludeDepth {
		r.warn(pos, "directories nest deeper than %d below the included one: %s not read", apacheMaxIncludeDepth, p)
		return
	}
	names, err := r.list(real)
	if err != nil {
		r.listError(pos, p, err)
		return
	}
	for _, n := range names {
		if r.stopped {
			return
		}
		r.includePath(path.Join(p, n), optional, parent, pos, depth, dirDepth+1)
	}
}

// listError warns that dir could not be listed, and stops the reading where the cap on listings
// was reached.
func (r *apacheReader) listError(pos Pos, dir string, err error) {
	if err == errTooManyListings {
		if !r.stopped {
			r.stop(pos, "%v", err)
		}
		return
	}
	r.warn(pos, "cannot list %s: %v", dir, err)
}

var errTooManyListings = fmt.Errorf("more than %d directories listed: the rest of the configuration not read", apacheMaxListings)

// list gives the names in the directory real, sorted as Apache sorts them (byte order).
func (r *apacheReader) list(real string) ([]string, error) {
	if r.listings++; r.listings > apacheMaxListings {
		return nil, errTooManyListings
	}
	names, _, err := listNames(r.fsys, real, apacheMaxDirEntries)
	if err != nil && len(names) == 0 {
		return nil, walk.UnwrapPath(err)
	}
	return names, nil
}

// glob expands a pattern whose wildcards may be in any part, part by part, each part's matches
// in byte order. A name beginning with a dot matches only a part beginning with one (Apache's
// APR_FNM_PERIOD).
func (r *apacheReader) glob(pattern string, pos Pos) []string {
	parts := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	found := []string{"/"}
	for i, part := range parts {
		if part == "" {
			continue
		}
		var next []string
		for _, dir := range found {
			if !strings.ContainsAny(part, "*?[") {
				next = append(next, path.Join(dir, part))
				continue
			}
			real, fi, err := r.stat(dir)
			if err != nil || !fi.IsDir() {
				continue
			}
			names, err := r.list(real)
			if err != nil {
				if r.listError(pos, dir, err); r.stopped {
					return nil
				}
				continue
			}
			for _, n := range names {
				if n[0] == '.' && part[0] != '.' {
					continue
				}
				if ok, err := path.Match(part, n); err != nil {
					r.warn(pos, "bad wildcard %q in %s", part, pattern)
					return nil
				} else if ok {
					next = append(next, path.Join(dir, n))
				}
			}
		}
		if len(next) > apacheMaxFiles {
			r.warn(pos, "%s matches more than %d paths: the rest not read", strings.Join(parts[:i+1], "/"), apacheMaxFiles)
			next = next[:apacheMaxFiles]
		}
		found = next
	}
	if len(found) == 1 && found[0] == "/" {
		return nil
	}
	return found
}

// condition evaluates a conditional section: <IfModule>, <IfDefine>, <IfVersion>, <IfFile>. It
// is false as its second result for any other section, which is kept in the tree.
func (r *apacheReader) condition(name string, args []string, pos Pos) (holds, isCond bool) {
	switch name {
	case "ifmodule", "ifdefine", "iffile":
	case "ifversion":
		return r.ifVersion(args, pos), true
	default:
		return false, false
	}
	if len(args) != 1 {
		r.warn(pos, "<%s> takes one argument, not %d: its lines are skipped", name, len(args))
		return false, true
	}
	arg, negate := strings.CutPrefix(args[0], "!")
	var v bool
	switch name {
	case "ifmodule":
		v = r.modules[arg]
	case "ifdefine":
		_, v = r.defines[arg]
	case "iffile":
		_, _, err := r.stat(r.absolute(arg))
		v = err == nil
	}
	return v != negate, true
}

// ifVersion compares apacheVersion as <IfVersion [[!]op] version> says: = or == (the default),
// <, <=, >, >=, ~ with a regular expression, or a /regex/. A version with fewer than three parts
// compares only the parts it has.
func (r *apacheReader) ifVersion(args []string, pos Pos) bool {
	op, want := "=", ""
	switch len(args) {
	case 1:
		want = args[0]
	case 2:
		op, want = args[0], args[1]
	default:
		r.warn(pos, "<IfVersion> takes one or two arguments, not %d: its lines are skipped", len(args))
		return false
	}
	op, negate := strings.CutPrefix(op, "!")
	if len(want) >= 2 && want[0] == '/' && want[len(want)-1] == '/' && op == "=" {
		op, want = "~", want[1:len(want)-1]
	}
	var v bool
	switch op {
	case "~":
		re, err := regexp.Compile(want)
		if err != nil {
			r.warn(pos, "<IfVersion> regular expression %q: %v: its lines are skipped", want, err)
			return false
		}
		v = re.MatchString(apacheVersion)
	case "=", "==", "<", "<=", ">", ">=":
		c, ok := compareVersion(apacheVersion, want)
		if !ok {
			r.warn(pos, "<IfVersion> version %q is not major[.minor[.patch]]: its lines are skipped", want)
			return false
		}
		v = map[string]bool{"=": c == 0, "==": c == 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]
	default:
		r.warn(pos, "<IfVersion> operator %q unknown: its lines are skipped", op)
		return false
	}
	return v != negate
}

// compareVersion compares have with want over the parts want has.
func compareVersion(have, want string) (int, bool) {
	h, w := strings.Split(have, "."), strings.Split(want, ".")
	if len(w) > 3 {
		return 0, false
	}
	for i := range w {
		wi, err := strconv.Atoi(w[i])
		if err != nil || wi < 0 {
			return 0, false
		}
		hi, _ := strconv.Atoi(h[i])
		if hi != wi {
			if hi < wi {
				return -1, true
			}
			return 1, true
		}
	}
	return 0, true
}
