package pdf

import (
	"errors"
	"fmt"
)

// Cross-reference sections (ISO 32000-2 §7.5.4, §7.5.8): classic tables,
// cross-reference streams, hybrid files whose tables point to a stream with
// /XRefStm, and chains of updates linked by /Prev. Sections are read newest
// first; the first definition of an object number wins.

// maxXRefSections bounds the /Prev chain.
const maxXRefSections = 4096

// maxFreeGen is the largest generation a free entry of a table may give.
// The standard's largest is 65535, but many writers head the free list
// with "0000000000 65536 f" (109 healthy files of the pdf.js, qpdf and
// pyHanko test corpora), and qpdf, PDFBox and pdf.js all read it. A free
// entry's generation names no object (a reference to it resolves to null
// whatever it says), so reading it as 65535 changes what no reader sees,
// and the verifier reads it alike. An object in use keeps the standard's
// limit.
const maxFreeGen = 65536

type xrefKind uint8

const (
	xrefFree       xrefKind = iota + 1
	xrefOffset              // uncompressed, at off
	xrefCompressed          // in the object stream numbered off, at index idx
)

type xrefEntry struct {
	kind xrefKind
	gen  uint16
	idx  int32
	off  int64
}

type numberedEntry struct {
	num int
	e   xrefEntry
}

// loadXRef reads the chain of sections that starts at off.
func (d *document) loadXRef(off int64) error {
	seen := make(map[int64]bool)
	for n := 0; ; n++ {
		if n == maxXRefSections {
			return damaged(-1, "more than %d cross-reference sections", maxXRefSections)
		}
		if seen[off] {
			return damaged(off, "cross-reference /Prev chain loops")
		}
		seen[off] = true
		trailer, isStream, err := d.readSection(off)
		if err != nil {
			return err
		}
		if n == 0 {
			d.trailer = trailer.clone()
			d.trailer.del("Prev")
			d.trailer.del("XRefStm")
			d.xrefStream = isStream
		} else {
			for _, k := range []name{"Root", "Info", "ID", "Encrypt"} {
				if !d.trailer.has(k) && trailer.has(k) {
					d.trailer.set(k, trailer.get(k))
				}
			}
		}
		if !isStream {
			if xs, ok := asInt(trailer.get("XRefStm")); ok {
				if xs < 0 || xs >= d.size {
					return damaged(off, "/XRefStm %d outside the file", xs)
				}
				if _, _, err := d.readSection(xs); err != nil {
					return err
				}
			}
		}
		prev, ok := asInt(trailer.get("Prev"))
		if !ok {
			break
		}
		if prev < 0 || prev >= d.size {
			return damaged(off, "/Prev %d outside the file", prev)
		}
		off = prev
	}
	if _, ok := d.trailer.get("Root").(ref); !ok {
		return damaged(-1, "trailer has no /Root reference")
	}
	return nil
}

// addEntries records entries that no newer section has defined, as long
// as the document defines no more than MaxObjects.
func (d *document) addEntries(es []numberedEntry) error {
	for _, ne := range es {
		if _, ok := d.xref[ne.num]; !ok {
			if int64(len(d.xref)) >= d.bud.lim.MaxObjects {
				return d.tooManyObjects()
			}
			d.xref[ne.num] = ne.e
			if ne.num > d.maxNum {
				d.maxNum = ne.num
			}
		}
	}
	return nil
}

// tooManyObjects is the error for cross-reference data that defines more
// objects than MaxObjects, in all or in one section.
func (d *document) tooManyObjects() error {
	return &LimitError{Limit: "MaxObjects", Max: d.bud.lim.MaxObjects, What: "the objects defined by the cross-reference data"}
}

// readSection reads the table or stream at off, adds its entries, and
// returns its trailer dictionary (a stream's dictionary).
func (d *document) readSection(off int64) (dict, bool, error) {
	head, _, err := d.window(off, 16)
	if err != nil {
		return nil, false, err
	}
	l := lexer{buf: head}
	if t, err := l.next(); err == nil && t.is("xref") {
		tr, err := d.readTable(off)
		return tr, false, err
	}
	tr, err := d.readXRefStream(off)
	return tr, true, err
}

