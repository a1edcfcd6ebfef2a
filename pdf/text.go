package pdf

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Finding text on a page, for keyword and default placement. The content
// stream is interpreted just enough (ISO 32000-2 §9.3–9.4) to know where
// each glyph is drawn and what text it stands for; the glyphs are then put
// into lines as the page is seen, so that a keyword is found however the
// producer split, ordered or rotated its text.

// maxContentOps bounds the tokens read on one page, forms included.
const maxContentOps = 1 << 22

// aliveOps is how many tokens the text reader reads between looks at the
// caller's context and the budget.
const aliveOps = 1 << 14

// maxPageGlyphs bounds the glyphs kept for one page, forms included: a
// dense page of small print holds some ten thousand. A page with more is
// refused rather than searched in part.
const maxPageGlyphs = 1 << 18

type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul returns m×n: m applied first.
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func (m matrix) apply(x, y float64) (float64, float64) {
	return x*m[0] + y*m[2] + m[4], x*m[1] + y*m[3] + m[5]
}

// glyph is one drawn character, as seen on the page. A page holds hundreds
// of them, so they are kept small: where a glyph lies along and across its
// line is worked out from its box when needed, not stored.
type glyph struct {
	off, n int32 // its text, pageText.runes[off:off+n]: normalised; may be empty or several runes
	box    rect  // as seen
	size   float64
	dir    int8 // writing direction as seen: 0 right, 1 up, 2 left, 3 down
}

// along is where the centre of the glyph's box lies along its writing
// direction.
func (g *glyph) along() float64 {
	along, _ := g.centre()
	return along
}

// across is where the centre of the glyph's box lies across its writing
// direction, growing towards the top of the line.
func (g *glyph) across() float64 {
	_, across := g.centre()
	return across
}

// centre is the centre of the glyph's box in the frame of its writing
// direction.
func (g *glyph) centre() (along, across float64) {
	b := &g.box
	return rotateToDir(int(g.dir), (b.llx+b.urx)/2, (b.lly+b.ury)/2)
}

type textLine struct {
	glyphs []int
}

// pageText is the text of one page.
type pageText struct {
	glyphs []glyph
	runes  []rune // the glyphs' texts, one after the other
	lines  []textLine
}

// text is the text of glyph i.
func (t *pageText) text(i int) []rune {
	g := &t.glyphs[i]
	return t.runes[g.off : g.off+g.n]
}

// text returns the text of page p. It keeps the last page's, for a
// placement that reads it again, and not every page's: a page may hold
// hundreds of thousands of glyphs.
func (pl *placer) text(p *page) (*pageText, error) {
	if pl.lastText != nil && pl.lastPage == p.index {
		return pl.lastText, nil
	}
	pl.lastText = nil
	e := &extractor{d: pl.d, p: p, fonts: pl.fonts, forms: &pl.forms}
	data, err := pl.d.pageContent(p)
	if err != nil {
		return nil, err
	}
	e.live = int64(len(data))
	// Room for the glyphs of a page that is mostly text: pages measured
	// hold one for every 1 to 10 bytes of content.
	e.glyphs = make([]glyph, 0, min(max(len(data)/16, 32), 512))
	e.runes = make([]rune, 0, cap(e.glyphs))
	e.run(data, p.resources, identity, 0)
	if e.err != nil {
		return nil, e.err
	}
	// A font or form that could not be read was passed over; if that was
	// because the budget ran out or the caller went away, the text is
	// incomplete.
	if err := pl.d.bud.alive(); err != nil {
		return nil, err
	}
	t := &pageText{glyphs: e.glyphs, runes: e.runes}
	t.buildLines()
	pl.lastText, pl.lastPage = t, p.index
	return t, nil
}

