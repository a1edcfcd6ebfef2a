package pdf

import (
	"fmt"
	"math"
)

// The verification QR code: a QR symbol drawn beside the seal, in the same
// signed revision, that leads a reader to the county's verification page
// (package seal makes the symbol and says what it encodes; this file only
// draws it). It is a stamp annotation of its own, with an appearance of its
// own — a form XObject of rectangles, one per run of dark modules in a
// row, on a white square that keeps the quiet zone — and never part of the
// seal's widget, whose appearance a verifier compares with the seal's
// registered picture (picturedigest.go). Being in the signed revision, it
// is covered by the signature like the seal: changing it afterwards is a
// change after sealing, which the verifier reports.

// QRCode is a QR symbol to draw beside the seal.
type QRCode struct {
	// Modules is the symbol, row by row from the top, true for dark; it is
	// square, 21 to 177 modules a side (versions 1 to 40), without the
	// quiet zone, which the drawing adds (4 modules on every side).
	Modules [][]bool
	// SizeMM is the side of the square drawn, quiet zone included, in
	// millimetres (10 to 60).
	SizeMM float64
	// Text is what the symbol encodes; it becomes the annotation's
	// /Contents, which screen readers and viewers' comment lists show.
	Text string
}

// qrQuiet is the quiet zone, in modules, on every side (ISO/IEC 18004:2015
// §9.1 asks for 4).
const qrQuiet = 4

// qrGap is the space between the seal and the code, in millimetres.
const qrGap = 3.0

func (q *QRCode) check() error {
	n := len(q.Modules)
	if n < 21 || n > 177 || (n-17)%4 != 0 {
		return fmt.Errorf("%w: a QR code of %d rows is no QR symbol (21 to 177, 4k+17)", ErrBadRequest, n)
	}
	for i, row := range q.Modules {
		if len(row) != n {
			return fmt.Errorf("%w: QR code row %d has %d modules, not %d", ErrBadRequest, i, len(row), n)
		}
	}
	if !(q.SizeMM >= 10 && q.SizeMM <= 60) {
		return fmt.Errorf("%w: QR code size %.1f mm is outside 10–60 mm", ErrBadRequest, q.SizeMM)
	}
	return nil
}

// qrContent is the symbol's content stream in a square side points wide:
// a white square, then the dark modules in black, each row's runs of
// adjacent dark modules as one rectangle.
func qrContent(modules [][]bool, side float64) []byte {
	n := len(modules)
	m := side / float64(n+2*qrQuiet)
	b := []byte("q 1 g 0 0 ")
	b = appendReal(b, float64(num(side)))
	b = append(b, ' ')
	b = appendReal(b, float64(num(side)))
	b = append(b, " re f 0 g\n"...)
	for r, row := range modules {
		y := side - float64(qrQuiet+r+1)*m
		for c := 0; c < n; {
			if !row[c] {
				c++
				continue
			}
			start := c
			for c < n && row[c] {
				c++
			}
			b = appendReal(b, float64(num(float64(qrQuiet+start)*m)))
			b = append(b, ' ')
			b = appendReal(b, float64(num(y)))
			b = append(b, ' ')
			b = appendReal(b, float64(num(float64(c-start)*m)))
			b = append(b, ' ')
			b = appendReal(b, float64(num(m)))
			b = append(b, " re\n"...)
		}
	}
	return append(b, "f Q\n"...)
}

