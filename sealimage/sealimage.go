// Package sealimage draws a plain round seal image, a red ring around a
// five-pointed star with transparent background, for seals that have no
// image of their own (the demo's, and tests'). A conforming seal image, with
// the seal's name set along the ring, is made by the seal maker and
// configured per seal; this one carries no text.
//
// It touches nothing: it returns PNG bytes.
package sealimage

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// Red is the seal's colour.
var Red = color.NRGBA{R: 0xd4, G: 0x1c, B: 0x1c, A: 0xff}

// supersample is how many samples a pixel takes along each axis, for
// smooth edges.
const supersample = 4

// Round returns a PNG of size×size pixels: a ring whose width is a
// fifteenth of the diameter, and a star in the middle.
func Round(size int) []byte {
	if size < 16 {
		size = 16
	}
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	c := float64(size) / 2
	outer := c * 0.98
	inner := outer - float64(size)/15
	star := starPolygon(c, c, c*0.42)
	for y := range size {
		for x := range size {
			hits := 0
			for sy := range supersample {
				for sx := range supersample {
					px := float64(x) + (float64(sx)+0.5)/supersample
					py := float64(y) + (float64(sy)+0.5)/supersample
					d := math.Hypot(px-c, py-c)
					if (d <= outer && d >= inner) || inPolygon(star, px, py) {
						hits++
					}
				}
			}
			if hits > 0 {
				a := Red
				a.A = uint8(int(Red.A) * hits / (supersample * supersample))
				img.SetNRGBA(x, y, a)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic("sealimage: encoding to memory failed: " + err.Error())
	}
	return buf.Bytes()
}

type point struct{ x, y float64 }

// starPolygon returns the ten corners of a five-pointed star centred at
// (cx, cy) with outer radius r, one point straight up.
func starPolygon(cx, cy, r float64) []point {
	ri := r * math.Sin(math.Pi/10) / math.Sin(7*math.Pi/10)
	pts := make([]point, 10)
	for i := range pts {
		rad := r
		if i%2 == 1 {
			rad = ri
		}
		a := -math.Pi/2 + float64(i)*math.Pi/5
		pts[i] = point{cx + rad*math.Cos(a), cy + rad*math.Sin(a)}
	}
	return pts
}

// inPolygon is the even-odd rule.
func inPolygon(pts []point, x, y float64) bool {
	in := false
	for i, j := 0, len(pts)-1; i < len(pts); j, i = i, i+1 {
		a, b := pts[i], pts[j]
		if (a.y > y) != (b.y > y) && x < (b.x-a.x)*(y-a.y)/(b.y-a.y)+a.x {
			in = !in
		}
	}
	return in
}
