package sealimage

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sort"
)

// A county that has its real seal may use a scan of the impression instead
// of the drawn seal. A scan is paper and ink: the paper must not cover the
// document under the seal, and the ink comes out in whatever red the
// scanner saw. CleanScan makes the paper transparent and the ink seal red,
// keeping how much ink each pixel holds as its opacity, so the seal looks
// pressed onto the page rather than pasted.

// maxScanPixels bounds a scan: a 42 mm seal at 1200 dpi is 2000² pixels.
const maxScanPixels = 4096 * 4096

// CleanScan returns the scan pngData as a seal picture: transparent where
// the paper is, seal red where the ink is.
func CleanScan(pngData []byte) ([]byte, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(pngData))
	if err != nil {
		return nil, fmt.Errorf("%w: the scan is not a PNG: %v", ErrBadSpec, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxScanPixels {
		return nil, fmt.Errorf("%w: a scan of %d×%d pixels", ErrBadSpec, cfg.Width, cfg.Height)
	}
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return nil, fmt.Errorf("%w: the scan: %v", ErrBadSpec, err)
	}
	b := img.Bounds()
	paper := paperColour(img)
	// Ink is what takes green and blue away from the paper (red ink
	// leaves the red channel nearly as bright as the paper's). The
	// strongest ink is the darkest tenth of the pixels' loss.
	loss := func(c color.NRGBA) float64 {
		g := float64(paper.G) - float64(c.G)
		bl := float64(paper.B) - float64(c.B)
		return max(0, (g+bl)/2) / max(1, float64(paper.G+paper.B)/2)
	}
	var losses []float64
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if l := loss(c); l > 0.15 && c.A > 0 {
				losses = append(losses, l)
			}
		}
	}
	if len(losses) == 0 {
		return nil, fmt.Errorf("%w: the scan shows no ink on its paper", ErrBadSpec)
	}
	sort.Float64s(losses)
	full := losses[len(losses)*9/10] // ink this strong or stronger is solid
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			a := (loss(c) - 0.12) / (full - 0.12) // paper's grain and shade are not ink
			a = min(1, max(0, a)) * float64(c.A) / 255
			if a > 0 {
				i := out.PixOffset(x-b.Min.X, y-b.Min.Y)
				out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = redR, redG, redB, uint8(a*255+0.5)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// paperColour is the median colour of the scan's border, where a seal's
// impression does not reach; a transparent border counts as white paper.
func paperColour(img image.Image) color.NRGBA {
	b := img.Bounds()
	var rs, gs, bs []int
	add := func(x, y int) {
		c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
		if c.A < 128 {
			c = color.NRGBA{255, 255, 255, 255}
		}
		rs, gs, bs = append(rs, int(c.R)), append(gs, int(c.G)), append(bs, int(c.B))
	}
	for x := b.Min.X; x < b.Max.X; x++ {
		add(x, b.Min.Y)
		add(x, b.Max.Y-1)
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		add(b.Min.X, y)
		add(b.Max.X-1, y)
	}
	med := func(v []int) uint8 { sort.Ints(v); return uint8(v[len(v)/2]) }
	return color.NRGBA{med(rs), med(gs), med(bs), 255}
}
