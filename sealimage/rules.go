package sealimage

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// The seal of a 乡镇人民政府 special-purpose seal, as 国发〔1999〕25号 and common
// practice lay it out, all sizes in proportion to the diameter (given here
// for the usual 42 mm):
//
//   - a red ring 1.2 mm wide at the edge;
//   - a five-pointed star 14 mm across (a third of the diameter), its top
//     point up, a little above the centre;
//   - the government's name along the upper arc, read clockwise from the
//     left, each character upright to the ring (its top outward), 6.3 mm
//     tall, spread over at most 220° and squeezed sideways (长宋) rather than
//     made smaller when it is long;
//   - the purpose (行政审批专用章) in one horizontal line under the star;
//   - optionally the 13-digit seal code along the lower arc inside the ring,
//     read left to right, the digits' tops toward the centre.
//
// The text is drawn from a Song/Ming font's glyph outlines, so the picture is
// paths only: exact at any zoom, and a PDF that draws it embeds no font.

// Spec says what a seal shows.
type Spec struct {
	// Name is the government's name, set along the upper arc, e.g.
	// 融安县长安镇人民政府.
	Name string
	// Purpose is set under the star, e.g. 行政审批专用章; it may be empty.
	Purpose string
	// Code is the 13-digit seal code, set along the lower arc; it may be
	// empty.
	Code string
	// DiameterMM is the seal's size: 42 when zero; 40 in provinces that use it.
	DiameterMM float64
}

// ErrBadSpec means a Spec that no seal can be drawn from.
var ErrBadSpec = errors.New("sealimage: bad seal specification")

// Limits on a Spec: beyond them the characters would be too narrow to read.
const (
	maxNameRunes    = 20
	maxPurposeRunes = 10
	minDiameterMM   = 30
	maxDiameterMM   = 60
)

// SplitSealName splits a seal's full name, such as
// 融安县长安镇人民政府行政审批专用章, into the government's name, set along the
// arc, and the purpose, set under the star: the split is after the last
// 人民政府. A name without it is all arc.
func SplitSealName(full string) (name, purpose string) {
	const gov = "人民政府"
	i := strings.LastIndex(full, gov)
	if i < 0 {
		return full, ""
	}
	return full[:i+len(gov)], full[i+len(gov):]
}

// The colour of the seal: a seal red (#D41C1C).
const (
	redR, redG, redB = 0xd4, 0x1c, 0x1c
)

// A Seal is a drawn seal: filled paths in millimetres about its centre.
type Seal struct {
	spec     Spec
	diameter float64
	path     Path
	layout   layout
}

// layout records where Draw put each part, for tests and reports.
type layout struct {
	ringOuter, ringInner float64
	starCentre           Point
	starRadius           float64
	name                 []placed // the name's characters, left to right
	purpose              []placed
	code                 []placed
}

// placed is one character's em box: its centre, its size, and the angle of
// its upright in radians from the +x axis.
type placed struct {
	r      rune
	centre Point
	w, h   float64
	up     float64
}

