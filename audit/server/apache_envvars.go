package server

import (
	"strings"
)

// envvar is a variable Debian's /etc/apache2/envvars assigns.
type envvar struct {
	value    string
	exported bool
	pos      Pos
}

// parseEnvvars reads the assignments of Debian's envvars, a shell fragment that apache2ctl
// sources before it starts Apache, without running anything: webperm runs as root and the file
// is the host's. It takes NAME=VALUE and export NAME=VALUE lines, and export NAME for a variable
// assigned before; VALUE bare, in double quotes or in single quotes, $NAME, ${NAME} and
// ${NAME:-default} in a bare or double-quoted value replaced by what an earlier line assigned (or
// what seed holds: APACHE_CONFDIR, SUFFIX). It returns the variables Apache's environment gets:
// the exported ones.
//
// Not handled, as a shell would: lines inside if/case/while/for blocks and functions are
// skipped (Debian's file sets SUFFIX in an if block: seed gives what that block computes, "" for
// /etc/apache2 and "-NAME" for /etc/apache2-NAME); other expansions (${NAME##pattern}, $(...),
// backquotes, arithmetic) make the assignment skipped; `. FILE` and `source FILE` are not
// followed; `unset` is ignored; several assignments on one line, or one after a command, are not
// read; backslash escapes are kept as written.
func parseEnvvars(file, text string, seed map[string]string) map[string]envvar {
	vars := map[string]envvar{}
	for k, v := range seed {
		vars[k] = envvar{value: v}
	}
	depth := 0
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		first, _ := splitName(line)
		first = strings.TrimRight(first, ";")
		switch first {
		case "if", "case", "while", "until", "for", "{":
			depth++
			continue
		case "fi", "esac", "done", "}":
			if depth > 0 {
				depth--
			}
			continue
		}
		if strings.HasSuffix(first, "()") || strings.HasSuffix(line, "() {") {
			depth++
			continue
		}
		if depth > 0 {
			continue
		}
		exported := false
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			exported, line = true, strings.TrimLeft(rest, " \t")
		}
		name, raw, isAssign := strings.Cut(line, "=")
		if !isAssign {
			// export NAME [NAME...]: an earlier assignment goes to the environment.
			if exported {
				for _, n := range strings.Fields(line) {
					if v, ok := vars[n]; ok && isShellName(n) {
						v.exported = true
						vars[n] = v
					}
				}
			}
			continue
		}
		if !isShellName(name) {
			continue
		}
		value, ok := shellValue(raw, vars)
		if !ok {
			continue
		}
		if old, had := vars[name]; had && old.exported {
			exported = true
		}
		vars[name] = envvar{value: value, exported: exported, pos: Pos{File: file, Line: i + 1}}
	}
	out := map[string]envvar{}
	for k, v := range vars {
		if v.exported {
			out[k] = v
		}
	}
	return out
}

func isShellName(s string) bool {
	for i, c := range []byte(s) {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// shellValue reads the value at the start of raw, made of bare, single-quoted and double-quoted
// parts up to a blank or a semicolon. It is false where a part uses what it does not handle, and
// for a value longer than apacheMaxLine (a variable doubled line after line would otherwise
// grow to gigabytes).
func shellValue(raw string, vars map[string]envvar) (string, bool) {
	var b strings.Builder
	for raw != "" {
		if b.Len() > apacheMaxLine {
			return "", false
		}
		switch c := raw[0]; {
		case c == ' ' || c == '\t' || c == ';':
			return b.String(), true
		case c == '\'':
			end := strings.IndexByte(raw[1:], '\'')
			if end < 0 {
				return "", false
			}
			b.WriteString(raw[1 : 1+end])
			raw = raw[2+end:]
		case c == '"':
			end := strings.IndexByte(raw[1:], '"')
			if end < 0 {
				return "", false
			}
			v, ok := shellExpand(raw[1:1+end], vars)
			if !ok {
				return "", false
			}
			b.WriteString(v)
			raw = raw[2+end:]
		default:
			end := strings.IndexAny(raw, " \t;'\"")
			if end < 0 {
				end = len(raw)
			}
			v, ok := shellExpand(raw[:end], vars)
			if !ok {
				return "", false
			}
			b.WriteString(v)
			raw = raw[end:]
		}
	}
	return b.String(), b.Len() <= apacheMaxLine
}

// shellExpand replaces $NAME, ${NAME} and ${NAME:-default} in s; an unset NAME is empty, as in
// the shell. It is false for any other expansion.
func shellExpand(s string, vars map[string]envvar) (string, bool) {
	if strings.ContainsAny(s, "`") || strings.Contains(s, "$(") {
		return "", false
	}
	var b strings.Builder
	for {
		if b.Len() > apacheMaxLine {
			return "", false
		}
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String(), b.Len() <= apacheMaxLine
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		if s[0] == '{' {
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return "", false
			}
			expr := s[1:end]
			s = s[end+1:]
			name, def, hasDef := strings.Cut(expr, ":-")
			if !isShellName(name) {
				return "", false
			}
			v, ok := vars[name]
			if hasDef && (!ok || v.value == "") {
				b.WriteString(def)
			} else {
				b.WriteString(v.value)
			}
			continue
		}
		n := 0 // the longest shell name s begins with, found in one pass
		for n < len(s) && (isShellName(s[n:n+1]) || n > 0 && '0' <= s[n] && s[n] <= '9') {
			n++
		}
		if n == 0 {
			b.WriteByte('$')
			continue
		}
		b.WriteString(vars[s[:n]].value)
		s = s[n:]
	}
}
