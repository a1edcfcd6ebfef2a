package pdf

import (
	"bytes"
	"slices"
)

// CMaps (ISO 32000-2 §9.7.5, §9.10.3; Adobe technical note 5411): the
// embedded encoding CMaps of Type0 fonts, which map character codes to CIDs,
// and the ToUnicode CMaps that map codes to text. The engine reads them to
// find a keyword on a page; it never writes them.

// maxCMapEntries bounds the mappings read from one CMap.
const maxCMapEntries = 1 << 18

type codespace struct {
	n      int
	lo, hi [4]byte
}

type uniRange struct {
	lo, hi uint32
	n      int      // code length in bytes
	base   []rune   // the text for lo; the last rune counts up
	list   [][]rune // or one text per code
}

type cidRange struct {
	lo, hi uint32
	n      int
	cid    int
}

// charEntry maps one code to text[off:off+n] of its CMap.
type charEntry struct {
	key    uint64
	off, n int32
}

type cmap struct {
	space     []codespace
	chars     []charEntry // sorted by key once parsed
	text      []rune
	ranges    []uniRange     // sorted by lo
	cidChars  map[uint64]int // nil until a begincidchar section
	cidRanges []cidRange
	identity  bool // usecmap /Identity-H or -V
}

func codeKey(code uint32, n int) uint64 { return uint64(n)<<32 | uint64(code) }

// parseCMap is the package's parseCMap, counting the mappings it keeps
// against the document's MaxValues: a placer keeps the fonts of every
// page it reads. Past the limit it returns the CMap all the same; the
// budget's error stops the reading that asked for it.
func (d *document) parseCMap(data []byte) *cmap {
	c := parseCMap(data)
	n := len(c.chars) + len(c.ranges) + len(c.cidChars) + len(c.cidRanges)
	for _, r := range c.ranges {
		n += len(r.list)
	}
	d.values.add(int64(n))
	return c
}

