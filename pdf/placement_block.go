package pdf

import (
	"fmt"
	"math"
	"strings"
	"unicode"
)

// The seal on the issuing authority's name (发文机关署名) and the date
// (成文日期), as GB/T 9704-2012 §7.3.5 lays it out: "印章端正、居中下压发文
// 机关署名和成文日期，使发文机关署名和成文日期居印章中心偏下位置，印章顶端
// 应当上距正文（或附件说明）一行之内". So the seal is centred across the
// block that the name and the date make (9704 centres the name on the
// date); the block sits a little below the seal's centre; and the seal
// lies below the body text, not over it.
//
// Documents are not always laid out with room for that: the author may
// leave the date right under the body's last line. Then the seal is moved
// down, the least that clears the body's glyphs (the date may then sit
// above its centre), rather than cover the text. When no position that
// still presses on the block clears them, the seal goes where 9704 puts
// it, and the reason says that it covers body text.

// The seal's centre is set level with the top of the block (the top of
// the 署名's glyphs, or of the date's when it stands alone): both lie
// below the centre, the name just below it and the date in the seal's
// lower half, as 9704's "居印章中心偏下位置" asks.

// pressReach bounds how far the seal may be moved to clear the body text:
// the block's top may lie at most this fraction of the seal's height above
// the seal's centre (and its bottom as far below), so that the seal still
// presses on the name and the date.
const pressReach = 1.0 / 3

// clearanceMM is the white kept between the seal's disc and a glyph of the
// body text, for the ink's spread and the glyph boxes' estimate.
const clearanceMM = 1.0

// signatureGap is how far, in font sizes, a name line may lie above the
// next line of the block: 9704 sets the name directly above the date.
const signatureGap = 2.5

// maxSignatureLines bounds the name lines of one block.
const maxSignatureLines = 3

// sigBlock is a 署名 and 成文日期 block, as seen.
type sigBlock struct {
	box   rect
	lines []int  // the lines it is made of, which are not body text
	name  string // the 署名's text, "" when the date stands alone
	date  string
}

// inkLine is the extent of a line's visible glyphs, those that stand for
// some text (a space stands for none once normalised), and their text.
func (t *pageText) inkLine(li int) (box rect, text string, ok bool) {
	box, ok = t.inkBox(li)
	if !ok {
		return box, "", false
	}
	var sb strings.Builder
	for _, gi := range t.lines[li].glyphs {
		sb.WriteString(string(t.text(gi)))
	}
	return box, sb.String(), true
}

// inkBox is inkLine's extent alone.
func (t *pageText) inkBox(li int) (box rect, ok bool) {
	for _, gi := range t.lines[li].glyphs {
		if t.glyphs[gi].n == 0 {
			continue
		}
		g := t.glyphs[gi].box
		if !ok {
			box, ok = g, true
		} else {
			box = rect{math.Min(box.llx, g.llx), math.Min(box.lly, g.lly), math.Max(box.urx, g.urx), math.Max(box.ury, g.ury)}
		}
	}
	return box, ok
}

// column is the body's text column as seen: the left and right extent of
// the page's horizontal lines, a line's right end taken before any
// punctuation that hangs into the margin. ok is false on a page without
// horizontal text.
func (t *pageText) column() (left, right float64, ok bool) {
	for li, l := range t.lines {
		if t.glyphs[l.glyphs[0]].dir != 0 {
			continue
		}
		box, has := t.inkBox(li)
		if !has {
			continue
		}
		r := box.urx
		// The last visible glyph, when it is punctuation and not alone.
		for k := len(l.glyphs) - 1; k > 0; k-- {
			rs := t.text(l.glyphs[k])
			if len(rs) == 0 {
				continue
			}
			if unicode.IsPunct(rs[len(rs)-1]) {
				r = t.glyphs[l.glyphs[k]].box.llx
			}
			break
		}
		if !ok {
			left, right, ok = box.llx, r, true
			continue
		}
		left, right = math.Min(left, box.llx), math.Max(right, r)
	}
	return left, right, ok
}

// signatureBlock finds the 署名 and 成文日期 block: the page's date line
// (dateLine) and the name lines just above it, which stand apart from
// the body (they start right of the column's first fifth, as a name set
// to the right or centred on the date does).
func (t *pageText) signatureBlock() (sigBlock, bool) {
	d, ok := t.dateLine()
	if !ok {
		return sigBlock{}, false
	}
	return t.blockAbove(d, -1), true
}

