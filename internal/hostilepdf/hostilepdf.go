// Package hostilepdf generates hostile documents for tests and benchmarks:
// small on disk, huge when read. Each is generated in memory, never
// committed: the cost of reading one lies in what its streams decode to
// or what its objects parse into, and that is what pdf.Limits bound.
// Files lists them for package pdf's tests, which seal and verify each,
// and for the peak-memory benchmarks of pdf and service, which measure
// what sealing or verifying them costs. It writes bytes and touches
// nothing else.
package hostilepdf

import (
	"bytes"
	"compress/flate"
	"fmt"
	"strings"
	"sync"
)

// Named returns the hostile document name, built once per process and
// shared: the caller must not change it. ok is false when Files has no
// such document.
func Named(name string) (doc []byte, ok bool) {
	built.Lock()
	defer built.Unlock()
	if doc, ok := built.docs[name]; ok {
		return doc, true
	}
	for _, f := range Files() {
		if f.Name == name {
			doc = f.Build()
			built.docs[name] = doc
			return doc, true
		}
	}
	return nil, false
}

var built = struct {
	sync.Mutex
	docs map[string][]byte
}{docs: map[string][]byte{}}

// File is one hostile document.
type File struct {
	Name string
	// What says how the file is hostile.
	What string
	// Build makes the file.
	Build func() []byte
}

// The sizes that the hardening issue reported, or that exceed one of the
// default limits by a wide margin.
const (
	MiB            = 1 << 20
	bigStream      = 60 * MiB // what one stream of the issue inflates to
	MidStream      = 12 * MiB // under the default MaxStreamBytes, over the default budget in a few copies
	bombStream     = 1 << 30  // the flate bomb
	deepNesting    = 10_000   // arrays and dictionaries nested this deep
	SharedPages    = 200      // pages that share one content stream
	formRedraws    = 500_000  // times one form is drawn
	wideArray      = 7 << 20  // elements of one array
	xrefBombCount  = 8_000_000
	textBombGlyphs = 2 << 20
)

// Files returns the hostile documents, in a fixed order.
func Files() []File {
	return []File{
		{"repeated-content-8", "a page's /Contents names one stream that inflates to 60 MiB, 8 times",
			func() []byte { return repeatedContentPDF(8, bigStream) }},
		{"repeated-content-50", "a page's /Contents names one stream that inflates to 60 MiB, 50 times",
			func() []byte { return repeatedContentPDF(50, bigStream) }},
		{"objstms-16x60MiB", "16 pages, each in an object stream that inflates to 60 MiB",
			func() []byte { return ObjStms(16, bigStream) }},
		{"objstms-48x60MiB", "48 pages, each in an object stream that inflates to 60 MiB",
			func() []byte { return ObjStms(48, bigStream) }},
		{"objstms-16x12MiB", "16 pages, each in an object stream that inflates to 12 MiB",
			func() []byte { return ObjStms(16, MidStream) }},
		{"flate-bomb", "a page's content stream inflates to 1 GiB",
			func() []byte { return flateBombPDF(bombStream) }},
		{"deep-nesting", "arrays and dictionaries nested 10,000 deep in a page and in its content",
			deepNestingPDF},
		{"shared-content-200p", "200 pages share one content stream that inflates to 12 MiB",
			func() []byte { return sharedContentPDF(SharedPages, MidStream) }},
		{"form-redraw", "a page draws a form that inflates to 6 MiB, 500,000 times",
			func() []byte { return FormRedraw(formRedraws, 6*MiB) }},
		{"wide-array", "a page in an object stream holds an array of 7 million numbers",
			func() []byte { return wideArrayPDF(wideArray) }},
		{"xref-bomb", "a cross-reference stream defines 8 million objects",
			func() []byte { return xrefBombPDF(xrefBombCount) }},
		{"text-bomb", "a page's content shows 2 million glyphs",
			func() []byte { return textBombPDF(textBombGlyphs) }},
	}
}

// Builder writes a PDF of numbered objects, some of them in object
// streams, with a cross-reference stream.
type Builder struct {
	buf  bytes.Buffer
	rows map[int][3]int64 // object number: type, field 2, field 3 of its cross-reference row
	max  int
}

func NewBuilder() *Builder {
	b := &Builder{rows: map[int][3]int64{}}
	b.buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	return b
}

func (b *Builder) note(num int, row [3]int64) {
	b.rows[num] = row
	b.max = max(b.max, num)
}

// Obj writes object num with body.
func (b *Builder) Obj(num int, body string) {
	b.note(num, [3]int64{1, int64(b.buf.Len()), 0})
	fmt.Fprintf(&b.buf, "%d 0 obj\n%s\nendobj\n", num, body)
}