// parseCMap reads the mappings of a CMap program. It is lenient: what it
// does not understand it skips, since a wrong ToUnicode map costs a keyword
// match, not the seal.
func parseCMap(data []byte) *cmap {
	c := &cmap{}
	p := newParser(data, true)
	var last []object // operands since the last keyword
	entries := 0
	// Scratch for the strings of the mappings, which are read but not kept.
	var sbuf, dbuf [8]byte
	str2 := func() ([]byte, []byte, bool) {
		a, ok := p.nextStringIn(sbuf[:0])
		if !ok {
			return nil, nil, false
		}
		b, ok := p.nextStringIn(dbuf[:0])
		return a, b, ok
	}

	for entries < maxCMapEntries {
		t, err := p.lex.next()
		if err != nil {
			if !p.lex.skipBad(err) {
				break
			}
			continue
		}
		if t.kind == tokEOF {
			break
		}
		if t.kind != tokKeyword {
			o, err := p.objectFrom(t)
			if err == nil && len(last) < 8 {
				last = append(last, o)
			}
			continue
		}
		kw := string(t.b)
		switch kw {
		case "usecmap":
			if len(last) > 0 {
				if n, ok := last[len(last)-1].(name); ok && (n == "Identity-H" || n == "Identity-V") {
					c.identity = true
				}
			}
		case "begincodespacerange":
			for {
				lo, hi, ok := str2()
				if !ok {
					break
				}
				if len(lo) == len(hi) && len(lo) >= 1 && len(lo) <= 4 {
					cs := codespace{n: len(lo)}
					copy(cs.lo[:], lo)
					copy(cs.hi[:], hi)
					c.space = append(c.space, cs)
				}
				entries++
			}
		case "beginbfchar":
			if n := sectionLen(last, len(data)-p.lex.pos); n > 0 {
				c.chars = slices.Grow(c.chars, min(n, maxCMapEntries-entries))
				c.text = slices.Grow(c.text, min(n, maxCMapEntries-entries))
			}
			for entries < maxCMapEntries {
				src, ok := p.nextStringIn(sbuf[:0])
				if !ok {
					break
				}
				// A hex string, as destinations mostly are, is read
				// without making an object of it.
				var dst object
				hex, isHex := p.hexStringIn(dbuf[:0])
				if !isHex {
					var err error
					if dst, err = p.object(); err != nil {
						break
					}
				}
				if code, n, ok := codeOf(src); ok {
					off := len(c.text)
					if isHex {
						c.text = appendUTF16BE(c.text, hex)
					} else {
						c.text = appendTextOf(c.text, dst)
					}
					c.chars = append(c.chars, charEntry{codeKey(code, n), int32(off), int32(len(c.text) - off)})
				}
				entries++
			}
		case "beginbfrange":
			for entries < maxCMapEntries {
				lo, hi, ok := str2()
				if !ok {
					break
				}
				dst, err := p.object()
				if err != nil {
					break
				}
				l, n, ok1 := codeOf(lo)
				h, n2, ok2 := codeOf(hi)
				if !ok1 || !ok2 || n != n2 || h < l {
					continue
				}
				r := uniRange{lo: l, hi: h, n: n}
				if a, ok := dst.(array); ok {
					for _, e := range a {
						r.list = append(r.list, textOf(e))
					}
				} else {
					r.base = textOf(dst)
				}
				c.ranges = append(c.ranges, r)
				entries++
			}
		case "begincidrange":
			for entries < maxCMapEntries {
				lo, hi, ok := str2()
				if !ok {
					break
				}
				cid, err := p.object()
				if err != nil {
					break
				}
				l, n, ok1 := codeOf(lo)
				h, n2, ok2 := codeOf(hi)
				v, ok3 := asInt(cid)
				if ok1 && ok2 && ok3 && n == n2 && h >= l {
					c.cidRanges = append(c.cidRanges, cidRange{l, h, n, int(v)})
				}
				entries++
			}
		case "begincidchar":
			for entries < maxCMapEntries {
				src, ok := p.nextStringIn(sbuf[:0])
				if !ok {
					break
				}
				cid, err := p.object()
				if err != nil {
					break
				}
				code, n, ok1 := codeOf(src)
				v, ok2 := asInt(cid)
				if ok1 && ok2 {
					if c.cidChars == nil {
						c.cidChars = map[uint64]int{}
					}
					c.cidChars[codeKey(code, n)] = int(v)
				}
				entries++
			}
		}
		last = last[:0]
	}
	slices.SortFunc(c.ranges, func(a, b uniRange) int { return cmpU32(a.lo, b.lo) })
	// Sort the codes for lookup; of a code mapped twice, the later wins.
	slices.SortStableFunc(c.chars, func(a, b charEntry) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	out := c.chars[:0]
	for i, e := range c.chars {
		if i+1 < len(c.chars) && c.chars[i+1].key == e.key {
			continue
		}
		out = append(out, e)
	}
	c.chars = out
	return c
}

// sectionLen is the count of entries that last ends with, as the operand
// of a section's begin keyword, for sizing what the section is read into.
// The count is bounded by rest, the bytes left to read, at 4 bytes an
// entry at the least (as in "()()"), so that a false count costs no more
// memory than the data could fill.
func sectionLen(last []object, rest int) int {
	if len(last) == 0 {
		return 0
	}
	n, ok := last[len(last)-1].(int64)
	if !ok || n <= 0 {
		return 0
	}
	return int(min(n, int64(rest/4)))
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// nextStringIn reads a string; anything else (the section's end keyword
// included) ends the section. A hex string is decoded into buf, whose
// storage it uses when large enough.
func (p *parser) nextStringIn(buf []byte) ([]byte, bool) {
	if b, ok := p.hexStringIn(buf); ok {
		return b, true
	}
	t, err := p.lex.next()
	if err != nil || t.kind != tokString {
		return nil, false
	}
	return t.b, true
}

// hexStringIn reads the next token when it is a well-formed hex string,
// decoding it as the lexer does but into buf. Otherwise it reads nothing
// and reports false, leaving the lexer to read (or refuse) the token.
func (p *parser) hexStringIn(buf []byte) ([]byte, bool) {
	l := &p.lex
	start := l.pos
	if l.skipSpace() != nil || l.pos+1 >= len(l.buf) || l.buf[l.pos] != '<' || l.buf[l.pos+1] == '<' {
		l.pos = start
		return nil, false
	}
	end := bytes.IndexByte(l.buf[l.pos+1:], '>')
	if end < 0 {
		l.pos = start
		return nil, false
	}
	out, _, ok := appendHex(buf[:0], l.buf[l.pos+1:l.pos+1+end])
	if !ok {
		l.pos = start
		return nil, false
	}
	l.pos += 1 + end + 1
	return out, true
}

func codeOf(b []byte) (uint32, int, bool) {
	if len(b) == 0 || len(b) > 4 {
		return 0, 0, false
	}
	var v uint32
	for _, c := range b {
		v = v<<8 | uint32(c)
	}
	return v, len(b), true
}

// textOf reads a ToUnicode destination: UTF-16BE bytes, or a glyph name.
func textOf(o object) []rune { return appendTextOf(nil, o) }

func appendTextOf(rs []rune, o object) []rune {
	switch v := o.(type) {
	case str:
		rs = appendUTF16BE(rs, v)
	case name:
		if r, ok := glyphRune(v); ok {
			rs = append(rs, r)
		}
	}
	return rs
}

// appendUTF16BE appends the text of UTF-16BE bytes to rs.
func appendUTF16BE(rs []rune, v []byte) []rune {
	for i := 0; i+1 < len(v); i += 2 {
		u := rune(v[i])<<8 | rune(v[i+1])
		if u >= 0xD800 && u < 0xDC00 && i+3 < len(v) {
			if l := rune(v[i+2])<<8 | rune(v[i+3]); l >= 0xDC00 && l < 0xE000 {
				rs = append(rs, 0x10000+(u-0xD800)<<10+(l-0xDC00))
				i += 2
				continue
			}
		}
		rs = append(rs, u)
	}
	return rs
}

// next splits the first code off s by the codespace ranges; without them,
// codes are fallback bytes long.
func (c *cmap) next(s []byte, fallback int) (uint32, int) {
	if c != nil && len(c.space) > 0 {
		for n := 1; n <= 4 && n <= len(s); n++ {
			for _, cs := range c.space {
				if cs.n != n {
					continue
				}
				ok := true
				for i := 0; i < n; i++ {
					if s[i] < cs.lo[i] || s[i] > cs.hi[i] {
						ok = false
						break
					}
				}
				if ok {
					v, _, _ := codeOf(s[:n])
					return v, n
				}
			}
		}
	}
	n := min(fallback, len(s))
	v, _, _ := codeOf(s[:n])
	return v, n
}

// unicodeIn returns the text for a code. A text the CMap does not hold
// as such (one in a range counting up) is built in buf, which it returns
// grown.
func (c *cmap) unicodeIn(code uint32, n int, buf []rune) (text, _ []rune, ok bool) {
	if c == nil {
		return nil, buf, false
	}
	key := codeKey(code, n)
	if i, ok := slices.BinarySearchFunc(c.chars, key, func(e charEntry, k uint64) int {
		switch {
		case e.key < k:
			return -1
		case e.key > k:
			return 1
		}
		return 0
	}); ok {
		e := c.chars[i]
		return c.text[e.off : e.off+e.n : e.off+e.n], buf, true
	}
	i, _ := slices.BinarySearchFunc(c.ranges, code, func(r uniRange, code uint32) int {
		if r.lo > code {
			return 1
		}
		return -1
	})
	// Ranges may overlap; look back from the last range starting at or
	// before code.
	for j := i - 1; j >= 0 && j >= i-64; j-- {
		r := c.ranges[j]
		if r.n != n || code < r.lo || code > r.hi {
			continue
		}
		off := int(code - r.lo)
		if r.list != nil {
			if off < len(r.list) {
				return r.list[off], buf, true
			}
			continue
		}
		if len(r.base) == 0 {
			continue
		}
		start := len(buf)
		buf = append(buf, r.base...)
		buf[len(buf)-1] += rune(off)
		return buf[start:len(buf):len(buf)], buf, true
	}
	return nil, buf, false
}

// cid returns the CID for a code under an encoding CMap.
func (c *cmap) cid(code uint32, n int) (int, bool) {
	if c.identity {
		return int(code), true
	}
	if v, ok := c.cidChars[codeKey(code, n)]; ok {
		return v, true
	}
	for _, r := range c.cidRanges {
		if r.n == n && code >= r.lo && code <= r.hi {
			return r.cid + int(code-r.lo), true
		}
	}
	return 0, false
}
