package pdf

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Where the seal goes. Positions are given as the page is seen: after its
// /Rotate, within its CropBox, x to the right and y up, in millimetres. The
// engine maps them to the page's default user space, and counter-rotates
// the seal's appearance so that it stands upright on a rotated page.
//
// A seal is always drawn wholly on the page: within its crop box (the
// CropBox, inherited, intersected with the MediaBox), which is what viewers
// show and print. Its size is fixed by regulation (42 mm), so it is never
// scaled to fit: on a page whose /UserUnit makes a unit larger than a
// point, the seal takes fewer units, so that it keeps its true size. Default
// and Keyword move a seal that would cross an edge back onto the page; At
// and Riding, which name a position, are refused when the seal would not
// lie wholly on the page, as is any placement on a page smaller than the
// seal. The refusal wraps ErrSealOffPage and says why.

// ErrSealOffPage means the seal would not lie wholly within the page's
// visible area (its crop box): the page is smaller than the seal, or the
// position asked for puts it across an edge. The seal is never scaled down,
// since its size is fixed; choose another page or position.
var ErrSealOffPage = errors.New("pdf: the seal does not fit on the page")

// Corner names a corner of the page as it is seen.
type Corner int

const (
	TopLeft Corner = iota
	TopRight
	BottomLeft
	BottomRight
)

func (c Corner) String() string {
	switch c {
	case TopLeft:
		return "top left"
	case TopRight:
		return "top right"
	case BottomLeft:
		return "bottom left"
	case BottomRight:
		return "bottom right"
	}
	return fmt.Sprintf("Corner(%d)", int(c))
}

// A Placement says where the seal is drawn: At, Keyword, Default or
// Riding.
type Placement interface {
	spots(pl *placer) ([]spot, error)
}

// At places the seal's centre X millimetres across and Y millimetres down
// or up from a corner of a page, as the page is seen.
type At struct {
	// Page is 1-based; 0 is the last page, and -n the n-th before it.
	Page   int
	Corner Corner
	X, Y   float64
}

// Keyword centres the seal on a text on the page, such as the township
// government's name at the signature line, or "（盖章）", moved by DX
// millimetres to the right and DY up. Matching ignores white space and
// compatibility differences (full-width and half-width forms alike).
type Keyword struct {
	Text string
	// Occurrence picks the match, counted in reading order over the pages
	// searched: 1 is the first, -1 (or 0) the last, -2 the one before it.
	Occurrence int
	// Pages limits the search (1-based, 0 and negative from the end as in
	// At); nil searches every page.
	Pages  []int
	DX, DY float64
}

// Default places the seal on the last page at the lower right: over the
// date line (成文日期) when the page has one — centred on it horizontally,
// with the date in the seal's lower half, as GB/T 9704 lays out a
// document's seal — and otherwise inside the lower right margins
// (DefaultMarginRightMM, DefaultMarginBottomMM).
type Default struct{}

// Margins that Default keeps when the page has no date line: those of
// GB/T 9704 for official documents.
const (
	DefaultMarginRightMM  = 26
	DefaultMarginBottomMM = 35
)

// Riding is the cross-page seal (骑缝章): the image cut into as many
// vertical strips as there are pages, each page carrying its strip at its
// right edge at the same height, so that the pages laid edge to edge show
// the whole seal. Page i (in order) carries the i-th strip from the left.
type Riding struct {
	// Pages are the pages to seal (1-based, 0 and negative from the end);
	// nil is every page. At least two.
	Pages []int
	// Y is the distance in millimetres from the top edge to the seal's
	// centre; 0 centres it on the first page's height.
	Y float64
}

// spot is one widget: where it goes and what it draws.
type spot struct {
	page    *page
	rect    rect       // the widget's /Rect, in default user space
	bboxW   float64    // the appearance's BBox [0 0 bboxW bboxH]
	bboxH   float64    //
	matrix  [6]float64 // the appearance's /Matrix
	offsetX float64    // where the image starts, left of the BBox, for strips
	why     string     // where it went and why, for the clerk (Placed.Why)
}

// placer resolves placements on one document.
type placer struct {
	d      *document
	img    *SealImage
	npages int
	pages  map[int]*page
	fonts  fontCache // of every page read
	forms  formCache
	// lastText is the text of the page lastPage, the last read.
	lastText *pageText
	lastPage int
}

func newPlacer(d *document, img *SealImage) (*placer, error) {
	n, err := d.pageCount()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: the document has no pages", ErrDamaged)
	}
	return &placer{d: d, img: img, npages: n, pages: map[int]*page{}, fonts: fontCache{}}, nil
}

