package pdf

// maxDepth bounds the nesting of arrays and dictionaries (and of form
// XObjects, page trees and field trees elsewhere), so that a hostile file
// cannot exhaust the stack.
const maxDepth = 64

// maxObjNum bounds object numbers, and with them the size of the
// cross-reference table the reader keeps.
const maxObjNum = 1 << 23

// parser reads objects from a lexer.
type parser struct {
	lex   lexer
	depth int
}

func newParser(buf []byte, eof bool) *parser {
	return &parser{lex: lexer{buf: buf, eof: eof}}
}

// object reads one object.
func (p *parser) object() (object, error) {
	t, err := p.lex.next()
	if err != nil {
		return nil, err
	}
	return p.objectFrom(t)
}

// objectFrom reads the object that starts with t.
func (p *parser) objectFrom(t token) (object, error) {
	switch t.kind {
	case tokInt:
		return p.intOrRef(t.i)
	case tokReal:
		return real(t.f), nil
	case tokName:
		return name(t.b), nil
	case tokString:
		return str(t.b), nil
	case tokArrayOpen:
		return p.array()
	case tokDictOpen:
		return p.dict()
	case tokKeyword:
		switch string(t.b) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		return nil, p.lex.syntax("unexpected %v", t)
	case tokEOF:
		if !p.lex.eof {
			return nil, errIncomplete
		}
		return nil, p.lex.syntax("unexpected end of data")
	}
	return nil, p.lex.syntax("unexpected %v", t)
}

// intOrRef reads "n g R" as a reference, anything else as the integer n.
// It looks ahead over the bytes rather than lexing tokens, since most
// integers (in /Widths, /W and content) are not references.
func (p *parser) intOrRef(n int64) (object, error) {
	buf, i := p.lex.buf, p.lex.pos
	skip := func() { // white space only: comments make the slow path
		for i < len(buf) && isWhite(buf[i]) {
			i++
		}
	}
	skip()
	start := i
	for i < len(buf) && buf[i] >= '0' && buf[i] <= '9' {
		i++
	}
	if i == len(buf) && !p.lex.eof {
		return nil, errIncomplete
	}
	if i == start || i-start > 5 || i == len(buf) || !isWhite(buf[i]) {
		return n, nil
	}
	gen := 0
	for _, c := range buf[start:i] {
		gen = gen*10 + int(c-'0')
	}
	skip()
	if i == len(buf) {
		if !p.lex.eof {
			return nil, errIncomplete
		}
		return n, nil
	}
	if buf[i] != 'R' {
		return n, nil
	}
	if i+1 == len(buf) && !p.lex.eof {
		return nil, errIncomplete
	}
	if i+1 < len(buf) && isRegular(buf[i+1]) {
		return n, nil // a keyword such as RG
	}
	if n <= 0 || n >= maxObjNum || gen > 65535 {
		return nil, p.lex.syntax("bad reference %d %d R", n, gen)
	}
	p.lex.pos = i + 1
	return ref{int(n), gen}, nil
}

func (p *parser) array() (object, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, p.lex.syntax("arrays and dictionaries nested too deep")
	}
	defer func() { p.depth-- }()
	a := array{}
	for {
		t, err := p.lex.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokArrayClose {
			return a, nil
		}
		o, err := p.objectFrom(t)
		if err != nil {
			return nil, err
		}
		a = append(a, o)
	}
}

func (p *parser) dict() (object, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, p.lex.syntax("arrays and dictionaries nested too deep")
	}
	defer func() { p.depth-- }()
	d := dict{}
	for {
		t, err := p.lex.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokDictClose {
			return d, nil
		}
		if t.kind != tokName {
			if t.kind == tokEOF && !p.lex.eof {
				return nil, errIncomplete
			}
			return nil, p.lex.syntax("dictionary key is %v, not a name", t)
		}
		key := name(t.b)
		v, err := p.object()
		if err != nil {
			return nil, err
		}
		d = append(d, dictEntry{key, v})
	}
}

// objHeader reads the "N G obj" that starts an indirect object. ok is false
// when the three tokens are something else; err is a lexing error.
func (p *parser) objHeader() (r ref, ok bool, err error) {
	var t [3]token
	for i := range t {
		if t[i], err = p.lex.next(); err != nil {
			return ref{}, false, err
		}
	}
	if t[0].kind != tokInt || t[1].kind != tokInt || !t[2].is("obj") {
		return ref{}, false, nil
	}
	return ref{int(t[0].i), int(t[1].i)}, true, nil
}