// stream writes stream num: dict holds the entries but /Length.
func (b *Builder) stream(num int, dict string, data []byte) {
	b.note(num, [3]int64{1, int64(b.buf.Len()), 0})
	fmt.Fprintf(&b.buf, "%d 0 obj\n<<%s/Length %d>>\nstream\n", num, dict, len(data))
	b.buf.Write(data)
	b.buf.WriteString("\nendstream\nendobj\n")
}

// flateStream writes stream num holding data compressed, padded with pad
// bytes of padByte that are compressed once for all the files.
func (b *Builder) flateStream(num int, dict string, data []byte, padByte byte, pad int) {
	b.stream(num, dict+"/Filter/FlateDecode", ZlibPadded(data, padByte, pad))
}

// objStm writes object stream num holding objs (numbered from first),
// padded with white space to pad decoded bytes in all.
func (b *Builder) objStm(num int, first int, objs []string, pad int) {
	var head, body strings.Builder
	for i, o := range objs {
		fmt.Fprintf(&head, "%d %d ", first+i, body.Len())
		body.WriteString(o)
		body.WriteString("\n")
		b.note(first+i, [3]int64{2, int64(num), int64(i)})
	}
	data := head.String() + body.String()
	b.flateStream(num, fmt.Sprintf("/Type/ObjStm/N %d/First %d", len(objs), head.Len()), []byte(data), ' ', max(0, pad-len(data)))
}

// Finish writes the cross-reference stream and the trailer.
func (b *Builder) Finish(root int) []byte {
	xnum := b.max + 1
	off := b.buf.Len()
	b.note(xnum, [3]int64{1, int64(off), 0})
	var rows bytes.Buffer
	rows.Write([]byte{0, 0, 0, 0, 0, 0xff, 0xff})
	for n := 1; n <= xnum; n++ {
		r := b.rows[n]
		rows.Write([]byte{byte(r[0]), byte(r[1] >> 24), byte(r[1] >> 16), byte(r[1] >> 8), byte(r[1]), byte(r[2] >> 8), byte(r[2])})
	}
	fmt.Fprintf(&b.buf, "%d 0 obj\n<</Type/XRef/Size %d/W[1 4 2]/Root %d 0 R/Length %d>>\nstream\n", xnum, xnum+1, root, rows.Len())
	b.buf.Write(rows.Bytes())
	fmt.Fprintf(&b.buf, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", off)
	return b.buf.Bytes()
}

// ZlibPadded returns data followed by pad bytes of c, zlib-compressed. The
// padding is made of blocks that deflate a mebibyte of c, compressed once:
// a block that refers only to the bytes it makes itself is valid after
// any byte-aligned prefix, so the blocks are repeated, not recompressed.
// The Adler-32 trailer is zero, as the reader does not check it.
func ZlibPadded(data []byte, c byte, pad int) []byte {
	out := []byte{0x78, 0xda}
	out = append(out, deflateFlushed(data)...)
	chunk := deflateChunk(c)
	for ; pad >= MiB; pad -= MiB {
		out = append(out, chunk...)
	}
	out = append(out, deflateFlushed(bytes.Repeat([]byte{c}, pad))...)
	out = append(out, 0x03, 0x00) // an empty final block
	return append(out, 0, 0, 0, 0)
}

// deflateFlushed compresses b into blocks that end byte-aligned and are
// not final.
func deflateFlushed(b []byte) []byte {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		panic(err)
	}
	w.Write(b)
	w.Flush()
	return buf.Bytes()
}

var chunks sync.Map // byte -> []byte: deflateFlushed of a mebibyte of it

func deflateChunk(c byte) []byte {
	if v, ok := chunks.Load(c); ok {
		return v.([]byte)
	}
	v := deflateFlushed(bytes.Repeat([]byte{c}, MiB))
	chunks.Store(c, v)
	return v
}

// PagesObj is a page tree of the pages numbered from first.
func PagesObj(first, n int) string {
	var kids strings.Builder
	for i := range n {
		fmt.Fprintf(&kids, "%d 0 R ", first+i)
	}
	return fmt.Sprintf("<</Type/Pages/Count %d/Kids[%s]/MediaBox[0 0 595 842]>>", n, kids.String())
}

// textFont is the resources of a page that shows text in Helvetica.
const textFont = "/Resources<</Font<</F1<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>>>>>"

// drawing is a line of page content that draws and shows nothing.
const drawing = "1 0 0 1 0 0 cm\n"

// RepeatedDrawing returns n bytes of drawing, repeated.
func RepeatedDrawing(n int) []byte {
	return bytes.Repeat([]byte(drawing), n/len(drawing))
}