// index turns a 1-based page number (0 and negative from the end) into a
// 0-based index.
func (pl *placer) index(n int) (int, error) {
	i := n - 1
	if n <= 0 {
		i = pl.npages - 1 + n
	}
	if i < 0 || i >= pl.npages {
		return 0, fmt.Errorf("%w: page %d of a %d-page document", ErrPageOutOfRange, n, pl.npages)
	}
	return i, nil
}

func (pl *placer) page(i int) (*page, error) {
	if p, ok := pl.pages[i]; ok {
		return p, nil
	}
	p, err := pl.d.page(i)
	if err != nil {
		return nil, err
	}
	pl.pages[i] = p
	return p, nil
}

// unit is the page's /UserUnit, the size of its default user space unit
// in points (ISO 32000-2 §14.11.2); 1 when absent or unusable.
func (p *page) unit() float64 {
	if f, ok := asNumber(p.dict.get("UserUnit")); ok && f > 0 && f <= 75000 && !math.IsInf(f, 0) {
		return f
	}
	return 1
}

// mm converts millimetres to the page's user space units.
func (p *page) mm(v float64) float64 { return v * ptPerMM / p.unit() }

// viewSize is the page's size as seen, in user space units.
func (p *page) viewSize() (w, h float64) {
	if p.rotate == 90 || p.rotate == 270 {
		return p.box.height(), p.box.width()
	}
	return p.box.width(), p.box.height()
}

// toUser maps a point as seen (origin at the lower left of the visible
// page) to default user space.
func (p *page) toUser(vx, vy float64) (x, y float64) {
	b := p.box
	switch p.rotate {
	case 90:
		return b.urx - vy, b.lly + vx
	case 180:
		return b.urx - vx, b.ury - vy
	case 270:
		return b.llx + vy, b.ury - vx
	}
	return b.llx + vx, b.lly + vy
}

// toView is the inverse of toUser.
func (p *page) toView(x, y float64) (vx, vy float64) {
	b := p.box
	switch p.rotate {
	case 90:
		return y - b.lly, b.urx - x
	case 180:
		return b.urx - x, b.ury - y
	case 270:
		return b.ury - y, x - b.llx
	}
	return x - b.llx, y - b.lly
}

// rotation is the matrix that turns an upright appearance so that it
// stands upright on the page as seen.
func (p *page) rotation() [6]float64 {
	switch p.rotate {
	case 90:
		return [6]float64{0, 1, -1, 0, 0, 0}
	case 180:
		return [6]float64{-1, 0, 0, -1, 0, 0}
	case 270:
		return [6]float64{0, -1, 1, 0, 0, 0}
	}
	return [6]float64{1, 0, 0, 1, 0, 0}
}

// place places a w×h point appearance centred at (cx, cy) as seen, in user
// space units. The widget's rectangle takes w/unit × h/unit units, and
// viewers map the appearance's box onto it: the seal keeps its true size.
func (p *page) place(cx, cy, w, h float64) spot {
	u := p.unit()
	x0, y0 := p.toUser(cx-w/u/2, cy-h/u/2)
	x1, y1 := p.toUser(cx+w/u/2, cy+h/u/2)
	return spot{
		page:   p,
		rect:   rect{math.Min(x0, x1), math.Min(y0, y1), math.Max(x0, x1), math.Max(y0, y1)},
		bboxW:  w,
		bboxH:  h,
		matrix: p.rotation(),
	}
}

func (a At) spots(pl *placer) ([]spot, error) {
	i, err := pl.index(a.Page)
	if err != nil {
		return nil, err
	}
	p, err := pl.page(i)
	if err != nil {
		return nil, err
	}
	w, h := p.viewSize()
	x, y := p.mm(a.X), p.mm(a.Y)
	var cx, cy float64
	switch a.Corner {
	case TopLeft:
		cx, cy = x, h-y
	case TopRight:
		cx, cy = w-x, h-y
	case BottomLeft:
		cx, cy = x, y
	case BottomRight:
		cx, cy = w-x, y
	default:
		return nil, fmt.Errorf("%w: unknown corner %d", ErrBadRequest, int(a.Corner))
	}
	s := p.place(cx, cy, pl.img.wPt, pl.img.hPt)
	s.why = fmt.Sprintf("centred %.0f mm across and %.0f mm from the %s corner, as asked", a.X, a.Y, a.Corner)
	if err := onPage(s, fmt.Sprintf("centred %.0f mm across and %.0f mm from the %s corner", a.X, a.Y, a.Corner)); err != nil {
		return nil, err
	}
	return []spot{s}, nil
}

