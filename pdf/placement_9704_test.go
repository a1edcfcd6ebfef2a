package pdf

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"
)

// The seal on the 署名 and 成文日期, as GB/T 9704-2012 §7.3.5 asks, checked
// against poppler: pdftotext's word boxes say where the name, the date and
// the body text are, and pdftoppm's render shows the seal's ink.

// decisionLine is a line of the decision's body, drawn with its font /F2
// at 11 pt: the codes of its subset font, as LibreOffice wrote them.
var decisionLines = []string{
	// 请你严格按照批准的用地面积和位置进行建设，不得擅自改变用途。如对本决定不服，可以自收到本决定
	"<11287a7b7c7d3c05453839696a4b7e7f805436373d81828375848538864262872e5c5b81883d5689758a8b2e5c5b>Tj",
	// 书之日起六十日内向青山县人民政府申请行政复议，或者在六个月内依法向青山县人民法院提起行政诉讼
	"<8c772c7850512c602d01028d1234558e101154558f903d91929350942b603e3f2d01028d12343f95317854559697>Tj",
}

// decisionName is 青山镇人民政府（印章）, decisionShortName 青山镇.
const (
	decisionName      = "<0102031234558e17999a20>Tj"
	decisionShortName = "<010203>Tj"
)

// decisionPage builds a page of decision.pdf's fonts: body lines from the
// top down to baseline bodyEnd (in points from the page's bottom), the
// name (its Tj operand, set at nameX) on baseline nameY, and the date
// 2024年5月20日 right-aligned to the body's margin as the decision sets
// it, on baseline dateY. It appends the page's content to decision.pdf as
// an incremental update, apart from the package's writer.
func decisionPage(t testing.TB, bodyEnd, nameX, nameY, dateY float64, name string) []byte {
	t.Helper()
	var c strings.Builder
	line := func(x, y float64, show string) {
		fmt.Fprintf(&c, "BT %.3f %.3f Td /F2 11 Tf %s ET\n", x, y, show)
	}
	k := 0
	for y := 780.0; y >= bodyEnd-0.01; y -= 18.2 {
		line(56.8, y, decisionLines[k%2])
		k++
	}
	line(nameX, nameY, name)
	// 2024 年 5 月 20 日, each piece where the decision puts it.
	for _, p := range []struct {
		x    float64
		show string
	}{
		{480.2, `[(\b)3(\t)2(\b)-5(\n)]TJ`}, {506.9, "(*)Tj"}, {520.1, "<1e>Tj"}, {528.5, "(+)Tj"}, {541.7, `[(\b)3(\t)]TJ`}, {556.1, "(,)Tj"},
	} {
		line(p.x, dateY, p.show)
	}
	s := c.String()
	return appendRevision(t, fixture(t, "decision.pdf"), rawObj{2, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(s), s)})
}

// wordBox is a pdftotext word box, in points from the top left.
type wordBox struct{ x0, y0, x1, y1 float64 }

func (b wordBox) union(o wordBox) wordBox {
	return wordBox{math.Min(b.x0, o.x0), math.Min(b.y0, o.y0), math.Max(b.x1, o.x1), math.Max(b.y1, o.y1)}
}

// disc is the seal's disc, in points from the top left.
type disc struct{ cx, cy, rx, ry float64 }

func (d disc) contains(x, y float64) bool {
	dx, dy := (x-d.cx)/d.rx, (y-d.cy)/d.ry
	return dx*dx+dy*dy <= 1
}

// rowWithin is the fraction of box b's middle row that lies within the
// disc.
func (d disc) rowWithin(b wordBox) float64 {
	const n = 100
	in := 0
	for i := range n {
		if d.contains(b.x0+(float64(i)+0.5)/n*(b.x1-b.x0), (b.y0+b.y1)/2) {
			in++
		}
	}
	return float64(in) / n
}

// meets reports whether the disc shares a point with box b.
func (d disc) meets(b wordBox) bool {
	return d.contains(math.Min(math.Max(d.cx, b.x0), b.x1), math.Min(math.Max(d.cy, b.y0), b.y1))
}