// blockAbove builds the block of date d and the name lines above it. With
// nameLine ≥ 0 that line is the name (a keyword found it), and it is taken
// alone.
func (t *pageText) blockAbove(d textHit, nameLine int) sigBlock {
	b := sigBlock{box: d.box, lines: []int{d.line}, date: t.hitText(d)}
	left, right, _ := t.column()
	top := d.box // the block's topmost line so far
	size := t.glyphs[t.lines[d.line].glyphs[0]].size
	var names []string
	for li := d.line - 1; li >= 0 && len(names) < maxSignatureLines; li-- {
		if nameLine >= 0 && li != nameLine {
			continue
		}
		l := t.lines[li]
		if t.glyphs[l.glyphs[0]].dir != 0 {
			break
		}
		box, text, has := t.inkLine(li)
		if !has {
			if nameLine >= 0 {
				break
			}
			continue // a line of spaces
		}
		if box.lly-top.ury > signatureGap*size {
			break
		}
		if nameLine < 0 && (box.llx < left+(right-left)/5 || datePattern.MatchString(text)) {
			break
		}
		b.lines = append(b.lines, li)
		b.box = rect{math.Min(b.box.llx, box.llx), math.Min(b.box.lly, box.lly), math.Max(b.box.urx, box.urx), math.Max(b.box.ury, box.ury)}
		names = append([]string{text}, names...)
		top = box
		if nameLine >= 0 {
			break
		}
	}
	b.name = strings.Join(names, " ")
	return b
}

// hitText is the text of line h.line within h's box.
func (t *pageText) hitText(h textHit) string {
	var sb strings.Builder
	for _, gi := range t.lines[h.line].glyphs {
		g := t.glyphs[gi].box
		if g.llx >= h.box.llx-0.01 && g.urx <= h.box.urx+0.01 {
			sb.WriteString(string(t.text(gi)))
		}
	}
	return sb.String()
}

// nameOverDate returns the date of the block whose 署名 keyword hit h
// is: a date line follows h's line closely, h lies over the date, and the
// line stands apart from the body as a name does (see signatureBlock). A
// keyword on a line of the body, such as a contract's "甲方（盖章）：乙方
// （盖章）：" above its date, is not a name.
func (t *pageText) nameOverDate(h textHit) (textHit, bool) {
	l := t.lines[h.line]
	size := t.glyphs[l.glyphs[0]].size
	above, ok := t.inkBox(h.line)
	if !ok || t.glyphs[l.glyphs[0]].dir != 0 {
		return textHit{}, false
	}
	if left, right, _ := t.column(); above.llx < left+(right-left)/5 {
		return textHit{}, false
	}
	for k := h.line + 1; k < len(t.lines); k++ {
		box, has := t.inkBox(k)
		if !has {
			continue
		}
		if above.lly-box.ury > signatureGap*size {
			return textHit{}, false
		}
		d, ok := t.lineDate(k)
		if !ok || h.box.urx < d.box.llx || h.box.llx > d.box.urx {
			return textHit{}, false
		}
		return d, true
	}
	return textHit{}, false
}

