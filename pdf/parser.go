package pdf

import "slices"

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
	// elems and entries hold the elements of the arrays and the entries of
	// the dictionaries being read, nested ones after their parents', so
	// that each is allocated once at its final size rather than grown.
	elems   []object
	entries []dictEntry
	// ints holds integers already boxed as objects. Arrays such as /Widths
	// and /W repeat a few values many times; boxing each once saves an
	// allocation for every repetition. Objects are never modified, so
	// sharing one is safe.
	ints [16]boxedInt
	// values, when set, counts the array elements and dictionary entries
	// read against the document's MaxValues.
	values *valueCount
}

// boxedInt is an integer and the object holding it.
type boxedInt struct {
	n int64
	o object
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
		if p.values != nil && len(t.b) >= 16 {
			// A long string counts as the values its bytes would make.
			if err := p.values.add(int64(len(t.b)) / 16); err != nil {
				return nil, err
			}
		}
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
		return p.box(n), nil
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
		return p.box(n), nil
	}
	if buf[i] != 'R' {
		return p.box(n), nil
	}
	if i+1 == len(buf) && !p.lex.eof {
		return nil, errIncomplete
	}
	if i+1 < len(buf) && isRegular(buf[i+1]) {
		return p.box(n), nil // a keyword such as RG
	}
	if n <= 0 || n >= maxObjNum || gen > 65535 {
		return nil, p.lex.syntax("bad reference %d %d R", n, gen)
	}
	p.lex.pos = i + 1
	return ref{int(n), gen}, nil
}

// box returns n as an object, reusing the object of an integer boxed
// before when it has the same value.
func (p *parser) box(n int64) object {
	if n >= 0 && n < 256 {
		return n // the runtime boxes these without allocating
	}
	b := &p.ints[uint64(n)%uint64(len(p.ints))]
	if b.o == nil || b.n != n {
		b.n, b.o = n, n
	}
	return b.o
}

func (p *parser) array() (object, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, p.lex.syntax("arrays and dictionaries nested too deep")
	}
	start := len(p.elems)
	defer func() {
		p.depth--
		clear(p.elems[start:])
		p.elems = p.elems[:start]
	}()
	for {
		t, err := p.lex.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokArrayClose {
			return append(make(array, 0, len(p.elems)-start), p.elems[start:]...), nil
		}
		o, err := p.objectFrom(t)
		if err != nil {
			return nil, err
		}
		if p.values != nil {
			if err := p.values.add(1); err != nil {
				return nil, err
			}
		}
		if len(p.elems) == cap(p.elems) {
			// Double, so that a long array leaves behind no more
			// garbage than itself.
			p.elems = slices.Grow(p.elems, len(p.elems)+8)
		}
		p.elems = append(p.elems, o)
	}
}

func (p *parser) dict() (object, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, p.lex.syntax("arrays and dictionaries nested too deep")
	}
	start := len(p.entries)
	defer func() {
		p.depth--
		clear(p.entries[start:])
		p.entries = p.entries[:start]
	}()
	for {
		t, err := p.lex.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokDictClose {
			return append(make(dict, 0, len(p.entries)-start), p.entries[start:]...), nil
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
		if p.values != nil {
			if err := p.values.add(1); err != nil {
				return nil, err
			}
		}
		if len(p.entries) == cap(p.entries) {
			p.entries = slices.Grow(p.entries, len(p.entries)+8)
		}
		p.entries = append(p.entries, dictEntry{key, v})
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
