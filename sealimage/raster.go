package sealimage

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"golang.org/x/image/vector"
)

// PNG rasterises the seal at dpi dots per inch, on a transparent background,
// for places that need pixels (a seal's preview, a scanned-seal workflow).
// The vector paths stay the seal; this is a picture of them.
func (s *Seal) PNG(dpi int) ([]byte, error) {
	if dpi < 36 || dpi > 2400 {
		return nil, fmt.Errorf("%w: %d dpi is outside 36–2400", ErrBadSpec, dpi)
	}
	px := int(s.diameter/25.4*float64(dpi) + 0.5)
	mask := s.raster(px)
	img := image.NewNRGBA(mask.Rect)
	for i, a := range mask.Pix {
		if a != 0 {
			img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = redR, redG, redB, a
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// raster returns the seal's coverage on a px×px grid, y down.
func (s *Seal) raster(px int) *image.Alpha {
	z := vector.NewRasterizer(px, px)
	z.DrawOp = draw.Src
	scale := float64(px) / s.diameter
	r := s.diameter / 2
	at := func(p Point) (float32, float32) {
		return float32((p.X + r) * scale), float32((r - p.Y) * scale)
	}
	for _, sg := range s.path.segs {
		switch sg.op {
		case 'M':
			z.MoveTo(at(sg.pts[0]))
		case 'L':
			z.LineTo(at(sg.pts[0]))
		case 'C':
			bx, by := at(sg.pts[0])
			cx, cy := at(sg.pts[1])
			dx, dy := at(sg.pts[2])
			z.CubeTo(bx, by, cx, cy, dx, dy)
		case 'Z':
			z.ClosePath()
		}
	}
	mask := image.NewAlpha(image.Rect(0, 0, px, px))
	z.Draw(mask, mask.Bounds(), image.NewUniform(color.Opaque), image.Point{})
	return mask
}
