package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// The lexer splits PDF syntax into tokens (ISO 32000-2 §7.2–7.3). It works
// on a byte window of the file; when a token might continue past the end of
// a window that is not the end of the file, it reports errIncomplete and the
// caller reads a larger window. This lets the reader parse an object without
// knowing its length in advance, and without reading the whole file.

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokInt
	tokReal
	tokName
	tokString
	tokArrayOpen
	tokArrayClose
	tokDictOpen
	tokDictClose
	tokProcOpen
	tokProcClose
	tokKeyword
)

type token struct {
	kind tokKind
	i    int64
	f    float64
	b    []byte // name, string or keyword bytes
}

func (t token) is(keyword string) bool {
	return t.kind == tokKeyword && string(t.b) == keyword
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of data"
	case tokInt:
		return strconv.FormatInt(t.i, 10)
	case tokReal:
		return strconv.FormatFloat(t.f, 'f', -1, 64)
	case tokName:
		return "/" + string(t.b)
	case tokString:
		return "string"
	case tokArrayOpen:
		return "["
	case tokArrayClose:
		return "]"
	case tokDictOpen:
		return "<<"
	case tokDictClose:
		return ">>"
	case tokProcOpen:
		return "{"
	case tokProcClose:
		return "}"
	}
	if len(t.b) > 20 {
		return fmt.Sprintf("%q…", t.b[:20])
	}
	return fmt.Sprintf("%q", t.b)
}

// errIncomplete means the window ended inside a token or object.
var errIncomplete = errors.New("pdf: object runs past the read window")

// errSyntax is wrapped by lexing and parsing errors; the reader turns it
// into ErrDamaged with the offset.
var errSyntax = errors.New("syntax error")

// errUnterminated is wrapped by the syntax errors of a string that runs to
// the end of the data: whoever skips bad syntax must stop there, since
// the rest of the data is inside the string.
var errUnterminated = fmt.Errorf("%w: unterminated string", errSyntax)

type lexer struct {
	buf []byte
	pos int
	eof bool // buf ends where the input ends
}

func isWhite(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isRegular(c byte) bool { return !isWhite(c) && !isDelim(c) }

// end reports running out of window: the end of the input, or errIncomplete.
func (l *lexer) end() error {
	if l.eof {
		return nil
	}
	return errIncomplete
}

// skipSpace skips white space and comments. It returns errIncomplete when
// the window ends inside them and is not the end of the input.
func (l *lexer) skipSpace() error {
	for l.pos < len(l.buf) {
		c := l.buf[l.pos]
		switch {
		case isWhite(c):
			l.pos++
		case c == '%':
			i := bytes.IndexAny(l.buf[l.pos:], "\r\n")
			if i < 0 {
				l.pos = len(l.buf)
				return l.end()
			}
			l.pos += i
		default:
			return nil
		}
	}
	return l.end()
}

func (l *lexer) syntax(format string, args ...any) error {
	return fmt.Errorf("%w at window offset %d: %s", errSyntax, l.pos, fmt.Sprintf(format, args...))
}

// skipBad moves past a byte that does not lex, for readers that tolerate
// bad syntax as viewers do. It reports false when nothing is left to read.
func (l *lexer) skipBad(err error) bool {
	if errors.Is(err, errUnterminated) || errors.Is(err, errIncomplete) {
		l.pos = len(l.buf)
		return false
	}
	l.pos++
	return l.pos < len(l.buf)
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	if l.pos >= len(l.buf) {
		return token{kind: tokEOF}, nil
	}
	c := l.buf[l.pos]
	switch c {
	case '[':
		l.pos++
		return token{kind: tokArrayOpen}, nil
	case ']':
		l.pos++
		return token{kind: tokArrayClose}, nil
	case '{':
		l.pos++
		return token{kind: tokProcOpen}, nil
	case '}':
		l.pos++
		return token{kind: tokProcClose}, nil
	case '<':
		if l.pos+1 >= len(l.buf) {
			if !l.eof {
				return token{}, errIncomplete
			}
			return token{}, l.syntax("lone '<' at end")
		}
		if l.buf[l.pos+1] == '<' {
			l.pos += 2
			return token{kind: tokDictOpen}, nil
		}
		return l.hexString()
	case '>':
		if l.pos+1 >= len(l.buf) {
			if !l.eof {
				return token{}, errIncomplete
			}
			return token{}, l.syntax("lone '>' at end")
		}
		if l.buf[l.pos+1] == '>' {
			l.pos += 2
			return token{kind: tokDictClose}, nil
		}
		return token{}, l.syntax("unexpected '>'")
	case '(':
		return l.literalString()
	case ')':
		return token{}, l.syntax("unbalanced ')'")
	case '/':
		return l.name()
	}
	start := l.pos
	for l.pos < len(l.buf) && isRegular(l.buf[l.pos]) {
		l.pos++
	}
	if l.pos == len(l.buf) && !l.eof {
		return token{}, errIncomplete
	}
	return classify(l.buf[start:l.pos]), nil
}

// classify turns a run of regular characters into a number or a keyword.
func classify(b []byte) token {
	i, dot, digits := 0, false, 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return token{kind: tokKeyword, b: b}
		}
	}
	if digits == 0 {
		return token{kind: tokKeyword, b: b}
	}
	if !dot && digits <= 18 {
		var v int64
		neg := false
		j := 0
		if b[0] == '+' || b[0] == '-' {
			neg = b[0] == '-'
			j = 1
		}
		for ; j < len(b); j++ {
			v = v*10 + int64(b[j]-'0')
		}
		if neg {
			v = -v
		}
		return token{kind: tokInt, i: v}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		// ParseFloat rejects only out-of-range values here; treat them as
		// the largest magnitude, which later range checks refuse.
		return token{kind: tokReal, f: f}
	}
	return token{kind: tokReal, f: f}
}