func (k Keyword) spots(pl *placer) ([]spot, error) {
	if k.Text == "" {
		return nil, fmt.Errorf("%w: empty keyword", ErrBadRequest)
	}
	want := normalizeText(k.Text)
	if len(want) == 0 {
		return nil, fmt.Errorf("%w: keyword %q is only white space", ErrBadRequest, k.Text)
	}
	var indexes []int
	if k.Pages == nil {
		for i := range pl.npages {
			indexes = append(indexes, i)
		}
	} else {
		for _, n := range k.Pages {
			i, err := pl.index(n)
			if err != nil {
				return nil, err
			}
			indexes = append(indexes, i)
		}
	}
	type hit struct {
		p *page
		t *pageText
		textHit
	}
	var hits []hit
	occ := k.Occurrence
	for _, i := range indexes {
		p, err := pl.page(i)
		if err != nil {
			return nil, err
		}
		t, err := pl.text(p)
		if err != nil {
			return nil, err
		}
		for _, h := range t.find(want) {
			hits = append(hits, hit{p, t, h})
		}
		if occ > 0 && len(hits) >= occ {
			break
		}
	}
	if occ == 0 {
		occ = -1
	}
	j := occ - 1
	if occ < 0 {
		j = len(hits) + occ
	}
	if j < 0 || j >= len(hits) {
		return nil, fmt.Errorf("%w: %q occurs %d times, occurrence %d asked for", ErrKeywordNotFound, k.Text, len(hits), k.Occurrence)
	}
	h := hits[j]
	// A keyword that is a 署名, a date line right below it, is the block
	// that 9704 presses the seal on, unless the clerk moved the seal.
	if k.DX == 0 && k.DY == 0 {
		if d, ok := h.t.nameOverDate(h.textHit); ok {
			b := h.t.blockAbove(d, h.line)
			cx, cy, why := pl.press(h.p, h.t, b, fmt.Sprintf("on the keyword %q as the 署名 above the 成文日期 (%s), centred on both", k.Text, b.date))
			s := h.p.place(cx, cy, pl.img.wPt, pl.img.hPt)
			s.why = why
			if err := onPage(s, fmt.Sprintf("on %q", k.Text)); err != nil {
				return nil, err
			}
			return []spot{s}, nil
		}
	}
	cx := (h.box.llx+h.box.urx)/2 + h.p.mm(k.DX)
	cy := (h.box.lly+h.box.ury)/2 + h.p.mm(k.DY)
	wx, wy := h.p.within(cx, cy, pl.img.wPt, pl.img.hPt)
	s := h.p.place(wx, wy, pl.img.wPt, pl.img.hPt)
	s.why = fmt.Sprintf("centred on the keyword %q", k.Text)
	if k.DX != 0 || k.DY != 0 {
		s.why += fmt.Sprintf(" moved %.0f mm right and %.0f mm up", k.DX, k.DY)
	}
	if wx != cx || wy != cy {
		s.why += ", moved onto the page"
	}
	if err := onPage(s, fmt.Sprintf("on %q", k.Text)); err != nil {
		return nil, err
	}
	return []spot{s}, nil
}

func (Default) spots(pl *placer) ([]spot, error) {
	p, err := pl.page(pl.npages - 1)
	if err != nil {
		return nil, err
	}
	w, h := pl.img.wPt, pl.img.hPt
	u := p.unit()
	t, err := pl.text(p)
	unreadable := ""
	if err != nil {
		if !contentUnreadable(err) {
			return nil, err
		}
		// Viewers draw what they can of a page whose content is broken
		// (PDFBox signs it); the seal goes where no text is needed.
		unreadable, t = err.Error(), nil
	}
	var cx, cy float64
	var why string
	var b sigBlock
	found := false
	if t != nil {
		b, found = t.signatureBlock()
	}
	if found {
		cx, cy, why = pl.press(p, t, b, b.describe())
	} else {
		vw, _ := p.viewSize()
		cx = vw - p.mm(DefaultMarginRightMM) - w/u/2
		cy = p.mm(DefaultMarginBottomMM) + h/u/2
		why = fmt.Sprintf("no date line (成文日期) on the last page: inside the lower right margins (%d mm, %d mm)", DefaultMarginRightMM, DefaultMarginBottomMM)
		if unreadable != "" {
			why = fmt.Sprintf("the last page's content cannot be read (%s): inside the lower right margins (%d mm, %d mm)", unreadable, DefaultMarginRightMM, DefaultMarginBottomMM)
		}
		if wx, wy := p.within(cx, cy, w, h); wx != cx || wy != cy {
			cx, cy = wx, wy
			why += ", moved onto the page"
		}
	}
	s := p.place(cx, cy, w, h)
	s.why = why
	if err := onPage(s, "at the lower right"); err != nil {
		return nil, err
	}
	return []spot{s}, nil
}