// repeatedContentPDF is one page whose /Contents array names one stream,
// which inflates to size bytes, n times.
func repeatedContentPDF(n, size int) []byte {
	b := NewBuilder()
	b.Obj(1, "<</Type/Catalog/Pages 2 0 R>>")
	b.Obj(2, PagesObj(3, 1))
	b.Obj(3, "<</Type/Page/Parent 2 0 R/Contents["+strings.Repeat("4 0 R ", n)+"]"+textFont+">>")
	b.flateStream(4, "", []byte("BT /F1 12 Tf 72 720 Td (Township approval) Tj ET\n"), ' ', size)
	return b.Finish(1)
}

// ObjStms has n pages, each in an object stream of its own that
// inflates to size bytes, with its resources: reading a page reads two
// objects of the stream.
func ObjStms(n, size int) []byte {
	b := NewBuilder()
	b.Obj(1, "<</Type/Catalog/Pages 2 0 R>>")
	var kids strings.Builder
	for i := range n {
		fmt.Fprintf(&kids, "%d 0 R ", 3+2*i)
	}
	b.Obj(2, fmt.Sprintf("<</Type/Pages/Count %d/Kids[%s]/MediaBox[0 0 595 842]>>", n, kids.String()))
	content := 3 + 2*n
	b.stream(content, "", []byte("BT /F1 12 Tf 72 720 Td (Township approval) Tj ET\n"))
	for i := range n {
		page := fmt.Sprintf("<</Type/Page/Parent 2 0 R/Contents %d 0 R/Resources %d 0 R>>", content, 4+2*i)
		b.objStm(content+1+i, 3+2*i, []string{page, textFont[len("/Resources"):]}, size)
	}
	return b.Finish(1)
}

// SharedObjStm has n pages that all lie, with their resources, in one
// object stream that inflates to size bytes, as a generator that packs
// every object in one stream writes them (pdf.js bug1978317.pdf: 65,542
// objects in a stream of 13 MB). Reading every page reads 2n objects of
// the one stream.
func SharedObjStm(n, size int) []byte {
	b := NewBuilder()
	b.Obj(1, "<</Type/Catalog/Pages 2 0 R>>")
	var kids strings.Builder
	objs := make([]string, 0, 2*n)
	content := 3 + 2*n
	for i := range n {
		fmt.Fprintf(&kids, "%d 0 R ", 3+2*i)
		objs = append(objs, fmt.Sprintf("<</Type/Page/Parent 2 0 R/Contents %d 0 R/Resources %d 0 R>>", content, 4+2*i),
			textFont[len("/Resources"):])
	}
	b.Obj(2, fmt.Sprintf("<</Type/Pages/Count %d/Kids[%s]/MediaBox[0 0 595 842]>>", n, kids.String()))
	b.stream(content, "", []byte("BT /F1 12 Tf 72 720 Td (Township approval) Tj ET\n"))
	b.objStm(content+1, 3, objs, size)
	return b.Finish(1)
}

// flateBombPDF is one page whose content stream inflates to size bytes.
func flateBombPDF(size int) []byte {
	b := NewBuilder()
	b.Obj(1, "<</Type/Catalog/Pages 2 0 R>>")
	b.Obj(2, PagesObj(3, 1))
	b.Obj(3, "<</Type/Page/Parent 2 0 R/Contents 4 0 R"+textFont+">>")
	b.flateStream(4, "", nil, ' ', size)
	return b.Finish(1)
}

// deepNestingPDF nests arrays and dictionaries deepNesting deep in a page
// dictionary, in an object stream, and in the page's content.
func deepNestingPDF() []byte {
	deep := strings.Repeat("[<</A ", deepNesting/2) + "0" + strings.Repeat(">>]", deepNesting/2)
	b := NewBuilder()
	b.Obj(1, "<</Type/Catalog/Pages 2 0 R/Names "+deep+">>")
	b.Obj(2, PagesObj(3, 2))
	b.Obj(3, "<</Type/Page/Parent 2 0 R/Contents 5 0 R/Deep "+deep+textFont+">>")
	b.objStm(6, 4, []string{"<</Type/Page/Parent 2 0 R/Contents 5 0 R/Annots " + deep + textFont + ">>"}, 0)
	b.flateStream(5, "", []byte("BT /F1 12 Tf 72 720 Td "+deep+" TJ ET\n"), ' ', 0)
	return b.Finish(1)
}

// sharedContentPDF has n pages that share one content stream, which
// inflates to size bytes.
func sharedContentPDF(n, size int) []byte {
	b := NewBuilder()
	b.Obj(1, "<</Type/Catalog/Pages 2 0 R>>")
	b.Obj(2, PagesObj(3, n))
	content := 3 + n
	for i := range n {
		b.Obj(3+i, fmt.Sprintf("<</Type/Page/Parent 2 0 R/Contents %d 0 R%s>>", content, textFont))
	}
	b.flateStream(content, "", RepeatedDrawing(64<<10), '\n', size)
	return b.Finish(1)
}