// TestPlacement9704 seals documents by their 署名 and 成文日期 and checks
// where the seal went: over the date and the name, centred across them,
// within the text margins and the page, clear of every glyph of the body
// text above (poppler's word boxes), its top within a line of the body,
// and its ink on the date in the render. Where the page leaves no room,
// the seal goes where 9704 puts it and the reason says it covers text.
func TestPlacement9704(t *testing.T) {
	img := testSeal(t)
	dec := fixture(t, "decision.pdf")
	for _, tc := range []struct {
		name    string
		in      []byte
		pl      Placement
		sig     string // the 署名 as pdftotext gives it
		why     string // what the reason must say
		covers  bool   // no room: the seal covers body text, and says so
		noLimit bool   // the seal's top may lie more than a line below the body
		// dateWithin is the least part of the date's row within the disc
		// (0: 90%): less where the date lies far below the seal's centre,
		// where the disc is narrower.
		dateWithin float64
		// exact: the reason is why alone (nothing was moved), and both the
		// name and the date lie below the seal's centre.
		exact bool
	}{
		// The decision leaves 1.7 lines between the body and the name: the
		// seal is shifted down off the last line "…提起行政诉讼。".
		{name: "decision", in: dec, sig: "青山镇人民政府（印章）",
			why: "centred on the 署名 and 成文日期 (青山镇人民政府(印章) / 2024年5月20日), shifted down 8 mm to clear the body text"},
		{name: "decision keyword on the 署名", in: dec, pl: Keyword{Text: "青山镇人民政府"}, sig: "青山镇人民政府（印章）",
			why: `on the keyword "青山镇人民政府" as the 署名 above the 成文日期 (2024年5月20日), centred on both, shifted down`},
		// Room enough: the seal's top within a line below the body, the
		// name and the date below its centre, nothing moved. The date, a
		// line below the name, lies 31 pt below the centre.
		{name: "room for the seal", in: decisionPage(t, 470, 446.1, 389.989, 364.889, decisionName), sig: "青山镇人民政府（印章）",
			why: "centred on the 署名 and 成文日期 (青山镇人民政府(印章) / 2024年5月20日)", exact: true, dateWithin: 0.85},
		// A three-character name centred on the date.
		{name: "short 署名", in: decisionPage(t, 440.289, 507.15, 389.989, 364.889, decisionShortName), sig: "青山镇",
			why: "centred on the 署名 and 成文日期 (青山镇 / 2024年5月20日), moved 6 mm left to stay within the text margins, shifted down"},
		// The date 5 mm from the bottom edge: the seal is kept on the page,
		// above where 9704 would put it, and still clears the body.
		{name: "date at the bottom, room above", in: decisionPage(t, 170, 446.1, 40, 15, decisionName), sig: "青山镇人民政府（印章）",
			why: "moved 4 mm up to stay on the page, its top 21 mm below the body text (9704 asks for at most a line)", noLimit: true, dateWithin: 0.75},
		// The same with the body running down to the name: no position on
		// the page clears it.
		{name: "date at the bottom, no room", in: decisionPage(t, 80, 446.1, 40, 15, decisionName), sig: "青山镇人民政府（印章）",
			why: "to stay on the page, covering body text", covers: true, dateWithin: 0.75},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inFile := writeTemp(t, "in.pdf", tc.in)
			qpdfCheck(t, inFile)
			words := pdftotextWords(t, inFile, 1)
			// The date: the last run 2024 年 5 月 20 日; the name: the last
			// word sig above it.
			date := []string{"2024", "年", "5", "月", "20", "日"}
			var dateBox, nameBox wordBox
			di := -1
			for i := len(words) - len(date); i >= 0 && di < 0; i-- {
				ok := true
				for k, d := range date {
					ok = ok && words[i+k].text == d
				}
				if ok {
					di = i
				}
			}
			if di < 0 {
				t.Fatal("pdftotext does not find the date")
			}
			w0 := words[di]
			dateBox = wordBox{w0.x0, w0.y0, w0.x1, w0.y1}
			for _, w := range words[di : di+len(date)] {
				dateBox = dateBox.union(wordBox{w.x0, w.y0, w.x1, w.y1})
			}
			ni := -1
			for i := di - 1; i >= 0; i-- {
				if words[i].text == tc.sig {
					ni = i
					break
				}
			}
			if ni < 0 {
				t.Fatalf("pdftotext does not find the name %q", tc.sig)
			}
			nameBox = wordBox{words[ni].x0, words[ni].y0, words[ni].x1, words[ni].y1}
			// The body: every word above the name; its left margin; the
			// right margin, to which the date is set.
			var body []wordBox
			left, bodyBottom := math.Inf(1), 0.0
			for _, w := range words[:ni] {
				b := wordBox{w.x0, w.y0, w.x1, w.y1}
				body = append(body, b)
				left = math.Min(left, b.x0)
				bodyBottom = math.Max(bodyBottom, b.y1)
			}
			right := dateBox.x1
			pitch := dateBox.y0 - nameBox.y0 // a line

			req := baseRequest(t)
			req.Image = img
			if tc.pl != nil {
				req.Placements = []Placement{tc.pl}
			}
			out, res := sealBytes(t, tc.in, req)
			checkSealed(t, tc.in, out, res, 0)
			if len(res.Seals) != 1 {
				t.Fatalf("%d seals", len(res.Seals))
			}
			s := res.Seals[0]
			if !strings.Contains(s.Why, tc.why) || tc.exact && s.Why != tc.why {
				t.Errorf("reason %q, want it to say %q", s.Why, tc.why)
			}
			const pageW, pageH = 595.303937007874, 841.889763779528
			r := s.Rect
			sx0, sy0, sx1, sy1 := r[0], pageH-r[3], r[2], pageH-r[1] // from the top left
			d := disc{(sx0 + sx1) / 2, (sy0 + sy1) / 2, (sx1 - sx0) / 2, (sy1 - sy0) / 2}
			const eps = 0.5
			if sx0 < -eps || sy0 < -eps || sx1 > pageW+eps || sy1 > pageH+eps {
				t.Errorf("seal %.1f,%.1f–%.1f,%.1f crosses the page's edge", sx0, sy0, sx1, sy1)
			}
			if sx0 < left-eps || sx1 > right+eps {
				t.Errorf("seal spans x %.1f–%.1f, beyond the text margins %.1f–%.1f", sx0, sx1, left, right)
			}
			// Centred across the block, unless the margins moved it.
			blockCX := (math.Min(nameBox.x0, dateBox.x0) + math.Max(nameBox.x1, dateBox.x1)) / 2
			if want := math.Min(blockCX, right-d.rx); math.Abs(d.cx-want) > 1 {
				t.Errorf("seal centred at x %.1f, want %.1f (the block's centre %.1f, within the margin %.1f)", d.cx, want, blockCX, right)
			}
			// Pressing on the block: nearly all the date's middle row within
			// the disc, and most of the name's (a name as wide as the seal
			// meets the disc's edge).
			want := 0.9
			if tc.dateWithin > 0 {
				want = tc.dateWithin
			}
			if f := d.rowWithin(dateBox); f < want {
				t.Errorf("%.0f%% of the date's row lies within the seal %+v, want %.0f%%", 100*f, d, 100*want)
			}
			if f := d.rowWithin(nameBox); f < 0.75 {
				t.Errorf("%.0f%% of the name's row lies within the seal %+v, want 75%%", 100*f, d)
			}
			if nameCY, dateCY := (nameBox.y0+nameBox.y1)/2, (dateBox.y0+dateBox.y1)/2; tc.exact && (nameCY <= d.cy || dateCY <= d.cy) {
				t.Errorf("the name (%.1f) and the date (%.1f) do not both lie below the seal's centre (%.1f)", nameCY, dateCY, d.cy)
			}
			var covered []string
			for i, b := range body {
				if d.meets(b) {
					covered = append(covered, words[i].text)
				}
			}
			switch {
			case tc.covers && len(covered) == 0:
				t.Errorf("the seal was to cover body text, and covers none")
			case !tc.covers && len(covered) > 0:
				t.Errorf("the seal covers body text: %q", covered)
			}
			if gap := sy0 - bodyBottom; !tc.covers && !tc.noLimit && gap > pitch {
				t.Errorf("the seal's top lies %.1f pt below the body text, more than a line (%.1f pt)", gap, pitch)
			}

			before := render(t, inFile, 1)
			after := render(t, writeTemp(t, "out.pdf", out), 1)
			checkSealPixels(t, before, after, mmBox(d.cx/72*25.4, d.cy/72*25.4, img.WidthMM(), img.HeightMM()))
			if n := newInk(before, after, dateBox); n < 20 {
				t.Errorf("%d pixels of seal ink over the date in the render, want at least 20", n)
			}
		})
	}
}

// newInk counts the pixels within box b (points from the top left) that
// are the seal's red after sealing and were not before.
func newInk(before, after image.Image, b wordBox) int {
	k := float64(renderDPI) / 72
	n := 0
	isRed := func(c color.Color) bool {
		r, g, bl, _ := c.RGBA()
		return r>>8 > 150 && g>>8 < 110 && bl>>8 < 110
	}
	for y := int(b.y0 * k); y < int(b.y1*k); y++ {
		for x := int(b.x0 * k); x < int(b.x1*k); x++ {
			p := image.Point{x, y}
			if p.In(after.Bounds()) && isRed(after.At(x, y)) && !isRed(before.At(x, y)) {
				n++
			}
		}
	}
	return n
}