// pageContent returns the page's content: its one content stream, or
// its streams concatenated, which are one stream to a viewer and count
// as one against MaxStreamBytes. A stream named twice is decoded once.
func (d *document) pageContent(p *page) ([]byte, error) {
	content, err := d.resolve(p.dict.get("Contents"))
	if err != nil {
		return nil, err
	}
	switch v := content.(type) {
	case *stream:
		return d.streamData(v)
	case array:
		var parts [][]byte
		decoded := map[ref][]byte{}
		total := 0
		for _, c := range v {
			r, _ := c.(ref)
			b, ok := decoded[r]
			if !ok || r.num == 0 {
				c, err := d.resolve(c)
				if err != nil {
					return nil, err
				}
				s, isStream := c.(*stream)
				if !isStream {
					continue
				}
				if b, err = d.streamData(s); err != nil {
					return nil, err
				}
				decoded[r] = b
			}
			if total += len(b) + 1; int64(total) > d.bud.lim.MaxStreamBytes {
				return nil, &LimitError{Limit: "MaxStreamBytes", Max: d.bud.lim.MaxStreamBytes,
					What: fmt.Sprintf("the content streams of page %d together", p.index+1)}
			}
			parts = append(parts, b)
		}
		if len(parts) == 1 {
			return parts[0], nil
		}
		data := make([]byte, 0, total)
		for _, b := range parts {
			data = append(append(data, b...), '\n')
		}
		return data, nil
	}
	return nil, nil
}

type gstate struct {
	ctm                   matrix
	tc, tw, th, tl, trise float64
	font                  *font
	size                  float64
}

// operand is one operand of a content-stream operator. Numbers, names,
// strings and arrays of only numbers and strings (TJ's) are kept as read,
// without making objects of them; anything else is an object.
type operand struct {
	kind   opKind
	num    float64 // opNum
	b      []byte  // opName, opStr
	lo, hi int     // opArray: the extractor's elems[lo:hi]
	o      object  // opObject
}

type opKind uint8

const (
	opObject opKind = iota
	opNum
	opName
	opStr
	opArray
)

// number is the operand as a number, 0 when it is not one.
func (a *operand) number() float64 {
	switch a.kind {
	case opNum:
		return a.num
	case opObject:
		v, _ := asNumber(a.o)
		return v
	}
	return 0
}

// element is a number or a string of an opArray operand.
type element struct {
	isNum bool
	num   float64
	s     []byte
}

type extractor struct {
	d      *document
	p      *page
	fonts  fontCache
	forms  *formCache
	ops    int
	err    error // why reading stopped short: the page is too much to read
	live   int64 // bytes of the content and forms being read, nested
	glyphs []glyph
	runes  []rune // the glyphs' texts
	gi     []glyphInfo
	elems  []element // the elements of the operands' arrays
	gtext  []rune    // texts that show's codes build
	utf8   []byte    // scratch for normalising
	nfkc   []byte    //
}

