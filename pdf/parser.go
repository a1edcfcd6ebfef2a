package pdf

import "errors"

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
func (p *parser) intOrRef(n int64) (object, error) {
	save := p.lex.pos
	t2, err := p.lex.next()
	if errors.Is(err, errIncomplete) {
		return nil, err
	}
	if err == nil && t2.kind == tokInt {
		t3, err := p.lex.next()
		if errors.Is(err, errIncomplete) {
			return nil, err
		}
		if err == nil && t3.is("R") {
			if n <= 0 || n >= maxObjNum || t2.i < 0 || t2.i > 65535 {
				return nil, p.lex.syntax("bad reference %d %d R", n, t2.i)
			}
			return ref{int(n), int(t2.i)}, nil
		}
	}
	p.lex.pos = save
	return n, nil
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
