package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Limits that bound the work and memory spent on one document.
const (
	// maxFileSize keeps every offset within the ten digits of the
	// /ByteRange placeholder, with room for the update.
	maxFileSize = 9_000_000_000
	// maxWindow is the largest object (not stream data) the reader parses.
	maxWindow = 32 << 20
	// maxResolveDepth bounds chains of references resolved while
	// resolving another (a /Length in an object stream in an object
	// stream…), which would otherwise recurse on a hostile file.
	maxResolveDepth = 16
)

// document is a lazily read PDF: it reads the cross-reference chain when
// opened, and each object only when asked for it. It never reads the whole
// file.
type document struct {
	src     io.ReaderAt
	size    int64
	header  int64 // offset of "%PDF-"
	version string

	xref       map[int]xrefEntry
	maxNum     int  // highest object number in any section
	trailer    dict // the newest trailer, with Root, Info, ID and Encrypt filled in from older ones
	startxref  int64
	xrefStream bool // the newest section is a cross-reference stream

	cache map[int]object
	depth int
	// bud is the operation's budget, which every document it opens
	// shares; values counts the values parsed from this document's
	// objects against its MaxValues.
	bud     *budget
	values  valueCount
	crypt   *crypt // set by setupCrypt for an encrypted document
	scratch []byte // parseWindow's buffer: parsed objects never alias it
	// elems and entries are the parsers' stacks of array elements and
	// dictionary entries, kept from one object to the next; see lend.
	elems   []object
	entries []dictEntry
	// rawScratch is streamData's buffer for raw data that decoding
	// copies anyway.
	rawScratch []byte
}

// lend gives p the document's parser stacks, so that reading many
// objects grows them once. Until p gives them back, the document holds
// none, so that a parser started meanwhile cannot share them.
func (d *document) lend(p *parser) {
	p.elems, p.entries = d.elems[:0], d.entries[:0]
	d.elems, d.entries = nil, nil
}

// giveBack takes back the stacks lent to p.
// Stacks grown past maxKeptStack, by an object of very many values, are
// let go rather than kept for the document's life.
func (d *document) giveBack(p *parser) {
	if cap(p.elems) <= maxKeptStack {
		d.elems = p.elems[:0]
	}
	if cap(p.entries) <= maxKeptStack {
		d.entries = p.entries[:0]
	}
}

// maxKeptStack is the most elements or entries a document keeps room for
// in its parser stacks: more than the largest object of most documents.
const maxKeptStack = 1 << 14

// newDocument returns an empty document on src that spends from bud.
func newDocument(src io.ReaderAt, size int64, bud *budget) *document {
	return &document{src: src, size: size, xref: make(map[int]xrefEntry), cache: make(map[int]object),
		bud: bud, values: valueCount{bud: bud}}
}

// open reads the header, the trailer and the cross-reference chain,
// spending from bud.
func open(src io.ReaderAt, size int64, bud *budget) (*document, error) {
	if size < 16 {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrNotPDF, size)
	}
	if size > maxFileSize {
		return nil, fmt.Errorf("%w: file of %d bytes exceeds %d", ErrTooLarge, size, int64(maxFileSize))
	}
	if err := bud.alive(); err != nil {
		return nil, err
	}
	d := newDocument(src, size, bud)
	ok := false
	defer func() {
		if !ok {
			d.release()
		}
	}()
	head, _, err := d.window(0, 1024)
	if err != nil {
		return nil, err
	}
	i := bytes.Index(head, []byte("%PDF-"))
	if i < 0 {
		return nil, fmt.Errorf("%w: no %%PDF- header in the first %d bytes", ErrNotPDF, len(head))
	}
	d.header = int64(i)
	v := head[i+5:]
	n := 0
	for n < len(v) && n < 4 && (v[n] == '.' || v[n] >= '0' && v[n] <= '9') {
		n++
	}
	d.version = string(v[:n])

	tailLen := int64(2048)
	if tailLen > size {
		tailLen = size
	}
	tail, _, err := d.window(size-tailLen, int(tailLen))
	if err != nil {
		return nil, err
	}
	j := bytes.LastIndex(tail, []byte("startxref"))
	if j < 0 {
		if bytes.Contains(tail, []byte("%%EOF")) {
			return nil, damaged(-1, "no startxref before %%%%EOF")
		}
		return nil, fmt.Errorf("%w: no startxref and %%%%EOF at the end", ErrTruncated)
	}
	l := lexer{buf: tail[j+len("startxref"):], eof: true}
	t, err := l.next()
	if err != nil || t.kind != tokInt || t.i < 0 || t.i >= size {
		return nil, damaged(size-tailLen+int64(j), "startxref is not followed by an offset within the file")
	}
	d.startxref = t.i
	if err := d.loadXRef(t.i); err != nil {
		return nil, d.explainShift(err)
	}
	ok = true
	return d, nil
}