// run interprets a content stream with its resources.
func (e *extractor) run(data []byte, res dict, ctm matrix, depth int) {
	if depth > 8 {
		return
	}
	gs := gstate{ctm: ctm, th: 1}
	var stack []gstate
	var tm, tlm matrix
	p := newParser(data, true)
	var args []operand
	elems := len(e.elems) // this stream's operands' elements start here
	defer func() { e.elems = e.elems[:elems] }()
	reset := func() {
		args = args[:0]
		e.elems = e.elems[:elems]
	}
	for e.ops < maxContentOps && e.err == nil {
		t, err := p.lex.next()
		if e.ops++; e.ops%aliveOps == 0 {
			if e.err = e.d.bud.alive(); e.err != nil {
				return
			}
		}
		if err != nil {
			if !p.lex.skipBad(err) { // skip what does not lex, as viewers do
				return
			}
			continue
		}
		if t.kind == tokEOF {
			return
		}
		if t.kind != tokKeyword || t.is("true") || t.is("false") || t.is("null") {
			a, ok := e.operand(p, t)
			if !ok {
				reset()
				continue
			}
			if len(args) < 64 {
				args = append(args, a)
			} else if a.kind == opArray {
				e.elems = e.elems[:a.lo]
			}
			continue
		}
		op := string(t.b)
		f := func(i int) float64 {
			if i < len(args) {
				return args[i].number()
			}
			return 0
		}
		switch op {
		case "q":
			if len(stack) < 256 {
				stack = append(stack, gs)
			}
		case "Q":
			if n := len(stack); n > 0 {
				gs = stack[n-1]
				stack = stack[:n-1]
			}
		case "cm":
			if len(args) == 6 {
				gs.ctm = matrix{f(0), f(1), f(2), f(3), f(4), f(5)}.mul(gs.ctm)
			}
		case "BT":
			tm, tlm = identity, identity
		case "Tf":
			if len(args) == 2 {
				gs.size = f(1)
				if args[0].kind == opName {
					gs.font = e.font(res, name(args[0].b))
				}
			}
		case "Tc":
			gs.tc = f(0)
		case "Tw":
			gs.tw = f(0)
		case "Tz":
			gs.th = f(0) / 100
		case "TL":
			gs.tl = f(0)
		case "Ts":
			gs.trise = f(0)
		case "Td":
			tlm = matrix{1, 0, 0, 1, f(0), f(1)}.mul(tlm)
			tm = tlm
		case "TD":
			gs.tl = -f(1)
			tlm = matrix{1, 0, 0, 1, f(0), f(1)}.mul(tlm)
			tm = tlm
		case "Tm":
			if len(args) == 6 {
				tlm = matrix{f(0), f(1), f(2), f(3), f(4), f(5)}
				tm = tlm
			}
		case "T*":
			tlm = matrix{1, 0, 0, 1, 0, -gs.tl}.mul(tlm)
			tm = tlm
		case "Tj":
			if len(args) == 1 {
				e.showOperand(&gs, &tm, &args[0])
			}
		case "'":
			tlm = matrix{1, 0, 0, 1, 0, -gs.tl}.mul(tlm)
			tm = tlm
			if len(args) == 1 {
				e.showOperand(&gs, &tm, &args[0])
			}
		case "\"":
			if len(args) == 3 {
				gs.tw, gs.tc = f(0), f(1)
				tlm = matrix{1, 0, 0, 1, 0, -gs.tl}.mul(tlm)
				tm = tlm
				e.showOperand(&gs, &tm, &args[2])
			}
		case "TJ":
			if len(args) != 1 {
				break
			}
			adjust := func(v float64) {
				adj := -v / 1000 * gs.size
				if gs.font != nil && gs.font.vertical {
					tm = matrix{1, 0, 0, 1, 0, adj}.mul(tm)
				} else {
					tm = matrix{1, 0, 0, 1, adj * gs.th, 0}.mul(tm)
				}
			}
			switch a := &args[0]; a.kind {
			case opArray:
				for _, el := range e.elems[a.lo:a.hi] {
					if el.isNum {
						adjust(el.num)
						continue
					}
					e.show(&gs, &tm, el.s)
				}
			case opObject:
				if a, ok := a.o.(array); ok {
					for _, el := range a {
						if v, ok := asNumber(el); ok {
							adjust(v)
							continue
						}
						if s, ok := el.(str); ok {
							e.show(&gs, &tm, s)
						}
					}
				}
			}
		case "Do":
			if len(args) == 1 {
				if args[0].kind == opName {
					e.form(res, name(args[0].b), gs.ctm, depth)
				}
			}
		case "BI":
			skipInlineImage(&p.lex)
		}
		reset()
	}
}

// operand reads the operand that starts with t; ok is false when it does
// not parse.
func (e *extractor) operand(p *parser, t token) (a operand, ok bool) {
	switch t.kind {
	case tokInt:
		o, err := p.intOrRef(t.i)
		if err != nil {
			return a, false
		}
		if v, ok := o.(int64); ok {
			return operand{kind: opNum, num: float64(v)}, true
		}
		return operand{o: o}, true
	case tokReal:
		return operand{kind: opNum, num: t.f}, true
	case tokName:
		return operand{kind: opName, b: t.b}, true
	case tokString:
		return operand{kind: opStr, b: t.b}, true
	case tokArrayOpen:
		lo := len(e.elems)
		if e.simpleArray(p) {
			return operand{kind: opArray, lo: lo, hi: len(e.elems)}, true
		}
		e.elems = e.elems[:lo]
	}
	o, err := p.objectFrom(t)
	return operand{o: o}, err == nil
}

