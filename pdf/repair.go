package pdf

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
)

// Repair of damaged files, which Seal attempts on a file that it cannot
// read as it is and that carries no signatures (a repair would break
// them). Junk before the header is dropped, the rest of the file kept as
// it is. A file whose cross-reference data is broken or missing, whose
// offsets are wrong, or that ends before its cross-reference data (a
// truncated scan) is rebuilt: read by scanning for its objects, as qpdf,
// PDFBox and pdf.js do, and written anew with every object and a fresh
// cross-reference table. The sealed revision then follows the rebuilt
// file, not the damaged original.
//
// This is the lenient reading, and only sealing an unsigned file uses it.
// The verifier (Analyze) never rebuilds: a signed revision is judged as
// its bytes are, and one that cannot be read strictly is not valid.

// maxRebuildSize bounds the files rebuilt, which are read into memory.
const maxRebuildSize = 256 << 20

var objHeader = regexp.MustCompile(`(\d{1,7})[ \t\r\n\f\x00]+(\d{1,5})[ \t\r\n\f\x00]+obj\b`)

// rebuild scans src for objects and returns a new, sound file holding
// them, with a note of what it did.
func rebuild(src io.ReaderAt, size int64, bud *budget) ([]byte, string, error) {
	if size > maxRebuildSize {
		return nil, "", fmt.Errorf("%w: a %d-byte file is too large to rebuild", ErrTooLarge, size)
	}
	data := make([]byte, size)
	if n, err := src.ReadAt(data, 0); int64(n) != size {
		return nil, "", fmt.Errorf("pdf: reading the source: %w", err)
	}
	hdr := bytes.Index(data[:min(len(data), 1024)], []byte("%PDF-"))
	if hdr < 0 {
		return nil, "", fmt.Errorf("%w: no %%PDF- header", ErrNotPDF)
	}
	if bytes.Contains(data, []byte("/ByteRange")) {
		return nil, "", ErrDamagedSigned
	}
	data = data[hdr:]
	d := newDocument(bytes.NewReader(data), int64(len(data)), bud)
	v := data[5:]
	n := 0
	for n < len(v) && n < 4 && (v[n] == '.' || v[n] >= '0' && v[n] <= '9') {
		n++
	}
	d.version = string(v[:n])

	// Find the objects: the last definition of a number wins, as in an
	// updated file. Stream data is skipped, so that bytes in it that look
	// like an object header are not taken for one.
	entries := map[int]xrefEntry{}
	end := 0
	for _, m := range objHeader.FindAllSubmatchIndex(data, -1) {
		off := m[0]
		if off < end || (off > 0 && data[off-1] >= '0' && data[off-1] <= '9') {
			continue
		}
		o, got, err := d.readObject(int64(off), ref{})
		if err != nil || got.num <= 0 || got.num >= maxObjNum || got.gen < 0 || got.gen > 65535 {
			continue
		}
		entries[got.num] = xrefEntry{kind: xrefOffset, gen: uint16(got.gen), off: int64(off)}
		if int64(len(entries)) > bud.lim.MaxObjects {
			return nil, "", d.tooManyObjects()
		}
		end = m[1]
		if s, ok := o.(*stream); ok {
			end = int(s.off + s.n)
		}
	}
	if len(entries) == 0 {
		return nil, "", damaged(-1, "no objects found")
	}
	d.xref = entries
	for num := range entries {
		d.maxNum = max(d.maxNum, num)
	}

	// Objects in object streams become ordinary objects.
	var nums []int
	for num := range entries {
		nums = append(nums, num)
	}
	slices.Sort(nums)
	skip := map[int]bool{}
	var trailer dict
	for _, num := range nums {
		o, err := d.get(ref{num, int(entries[num].gen)})
		if err != nil {
			continue
		}
		s, ok := o.(*stream)
		if !ok {
			continue
		}
		switch nameOf(s.dict.get("Type")) {
		case "XRef":
			skip[num] = true
			trailer = s.dict // the last, by number: good enough for Root and Info
		case "ObjStm":
			skip[num] = true
			os, err := d.objStream(num)
			if err != nil {
				continue
			}
			for i, c := range os.nums {
				if _, ok := d.xref[c]; !ok && c > 0 && c < maxObjNum {
					if int64(len(d.xref)) >= bud.lim.MaxObjects {
						return nil, "", d.tooManyObjects()
					}
					d.xref[c] = xrefEntry{kind: xrefCompressed, off: int64(num), idx: int32(i)}
					d.maxNum = max(d.maxNum, c)
				}
			}
		}
	}
	if i := bytes.LastIndex(data, []byte("trailer")); i >= 0 {
		p := newParser(data[i+len("trailer"):], true)
		if o, err := p.object(); err == nil {
			if td, ok := o.(dict); ok {
				trailer = td
			}
		}
	}
	root, _ := trailer.get("Root").(ref)
	if c, err := d.get(root); err != nil || c == nil || nameOf(dictOf(c).get("Type")) != "Catalog" {
		root = ref{}
		for num := d.maxNum; num > 0 && root.num == 0; num-- {
			e, ok := d.xref[num]
			if !ok || e.kind == xrefFree {
				continue
			}
			gen := int(e.gen)
			if e.kind == xrefCompressed {
				gen = 0
			}
			if o, err := d.get(ref{num, gen}); err == nil && nameOf(dictOf(o).get("Type")) == "Catalog" {
				root = ref{num, gen}
			}
		}
	}
	if root.num == 0 {
		return nil, "", damaged(-1, "no document catalog found")
	}
	if err := d.rebuiltEncryption(trailer.get("Encrypt")); err != nil {
		return nil, "", err
	}
	over, treeNote, err := d.fixPageTree(root, d.maxNum)
	if err != nil {
		return nil, "", err
	}
	last := d.maxNum
	for num := range over {
		last = max(last, num)
	}
	if n, first, err := d.dangling(root, trailer.get("Info")); err != nil {
		return nil, "", err
	} else if n > 0 {
		return nil, "", damaged(-1, "%d object(s) that the document refers to are missing (object %d first), as in a file cut short; a repair would seal an incomplete document, so obtain the complete file", n, first)
	}

	// Write the file anew.
	out := make([]byte, 0, len(data)+len(data)/16)
	out = append(out, "%PDF-"...)
	out = append(out, d.version...)
	out = append(out, "\n%\xe2\xe3\xcf\xd3\n"...)
	offs := make([]int64, last+1)
	gens := make([]int, last+1)
	count := 0
	for num := 1; num <= last; num++ {
		o, gen := over[num], 0
		if o == nil {
			e, ok := d.xref[num]
			if !ok || e.kind == xrefFree || skip[num] {
				continue
			}
			if e.kind != xrefCompressed {
				gen = int(e.gen)
			}
			if o, err = d.get(ref{num, gen}); err != nil || o == nil {
				continue
			}
		} else if e, ok := d.xref[num]; ok && e.kind == xrefOffset {
			gen = int(e.gen)
		}
		offs[num], gens[num] = int64(len(out)), gen
		out = strconv.AppendInt(out, int64(num), 10)
		out = append(out, ' ')
		out = strconv.AppendInt(out, int64(gen), 10)
		out = append(out, " obj\n"...)
		if s, ok := o.(*stream); ok {
			raw, _, err := d.window(s.off, int(s.n))
			if err != nil {
				return nil, "", err
			}
			out = appendObject(out, &stream{dict: s.dict, data: raw})
		} else {
			out = appendObject(out, o)
		}
		out = append(out, "\nendobj\n"...)
		count++
	}
	xref := len(out)
	out = append(out, "xref\n0 "...)
	out = strconv.AppendInt(out, int64(last+1), 10)
	out = append(out, "\n0000000000 65535 f \n"...)
	for num := 1; num <= last; num++ {
		if offs[num] == 0 {
			out = append(out, "0000000000 00000 f \n"...)
			continue
		}
		out = appendPadded(out, offs[num], 10)
		out = append(out, ' ')
		out = appendPadded(out, int64(gens[num]), 5)
		out = append(out, " n \n"...)
	}
	tr := dict{{"Size", int64(last + 1)}, {"Root", root}}
	for _, k := range []name{"Info", "ID", "Encrypt"} {
		if v := trailer.get(k); v != nil {
			tr = append(tr, dictEntry{k, v})
		}
	}
	out = append(out, "trailer\n"...)
	out = appendObject(out, tr)
	out = append(out, "\nstartxref\n"...)
	out = strconv.AppendInt(out, int64(xref), 10)
	out = append(out, "\n%%EOF\n"...)
	note := fmt.Sprintf("rebuilt the file from the %d objects found in it, its cross-reference data being broken", count)
	if xrefSound(src, size, bud) {
		note = fmt.Sprintf("rebuilt the file from the %d objects found in it", count)
	}
	if treeNote != "" {
		note += "; " + treeNote
	}
	if hdr > 0 {
		note += fmt.Sprintf("; dropped %d bytes of junk before the header", hdr)
	}
	return out, note, nil
}

