package pdf

import (
	"math"
	"slices"
	"strconv"
)

// Serialisation of objects, and the incremental update that the engine
// appends to the original file (ISO 32000-2 §7.5.6).

// appendObject appends the PDF syntax of o.
func appendObject(b []byte, o object) []byte {
	switch v := o.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case real:
		return appendReal(b, float64(v))
	case name:
		return appendName(b, v)
	case str:
		return appendString(b, v)
	case array:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendObject(b, e)
		}
		return append(b, ']')
	case dict:
		b = append(b, "<<"...)
		for _, e := range v {
			b = appendName(b, e.key)
			b = append(b, ' ')
			b = appendObject(b, e.val)
		}
		return append(b, ">>"...)
	case ref:
		b = strconv.AppendInt(b, int64(v.num), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(v.gen), 10)
		return append(b, " R"...)
	case *stream:
		d := v.dict.clone()
		d.set("Length", int64(len(v.data)))
		b = appendObject(b, d)
		b = append(b, "\nstream\n"...)
		b = append(b, v.data...)
		return append(b, "\nendstream"...)
	}
	panic("pdf: appendObject of unsupported type") // only the engine builds objects
}

// appendReal writes f without an exponent, as PDF requires, and exactly:
// numbers read from a file are written back as they were.
func appendReal(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendInt(b, int64(f), 10)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// num rounds a computed coordinate to 1/10000 point, far below what a
// printer resolves, so that the output stays short.
func num(f float64) real {
	return real(math.Round(f*1e4) / 1e4)
}

func appendName(b []byte, n name) []byte {
	b = append(b, '/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < '!' || c > '~' || c == '#' || isDelim(c) {
			b = append(b, '#', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

// appendString writes s as a literal string when it is printable ASCII,
// otherwise as a hex string.
func appendString(b []byte, s str) []byte {
	printable := true
	for _, c := range s {
		if c < ' ' || c > '~' {
			printable = false
			break
		}
	}
	if !printable {
		b = append(b, '<')
		for _, c := range s {
			b = append(b, "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
		}
		return append(b, '>')
	}
	b = append(b, '(')
	for _, c := range s {
		if c == '(' || c == ')' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return append(b, ')')
}

// textString encodes s as a PDF text string: PDFDocEncoding (here, plain
// ASCII) when it can, UTF-16BE with a byte order mark otherwise.
func textString(s string) str {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			ascii = false
			break
		}
	}
	if ascii {
		return str(s)
	}
	out := []byte{0xFE, 0xFF}
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			hi, lo := 0xD800+(r>>10), 0xDC00+(r&0x3FF)
			out = append(out, byte(hi>>8), byte(hi), byte(lo>>8), byte(lo))
			continue
		}
		out = append(out, byte(r>>8), byte(r))
	}
	return str(out)
}

// update builds an incremental update in memory. Offsets are absolute: the
// update starts at base, the length of the original file.
type update struct {
	base    int64
	buf     []byte
	written []writtenObj
	next    int    // next unused object number
	crypt   *crypt // the document's encryption, nil when it has none
	image   ref    // the seal image, once written (appearance.go)
}

type writtenObj struct {
	num, gen int
	off      int64
}

func (u *update) alloc() ref {
	r := ref{u.next, 0}
	u.next++
	return r
}

func (u *update) offset() int64 { return u.base + int64(len(u.buf)) }

// begin starts indirect object r.
func (u *update) begin(r ref) {
	u.written = append(u.written, writtenObj{r.num, r.gen, u.offset()})
	u.buf = strconv.AppendInt(u.buf, int64(r.num), 10)
	u.buf = append(u.buf, ' ')
	u.buf = strconv.AppendInt(u.buf, int64(r.gen), 10)
	u.buf = append(u.buf, " obj\n"...)
}

func (u *update) end() { u.buf = append(u.buf, "\nendobj\n"...) }

// put writes indirect object r with value o, which holds only strings
// already encrypted as r requires (an existing object, rewritten).
func (u *update) put(r ref, o object) {
	u.begin(r)
	u.buf = appendObject(u.buf, o)
	u.end()
}

// putNew writes a new object, encrypting its strings and stream data when
// the document is encrypted.
func (u *update) putNew(r ref, o object) {
	if u.crypt != nil {
		o = u.crypt.encryptObject(r, o)
	}
	u.put(r, o)
}

// encryptString encrypts a string of object r, when the document is
// encrypted.
func (u *update) encryptString(r ref, s str) str {
	if u.crypt == nil {
		return s
	}
	return str(u.crypt.encrypt(r, u.crypt.str, s))
}

// finish writes the cross-reference section and trailer, in the kind of
// the file's newest section, linked to it by /Prev. trailer holds the
// entries to carry over (Root, Info, ID…).
func (u *update) finish(trailer dict, prev int64, asStream bool, size int) {
	var xrefRef ref
	if asStream {
		xrefRef = u.alloc()
		u.written = append(u.written, writtenObj{xrefRef.num, 0, u.offset()})
	}
	if u.next > size {
		size = u.next
	}
	slices.SortFunc(u.written, func(a, b writtenObj) int { return a.num - b.num })
	// Subsections of consecutive numbers.
	type sub struct{ start, count int }
	var subs []sub
	for i, w := range u.written {
		if i > 0 && w.num == u.written[i-1].num+1 {
			subs[len(subs)-1].count++
			continue
		}
		subs = append(subs, sub{w.num, 1})
	}
	xrefOff := u.offset()
	tr := dict{}
	for _, e := range trailer {
		switch e.key {
		case "Size", "Prev", "XRefStm", "Type", "W", "Index", "Length", "Filter", "DecodeParms", "DL", "F", "FFilter", "FDecodeParms":
			continue
		}
		tr = append(tr, e)
	}
	tr.set("Size", int64(size))
	tr.set("Prev", prev)

	if !asStream {
		u.buf = append(u.buf, "xref\n"...)
		i := 0
		for _, s := range subs {
			u.buf = strconv.AppendInt(u.buf, int64(s.start), 10)
			u.buf = append(u.buf, ' ')
			u.buf = strconv.AppendInt(u.buf, int64(s.count), 10)
			u.buf = append(u.buf, '\n')
			for k := 0; k < s.count; k++ {
				w := u.written[i]
				i++
				u.buf = appendPadded(u.buf, w.off, 10)
				u.buf = append(u.buf, ' ')
				u.buf = appendPadded(u.buf, int64(w.gen), 5)
				u.buf = append(u.buf, " n \n"...)
			}
		}
		u.buf = append(u.buf, "trailer\n"...)
		u.buf = appendObject(u.buf, tr)
		u.buf = append(u.buf, '\n')
	} else {
		w2 := 1
		for maxOff := xrefOff; maxOff > 0xFF; maxOff >>= 8 {
			w2++
		}
		maxGen := 0
		for _, w := range u.written {
			maxGen = max(maxGen, w.gen)
		}
		w3 := 1
		if maxGen > 0xFF {
			w3 = 2
		}
		var index array
		for _, s := range subs {
			index = append(index, int64(s.start), int64(s.count))
		}
		data := make([]byte, 0, len(u.written)*(1+w2+w3))
		for _, w := range u.written {
			data = append(data, 1)
			for k := w2 - 1; k >= 0; k-- {
				data = append(data, byte(w.off>>(8*k)))
			}
			for k := w3 - 1; k >= 0; k-- {
				data = append(data, byte(w.gen>>(8*k)))
			}
		}
		sd := dict{{"Type", name("XRef")}, {"W", array{int64(1), int64(w2), int64(w3)}}, {"Index", index}}
		sd = append(sd, tr...)
		u.buf = strconv.AppendInt(u.buf, int64(xrefRef.num), 10)
		u.buf = append(u.buf, " 0 obj\n"...)
		u.buf = appendObject(u.buf, &stream{dict: sd, data: data})
		u.buf = append(u.buf, "\nendobj\n"...)
	}
	u.buf = append(u.buf, "startxref\n"...)
	u.buf = strconv.AppendInt(u.buf, xrefOff, 10)
	u.buf = append(u.buf, "\n%%EOF\n"...)
}

func appendPadded(b []byte, v int64, width int) []byte {
	s := strconv.AppendInt(nil, v, 10)
	for k := len(s); k < width; k++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
