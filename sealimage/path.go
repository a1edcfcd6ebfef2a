package sealimage

import (
	"math"
	"strconv"
	"strings"
)

// A Point is a position in millimetres from the seal's centre, y up.
type Point struct{ X, Y float64 }

// segment is one step of a path: a move, a line or a cubic Bézier curve
// (quadratic curves from TrueType outlines are raised to cubics, which PDF
// and SVG both draw exactly), or the closing of the current subpath.
type segment struct {
	op  byte // 'M', 'L', 'C', 'Z'
	pts [3]Point
}

// A Path is a filled outline in millimetres, filled by the non-zero winding
// rule: the ring is two circles wound in opposite directions, and a glyph's
// holes are wound against its outer contours, as fonts draw them.
type Path struct{ segs []segment }

func (p *Path) moveTo(a Point) { p.segs = append(p.segs, segment{op: 'M', pts: [3]Point{a}}) }
func (p *Path) lineTo(a Point) { p.segs = append(p.segs, segment{op: 'L', pts: [3]Point{a}}) }
func (p *Path) cubeTo(b, c, d Point) {
	p.segs = append(p.segs, segment{op: 'C', pts: [3]Point{b, c, d}})
}
func (p *Path) closePath()     { p.segs = append(p.segs, segment{op: 'Z'}) }
func (p *Path) append(q *Path) { p.segs = append(p.segs, q.segs...) }
func (p *Path) transform(m affine) *Path {
	out := &Path{segs: make([]segment, len(p.segs))}
	for i, s := range p.segs {
		out.segs[i].op = s.op
		for j := range s.pts {
			out.segs[i].pts[j] = m.apply(s.pts[j])
		}
	}
	return out
}

// circle appends a circle of radius r about c as four cubic arcs, clockwise
// when cw (as seen with y up).
func (p *Path) circle(c Point, r float64, cw bool) {
	const k = 0.5522847498307936 // 4/3·(√2−1): the control distance of a quarter circle
	dir := 1.0
	if cw {
		dir = -1
	}
	at := func(a float64) Point { return Point{c.X + r*math.Cos(a), c.Y + r*math.Sin(a)} }
	tan := func(a float64) Point { return Point{-math.Sin(a) * dir, math.Cos(a) * dir} }
	p.moveTo(at(0))
	for i := range 4 {
		a0 := dir * float64(i) * math.Pi / 2
		a1 := dir * float64(i+1) * math.Pi / 2
		p0, p1 := at(a0), at(a1)
		t0, t1 := tan(a0), tan(a1)
		p.cubeTo(Point{p0.X + k*r*t0.X, p0.Y + k*r*t0.Y}, Point{p1.X - k*r*t1.X, p1.Y - k*r*t1.Y}, p1)
	}
	p.closePath()
}

// polygon appends a closed polygon.
func (p *Path) polygon(pts []Point) {
	p.moveTo(pts[0])
	for _, q := range pts[1:] {
		p.lineTo(q)
	}
	p.closePath()
}

// affine maps points: x' = a·x + c·y + e, y' = b·x + d·y + f.
type affine struct{ a, b, c, d, e, f float64 }

func (m affine) apply(p Point) Point {
	return Point{m.a*p.X + m.c*p.Y + m.e, m.b*p.X + m.d*p.Y + m.f}
}

// then returns the map that applies m, then n.
func (m affine) then(n affine) affine {
	return affine{
		a: n.a*m.a + n.c*m.b, b: n.b*m.a + n.d*m.b,
		c: n.a*m.c + n.c*m.d, d: n.b*m.c + n.d*m.d,
		e: n.a*m.e + n.c*m.f + n.e, f: n.b*m.e + n.d*m.f + n.f,
	}
}

func scaling(sx, sy float64) affine   { return affine{a: sx, d: sy} }
func translation(x, y float64) affine { return affine{a: 1, d: 1, e: x, f: y} }
func rotation(rad float64) affine {
	s, c := math.Sin(rad), math.Cos(rad)
	return affine{a: c, b: s, c: -s, d: c}
}

// num formats a coordinate for PDF or SVG: fixed precision, so that the
// same seal always gives the same bytes, and no exponent.
func num(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// svgData writes the path as SVG path data in millimetres, y down, with the
// origin at the upper left of the seal's box.
func (p *Path) svgData(b *strings.Builder, radius float64) {
	pt := func(q Point) string { return num(q.X+radius, 3) + " " + num(radius-q.Y, 3) }
	for _, s := range p.segs {
		switch s.op {
		case 'M':
			b.WriteString("M" + pt(s.pts[0]))
		case 'L':
			b.WriteString("L" + pt(s.pts[0]))
		case 'C':
			b.WriteString("C" + pt(s.pts[0]) + " " + pt(s.pts[1]) + " " + pt(s.pts[2]))
		case 'Z':
			b.WriteString("Z")
		}
	}
}