func dictOf(o object) dict {
	switch v := o.(type) {
	case dict:
		return v
	case *stream:
		return v.dict
	}
	return nil
}

// dangling counts the objects that the document, read from its catalog
// root and info, refers to but does not hold, and names the lowest. A
// file cut short (an interrupted upload or scan) loses objects at its
// end; rebuilding it would seal a document with parts missing, perhaps
// pages, which no repair should do. A reference to an object number no
// object was ever written for is such a loss too.
func (d *document) dangling(root ref, info object) (int, int, error) {
	seen := map[int]bool{}
	todo := []object{root, info}
	missing, first := 0, 0
	for len(todo) > 0 {
		o := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		switch v := o.(type) {
		case ref:
			if seen[v.num] {
				continue
			}
			seen[v.num] = true
			if int64(len(seen)) > d.bud.lim.MaxObjects {
				return 0, 0, d.tooManyObjects()
			}
			if e, ok := d.xref[v.num]; !ok || e.kind == xrefFree {
				missing++
				if first == 0 || v.num < first {
					first = v.num
				}
				continue
			}
			got, err := d.get(v)
			if err != nil {
				return 0, 0, err
			}
			todo = append(todo, got)
		case dict:
			for _, e := range v {
				todo = append(todo, e.val)
			}
		case array:
			todo = append(todo, v...)
		case *stream:
			for _, e := range v.dict {
				todo = append(todo, e.val)
			}
		}
	}
	return missing, first, nil
}

