package audit

import (
	"bytes"

	"github.com/webperm/webperm/policy"
)

// SniffPHPInclude says whether src, the whole of a PHP file (complete false: only its first
// bytes), is nothing but an opening tag, comments, and include or require statements of paths
// (ContentPHPIncludeOnly): a configuration that holds no secret of its own but points to where
// the secrets are, as a packaged application's does. Anything else is ContentPHPCode, which
// clears nothing: the recogniser is strict, and a file it does not understand stays a secret.
//
// A path is a string literal without interpolation, the magic constants __DIR__ and __FILE__,
// dirname() and strtolower() of a path, the request's host ($_SERVER['HTTP_HOST'] or
// $_SERVER['SERVER_NAME'], which a packaged application uses to choose a configuration per
// site), or such parts joined with ".". A variable, a constant, any other call is code: its value
// is not known from the file, and the statement may be anything.
func SniffPHPInclude(src []byte, complete bool) policy.Content {
	if !complete {
		return policy.ContentPHPCode
	}
	p := &phpReader{src: src}
	if p.includeOnly() {
		return policy.ContentPHPIncludeOnly
	}
	return policy.ContentPHPCode
}

type phpReader struct {
	src   []byte
	i     int
	depth int // parentheses and calls open, bounded
}

// phpMaxDepth bounds the nesting of a path's parentheses and calls: a real one has two.
const phpMaxDepth = 8

func (p *phpReader) includeOnly() bool {
	if len(p.src) < 5 || !bytes.EqualFold(p.src[:5], []byte("<?php")) {
		return false
	}
	p.i = 5
	if p.i < len(p.src) && !isPHPSpace(p.src[p.i]) {
		return false
	}
	includes := 0
	for {
		if !p.skip() {
			return false
		}
		if p.i == len(p.src) {
			return includes > 0
		}
		if p.consume("?>") {
			// Only white space may follow: anything else is output.
			return includes > 0 && len(bytes.Trim(p.src[p.i:], " \t\r\n")) == 0
		}
		if !p.include() {
			return false
		}
		includes++
	}
}

// include reads one include or require statement, up to its semicolon.
func (p *phpReader) include() bool {
	word := p.word()
	switch string(bytes.ToLower(word)) {
	case "include", "include_once", "require", "require_once":
	default:
		return false
	}
	if !p.path() || !p.skip() {
		return false
	}
	// A closing tag ends a statement as a semicolon does.
	return p.consume(";") || bytes.HasPrefix(p.src[p.i:], []byte("?>"))
}

// path reads a path: parts joined with ".".
func (p *phpReader) path() bool {
	if p.depth++; p.depth > phpMaxDepth {
		return false
	}
	defer func() { p.depth-- }()
	for {
		if !p.skip() || !p.part() || !p.skip() {
			return false
		}
		if !p.consume(".") {
			return true
		}
	}
}

// part reads one part of a path.
func (p *phpReader) part() bool {
	if p.i == len(p.src) {
		return false
	}
	switch c := p.src[p.i]; {
	case c == '(':
		p.i++
		return p.path() && p.skip() && p.consume(")")
	case c == '\'':
		return p.singleQuoted() != nil
	case c == '"':
		return p.doubleQuoted()
	case c == '$':
		return p.host()
	}
	switch string(bytes.ToLower(p.word())) {
	case "__dir__", "__file__":
		return true
	case "dirname", "strtolower":
		return p.skip() && p.consume("(") && p.path() && p.skip() && p.consume(")")
	}
	return false
}

// host reads $_SERVER['HTTP_HOST'] or $_SERVER['SERVER_NAME'].
func (p *phpReader) host() bool {
	if !p.consume("$_SERVER") || !p.skip() || !p.consume("[") || !p.skip() {
		return false
	}
	var key []byte
	switch {
	case p.i < len(p.src) && p.src[p.i] == '\'':
		key = p.singleQuoted()
	case p.i < len(p.src) && p.src[p.i] == '"':
		start := p.i
		if !p.doubleQuoted() {
			return false
		}
		key = p.src[start+1 : p.i-1]
	}
	if string(key) != "HTTP_HOST" && string(key) != "SERVER_NAME" {
		return false
	}
	return p.skip() && p.consume("]")
}

// singleQuoted reads a '...' string and returns its raw text, nil if unterminated.
func (p *phpReader) singleQuoted() []byte {
	start := p.i + 1
	for p.i = start; p.i < len(p.src); p.i++ {
		switch p.src[p.i] {
		case '\\':
			p.i++
		case '\'':
			p.i++
			return p.src[start : p.i-1 : p.i-1]
		}
	}
	return nil
}

// doubleQuoted reads a "..." string without interpolation: a $ anywhere in it is refused.
func (p *phpReader) doubleQuoted() bool {
	for p.i++; p.i < len(p.src); p.i++ {
		switch p.src[p.i] {
		case '\\':
			p.i++
		case '$':
			return false
		case '"':
			p.i++
			return true
		}
	}
	return false
}

// word reads a name: letters, digits, underscores.
func (p *phpReader) word() []byte {
	start := p.i
	for p.i < len(p.src) && isPHPWordByte(p.src[p.i]) {
		p.i++
	}
	return p.src[start:p.i]
}

// skip passes white space and comments; false on an unterminated comment, an attribute
// (#[...]), which is code, or a comment that holds code setting a value (a define or an
// assignment): credentials commented out are still in the file.
func (p *phpReader) skip() bool {
	for p.i < len(p.src) {
		switch c := p.src[p.i]; {
		case isPHPSpace(c):
			p.i++
		case c == '#' && p.i+1 < len(p.src) && p.src[p.i+1] == '[':
			return false
		case c == '#', c == '/' && p.i+1 < len(p.src) && p.src[p.i+1] == '/':
			// A line comment ends at the line's end or before ?>.
			start := p.i
			for p.i < len(p.src) && p.src[p.i] != '\n' && !bytes.HasPrefix(p.src[p.i:], []byte("?>")) {
				p.i++
			}
			if setsValue(p.src[start:p.i]) {
				return false
			}
		case c == '/' && p.i+1 < len(p.src) && p.src[p.i+1] == '*':
			end := bytes.Index(p.src[p.i+2:], []byte("*/"))
			if end < 0 || setsValue(p.src[p.i+2:p.i+2+end]) {
				return false
			}
			p.i += 2 + end + 2
		default:
			return true
		}
	}
	return true
}

// setsValue reports whether comment, a comment's text, holds code that sets a value: define( or
// an assignment to a variable ($name = , not ==).
func setsValue(comment []byte) bool {
	lower := bytes.ToLower(comment)
	for i := 0; i < len(lower); i++ {
		switch {
		case bytes.HasPrefix(lower[i:], []byte("define")):
			j := i + len("define")
			for j < len(lower) && isPHPSpace(lower[j]) {
				j++
			}
			if j < len(lower) && lower[j] == '(' {
				return true
			}
		case lower[i] == '$':
			j := i + 1
			for j < len(lower) && isPHPWordByte(lower[j]) {
				j++
			}
			if j == i+1 {
				continue
			}
			for j < len(lower) && isPHPSpace(lower[j]) {
				j++
			}
			if j < len(lower) && lower[j] == '=' && (j+1 == len(lower) || lower[j+1] != '=') {
				return true
			}
		}
	}
	return false
}

// consume passes s if it is next.
func (p *phpReader) consume(s string) bool {
	if bytes.HasPrefix(p.src[p.i:], []byte(s)) {
		p.i += len(s)
		return true
	}
	return false
}

func isPHPSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isPHPWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
