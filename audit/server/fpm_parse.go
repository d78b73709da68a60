package server

import (
	"fmt"
	"strings"
)

// FPMDirective is one statement of a PHP-FPM configuration file: a section header ([global],
// [www]) or a key = value line. php-fpm hands its files to PHP's INI parser one line at a time,
// so a statement never spans lines.
type FPMDirective struct {
	Pos Pos
	// Header says the line opens a section; Section is then the section's name as written. For
	// a key = value line, Section is the section it falls in, "global" or a pool's name: the
	// reader fills it in, since a section stays open across include (ParseFPM leaves it "").
	Header  bool
	Section string
	// Key is the name as written ("listen.owner", "include"); Offset the name in brackets of an
	// array entry (php_admin_value[open_basedir]), with HasOffset set.
	Key       string
	Offset    string
	HasOffset bool
	// Value is the value as PHP's INI parser gives it: quotes removed, escapes in double quotes
	// applied, yes/on/true read as "1" and no/off/false/none/null as "". An environment variable,
	// ${NAME}, is left as written: what php-fpm's environment holds is not known here.
	Value string
}

// ParseFPM splits one PHP-FPM configuration file (php-fpm.conf or a pool file) into its
// statements, as PHP's INI parser in its normal mode reads them. It follows no include and knows
// no directive: that is the reader's. A line php-fpm would refuse (no '=', an unterminated
// quote, text after a section header) is a warning naming file:line, and is left out.
func ParseFPM(file string, data []byte) ([]FPMDirective, []Warning) {
	var dirs []FPMDirective
	var warns []Warning
	text := string(data)
	text = strings.TrimPrefix(text, "\uFEFF") // a UTF-8 byte order mark, as PHP's scanner skips it
	for n := 1; text != ""; n++ {
		line, rest, _ := strings.Cut(text, "\n")
		text = rest
		pos := Pos{File: file, Line: n}
		// The INI scanner ends a statement at a carriage return too.
		for _, stmt := range strings.Split(line, "\r") {
			d, msgs := parseFPMStatement(stmt)
			for _, m := range msgs {
				warns = append(warns, Warning{Pos: pos, Msg: m})
			}
			if d != nil {
				d.Pos = pos
				dirs = append(dirs, *d)
			}
		}
	}
	return dirs, warns
}

// refused is how a warning says php-fpm will not start on a line.
const refused = ": php-fpm refuses to load the configuration"

// parseFPMStatement reads one statement; it returns nil for a blank line or a comment, and for
// a line it cannot read, with why.
func parseFPMStatement(s string) (*FPMDirective, []string) {
	s = strings.TrimLeft(s, " \t")
	if s == "" || s[0] == ';' {
		return nil, nil
	}
	if s[0] == '[' {
		return parseFPMHeader(s)
	}
	i := strings.IndexAny(s, "=\t;&|^$~(){}!\"[")
	if i < 0 {
		i = len(s)
	}
	d := &FPMDirective{Key: strings.TrimRight(s[:i], " ")}
	rest := s[i:]
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return nil, []string{fmt.Sprintf("%q opens an offset with [ and never closes it%s", d.Key, refused)}
		}
		d.Offset, d.HasOffset = strings.TrimSpace(rest[1:end]), true
		rest = rest[end+1:]
	}
	rest = strings.TrimLeft(rest, " \t")
	switch {
	case d.Key == "":
		return nil, []string{fmt.Sprintf("a line that starts with %q, not a name%s", firstRune(s), refused)}
	case rest == "" || rest[0] == ';':
		return nil, []string{fmt.Sprintf("%q has no '=' and no value%s", d.Key, refused)}
	case rest[0] != '=':
		return nil, []string{fmt.Sprintf("%q is followed by %q where '=' should be%s", d.Key, firstRune(rest), refused)}
	}
	v, msgs := parseINIValue(rest[1:])
	for i, m := range msgs {
		msgs[i] = fmt.Sprintf("the value of %q %s", d.Key, m)
	}
	if v == nil {
		return nil, msgs
	}
	d.Value = *v
	return d, msgs
}

func firstRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}