// simpleArray reads the rest of an array of only numbers and strings into
// elems. Given anything else it reads nothing and reports false, leaving
// the array to the parser.
func (e *extractor) simpleArray(p *parser) bool {
	start := p.lex.pos
	for {
		t, err := p.lex.next()
		if err != nil {
			break
		}
		switch t.kind {
		case tokArrayClose:
			return true
		case tokReal:
			e.elems = append(e.elems, element{isNum: true, num: t.f})
			continue
		case tokString:
			e.elems = append(e.elems, element{s: t.b})
			continue
		case tokInt:
			o, err := p.intOrRef(t.i)
			if v, ok := o.(int64); ok && err == nil {
				e.elems = append(e.elems, element{isNum: true, num: float64(v)})
				continue
			}
		}
		break
	}
	p.lex.pos = start
	return false
}

// skipInlineImage moves past an inline image's dictionary and data.
func skipInlineImage(l *lexer) {
	i := bytes.Index(l.buf[l.pos:], []byte("ID"))
	if i < 0 {
		l.pos = len(l.buf)
		return
	}
	pos := l.pos + i + 3
	for pos < len(l.buf) {
		j := bytes.Index(l.buf[pos:], []byte("EI"))
		if j < 0 {
			l.pos = len(l.buf)
			return
		}
		k := pos + j
		if isWhite(l.buf[k-1]) && (k+2 == len(l.buf) || isWhite(l.buf[k+2]) || isDelim(l.buf[k+2])) {
			l.pos = k + 2
			return
		}
		pos = k + 2
	}
	l.pos = len(l.buf)
}

func (e *extractor) resource(res dict, kind, n name) object {
	cat, err := e.d.resolve(res.get(kind))
	if err != nil {
		return nil
	}
	cd, ok := cat.(dict)
	if !ok {
		return nil
	}
	return cd.get(n)
}

func (e *extractor) font(res dict, n name) *font {
	o := e.resource(res, "Font", n)
	if o == nil {
		return nil
	}
	return e.d.loadFont(o, e.fonts)
}

// form interprets a form XObject drawn with Do.
func (e *extractor) form(res dict, n name, ctm matrix, depth int) {
	o, err := e.d.resolve(e.resource(res, "XObject", n))
	if err != nil {
		return
	}
	s, ok := o.(*stream)
	if !ok || nameOf(s.dict.get("Subtype")) != "Form" {
		return
	}
	m := identity
	if ma, ok := s.dict.get("Matrix").(array); ok && len(ma) == 6 {
		for i := range m {
			m[i], _ = asNumber(ma[i])
		}
	}
	data, ok := e.forms.data[s.ref.num]
	if !ok {
		if data, err = e.d.streamData(s); err != nil {
			return
		}
		e.forms.put(s.ref.num, data)
	}
	// A form's content is the page's, drawn where it is named: the page's
	// content and the forms nested in it, which are read at once, count
	// as one stream.
	if e.live += int64(len(data)); e.live > e.d.bud.lim.MaxStreamBytes {
		e.err = &LimitError{Limit: "MaxStreamBytes", Max: e.d.bud.lim.MaxStreamBytes,
			What: fmt.Sprintf("the content of page %d with the forms nested in it", e.p.index+1)}
		return
	}
	defer func() { e.live -= int64(len(data)) }()
	fres := res
	if r, err := e.d.resolve(s.dict.get("Resources")); err == nil {
		if rd, ok := r.(dict); ok {
			fres = rd
		}
	}
	e.run(data, fres, m.mul(ctm), depth+1)
}

// formCache keeps the decoded content of the forms that a placer reads,
// up to maxFormCache bytes, so that a form drawn on every page (a
// letterhead) or many times on one is decoded once.
type formCache struct {
	data  map[int][]byte // by object number
	bytes int
}

const maxFormCache = 4 << 20

