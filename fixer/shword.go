package fixer

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// nlDefinition is the sh plan's line that sets $nl to one newline. Command substitution strips
// trailing newlines, so a name's newlines cannot come from $(printf '\n'): the x keeps the
// newline and is cut off after.
const nlDefinition = `nl=$(printf '\nx'); nl=${nl%x}`

// shellWord makes s one sh word, written in visible text alone, that every POSIX sh reads back
// as exactly s without expanding anything of it: dash, Debian's /bin/sh, has no $'…'. Printable
// text goes between single quotes; a ' is \'; a newline is "$nl" (see nlDefinition); every other
// byte that is a control character, not UTF-8, or part of a character that prints as nothing (a
// right-to-left override, a no-break space) is rebuilt with printf from its octal code, so that
// a name holding a terminal's escape sequence shows as text to whoever reads the plan:
//
//	'/var/www/a'"$(printf '\033')"']0;x'"$(printf '\007')"
//
// The form is canonical: readShellWord accepts a word only as shellWord writes it.
func shellWord(s string) string {
	var b strings.Builder
	quoted := false
	quote := func(open bool) {
		if quoted != open {
			b.WriteByte('\'')
			quoted = open
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\'':
			quote(false)
			b.WriteString(`\'`)
		case r == '\n':
			quote(false)
			b.WriteString(`"$nl"`)
		case !visibleRune(r, size):
			quote(false)
			for _, c := range []byte(s[i : i+size]) {
				fmt.Fprintf(&b, `"$(printf '\%03o')"`, c)
			}
		default:
			quote(true)
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	quote(false)
	if b.Len() == 0 {
		return "''"
	}
	return b.String()
}

// visibleRune reports whether r, of size bytes in its text, is shown as itself on a terminal:
// valid UTF-8 that prints, or a space.
func visibleRune(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return false
	}
	return r == ' ' || unicode.IsPrint(r)
}

// readShellWord reads the word shellWord wrote at the start of s and returns what it stands for
// and what follows it in s. The word ends where s holds anything but its parts (a space, the end).
func readShellWord(s string) (word, rest string, err error) {
	var b strings.Builder
	start := s
	for {
		switch {
		case strings.HasPrefix(s, "'"):
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return "", "", errors.New("a quote that is not closed on its line")
			}
			b.WriteString(s[1 : 1+end])
			s = s[2+end:]
			continue
		case strings.HasPrefix(s, `\'`):
			b.WriteByte('\'')
			s = s[2:]
			continue
		case strings.HasPrefix(s, `"$nl"`):
			b.WriteByte('\n')
			s = s[len(`"$nl"`):]
			continue
		case strings.HasPrefix(s, `"$(printf '\`):
			const form = `"$(printf '\ooo')"`
			code, ok := octalByte(s, len(`"$(printf '\`))
			if !ok || len(s) < len(form) || s[len(form)-3:len(form)] != `')"` {
				return "", "", fmt.Errorf("%q: a byte is written %s, with three octal digits from 001 to 377", cut(s, len(form)), form)
			}
			b.WriteByte(code)
			s = s[len(form):]
			continue
		}
		break
	}
	text := start[:len(start)-len(s)]
	if text == "" {
		return "", "", fmt.Errorf("%q: want a quoted word, such as '/var/www/site'", cut(start, 20))
	}
	word = b.String()
	if canon := shellWord(word); canon != text {
		return "", "", fmt.Errorf("%q is not written as webperm writes it: want %q", text, canon)
	}
	return word, s, nil
}

// octalByte reads the three octal digits at s[i:] as a byte from 1 to 0377.
func octalByte(s string, i int) (byte, bool) {
	if len(s) < i+3 {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+3]) {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + int(c-'0')
	}
	return byte(v), v > 0 && v <= 0o377
}

// cut is at most the first n bytes of s.
func cut(s string, n int) string { return s[:min(n, len(s))] }