// parseFPMHeader reads a section header. A name with characters PHP's INI syntax treats
// specially (quotes, ${...}, backslashes) is taken as written, with a warning: the lines after it
// belong to that section, not to the one before.
func parseFPMHeader(s string) (*FPMDirective, []string) {
	end := strings.IndexByte(s, ']')
	if semi := strings.IndexByte(s, ';'); end < 0 || semi >= 0 && semi < end {
		return nil, []string{"a section header with no closing ]" + refused}
	}
	d := &FPMDirective{Header: true, Section: s[1:end]}
	if n := len(d.Section); n >= 2 && (d.Section[0] == '"' || d.Section[0] == '\'') && d.Section[n-1] == d.Section[0] &&
		!strings.ContainsAny(d.Section[1:n-1], "\"'$\\") {
		d.Section = d.Section[1 : n-1] // ["www"], as PHP reads it
	}
	var msgs []string
	if strings.ContainsAny(d.Section, "\"'$\\") {
		msgs = append(msgs, fmt.Sprintf("section name %q holds quotes, $ or \\, which PHP's INI parser reads otherwise: taken as written", d.Section))
	}
	if rest := strings.TrimLeft(s[end+1:], " \t"); rest != "" && rest[0] != ';' {
		msgs = append(msgs, fmt.Sprintf("text after the section header [%s]%s", d.Section, refused))
	}
	return d, msgs
}

// parseINIValue reads what follows '=' as PHP's INI scanner does in its normal mode: plain text
// with inner blanks kept and outer ones dropped, "double-quoted" text (with \" \\ \$ escapes),
// 'single-quoted' text taken raw, the pieces joined, a ';' ending it. It returns nil, with why,
// where php-fpm would refuse the line; other messages are warnings about a value it did read.
func parseINIValue(s string) (*string, []string) {
	var b strings.Builder
	var msgs []string
	pending := ""      // blanks between two pieces, kept only if another unquoted piece follows
	afterQuote := true // blanks right after '=' or a closing quote are dropped
	plain := 0         // unquoted pieces read
	pieces := 0
	boolWord := false // an unquoted piece is yes, no, on, off...: PHP reads it alone or not at all
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if !afterQuote && j < len(s) && s[j] != ';' && s[j] != '"' {
				pending = s[i:j]
			}
			i = j
			continue
		case c == ';':
			i = len(s)
			continue
		case c == '"':
			j := i + 1
			for ; ; j++ {
				if j >= len(s) {
					return nil, []string{"has an unterminated double quote" + refused}
				}
				if s[j] == '"' {
					break
				}
				if s[j] == '\\' && j+1 < len(s) {
					switch s[j+1] {
					case '"', '\\', '$':
						b.WriteByte(s[j+1])
					default:
						b.WriteString(s[j : j+2])
					}
					j++
					continue
				}
				if s[j] == '$' && j+1 < len(s) && s[j+1] == '{' {
					msgs = append(msgs, envMessage(s[j:]))
				}
				b.WriteByte(s[j])
			}
			pending, afterQuote = "", true
			pieces++
			i = j + 1
			continue
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, []string{"has an unterminated single quote" + refused}
			}
			b.WriteString(pending)
			b.WriteString(s[i+1 : i+1+j])
			pending, afterQuote = "", false
			pieces++
			i += j + 2
			continue
		case c == '=':
			return nil, []string{"holds a second '='" + refused}
		case c == '$' && i+1 < len(s) && s[i+1] == '{':
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return nil, []string{"opens ${ and never closes it" + refused}
			}
			msgs = append(msgs, envMessage(s[i:]))
			b.WriteString(pending)
			b.WriteString(s[i : i+j+1])
			pending, afterQuote = "", false
			pieces++
			i += j + 1
			continue
		case strings.IndexByte("&|^~()!", c) >= 0:
			msgs = append(msgs, fmt.Sprintf("uses %q, an operator of PHP's INI expressions: taken as written", string(c)))
		}
		j := i + 1
		for j < len(s) && strings.IndexByte(" \t;\"'=&|^~()!", s[j]) < 0 && !(s[j] == '$' && j+1 < len(s) && s[j+1] == '{') {
			j++
		}
		boolWord = boolWord || iniBool(s[i:j]) != nil
		b.WriteString(pending)
		b.WriteString(s[i:j])
		pending, afterQuote = "", false
		plain++
		pieces++
		i = j
	}
	v := b.String()
	if boolWord {
		if plain != 1 || pieces != 1 {
			return nil, []string{"joins yes, no, on, off, true, false, none or null to other text" + refused}
		}
		v = *iniBool(v)
	}
	return &v, msgs
}

// iniBool gives what PHP's INI parser reads a boolean word as, or nil for another word.
func iniBool(word string) *string {
	var v string
	switch strings.ToLower(word) {
	case "true", "on", "yes":
		v = "1"
	case "false", "off", "no", "none", "null":
	default:
		return nil
	}
	return &v
}

// envMessage warns of the ${NAME} that s starts with.
func envMessage(s string) string {
	name := s
	if i := strings.IndexByte(s, '}'); i >= 0 {
		name = s[:i+1]
	}
	return fmt.Sprintf("uses %s, which php-fpm takes from its environment or php.ini: left unexpanded", name)
}