func (c *formCache) put(num int, data []byte) {
	if c.bytes+len(data) > maxFormCache {
		return
	}
	if c.data == nil {
		c.data = map[int][]byte{}
	}
	c.data[num] = data
	c.bytes += len(data)
}

// showOperand shows a string operand; any other operand shows nothing.
func (e *extractor) showOperand(gs *gstate, tm *matrix, a *operand) {
	if a.kind == opStr {
		e.show(gs, tm, a.b)
	}
}

// show records the glyphs of one string and advances the text matrix.
func (e *extractor) show(gs *gstate, tm *matrix, s []byte) {
	if gs.font == nil {
		return
	}
	f := gs.font
	e.gi, e.gtext = f.glyphs(s, e.gi[:0], e.gtext[:0])
	for _, g := range e.gi {
		w := g.width
		trm := matrix{gs.size * gs.th, 0, 0, gs.size, 0, gs.trise}.mul(*tm).mul(gs.ctm)
		var x0, y0, x1, y1, dx, dy float64
		if f.vertical {
			x0, y0, x1, y1 = -0.5, -1, 0.5, 0
			dx, dy = 0, -1
		} else {
			bw := w
			if bw <= 0 {
				bw = 0.5
			}
			x0, y0, x1, y1 = 0, -0.2, bw, 0.8
			dx, dy = 1, 0
		}
		e.addGlyph(g.text, trm, x0, y0, x1, y1, dx, dy)
		if f.vertical {
			// The vertical displacement w1 is -1000 glyph units, the
			// default of /DW2, which is not read.
			ty := -gs.size + gs.tc
			if g.space {
				ty += gs.tw
			}
			*tm = matrix{1, 0, 0, 1, 0, ty}.mul(*tm)
			continue
		}
		tx := w*gs.size + gs.tc
		if g.space {
			tx += gs.tw
		}
		*tm = matrix{1, 0, 0, 1, tx * gs.th, 0}.mul(*tm)
	}
}

func (e *extractor) addGlyph(text []rune, trm matrix, x0, y0, x1, y1, dx, dy float64) {
	if len(e.glyphs) >= maxPageGlyphs {
		e.err = &LimitError{Limit: "glyphs-per-page", Max: maxPageGlyphs, What: fmt.Sprintf("the text of page %d", e.p.index+1)}
		return
	}
	var b rect
	for i, c := range [4][2]float64{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}} {
		ux, uy := trm.apply(c[0], c[1])
		vx, vy := e.p.toView(ux, uy)
		if i == 0 {
			b = rect{vx, vy, vx, vy}
			continue
		}
		// The built-in min and max treat NaN and signed zeros as
		// math.Min and math.Max do, and compile to fewer instructions.
		b = rect{min(b.llx, vx), min(b.lly, vy), max(b.urx, vx), max(b.ury, vy)}
	}
	ox, oy := e.p.toView(trm.apply(0, 0))
	ex, ey := e.p.toView(trm.apply(dx, dy))
	vdx, vdy := ex-ox, ey-oy
	size := math.Hypot(vdx, vdy) // the font size as seen
	if size == 0 || math.IsNaN(size) || math.IsInf(size, 0) {
		return
	}
	dir := int(math.Round(math.Atan2(vdy, vdx)/(math.Pi/2))+4) % 4
	// Grown by doubling, so that a page of many glyphs leaves behind no
	// more garbage than it holds.
	if cap(e.runes)-len(e.runes) < 4*len(text) {
		e.runes = slices.Grow(e.runes, len(e.runes)+4*len(text))
	}
	if len(e.glyphs) == cap(e.glyphs) {
		// The Meter is charged for the page's glyphs, their texts and
		// the lines made of them, as they grow.
		if err := e.d.bud.holdText(int64(2*len(e.glyphs)) * glyphCost); err != nil {
			e.err = err
			return
		}
		e.glyphs = slices.Grow(e.glyphs, len(e.glyphs))
	}
	off := len(e.runes)
	e.runes, e.utf8, e.nfkc = appendNormalized(e.runes, text, e.utf8, e.nfkc)
	g := glyph{off: int32(off), n: int32(len(e.runes) - off), box: b, size: size, dir: int8(dir)}
	e.glyphs = append(e.glyphs, g)
}