// explainShift turns a broken cross-reference chain into a clearer error
// when the cause is junk before the header: then every offset is off by
// the junk's length, and the chain reads correctly from the header on.
func (d *document) explainShift(err error) error {
	if d.header == 0 || !errors.Is(err, ErrDamaged) {
		return err
	}
	shifted := io.NewSectionReader(d.src, d.header, d.size-d.header)
	if _, err2 := open(shifted, d.size-d.header, d.bud); err2 == nil {
		return &shiftError{junk: d.header}
	}
	return err
}

// shiftError reports junk before the header that shifts every offset.
type shiftError struct{ junk int64 }

func (e *shiftError) Error() string {
	return fmt.Sprintf("%v: %d bytes of junk before the %%PDF- header shift every offset; the file is valid without them", ErrDamaged, e.junk)
}

func (e *shiftError) Unwrap() error { return ErrDamaged }

// window reads n bytes at off, fewer at the end of the file; eof reports
// that the window reaches the end.
func (d *document) window(off int64, n int) (buf []byte, eof bool, err error) {
	return d.windowInto(nil, off, n)
}

// windowInto is window reading into buf's storage when it is large enough.
func (d *document) windowInto(buf []byte, off int64, n int) (_ []byte, eof bool, err error) {
	if off < 0 || off > d.size {
		return nil, false, damaged(off, "offset outside the file of %d bytes", d.size)
	}
	if int64(n) >= d.size-off {
		n = int(d.size - off)
		eof = true
	}
	if cap(buf) >= n {
		buf = buf[:n]
	} else {
		buf = make([]byte, n)
	}
	m, err := d.src.ReadAt(buf, off)
	if m < n {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, false, fmt.Errorf("%w: read %d of %d bytes at %d", ErrTruncated, m, n, off)
		}
		return nil, false, fmt.Errorf("pdf: reading at byte %d: %w", off, err)
	}
	return buf, eof, nil
}

// parseWindow calls parse on a window at off, and again on larger windows
// while parse reports errIncomplete.
func (d *document) parseWindow(off int64, n int, parse func(buf []byte, eof bool) error) error {
	// An object is no larger than a stream may be.
	limit, name := int64(maxWindow), "largest object"
	if l := d.bud.lim.MaxStreamBytes; l < limit {
		limit, name = l, "MaxStreamBytes"
	}
	for {
		buf, eof, err := d.windowInto(d.scratch, off, n)
		if err != nil {
			return err
		}
		if cap(buf) <= maxScratch {
			d.scratch = buf
		}
		err = parse(buf, eof)
		if !errors.Is(err, errIncomplete) {
			return err
		}
		if eof {
			return fmt.Errorf("%w: object at byte %d runs past the end", ErrTruncated, off)
		}
		if int64(n) >= limit {
			return &LimitError{Limit: name, Max: limit, What: fmt.Sprintf("the object at byte %d", off)}
		}
		n = int(min(int64(n)*4, limit))
	}
}

// maxScratch bounds the window that the document keeps for the next
// object: one large object should not stay in memory with it.
const maxScratch = 1 << 20

// syntaxErr converts a lexing or parsing error into ErrDamaged at off.
func syntaxErr(off int64, what string, err error) error {
	if errors.Is(err, errSyntax) {
		return damaged(off, "%s: %v", what, err)
	}
	return err
}