func (r Riding) spots(pl *placer) ([]spot, error) {
	var indexes []int
	if r.Pages == nil {
		for i := range pl.npages {
			indexes = append(indexes, i)
		}
	} else {
		for _, n := range r.Pages {
			i, err := pl.index(n)
			if err != nil {
				return nil, err
			}
			indexes = append(indexes, i)
		}
	}
	if len(indexes) < 2 {
		return nil, fmt.Errorf("%w: a cross-page seal needs at least two pages, has %d", ErrBadRequest, len(indexes))
	}
	seen := map[int]bool{}
	for _, i := range indexes {
		if seen[i] {
			return nil, fmt.Errorf("%w: page %d appears twice in a cross-page seal", ErrBadRequest, i+1)
		}
		seen[i] = true
	}
	n := len(indexes)
	w, h := pl.img.wPt, pl.img.hPt
	sw := w / float64(n) // in points, as the appearance draws it
	var out []spot
	var fromTop float64
	for k, i := range indexes {
		p, err := pl.page(i)
		if err != nil {
			return nil, err
		}
		vw, vh := p.viewSize()
		if k == 0 {
			fromTop = p.mm(r.Y)
			if r.Y == 0 {
				fromTop = vh / 2
			}
		}
		s := p.place(vw-sw/p.unit()/2, vh-fromTop, sw, h)
		s.offsetX = float64(k) * sw
		s.why = fmt.Sprintf("cross-page seal, strip %d of %d at the right edge", k+1, n)
		if err := onPage(s, fmt.Sprintf("as strip %d of a cross-page seal", k+1)); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// within moves a w×h point seal centred at (cx, cy) as seen, the least
// that puts it wholly on the page, when the page is large enough for it.
func (p *page) within(cx, cy, w, h float64) (float64, float64) {
	vw, vh := p.viewSize()
	u := p.unit()
	clamp := func(c, half, size float64) float64 {
		if 2*half > size {
			return c // too small: onPage says so
		}
		return math.Min(math.Max(c, half), size-half)
	}
	return clamp(cx, w/u/2, vw), clamp(cy, h/u/2, vh)
}

// offPageTolerance absorbs the rounding of coordinates as they are
// written (num), in user space units.
const offPageTolerance = 0.01

// onPage checks that spot s lies wholly within its page's crop box; where
// says how it was placed, for the refusal.
func onPage(s spot, where string) error {
	b, r, p := s.page.box, s.rect, s.page
	if r.llx >= b.llx-offPageTolerance && r.lly >= b.lly-offPageTolerance &&
		r.urx <= b.urx+offPageTolerance && r.ury <= b.ury+offPageTolerance {
		return nil
	}
	toMM := func(v float64) float64 { return v * p.unit() / ptPerMM }
	vw, vh := p.viewSize()
	sw, sh := r.width(), r.height()
	if p.rotate == 90 || p.rotate == 270 {
		sw, sh = sh, sw
	}
	if sw > vw+offPageTolerance || sh > vh+offPageTolerance {
		return fmt.Errorf("%w: page %d shows %.0f × %.0f mm (its crop box), smaller than the %.0f × %.0f mm seal, whose size is fixed; seal another page",
			ErrSealOffPage, p.index+1, toMM(vw), toMM(vh), toMM(sw), toMM(sh))
	}
	return fmt.Errorf("%w: the seal %s would cross the edge of page %d, which shows %.0f × %.0f mm; choose a position at least %.0f mm from each edge",
		ErrSealOffPage, where, p.index+1, toMM(vw), toMM(vh), toMM(math.Max(sw, sh))/2)
}

// contentUnreadable reports whether err, from reading a page's text, says
// that its content is damaged or uses a filter this package does not
// decode, rather than that a limit or the caller stopped the reading: the
// default placement then places the seal without the text.
func contentUnreadable(err error) bool {
	var me *MeterError
	var le *LimitError
	if errors.As(err, &me) || errors.As(err, &le) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, ErrDamaged) || errors.Is(err, ErrUnsupported)
}