// rebuiltEncryption checks the trailer's /Encrypt of a file being rebuilt.
// Read through sound cross-reference data, an /Encrypt naming an object
// that does not exist is null, so absent (see setupCrypt). Here the data
// is broken: the object may well be in the file, damaged, with the
// document's strings and streams encrypted under it (pdf.js's
// PDFBOX-4352-0.pdf: its encryption dictionary begins "E<", and its
// content stream is AES data). Reading such a file as plain would seal a
// document that no viewer can show, so the rebuild refuses it, as qpdf
// does ("/Encrypt in trailer dictionary is not a dictionary"). PDFBox
// signs it, unencrypted, over a page it cannot draw.
func (d *document) rebuiltEncryption(enc object) error {
	if enc == nil {
		return nil
	}
	o, err := d.resolve(enc)
	if err == nil && dictOf(o) != nil {
		return nil
	}
	what := "its /Encrypt"
	if r, ok := enc.(ref); ok {
		what = fmt.Sprintf("its encryption dictionary (object %d)", r.num)
	}
	return encrypted("%s cannot be read, the file being damaged: its contents cannot be decrypted, and read as plain they would be sealed unreadable", what)
}

// xrefSound reports whether src reads through its cross-reference data,
// so that the rebuild's note does not blame it when the damage was
// elsewhere (a page tree that must be mended).
func xrefSound(src io.ReaderAt, size int64, bud *budget) bool {
	d, err := open(src, size, bud)
	if err != nil {
		return false
	}
	d.release()
	return true
}