// readObject parses the indirect object at off. want is the object the
// cross-reference entry promises; want.num 0 accepts any (for
// cross-reference streams, which are found by offset alone).
func (d *document) readObject(off int64, want ref) (object, ref, error) {
	var (
		obj       object
		got       ref
		dataStart int64 = -1
	)
	counted := d.values.n
	err := d.parseWindow(off, 4096, func(buf []byte, eof bool) error {
		d.values.reset(counted) // a parse cut short by its window counts nothing
		p := newParser(buf, eof)
		p.values = &d.values
		d.lend(p)
		defer d.giveBack(p)
		hdr, ok, err := p.objHeader()
		if err != nil {
			return err
		}
		if !ok {
			return damaged(off, "no \"N G obj\" where object %d should start", want.num)
		}
		got = hdr
		if obj, err = p.object(); err != nil {
			return err
		}
		t, err := p.lex.next()
		if err != nil {
			return err
		}
		if t.is("stream") {
			if _, ok := obj.(dict); !ok {
				return damaged(off, "stream keyword after a %T", obj)
			}
			pos := p.lex.pos
			if pos < len(buf) && buf[pos] == '\r' {
				pos++
			}
			if pos < len(buf) && buf[pos] == '\n' {
				pos++
			}
			if pos >= len(buf) && !eof {
				return errIncomplete
			}
			dataStart = off + int64(pos)
		}
		return nil
	})
	if err != nil {
		return nil, got, syntaxErr(off, fmt.Sprintf("object %d", want.num), err)
	}
	if want.num != 0 && (got.num != want.num || got.gen != want.gen) {
		return nil, got, damaged(off, "cross-reference entry for object %d %d points to object %d %d", want.num, want.gen, got.num, got.gen)
	}
	if dataStart < 0 {
		return obj, got, nil
	}
	s := &stream{dict: obj.(dict), off: dataStart, ref: got}
	if err := d.streamLength(s, got); err != nil {
		return nil, got, err
	}
	return s, got, nil
}

// streamLength sets s.n from /Length, checking that endstream follows; if
// it does not, the data is taken to end before the next endstream, as
// other readers do.
func (d *document) streamLength(s *stream, r ref) error {
	lo, err := d.resolve(s.dict.get("Length"))
	if err != nil {
		return err
	}
	if n, ok := asInt(lo); ok && n >= 0 && n <= d.size-s.off {
		tail, _, err := d.window(s.off+n, 32)
		if err != nil {
			return err
		}
		l := lexer{buf: tail, eof: true}
		if t, err := l.next(); err == nil && t.is("endstream") {
			s.n = n
			return nil
		}
		// Also accept "endstream" glued to the data without an EOL.
		if bytes.HasPrefix(tail, []byte("endstream")) {
			s.n = n
			return nil
		}
	}
	// Search for endstream, as far as a stream may be long.
	const chunk = 64 << 10
	for pos := s.off; pos < d.size && pos-s.off <= d.bud.lim.MaxStreamBytes; pos += chunk - 16 {
		buf, _, err := d.window(pos, chunk)
		if err != nil {
			return err
		}
		if i := bytes.Index(buf, []byte("endstream")); i >= 0 {
			end := pos + int64(i)
			data := buf[:i]
			switch {
			case bytes.HasSuffix(data, []byte("\r\n")):
				end -= 2
			case bytes.HasSuffix(data, []byte("\n")), bytes.HasSuffix(data, []byte("\r")):
				end--
			}
			if end < s.off {
				end = s.off
			}
			s.n = end - s.off
			return nil
		}
	}
	return damaged(s.off, "stream of object %d has no endstream", r.num)
}

// resolve follows o if it is a reference.
func (d *document) resolve(o object) (object, error) {
	r, ok := o.(ref)
	if !ok {
		return o, nil
	}
	return d.get(r)
}

// get returns the object r refers to, or nil (the null object) when no
// cross-reference entry defines it, as the standard says.
func (d *document) get(r ref) (object, error) {
	if o, ok := d.cache[r.num]; ok {
		return o, nil
	}
	e, ok := d.xref[r.num]
	if !ok || e.kind == xrefFree || int(e.gen) != r.gen {
		return nil, nil
	}
	if d.depth++; d.depth > maxResolveDepth {
		d.depth--
		return nil, damaged(-1, "references nested deeper than %d while reading object %d", maxResolveDepth, r.num)
	}
	defer func() { d.depth-- }()
	var o object
	var err error
	switch e.kind {
	case xrefOffset:
		o, _, err = d.readObject(e.off, r)
	case xrefCompressed:
		o, err = d.compressedObject(int(e.off), int(e.idx), r.num)
	}
	if err != nil {
		return nil, err
	}
	d.cache[r.num] = o
	return o, nil
}

