package report

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// baselineReader reads a JSON report's findings one at a time, as the document holds them,
// without the document in memory: the schema and roots first, then each finding.
type baselineReader struct {
	b   *Baseline
	dec *json.Decoder
	n   int // findings read
	// done is set once the list of findings has ended.
	done bool
}

// open reads the baseline's schema and roots, up to the start of its findings.
func (b *Baseline) open() (*baselineReader, error) {
	rd := &baselineReader{b: b, dec: json.NewDecoder(bufio.NewReaderSize(b.f, 64<<10))}
	if err := rd.delim('{', "a JSON report, an object"); err != nil {
		return nil, err
	}
	schema := false
	var rootsBase64 []string
	for rd.dec.More() {
		key, err := rd.key()
		if err != nil {
			return nil, err
		}
		switch key {
		case "schema":
			var s string
			if err := rd.value(&s); err != nil {
				return nil, err
			}
			if s != Schema {
				return nil, rd.fault("schema %q: a baseline is a JSON report of webperm (%s), as webperm audit --format json writes it", s, Schema)
			}
			schema = true
		case "roots":
			if err := rd.value(&b.Roots); err != nil {
				return nil, err
			}
		case "given":
			if err := rd.value(&b.given); err != nil {
				return nil, err
			}
		case "no_xattrs":
			if err := rd.value(&b.noXattrs); err != nil {
				return nil, err
			}
		case "roots_base64":
			if err := rd.value(&rootsBase64); err != nil {
				return nil, err
			}
		case "findings":
			switch {
			case !schema:
				return nil, rd.fault("findings before the schema: not a JSON report of webperm")
			case b.Roots == nil:
				return nil, rd.fault("findings before the roots: not a JSON report of webperm")
			}
			if err := rd.rawRoots(rootsBase64); err != nil {
				return nil, err
			}
			if err := rd.delim('[', "a list of findings"); err != nil {
				return nil, err
			}
			return rd, nil
		default:
			if err := rd.skip(); err != nil {
				return nil, err
			}
		}
	}
	return nil, rd.fault("no findings: not a JSON report of webperm")
}

// rawRoots puts in the baseline's roots the exact bytes roots_base64 gives of those that are not
// UTF-8.
func (rd *baselineReader) rawRoots(encoded []string) error {
	if encoded == nil {
		return nil
	}
	if len(encoded) != len(rd.b.Roots) {
		return rd.fault("roots_base64 has %d roots, roots %d: not a JSON report of webperm", len(encoded), len(rd.b.Roots))
	}
	for i, e := range encoded {
		if e == "" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(e)
		if err != nil {
			return rd.fault("roots_base64: %v", err)
		}
		rd.b.Roots[i] = string(raw)
	}
	return nil
}

// next reads the next finding and its index; ok is false once the list has ended.
func (rd *baselineReader) next() (jf jsonFinding, i int, ok bool, err error) {
	if rd.done {
		return jf, 0, false, nil
	}
	if !rd.dec.More() {
		if err := rd.delim(']', "the end of the list of findings"); err != nil {
			return jf, 0, false, err
		}
		rd.done = true
		return jf, 0, false, nil
	}
	if err := rd.value(&jf); err != nil {
		return jf, 0, false, err
	}
	rd.n++
	return jf, rd.n - 1, true, nil
}

// end reads the rest of the document, so that a truncated or garbled one is refused.
func (rd *baselineReader) end() error {
	for rd.dec.More() {
		if _, err := rd.key(); err != nil {
			return err
		}
		if err := rd.skip(); err != nil {
			return err
		}
	}
	if err := rd.delim('}', "the end of the report"); err != nil {
		return err
	}
	if _, err := rd.dec.Token(); !errors.Is(err, io.EOF) {
		return rd.fault("more after the report's end")
	}
	return nil
}

func (rd *baselineReader) offset() int64 { return rd.dec.InputOffset() }

func (rd *baselineReader) fault(format string, args ...any) error {
	return rd.b.fault(rd.offset(), format, args...)
}

// problem says what is wrong with the document where reading it failed.
func (rd *baselineReader) problem(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return rd.fault("the report ends early: truncated")
	case errors.As(err, &syntax):
		return rd.b.fault(syntax.Offset, "not JSON: %v", syntax)
	case errors.As(err, &typ):
		return rd.b.fault(typ.Offset, "%s: want a %s, not a JSON %s", typ.Field, typ.Type, typ.Value)
	}
	return rd.fault("%v", err)
}

func (rd *baselineReader) delim(want json.Delim, what string) error {
	tok, err := rd.dec.Token()
	if err != nil {
		return rd.problem(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return rd.fault("want %s (%q), not %v", what, string(want), describeToken(tok))
	}
	return nil
}

func (rd *baselineReader) key() (string, error) {
	tok, err := rd.dec.Token()
	if err != nil {
		return "", rd.problem(err)
	}
	key, ok := tok.(string)
	if !ok {
		return "", rd.fault("want a key, not %s", describeToken(tok))
	}
	return key, nil
}

func (rd *baselineReader) value(v any) error {
	if err := rd.dec.Decode(v); err != nil {
		return rd.problem(err)
	}
	return nil
}

// skip reads past one value, however large, token by token.
func (rd *baselineReader) skip() error {
	depth := 0
	for {
		tok, err := rd.dec.Token()
		if err != nil {
			return rd.problem(err)
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

func describeToken(tok any) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(t))
	case string:
		return fmt.Sprintf("the string %q", t)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}