// rotateToDir expresses a point as seen in a frame whose x axis runs along
// writing direction dir.
func rotateToDir(dir int, x, y float64) (along, across float64) {
	switch dir {
	case 1:
		return y, -x
	case 2:
		return -x, -y
	case 3:
		return -y, x
	}
	return x, y
}

// buildLines groups glyphs into lines and orders them for reading: by
// direction, top to bottom, then along the line.
func (t *pageText) buildLines() {
	idx := make([]int, len(t.glyphs))
	for i := range idx {
		idx[i] = i
	}
	g := t.glyphs
	slices.SortStableFunc(idx, func(a, b int) int {
		if g[a].dir != g[b].dir {
			return int(g[a].dir) - int(g[b].dir)
		}
		switch aa, ba := g[a].across(), g[b].across(); {
		case aa > ba:
			return -1
		case aa < ba:
			return 1
		}
		return 0
	})
	// A line is a run of idx, sorted along the line in place.
	byAlong := func(a, b int) int {
		switch aa, ba := g[a].along(), g[b].along(); {
		case aa < ba:
			return -1
		case aa > ba:
			return 1
		}
		return 0
	}
	start := 0
	flush := func(end int) {
		if end == start {
			return
		}
		cur := idx[start:end:end]
		slices.SortStableFunc(cur, byAlong)
		t.lines = append(t.lines, textLine{glyphs: cur})
		start = end
	}
	for k, i := range idx {
		if k > start {
			first := &g[idx[start]]
			tol := 0.4 * math.Max(first.size, g[i].size)
			if g[i].dir != first.dir || first.across()-g[i].across() > tol {
				flush(k)
			}
		}
	}
	flush(len(idx))
}

// appendLineText appends a line's text to rs and, for each rune, the glyph
// it came from to owner. A wide gap between glyphs becomes a separator that
// no keyword matches.
func (t *pageText) appendLineText(l textLine, rs []rune, owner []int) ([]rune, []int) {
	for k, gi := range l.glyphs {
		g := &t.glyphs[gi]
		if k > 0 {
			prev := &t.glyphs[l.glyphs[k-1]]
			gap := g.along() - prev.along() - (g.size+prev.size)/2
			if gap > 3*math.Max(g.size, prev.size) {
				rs = append(rs, separator)
				owner = append(owner, -1)
			}
		}
		for _, r := range t.text(gi) {
			rs = append(rs, r)
			owner = append(owner, gi)
		}
	}
	return rs, owner
}

const separator = '\uFFFF'

// textHit is an occurrence of a text on a page: its box as seen, and the
// line it lies on.
type textHit struct {
	box  rect
	line int
}

// find returns each occurrence of want, in reading order.
func (t *pageText) find(want []rune) []textHit {
	var out []textHit
	var rs []rune
	var owner []int
	for li, l := range t.lines {
		rs, owner = t.appendLineText(l, rs[:0], owner[:0])
		for i := 0; i+len(want) <= len(rs); {
			if !slices.Equal(rs[i:i+len(want)], want) {
				i++
				continue
			}
			out = append(out, textHit{t.union(owner[i : i+len(want)]), li})
			i += len(want)
		}
	}
	return out
}

func (t *pageText) union(owners []int) rect {
	var b rect
	first := true
	for _, o := range owners {
		if o < 0 {
			continue
		}
		gb := t.glyphs[o].box
		if first {
			b, first = gb, false
			continue
		}
		b = rect{math.Min(b.llx, gb.llx), math.Min(b.lly, gb.lly), math.Max(b.urx, gb.urx), math.Max(b.ury, gb.ury)}
	}
	return b
}

// datePattern matches a date as Chinese documents write it, in Arabic or
// Chinese numerals: 2024年5月20日, 二〇二四年五月二十日.
var datePattern = regexp.MustCompile(`(?:[0-9]{4}|[〇零○O一二三四五六七八九]{4})年(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})月(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})日`)