// appendHex appends to dst the bytes that the hex digits of src encode,
// skipping white space; an odd last digit is followed by 0, as the
// standard says. If src holds anything else, it returns that byte and
// false.
func appendHex(dst, src []byte) ([]byte, byte, bool) {
	var hi byte
	half := false
	for _, c := range src {
		if isWhite(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return dst, c, false
		}
		if half {
			dst = append(dst, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		dst = append(dst, hi<<4)
	}
	return dst, 0, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (l *lexer) name() (token, error) {
	l.pos++ // '/'
	start := l.pos
	for l.pos < len(l.buf) && isRegular(l.buf[l.pos]) {
		l.pos++
	}
	if l.pos == len(l.buf) && !l.eof {
		return token{}, errIncomplete
	}
	raw := l.buf[start:l.pos]
	if bytes.IndexByte(raw, '#') < 0 {
		return token{kind: tokName, b: raw}, nil
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '#' && i+2 < len(raw) {
			h, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if ok1 && ok2 {
				out = append(out, h<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, raw[i])
	}
	return token{kind: tokName, b: out}, nil
}

func (l *lexer) hexString() (token, error) {
	l.pos++ // '<'
	end := bytes.IndexByte(l.buf[l.pos:], '>')
	if end < 0 {
		if !l.eof {
			return token{}, errIncomplete
		}
		return token{}, errUnterminated
	}
	raw := l.buf[l.pos : l.pos+end]
	out, bad, ok := appendHex(make([]byte, 0, len(raw)/2+1), raw)
	if !ok {
		return token{}, l.syntax("bad character %q in hex string", bad)
	}
	l.pos += end + 1
	return token{kind: tokString, b: out}, nil
}

func (l *lexer) literalString() (token, error) {
	l.pos++ // '('
	var out []byte
	depth := 1
	i := l.pos
	for i < len(l.buf) {
		c := l.buf[i]
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				l.pos = i + 1
				if out == nil {
					out = []byte{}
				}
				return token{kind: tokString, b: out}, nil
			}
		case '\r':
			// An unescaped end-of-line is read as a single LF.
			out = append(out, '\n')
			if i+1 < len(l.buf) && l.buf[i+1] == '\n' {
				i++
			}
			i++
			continue
		case '\\':
			i++
			if i >= len(l.buf) {
				break
			}
			e := l.buf[i]
			switch e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r':
				if i+1 < len(l.buf) && l.buf[i+1] == '\n' {
					i++
				}
			case '\n':
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(e - '0')
				for k := 0; k < 2 && i+1 < len(l.buf) && l.buf[i+1] >= '0' && l.buf[i+1] <= '7'; k++ {
					i++
					v = v*8 + int(l.buf[i]-'0')
				}
				out = append(out, byte(v))
			default:
				out = append(out, e) // \( \) \\ and unknown escapes
			}
			i++
			continue
		}
		out = append(out, c)
		i++
	}
	if !l.eof {
		return token{}, errIncomplete
	}
	return token{}, errUnterminated
}
