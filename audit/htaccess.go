package audit

import (
	"bytes"
	"strings"

	"github.com/webperm/webperm/policy"
)

// SniffHtaccess says whether src, the whole of an .htaccess (complete false: only its first
// bytes), holds nothing but restrictions (ContentHtaccessDenyOnly): what a packaged application
// puts in a directory its web server writes (MediaWiki's images/ and cache/, DokuWiki's data/),
// so that nothing there is served or run. Anything else is ContentHtaccessOther: the reader is
// strict, and a directive it does not know, or knows can grant, makes the whole file other.
//
// The file is read as Apache reads its configuration
// (https://httpd.apache.org/docs/2.4/configuring.html#syntax): one directive a line, a backslash
// at the very end of a line continuing it on the next, lines beginning with # (after white
// space) comments, directive and container names case-insensitive. A comment that ends in a
// backslash is other: it swallows the next line, which a reader that differs on that would read
// as a directive. Each argument this reader accepts is a fixed word, a -Option or an .extension,
// so a directive that a continuation joined to the line before is never taken for an argument.
//
// What it accepts, and why each can only take away, as Apache's documents have it
// (https://httpd.apache.org/docs/2.4/mod/mod_authz_core.html, mod_access_compat.html, core.html,
// mod_mime.html; php.net/manual/en/configuration.changes.php for php_flag):
//
//   - Require all denied (mod_authz_core): fails for every request. A .htaccess's Require
//     replaces the server's for that directory (AuthMerging Off, the default), so Require of
//     anything else could grant what the server's configuration denies: Require all granted, an
//     ip or a user. Require not, and <RequireNone>, "can only fail or return a neutral result"
//     (mod_authz_core): as the only requirement, neutral is no denial, so both are other.
//   - <RequireAll> and <RequireAny> holding only the above: fail as what they hold fails.
//   - Deny from all (mod_access_compat): refuses every client, whatever the Order, since no
//     Allow is accepted. Any other host list leaves the rest of the world to the Order.
//   - Order (any value) and Satisfy All (mod_access_compat): mod_access_compat has no merger
//     ("default is to override", mod_access_compat.c), so its directives in a section replace
//     the server's for it, starting from Order Deny,Allow with no rule, which allows everyone:
//     alone, Order Deny,Allow or Satisfy All would lift a server's Allow from 10.0.0.0/8. Each
//     is accepted only where a Require all denied or Deny from all holds whenever it does (in
//     the same section, in the same or an enclosing conditional): then every request fails,
//     as Satisfy Any, which is other, is never in effect. Allow and Satisfy Any grant, and are
//     other.
//   - <IfModule>, <IfVersion>, <IfDefine>, <IfDirective>, <IfFile>: what they hold applies or
//     does not; either way it only denies.
//   - <Files> and <FilesMatch>: what they hold applies to the files they match, and replaces the
//     .htaccess's own authorization for those; so each is a section of its own for Order and
//     Satisfy. They may not nest.
//   - <Limit> and <LimitExcept> are other: a Require or Deny in them may replace the server's
//     for every method while it restricts only those named, so the others may be let through.
//   - Options with only -Option items (core): removes what the server's configuration allows
//     (Indexes, ExecCGI, FollowSymLinks), never adds.
//   - php_flag engine off or 0, php_value engine off or 0 (mod_php): PHP does not run scripts
//     here. Apache may then serve a script as a file; what is in such a directory is uploads
//     and caches, and running them is what the file prevents.
//   - RemoveHandler and RemoveType of .extensions (mod_mime): take mappings the server's
//     configuration added away, as engine off does.
//   - SetHandler none or default-handler (core): files are served as they are, not run.
//
// A file with no directive at all is other: it restricts nothing, and says nothing of being the
// application's.
func SniffHtaccess(src []byte, complete bool) policy.Content {
	if !complete || bytes.IndexByte(src, 0) >= 0 {
		return policy.ContentHtaccessOther
	}
	r := htaccessReader{frames: []htFrame{{parent: -1, kind: htSection}}}
	if !r.read(src) {
		return policy.ContentHtaccessOther
	}
	return policy.ContentHtaccessDenyOnly
}

// The kinds of an htFrame.
const (
	htSection     = iota // the file itself, or a <Files> or <FilesMatch>
	htConditional        // an <If...> that applies or does not
	htRequire            // <RequireAll> or <RequireAny>
)

// htFrame is one container of the file, the file itself first.
type htFrame struct {
	name     string // the container's name, lower-cased, for its closer
	kind     int
	parent   int  // the enclosing frame, -1 for the file
	denies   bool // a Require all denied or Deny from all holds directly here
	modifies bool // an Order or Satisfy All holds directly here
}

type htaccessReader struct {
	frames     []htFrame
	open       []int // the frames open, innermost last
	directives int
}

// htMaxDepth bounds the nesting of containers: a real .htaccess has two or three.
const htMaxDepth = 16

// htSpace is what Apache's parser takes for white space (apr_isspace in the C locale).
func htSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\v' || r == '\f'
}