// readTable reads a classic cross-reference table and its trailer.
func (d *document) readTable(off int64) (dict, error) {
	var (
		entries []numberedEntry
		trailer dict
	)
	err := d.parseWindow(off, 8192, func(buf []byte, eof bool) error {
		entries = entries[:0]
		l := &lexer{buf: buf, eof: eof}
		if t, err := l.next(); err != nil || !t.is("xref") {
			return damaged(off, "no xref keyword")
		}
		for {
			t, err := l.next()
			if err != nil {
				return err
			}
			if t.is("trailer") {
				break
			}
			if t.kind != tokInt {
				return damaged(off, "cross-reference table: %v where a subsection or trailer belongs", t)
			}
			t2, err := l.next()
			if err != nil {
				return err
			}
			start, count := t.i, t2.i
			if t2.kind != tokInt || start < 0 || count < 0 || start+count > maxObjNum {
				return damaged(off, "cross-reference subsection %d %v", start, t2)
			}
			if int64(len(entries))+count > d.bud.lim.MaxObjects {
				return d.tooManyObjects()
			}
			if count*18 > int64(len(buf)-l.pos) {
				if !eof {
					return errIncomplete
				}
				return fmt.Errorf("%w: cross-reference subsection of %d entries runs past the end", ErrTruncated, count)
			}
			for i := int64(0); i < count; i++ {
				o, err := l.next()
				if err != nil {
					return err
				}
				g, err := l.next()
				if err != nil {
					return err
				}
				k, err := l.next()
				if err != nil {
					return err
				}
				if o.kind != tokInt || g.kind != tokInt || g.i < 0 || g.i > maxFreeGen || o.i < 0 {
					return damaged(off, "cross-reference entry %d of subsection %d", i, start)
				}
				if g.i > 65535 && !k.is("f") {
					return damaged(off, "cross-reference entry %d of subsection %d: generation %d of an object in use", i, start, g.i)
				}
				e := xrefEntry{gen: uint16(min(g.i, 65535)), off: o.i}
				switch {
				case k.is("n"):
					e.kind = xrefOffset
					if o.i >= d.size {
						return damaged(off, "cross-reference entry for object %d points past the end of the file", start+i)
					}
				case k.is("f"):
					e.kind = xrefFree
				default:
					return damaged(off, "cross-reference entry %d of subsection %d has type %v", i, start, k)
				}
				num := int(start + i)
				if num == 0 {
					continue
				}
				entries = append(entries, numberedEntry{num, e})
			}
		}
		p := &parser{lex: *l}
		o, err := p.object()
		if err != nil {
			return err
		}
		tr, ok := o.(dict)
		if !ok {
			return damaged(off, "trailer is %s", typeName(o))
		}
		trailer = tr
		return nil
	})
	if err != nil {
		return nil, syntaxErr(off, "cross-reference table", err)
	}
	if err := d.addEntries(entries); err != nil {
		return nil, err
	}
	return trailer, nil
}

// readXRefStream reads a cross-reference stream.
func (d *document) readXRefStream(off int64) (dict, error) {
	o, _, err := d.readObject(off, ref{})
	if err != nil {
		return nil, notSection(off, err)
	}
	s, ok := o.(*stream)
	if !ok {
		return nil, damaged(off, "startxref or /Prev points to %s, not a cross-reference section", typeName(o))
	}
	if t, _ := s.dict.get("Type").(name); t != "XRef" {
		return nil, damaged(off, "startxref or /Prev points to a stream that is not a cross-reference stream")
	}
	wa, ok := s.dict.get("W").(array)
	if !ok || len(wa) != 3 {
		return nil, damaged(off, "cross-reference stream /W is not an array of three")
	}
	var w [3]int
	for i, v := range wa {
		n, ok := asInt(v)
		if !ok || n < 0 || n > 8 {
			return nil, damaged(off, "cross-reference stream /W entry %v", v)
		}
		w[i] = int(n)
	}
	size, ok := asInt(s.dict.get("Size"))
	if !ok || size < 0 || size > maxObjNum {
		return nil, damaged(off, "cross-reference stream /Size")
	}
	index := array{int64(0), size}
	if ia, ok := s.dict.get("Index").(array); ok {
		index = ia
	}
	if len(index)%2 != 0 {
		return nil, damaged(off, "cross-reference stream /Index has an odd length")
	}
	var total int64
	for i := 1; i < len(index); i += 2 {
		if count, ok := asInt(index[i]); ok && count > 0 {
			if total += count; total > d.bud.lim.MaxObjects {
				return nil, d.tooManyObjects()
			}
		}
	}
	data, err := d.streamData(s)
	if err != nil {
		return nil, err
	}
	rowLen := w[0] + w[1] + w[2]
	if rowLen == 0 {
		return nil, damaged(off, "cross-reference stream /W is all zero")
	}
	var entries []numberedEntry
	pos := 0
	for i := 0; i < len(index); i += 2 {
		start, ok1 := asInt(index[i])
		count, ok2 := asInt(index[i+1])
		if !ok1 || !ok2 || start < 0 || count < 0 || start+count > maxObjNum {
			return nil, damaged(off, "cross-reference stream /Index entry %v %v", index[i], index[i+1])
		}
		if int64(len(data)-pos) < count*int64(rowLen) {
			return nil, damaged(off, "cross-reference stream has %d bytes, too few for its /Index", len(data))
		}
		for k := int64(0); k < count; k++ {
			row := data[pos : pos+rowLen]
			pos += rowLen
			typ := uint64(1)
			if w[0] > 0 {
				typ = field(row[:w[0]])
			}
			f2 := field(row[w[0] : w[0]+w[1]])
			f3 := field(row[w[0]+w[1]:])
			num := int(start + k)
			var e xrefEntry
			switch typ {
			case 0:
				e = xrefEntry{kind: xrefFree}
			case 1:
				if f2 >= uint64(d.size) || f3 > 65535 {
					return nil, damaged(off, "cross-reference stream entry for object %d points past the end of the file", num)
				}
				e = xrefEntry{kind: xrefOffset, off: int64(f2), gen: uint16(f3)}
			case 2:
				if f2 >= maxObjNum || f3 >= maxObjNum {
					return nil, damaged(off, "cross-reference stream entry for object %d", num)
				}
				e = xrefEntry{kind: xrefCompressed, off: int64(f2), idx: int32(f3)}
			default:
				continue // reserved types are to be ignored
			}
			if num == 0 {
				continue
			}
			entries = append(entries, numberedEntry{num, e})
		}
	}
	if err := d.addEntries(entries); err != nil {
		return nil, err
	}
	return s.dict, nil
}

// notSection explains a failure to find a section where one should be.
func notSection(off int64, err error) error {
	if errors.Is(err, ErrDamaged) {
		return damaged(off, "startxref or /Prev points where there is no cross-reference section")
	}
	return err
}

func field(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}