// getDict resolves o and returns it as a dictionary; a stream yields its
// dictionary. what names the object for the error.
func (d *document) getDict(o object, what string) (dict, error) {
	o, err := d.resolve(o)
	if err != nil {
		return nil, err
	}
	switch v := o.(type) {
	case dict:
		return v, nil
	case *stream:
		return v.dict, nil
	}
	return nil, damaged(-1, "%s is %s, not a dictionary", what, typeName(o))
}

// streamData returns the decoded data of s. What it decodes counts
// against the document's budget; see decodeFilters.
func (d *document) streamData(s *stream) ([]byte, error) {
	if s.data != nil {
		return s.data, nil
	}
	if err := d.bud.alive(); err != nil {
		return nil, err
	}
	if s.n > d.bud.lim.MaxStreamBytes {
		return nil, &LimitError{Limit: "MaxStreamBytes", Max: d.bud.lim.MaxStreamBytes,
			What: fmt.Sprintf("stream %d of %d bytes at byte %d", s.ref.num, s.n, s.off)}
	}
	var buf []byte
	if s.n <= maxRawScratch && inflatesFirst(s) {
		// The decoded data is a new buffer whatever the raw data was
		// read into, so the raw data can go into the document's scratch.
		// The scratch is taken for the duration, as decoding may read
		// another stream (an object stream holding the filter's name).
		buf, d.rawScratch = d.rawScratch, nil
		defer func() { d.rawScratch = buf[:0] }()
	}
	raw, _, err := d.windowInto(buf, s.off, int(s.n))
	if err != nil {
		return nil, err
	}
	buf = raw
	if d.crypt != nil && d.streamEncrypted(s) {
		if raw, err = d.crypt.decrypt(s.ref, d.crypt.stm, raw); err != nil {
			return nil, err
		}
	}
	return d.decodeFilters(s, raw)
}

// maxRawScratch bounds the raw data streamData reads into the document's
// scratch, so that one large stream does not stay in memory with it.
const maxRawScratch = 256 << 10

// inflatesFirst reports whether the first filter of s is FlateDecode, given
// directly, which makes decodeFilters return data in a buffer of its own.
func inflatesFirst(s *stream) bool {
	f := s.dict.get("Filter")
	if a, ok := f.(array); ok && len(a) > 0 {
		f = a[0]
	}
	n, _ := f.(name)
	return n == "FlateDecode" || n == "Fl"
}

// streamEncrypted reports whether a stream of an encrypted document is
// encrypted: all are but cross-reference streams, metadata when the
// handler says so, and streams with their own crypt filter.
func (d *document) streamEncrypted(s *stream) bool {
	switch nameOf(s.dict.get("Type")) {
	case "XRef":
		return false
	case "Metadata":
		if !d.crypt.encryptMetadata {
			return false
		}
	}
	f := s.dict.get("Filter")
	if nameOf(f) == "Crypt" {
		return false
	}
	if fa, ok := f.(array); ok && len(fa) > 0 && nameOf(fa[0]) == "Crypt" {
		return false
	}
	return true
}

// text decodes a text string of object r, decrypting it first in an
// encrypted document.
func (d *document) text(r ref, s str) string {
	if d.crypt != nil && r.num != 0 {
		if p, err := d.crypt.decrypt(r, d.crypt.str, s); err == nil {
			s = p
		}
	}
	return decodeText(s)
}

func typeName(o object) string {
	switch o.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case real:
		return "a real"
	case name:
		return "a name"
	case str:
		return "a string"
	case array:
		return "an array"
	case dict:
		return "a dictionary"
	case ref:
		return "a reference"
	case *stream:
		return "a stream"
	}
	return fmt.Sprintf("%T", o)
}