func (r *htaccessReader) read(src []byte) bool {
	// An editor on Windows may save a byte order mark; Apache either skips it or fails on the
	// first line, which answers 500 and denies as well.
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	var line []byte
	for raw := range bytes.Lines(src) {
		raw = bytes.TrimSuffix(raw, []byte("\n"))
		raw = bytes.TrimSuffix(raw, []byte("\r"))
		if cont, ok := bytes.CutSuffix(raw, []byte(`\`)); ok {
			if len(line) == 0 && bytes.HasPrefix(bytes.TrimLeftFunc(cont, htSpace), []byte("#")) {
				return false
			}
			line = append(line, cont...)
			continue
		}
		line = append(line, raw...)
		if !r.line(strings.TrimFunc(string(line), htSpace)) {
			return false
		}
		line = line[:0]
	}
	if len(line) > 0 && !r.line(strings.TrimFunc(string(line), htSpace)) {
		return false
	}
	return len(r.open) == 0 && r.directives > 0 && r.anchored()
}

// cur is the innermost open frame.
func (r *htaccessReader) cur() int {
	if len(r.open) == 0 {
		return 0
	}
	return r.open[len(r.open)-1]
}

// owner is the frame a directive at the current point belongs to for Order and Satisfy: the
// innermost that is not a Require container.
func (r *htaccessReader) owner() int {
	i := r.cur()
	for r.frames[i].kind == htRequire {
		i = r.frames[i].parent
	}
	return i
}

func (r *htaccessReader) line(l string) bool {
	if l == "" || l[0] == '#' {
		return true
	}
	if strings.HasPrefix(l, "</") {
		name, ok := strings.CutSuffix(l[2:], ">")
		if !ok || len(r.open) == 0 || strings.ToLower(strings.TrimFunc(name, htSpace)) != r.frames[r.cur()].name {
			return false
		}
		r.open = r.open[:len(r.open)-1]
		return true
	}
	if l[0] == '<' {
		return r.container(l)
	}
	return r.directive(strings.FieldsFunc(l, htSpace))
}

// container opens the container l begins, "<Name args>".
func (r *htaccessReader) container(l string) bool {
	inner, ok := strings.CutSuffix(l[1:], ">")
	if !ok || len(r.open) >= htMaxDepth {
		return false
	}
	name, args := inner, ""
	if i := strings.IndexFunc(inner, htSpace); i >= 0 {
		name, args = inner[:i], inner[i:]
	}
	name = strings.ToLower(name)
	args = strings.TrimFunc(args, htSpace)
	inRequire := r.frames[r.cur()].kind == htRequire
	kind := htConditional
	switch name {
	case "ifmodule", "ifversion", "ifdefine", "ifdirective", "iffile":
		if args == "" || inRequire {
			return false
		}
	case "files", "filesmatch":
		if args == "" || inRequire {
			return false
		}
		for _, o := range r.open {
			if r.frames[o].kind == htSection {
				return false // no <Files> in a <Files>
			}
		}
		kind = htSection
	case "requireall", "requireany":
		if args != "" {
			return false
		}
		kind = htRequire
	default:
		return false
	}
	r.frames = append(r.frames, htFrame{name: name, kind: kind, parent: r.cur()})
	r.open = append(r.open, len(r.frames)-1)
	return true
}

// directive reads one directive, its name and arguments.
func (r *htaccessReader) directive(f []string) bool {
	name, args := strings.ToLower(f[0]), f[1:]
	r.directives++
	if r.frames[r.cur()].kind == htRequire && name != "require" {
		return false
	}
	is := func(i int, words ...string) bool {
		if i >= len(args) {
			return false
		}
		for _, w := range words {
			if strings.EqualFold(args[i], w) {
				return true
			}
		}
		return false
	}
	own := &r.frames[r.owner()]
	switch name {
	case "require":
		if len(args) != 2 || !is(0, "all") || !is(1, "denied") {
			return false
		}
		own.denies = true
	case "deny":
		if len(args) != 2 || !is(0, "from") || !is(1, "all") {
			return false
		}
		own.denies = true
	case "order":
		// Apache reads "allow,deny" as one word; white space inside it is an error.
		if len(args) != 1 || !is(0, "allow,deny", "deny,allow", "mutual-failure") {
			return false
		}
		own.modifies = true
	case "satisfy":
		if len(args) != 1 || !is(0, "all") {
			return false
		}
		own.modifies = true
	case "php_flag", "php_value":
		// PHP's ini names are case-sensitive: Engine is no setting at all.
		if len(args) != 2 || args[0] != "engine" || !is(1, "off", "0") {
			return false
		}
	case "options":
		if len(args) == 0 {
			return false
		}
		for _, a := range args {
			if len(a) < 2 || a[0] != '-' || !htWord(a[1:]) {
				return false
			}
		}
	case "removehandler", "removetype":
		if len(args) == 0 {
			return false
		}
		for _, a := range args {
			if len(a) < 2 || a[0] != '.' || !htWord(a[1:]) {
				return false
			}
		}
	case "sethandler":
		if len(args) != 1 || !is(0, "none", "default-handler") {
			return false
		}
	default:
		return false
	}
	return true
}

// htWord reports whether s is letters, digits, and the few marks an option or extension holds.
func htWord(s string) bool {
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// anchored reports whether every frame with an Order or Satisfy All has a Require all denied or
// Deny from all in effect whenever it is: in itself or an enclosing frame of its section.
func (r *htaccessReader) anchored() bool {
	for i := range r.frames {
		if !r.frames[i].modifies {
			continue
		}
		ok := false
		for j := i; j >= 0; j = r.frames[j].parent {
			if r.frames[j].denies {
				ok = true
				break
			}
			if r.frames[j].kind == htSection {
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