// qrSpot places the code beside the seal drawn at sp: to its right or
// left (its lower edge on the seal's, or else its upper edge), or below or
// above it, whichever first lies wholly on the page as seen and covers none
// of the page's text (ink, glyph boxes as seen; nil when the text cannot
// be read). The white square under the code would hide what it covers.
// why says why none fits, when ok is false.
func qrSpot(sp spot, sizeMM float64, ink []rect) (qs spot, ok bool, why string) {
	p := sp.page
	u := p.unit()
	side := sizeMM * ptPerMM // points; the appearance's box
	s := side / u            // user space units, as seen
	gap := p.mm(qrGap)
	// The seal's box as seen.
	x0, y0 := p.toView(sp.rect.llx, sp.rect.lly)
	x1, y1 := p.toView(sp.rect.urx, sp.rect.ury)
	l, r := math.Min(x0, x1), math.Max(x0, x1)
	bot, top := math.Min(y0, y1), math.Max(y0, y1)
	cx := (l + r) / 2
	w, h := p.viewSize()
	why = "it lies off the page on every side of the seal"
	for _, c := range []struct {
		x, y  float64
		where string
	}{
		{r + gap + s/2, bot + s/2, "right of the seal"},
		{r + gap + s/2, top - s/2, "right of the seal"},
		{l - gap - s/2, bot + s/2, "left of the seal"},
		{l - gap - s/2, top - s/2, "left of the seal"},
		{cx, bot - gap - s/2, "below the seal"},
		{cx, top + gap + s/2, "above the seal"},
	} {
		box := rect{c.x - s/2, c.y - s/2, c.x + s/2, c.y + s/2}
		if box.llx < 0 || box.urx > w || box.lly < 0 || box.ury > h {
			continue
		}
		if coversAny(box, ink) {
			why = "wherever it fits on the page beside the seal it would cover text"
			continue
		}
		qs = p.place(c.x, c.y, side, side)
		qs.why = c.where
		return qs, true, ""
	}
	return spot{}, false, why
}

// coversAny reports whether box overlaps any of rs.
func coversAny(box rect, rs []rect) bool {
	for _, g := range rs {
		if g.llx < box.urx && box.llx < g.urx && g.lly < box.ury && box.lly < g.ury {
			return true
		}
	}
	return false
}

// pageInk is the boxes, as seen, of the visible glyphs on p; nil when its
// text cannot be read (the code is then placed by the page's edges alone).
func (s *sealer) pageInk(p *page) []rect {
	pl, err := newPlacer(s.d, s.req.Image)
	if err != nil {
		return nil
	}
	t, err := pl.text(p)
	if err != nil {
		return nil
	}
	var ink []rect
	for _, g := range t.glyphs {
		if g.n > 0 {
			ink = append(ink, g.box)
		}
	}
	return ink
}

// writeQR draws req.QR beside the seal's first spot as a stamp annotation
// named field-qr, returning the spots and annotations with its own
// appended; when the code fits nowhere on the page without covering text,
// or the document's
// certification permits no added annotations, it is left out and
// Result.QRNote says why.
func (s *sealer) writeQR(spots []spot, annots []ref, field string) ([]spot, []ref) {
	q := s.req.QR
	if q == nil || len(spots) == 0 {
		return spots, annots
	}
	if s.f.docMDP == 2 {
		s.res.QRNote = "the verification QR code was left out: the document's certification (DocMDP P=2) permits no added annotations"
		return spots, annots
	}
	sp, ok, why := qrSpot(spots[0], q.SizeMM, s.pageInk(spots[0].page))
	if !ok {
		s.res.QRNote = fmt.Sprintf("the verification QR code (%.0f mm) was left out on page %d: %s", q.SizeMM, spots[0].page.index+1, why)
		return spots, annots
	}
	u := s.u
	side := q.SizeMM * ptPerMM
	content := qrContent(q.Modules, side)
	form, err := deflate(content)
	ap := u.alloc()
	fd := dict{
		{"Type", name("XObject")},
		{"Subtype", name("Form")},
		{"BBox", array{int64(0), int64(0), num(side), num(side)}},
		{"Resources", dict{}},
	}
	if sp.matrix != [6]float64{1, 0, 0, 1, 0, 0} {
		m := make(array, 6)
		for i, v := range sp.matrix {
			m[i] = num(v)
		}
		fd = append(fd, dictEntry{"Matrix", m})
	}
	if err == nil {
		fd = append(fd, dictEntry{"Filter", name("FlateDecode")})
		content = form
	}
	u.putNew(ap, &stream{dict: fd, data: content})
	r := u.alloc()
	u.putNew(r, dict{
		{"Type", name("Annot")},
		{"Subtype", name("Stamp")},
		{"Rect", rectArray(sp.rect)},
		{"P", sp.page.ref},
		{"AP", dict{{"N", ap}}},
		{"F", int64(annotPrint | annotReadOnly | annotLocked)},
		{"NM", textString(field + "-qr")},
		{"Contents", textString(q.Text)},
	})
	rc := sp.rect
	s.res.QR = &Placed{Page: sp.page.index + 1, Rect: [4]float64{
		float64(num(rc.llx)), float64(num(rc.lly)), float64(num(rc.urx)), float64(num(rc.ury))}, Why: sp.why}
	return append(spots, sp), append(annots, r)
}
