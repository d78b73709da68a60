package server

import (
	"strings"
	"unicode/utf8"
)

// nginxStatement is where one directive of a file begins and ends, as nginxScan finds it.
type nginxStatement struct {
	name       string // as written, quotes kept: what gonginx gives as the name
	start, end int    // lines of its name and of the ; or } that ends it
}

// nginxScan is a quick look at a file before gonginx parses it, for what gonginx does not tell:
// gonginx gives each directive the line of the ; or } that ends it, never the line it begins on;
// it stops without a word at a } that closes no block, and names no line for a block left open.
type nginxScan struct {
	statements []nginxStatement // in the order they begin (a block before what it holds)
	stray      []int            // byte offsets of the } that close no block
	strayLines []int
	// nameless holds the byte offsets of the braces of blocks with no directive name, which
	// gonginx passes over and whose } it takes as its enclosing block's, and namelessLines
	// the lines of their {.
	nameless      []int
	namelessLines []int
	// open lists the lines of the blocks still open at the end of the file, outermost first;
	// their statements end on the line after the last, where the reader closes them.
	open    []int
	tooDeep int // line of the first block past maxDepth levels, 0 for none
	lines   int // the file's last line
}

// scanNginx splits text into tokens as gonginx's lexer does (quotes with only \ and the quote
// escaped, # comments where a word starts, ${var} inside a word, *_by_lua_block bodies as code)
// and follows the statements and blocks they make. It stops at the first block nested deeper
// than maxDepth.
func scanNginx(text string, maxDepth int) *nginxScan {
	s := &nginxScan{}
	line := 1
	type block struct{ stmt, off, line int } // stmt -1 for a block with no name
	var stack []block
	cur := -1      // the statement being read, -1 between statements
	lastWord := "" // the last word read, for *_by_lua_block
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\n' || c == '\r':
			// gonginx's lexer makes a token of each end of line, and of each comment: after
			// one, a { is a block's, never a *_by_lua_block's.
			if c == '\n' {
				line++
			}
			lastWord = ""
			i++
		case c == ' ' || c == '\t':
			i++
		case c == '#':
			for i < len(text) && text[i] != '\n' && text[i] != '\r' {
				i++
			}
			lastWord = ""
		case c == ';':
			if cur >= 0 {
				s.statements[cur].end = line
				cur = -1
			}
			lastWord = ""
			i++
		case c == '{':
			lua := strings.HasSuffix(lastWord, "_by_lua_block")
			stack = append(stack, block{cur, i, line})
			if len(stack) > maxDepth {
				s.tooDeep = line
				return s
			}
			cur = -1
			lastWord = ""
			i++
			if lua {
				i, line = skipLua(text, i, line)
			}
		case c == '}':
			if cur >= 0 {
				// "listen 80 }": gonginx refuses the file; the statement ends here.
				s.statements[cur].end = line
				cur = -1
			}
			switch {
			case len(stack) == 0:
				s.stray = append(s.stray, i)
				s.strayLines = append(s.strayLines, line)
			case stack[len(stack)-1].stmt < 0:
				b := stack[len(stack)-1]
				s.nameless = append(s.nameless, b.off, i)
				s.namelessLines = append(s.namelessLines, b.line)
				stack = stack[:len(stack)-1]
			default:
				s.statements[stack[len(stack)-1].stmt].end = line
				stack = stack[:len(stack)-1]
			}
			lastWord = ""
			i++
		default:
			start, word := line, ""
			if c == '"' || c == '\'' || c == '`' {
				j := i + 1
				for j < len(text) && text[j] != c {
					if text[j] == '\\' && j+1 < len(text) && text[j+1] == c {
						j++
					}
					j++
				}
				if j < len(text) {
					j++
				}
				word = text[i:j]
			} else {
				j, inVar := i+1, false
				prev := c
				for j < len(text) {
					d := text[j]
					if d == ' ' || d == '\t' || d == ';' || d == '\n' || d == '\r' {
						break
					}
					if d == '{' && prev == '$' {
						inVar = true
					} else if d == '{' && !inVar || d == '}' && !inVar {
						break
					} else if d == '}' {
						inVar = false
					}
					prev = d
					j++
				}
				word = text[i:j]
			}
			line += strings.Count(word, "\n")
			i += len(word)
			if !utf8.ValidString(word) {
				word = string([]rune(word)) // as gonginx reads it: U+FFFD for each invalid byte
			}
			if cur < 0 {
				cur = len(s.statements)
				s.statements = append(s.statements, nginxStatement{name: word, start: start})
			}
			lastWord = word
		}
	}
	s.lines = line
	for _, b := range stack {
		if b.stmt < 0 {
			s.nameless = append(s.nameless, b.off)
			s.namelessLines = append(s.namelessLines, b.line)
			continue
		}
		s.open = append(s.open, s.statements[b.stmt].start)
		s.statements[b.stmt].end = line + 1 // where the reader closes them: on a line after the last
	}
	return s
}

// skipLua passes over a *_by_lua_block's code, from after its { to its closing }, counting
// braces as gonginx does.
func skipLua(text string, i, line int) (int, int) {
	depth := 0
	for ; i < len(text); i++ {
		switch text[i] {
		case '\n':
			line++
		case '#':
			for i+1 < len(text) && text[i+1] != '\n' {
				i++
			}
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return i, line
			}
			depth--
		}
	}
	return i, line
}

// startLine finds, among the few statements from *next on, the one named name that ends on
// end, and gives the line it begins on; where none does (the scan and gonginx read the text
// differently), end, a line of the directive still, or the file's last line for a block the
// reader closed past it.
func (s *nginxScan) startLine(next *int, name string, end int) int {
	for k := *next; k < len(s.statements) && k < *next+64; k++ {
		if st := s.statements[k]; st.name == name && st.end == end {
			*next = k + 1
			return st.start
		}
	}
	return min(max(end, 1), s.lines)
}