// dateLine returns the last date on the page, in reading order, that
// stands on a line of its own as a document's date (成文日期) does: a
// horizontal line holding little but the date (a label such as "日期："
// may precede it), and not the 印发日期 of the imprint (版记), which
// "印发" follows. A date within a sentence of the body is not one.
func (t *pageText) dateLine() (textHit, bool) {
	var found textHit
	ok := false
	for li := range t.lines {
		if h, is := t.lineDate(li); is {
			found, ok = h, true
		}
	}
	return found, ok
}

// maxDateLabel is how many characters besides the date a date line may
// hold: a label such as "签发日期：".
const maxDateLabel = 8

// lineDate returns the last date of line li when the line is a date line
// (see dateLine).
func (t *pageText) lineDate(li int) (textHit, bool) {
	l := t.lines[li]
	if t.glyphs[l.glyphs[0]].dir != 0 {
		return textHit{}, false
	}
	rs, owner := t.appendLineText(l, nil, nil)
	if !slices.Contains(rs, '年') || !slices.Contains(rs, '日') {
		return textHit{}, false
	}
	s := string(rs)
	locs := datePattern.FindAllStringIndex(s, -1)
	if len(locs) == 0 {
		return textHit{}, false
	}
	loc := locs[len(locs)-1]
	// Byte offsets to rune offsets.
	start := utf8.RuneCountInString(s[:loc[0]])
	end := start + utf8.RuneCountInString(s[loc[0]:loc[1]])
	if len(rs)-(end-start) > maxDateLabel || strings.HasPrefix(s[loc[1]:], "印发") {
		return textHit{}, false
	}
	return textHit{t.union(owner[start:end]), li}, true
}

// normalizeText prepares text for matching: compatibility forms folded
// (full-width to half-width, Kangxi radicals to ideographs) and white space
// dropped.
func normalizeText(s string) []rune {
	return normalizeRunes([]rune(s))
}

// stableRunes reports whether rs is its own normal form for matching: so
// are ASCII but space, the CJK unified ideographs, and the CJK punctuation
// 、。〃〄々〆〇 and brackets.
func stableRunes(rs []rune) bool {
	for _, r := range rs {
		if !(r > ' ' && r < 0x7F || r >= 0x4E00 && r <= 0x9FFF || r >= 0x3001 && r <= 0x3011) {
			return false
		}
	}
	return true
}

// appendNormalized appends what normalizeRunes makes of rs to dst, using
// and returning the scratch buffers b8 and n8 instead of allocating.
func appendNormalized(dst, rs []rune, b8, n8 []byte) ([]rune, []byte, []byte) {
	if stableRunes(rs) {
		return append(dst, rs...), b8, n8
	}
	if len(rs) == 1 { // what NFKC makes of the usual others, without its buffers
		switch r := rs[0]; {
		case r == ' ' || r == '\u00A0' || r == '\u3000':
			return dst, b8, n8 // white space, or NFKC's ' '
		case r >= '\uFF01' && r <= '\uFF5E': // full-width forms of ASCII
			return append(dst, r-0xFEE0), b8, n8
		}
	}
	b8 = b8[:0]
	for _, r := range rs {
		b8 = utf8.AppendRune(b8, r) // as string(rs) does, invalid runes too
	}
	n8 = norm.NFKC.Append(n8[:0], b8...)
	for i := 0; i < len(n8); {
		r, size := utf8.DecodeRune(n8[i:]) // as []rune(string) does
		i += size
		if !unicode.IsSpace(r) {
			dst = append(dst, r)
		}
	}
	return dst, b8, n8
}

func normalizeRunes(rs []rune) []rune {
	if stableRunes(rs) {
		return rs
	}
	n := []rune(norm.NFKC.String(string(rs)))
	out := n[:0]
	for _, r := range n {
		if !unicode.IsSpace(r) {
			out = append(out, r)
		}
	}
	return out
}