// Draw lays out a seal by the rules above with the glyphs of f.
func Draw(spec Spec, f *Font) (*Seal, error) {
	d := spec.DiameterMM
	if d == 0 {
		d = 42
	}
	switch n, p := utf8.RuneCountInString(spec.Name), utf8.RuneCountInString(spec.Purpose); {
	case d < minDiameterMM || d > maxDiameterMM:
		return nil, fmt.Errorf("%w: diameter %g mm is outside %d–%d mm", ErrBadSpec, d, minDiameterMM, maxDiameterMM)
	case n == 0:
		return nil, fmt.Errorf("%w: no name", ErrBadSpec)
	case n > maxNameRunes:
		return nil, fmt.Errorf("%w: the name %q has %d characters; at most %d fit the ring", ErrBadSpec, spec.Name, n, maxNameRunes)
	case p > maxPurposeRunes:
		return nil, fmt.Errorf("%w: the purpose %q has %d characters; at most %d fit under the star", ErrBadSpec, spec.Purpose, p, maxPurposeRunes)
	case spec.Code != "" && !isDigits(spec.Code, 13):
		return nil, fmt.Errorf("%w: the seal code %q is not 13 digits", ErrBadSpec, spec.Code)
	}
	if err := f.Check(spec.Name + spec.Purpose + spec.Code); err != nil {
		return nil, err
	}
	s := &Seal{spec: spec, diameter: d}
	R := d / 2
	k := d / 42 // every size below is for 42 mm

	// The ring: the outer circle anticlockwise, the inner clockwise.
	s.layout.ringOuter = R - 0.05*k
	s.layout.ringInner = s.layout.ringOuter - 1.2*k
	s.path.circle(Point{}, s.layout.ringOuter, false)
	s.path.circle(Point{}, s.layout.ringInner, true)

	// The star.
	s.layout.starCentre = Point{0, 1.0 * k}
	s.layout.starRadius = 7.0 * k
	s.path.polygon(starPoints(s.layout.starCentre, s.layout.starRadius))

	// The name along the upper arc.
	hN := 6.3 * k
	rN := s.layout.ringInner - 0.7*k - hN/2
	name := []rune(spec.Name)
	gap := 0.35 * k
	step := 2 * math.Asin(math.Min(1, (hN+gap)/2/rN)) // full-width characters, side by side
	const maxSpan = 220 * math.Pi / 180
	if n := float64(len(name) - 1); n*step > maxSpan {
		step = maxSpan / n
	}
	wN := math.Min(hN, 2*rN*math.Sin(step/2)-gap)
	start := math.Pi/2 + step*float64(len(name)-1)/2
	for i, r := range name {
		a := start - step*float64(i)
		c := Point{rN * math.Cos(a), rN * math.Sin(a)}
		if err := s.glyph(f, placed{r: r, centre: c, w: wN, h: hN, up: a}, &s.layout.name); err != nil {
			return nil, err
		}
	}

	// The purpose under the star, in one line.
	if p := []rune(spec.Purpose); len(p) > 0 {
		hP := 4.2 * k
		wP := math.Min(0.8*hP, 23.5*k/float64(len(p)))
		y := -10.5 * k
		for i, r := range p {
			x := (float64(i) - float64(len(p)-1)/2) * wP
			if err := s.glyph(f, placed{r: r, centre: Point{x, y}, w: wP, h: hP, up: math.Pi / 2}, &s.layout.purpose); err != nil {
				return nil, err
			}
		}
	}

	// The code along the lower arc, tops inward.
	if spec.Code != "" {
		hC := 1.9 * k
		wC := 0.6 * hC
		rC := s.layout.ringInner - 0.5*k - hC/2
		stepC := (wC + 0.15*k) / rC
		for i, r := range spec.Code {
			a := 3*math.Pi/2 + (float64(i)-6)*stepC
			c := Point{rC * math.Cos(a), rC * math.Sin(a)}
			if err := s.glyph(f, placed{r: r, centre: c, w: wC, h: hC, up: a + math.Pi}, &s.layout.code); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// glyph adds the outline of p.r, scaled to p's box (its advance p.w wide, its
// em p.h tall), turned upright to p.up
// and centred on p.centre, and records p in to.
func (s *Seal) glyph(f *Font, p placed, to *[]placed) error {
	g, adv, err := f.glyph(p.r)
	if err != nil {
		return err
	}
	// p.w is the width of the glyph's advance: one em for an ideograph,
	// half of one for a digit.
	m := scaling(p.w/adv, p.h).then(rotation(p.up - math.Pi/2)).then(translation(p.centre.X, p.centre.Y))
	s.path.append(g.transform(m))
	*to = append(*to, p)
	return nil
}

// starPoints returns the ten corners of a five-pointed star about c with
// outer radius r, one point straight up, anticlockwise.
func starPoints(c Point, r float64) []Point {
	ri := r * math.Sin(math.Pi/10) / math.Sin(7*math.Pi/10)
	pts := make([]Point, 10)
	for i := range pts {
		rad := r
		if i%2 == 1 {
			rad = ri
		}
		a := math.Pi/2 + float64(i)*math.Pi/5
		pts[i] = Point{c.X + rad*math.Cos(a), c.Y + rad*math.Sin(a)}
	}
	return pts
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// DiameterMM is the seal's size.
func (s *Seal) DiameterMM() float64 { return s.diameter }

// PDFContent returns a PDF content stream that draws the seal in a box of
// DiameterMM×DiameterMM millimetres, in points, with its origin at the lower
// left: the content of a form XObject with that /BBox. It uses paths and a
// fill colour only: no font, no image. It is derived from the seal's SVG
// (PDFContentFromSVG), its canonical picture.
func (s *Seal) PDFContent() []byte {
	c, err := PDFContentFromSVG(s.SVG())
	if err != nil {
		panic("sealimage: the seal's own SVG does not convert: " + err.Error())
	}
	return c
}

// SVG returns the seal as an SVG document DiameterMM millimetres wide.
func (s *Seal) SVG() []byte {
	var b strings.Builder
	d := num(s.diameter, 3)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%smm" height="%smm" viewBox="0 0 %s %s">`+"\n", d, d, d, d)
	fmt.Fprintf(&b, `<title>%s</title>`+"\n", xmlEscape(s.spec.Name+s.spec.Purpose))
	fmt.Fprintf(&b, `<path fill="#%02X%02X%02X" fill-rule="nonzero" d="`, redR, redG, redB)
	s.path.svgData(&b, s.diameter/2)
	b.WriteString("\"/>\n</svg>\n")
	return []byte(b.String())
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