// FormRedraw is one page that draws one form n times; the form's
// content inflates to size bytes.
func FormRedraw(n, size int) []byte {
	b := NewBuilder()
	b.Obj(1, "<</Type/Catalog/Pages 2 0 R>>")
	b.Obj(2, PagesObj(3, 1))
	b.Obj(3, "<</Type/Page/Parent 2 0 R/Contents 4 0 R/Resources<</XObject<</Fm0 5 0 R>>>>>>")
	b.flateStream(4, "", bytes.Repeat([]byte("/Fm0 Do\n"), n), ' ', 0)
	b.flateStream(5, "/Type/XObject/Subtype/Form/BBox[0 0 595 842]", RepeatedDrawing(64<<10), '\n', size)
	return b.Finish(1)
}

// wideArrayPDF is one page, in an object stream, whose dictionary holds an
// array of n numbers.
func wideArrayPDF(n int) []byte {
	b := NewBuilder()
	b.Obj(1, "<</Type/Catalog/Pages 2 0 R>>")
	b.Obj(2, PagesObj(3, 1))
	b.stream(4, "", []byte("BT /F1 12 Tf 72 720 Td (Township approval) Tj ET\n"))
	const head = "3 0 "
	b.note(3, [3]int64{2, 5, 0})
	data := zlibPattern([]byte(head+"<</Type/Page/Parent 2 0 R/Contents 4 0 R"+textFont+"/Wide["), "0 ", n, []byte("]>>\n"))
	b.stream(5, fmt.Sprintf("/Type/ObjStm/N 1/First %d/Filter/FlateDecode", len(head)), data)
	return b.Finish(1)
}

// zlibPattern returns prefix, pattern repeated about n times (whole
// mebibytes of it), and suffix, zlib-compressed as ZlibPadded does.
func zlibPattern(prefix []byte, pattern string, n int, suffix []byte) []byte {
	out := []byte{0x78, 0xda}
	out = append(out, deflateFlushed(prefix)...)
	chunk := deflateChunkOf(pattern)
	per := MiB / len(pattern)
	for k := 0; k < n; k += per {
		out = append(out, chunk...)
	}
	out = append(out, deflateFlushed(suffix)...)
	return append(out, 0x03, 0x00, 0, 0, 0, 0)
}

var patternChunks sync.Map // string -> []byte: deflateFlushed of a mebibyte's worth of it

// deflateChunkOf is deflateChunk for a pattern: as many whole copies of
// it as a mebibyte holds.
func deflateChunkOf(pattern string) []byte {
	if v, ok := patternChunks.Load(pattern); ok {
		return v.([]byte)
	}
	v := deflateFlushed(bytes.Repeat([]byte(pattern), MiB/len(pattern)))
	patternChunks.Store(pattern, v)
	return v
}

// xrefBombPDF is one plain page whose cross-reference stream defines n
// free objects beside its own.
func xrefBombPDF(n int) []byte {
	b := NewBuilder()
	b.Obj(1, "<</Type/Catalog/Pages 2 0 R>>")
	b.Obj(2, PagesObj(3, 1))
	b.Obj(3, "<</Type/Page/Parent 2 0 R/Contents 4 0 R"+textFont+">>")
	b.stream(4, "", []byte("BT /F1 12 Tf 72 720 Td (Township approval) Tj ET\n"))
	off := b.buf.Len()
	var rows bytes.Buffer
	rows.Write([]byte{0, 0, 0, 0, 0, 0xff, 0xff})
	for num := 1; num <= 4; num++ {
		r := b.rows[num]
		rows.Write([]byte{1, byte(r[1] >> 24), byte(r[1] >> 16), byte(r[1] >> 8), byte(r[1]), 0, 0})
	}
	rows.Write([]byte{1, byte(off >> 24), byte(off >> 16), byte(off >> 8), byte(off), 0, 0})
	// Then n free objects, seven zero bytes each.
	data := ZlibPadded(rows.Bytes(), 0, n*7)
	fmt.Fprintf(&b.buf, "5 0 obj\n<</Type/XRef/Size %d/W[1 4 2]/Root 1 0 R/Filter/FlateDecode/Length %d>>\nstream\n", 6+n, len(data))
	b.buf.Write(data)
	fmt.Fprintf(&b.buf, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", off)
	return b.buf.Bytes()
}

// textBombPDF is one page whose content shows about n glyphs.
func textBombPDF(n int) []byte {
	b := NewBuilder()
	b.Obj(1, "<</Type/Catalog/Pages 2 0 R>>")
	b.Obj(2, PagesObj(3, 1))
	b.Obj(3, "<</Type/Page/Parent 2 0 R/Contents 4 0 R"+textFont+">>")
	const show = "(abcd) Tj " // four glyphs
	b.stream(4, "/Filter/FlateDecode", zlibPattern([]byte("BT /F1 1 Tf "), show, n/4, []byte(" ET\n")))
	return b.Finish(1)
}