// press places the seal on block b of page p as GB/T 9704 §7.3.5 asks, and
// says where it went and why; what names the block for that.
func (pl *placer) press(p *page, t *pageText, b sigBlock, what string) (cx, cy float64, why string) {
	u := p.unit()
	sw, sh := pl.img.wPt/u, pl.img.hPt/u
	vw, vh := p.viewSize()
	mm := func(v float64) float64 { return v * u / ptPerMM }
	var notes []string

	// Across: centred on the block, within the text column and the page.
	cx0 := (b.box.llx + b.box.urx) / 2
	cx = cx0
	if left, right, ok := t.column(); ok {
		left, right = math.Max(left, 0), math.Min(right, vw)
		if right-left >= sw {
			cx = math.Min(math.Max(cx, left+sw/2), right-sw/2)
		}
	}
	if sw <= vw {
		cx = math.Min(math.Max(cx, sw/2), vw-sw/2)
	}
	if d := mm(cx - cx0); math.Abs(d) >= 0.5 {
		notes = append(notes, fmt.Sprintf("moved %.0f mm %s to stay within the text margins", math.Abs(d), map[bool]string{true: "left", false: "right"}[d < 0]))
	}

	// Down the page: the block slightly below the centre, the seal on the
	// page, and off the body's glyphs if it can be.
	cy0 := b.box.ury
	lo, hi := b.box.ury-pressReach*sh, b.box.lly+pressReach*sh
	lo, hi = math.Min(lo, cy0), math.Max(hi, cy0)
	start := cy0
	if sh <= vh {
		lo, hi = math.Max(lo, sh/2), math.Min(hi, vh-sh/2)
		start = math.Min(math.Max(cy0, sh/2), vh-sh/2)
		lo, hi = math.Min(lo, start), math.Max(hi, start)
	}
	if d := mm(start - cy0); math.Abs(d) >= 0.5 {
		notes = append(notes, fmt.Sprintf("moved %.0f mm %s to stay on the page", math.Abs(d), map[bool]string{true: "up", false: "down"}[d > 0]))
	}
	clear := p.mm(clearanceMM)
	obstacles := t.bodyGlyphs(b, rect{cx - sw/2 - clear, lo - sh/2 - clear, cx + sw/2 + clear, hi + sh/2 + clear})
	free := func(cy float64) bool {
		for _, g := range obstacles {
			if ellipseMeetsRect(cx, cy, sw/2+clear, sh/2+clear, g) {
				return false
			}
		}
		return true
	}
	cy, found := start, false
	step := p.mm(0.1)
	for k := 0; !found; k++ {
		down, up := start-float64(k)*step, start+float64(k)*step
		if down < lo && up > hi {
			break
		}
		switch {
		case down >= lo && free(down):
			cy, found = down, true
		case k > 0 && up <= hi && free(up):
			cy, found = up, true
		}
	}
	if !found {
		cy = start
		notes = append(notes, "covering body text: the page leaves no room for the seal between the body text and the block")
	} else if d := mm(cy - start); d <= -0.5 {
		notes = append(notes, fmt.Sprintf("shifted down %.0f mm to clear the body text", -d))
	} else if d >= 0.5 {
		notes = append(notes, fmt.Sprintf("shifted up %.0f mm to clear the text below", d))
	}
	if found {
		if gap, ok := t.gapAbove(b, cx, sw, cy+sh/2); ok && gap > 0 {
			size := t.glyphs[t.lines[b.lines[0]].glyphs[0]].size
			if gap > 2*size {
				notes = append(notes, fmt.Sprintf("its top %.0f mm below the body text (9704 asks for at most a line)", mm(gap)))
			}
		}
	}
	why = what
	if len(notes) > 0 {
		why += ", " + strings.Join(notes, ", ")
	}
	return cx, cy, why
}

// blockName describes a block for the reason of a placement.
func (b sigBlock) describe() string {
	if b.name == "" {
		return fmt.Sprintf("centred on the 成文日期 (%s)", b.date)
	}
	return fmt.Sprintf("centred on the 署名 and 成文日期 (%s / %s)", b.name, b.date)
}

// bodyGlyphs returns the boxes of the visible glyphs outside block b that
// reach into area (as seen): those the seal must not cover.
func (t *pageText) bodyGlyphs(b sigBlock, area rect) []rect {
	inBlock := map[int]bool{}
	for _, li := range b.lines {
		inBlock[li] = true
	}
	var out []rect
	for li, l := range t.lines {
		if inBlock[li] {
			continue
		}
		for _, gi := range l.glyphs {
			g := t.glyphs[gi].box
			if t.glyphs[gi].n == 0 || g.urx < area.llx || g.llx > area.urx || g.ury < area.lly || g.lly > area.ury {
				continue
			}
			out = append(out, g)
		}
	}
	return out
}

// gapAbove is the distance from the seal's top (y top) to the lowest body
// glyph above it within the seal's width, when there is one.
func (t *pageText) gapAbove(b sigBlock, cx, sw, top float64) (float64, bool) {
	gap, ok := 0.0, false
	for _, g := range t.bodyGlyphs(b, rect{cx - sw/2, top, cx + sw/2, math.Inf(1)}) {
		if g.lly < top {
			continue
		}
		if d := g.lly - top; !ok || d < gap {
			gap, ok = d, true
		}
	}
	return gap, ok
}

// ellipseMeetsRect reports whether the ellipse centred at (cx, cy) with
// semi-axes a and b shares a point with rectangle r. Scaled by 1/a and 1/b
// the ellipse is the unit circle and r still a rectangle, whose nearest
// point to the centre decides.
func ellipseMeetsRect(cx, cy, a, b float64, r rect) bool {
	nx := math.Min(math.Max(cx, r.llx), r.urx)
	ny := math.Min(math.Max(cy, r.lly), r.ury)
	dx, dy := (nx-cx)/a, (ny-cy)/b
	return dx*dx+dy*dy <= 1
}
