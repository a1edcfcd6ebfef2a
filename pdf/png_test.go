package pdf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"testing"
)

// sealVariants re-encodes the interop seal in the PNG colour types seals
// come in. Each keeps the seal's shape; ink is its colour over white.
func sealVariants(t *testing.T) map[string]struct {
	png []byte
	ink color.NRGBA
} {
	t.Helper()
	testSeal(t)
	src, err := png.Decode(bytes.NewReader(sealPNG))
	if err != nil {
		t.Fatal(err)
	}
	b := src.Bounds()
	at := func(x, y int) color.NRGBA { return color.NRGBAModel.Convert(src.At(x, y)).(color.NRGBA) }
	over := func(v, a uint8) uint8 { return uint8((int(v)*int(a) + 255*(255-int(a))) / 255) }
	out := map[string]struct {
		png []byte
		ink color.NRGBA
	}{}
	encode := func(img image.Image) []byte {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	red := color.NRGBA{225, 20, 20, 235}
	inkRed := color.NRGBA{over(225, 235), over(20, 235), over(20, 235), 255}
	out["rgba8"] = struct {
		png []byte
		ink color.NRGBA
	}{sealPNG, inkRed}

	// 16-bit RGBA.
	n64 := image.NewNRGBA64(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := at(x, y)
			n64.SetNRGBA64(x, y, color.NRGBA64{uint16(c.R) * 257, uint16(c.G) * 257, uint16(c.B) * 257, uint16(c.A) * 257})
		}
	}
	out["rgba16"] = struct {
		png []byte
		ink color.NRGBA
	}{encode(n64), inkRed}

	// Paletted with a transparent entry (tRNS): the transparent entry's
	// colour is black, which a conversion that ignores tRNS draws.
	pal := image.NewPaletted(b, color.Palette{color.NRGBA{0, 0, 0, 0}, red, color.NRGBA{255, 255, 255, 255}})
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c := at(x, y); c.A >= 128 {
				pal.SetColorIndex(x, y, 1)
			}
		}
	}
	out["paletted+tRNS"] = struct {
		png []byte
		ink color.NRGBA
	}{encode(pal), inkRed}

	// Grey with alpha, which Go's encoder does not write.
	grey := uint8(math.Round(0.299*225 + 0.587*20 + 0.114*20))
	out["grey+alpha"] = struct {
		png []byte
		ink color.NRGBA
	}{greyAlphaPNG(t, b.Dx(), b.Dy(), func(x, y int) (uint8, uint8) {
		c := at(b.Min.X+x, b.Min.Y+y)
		if c.A == 0 {
			return 0, 0
		}
		return grey, c.A
	}), color.NRGBA{over(grey, 235), over(grey, 235), over(grey, 235), 255}}
	return out
}

// greyAlphaPNG writes an 8-bit grey+alpha PNG (colour type 4).
func greyAlphaPNG(t *testing.T, w, h int, px func(x, y int) (uint8, uint8)) []byte {
	t.Helper()
	var raw bytes.Buffer
	for y := range h {
		raw.WriteByte(0) // filter: none
		for x := range w {
			g, a := px(x, y)
			raw.WriteByte(g)
			raw.WriteByte(a)
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes())
	zw.Close()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		out.WriteString(typ)
		out.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		binary.Write(&out, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 4 // bit depth, colour type grey+alpha
	chunk("IHDR", ihdr)
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

func inflateAll(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSealImageSamples checks the conversion of every colour type: each
// pixel keeps its alpha exactly, and its colour within what a viewer could
// show (inkTolerance levels, weighted by alpha). Transparent pixels stay
// transparent: a paletted image's transparent entry must not turn black and
// opaque.
func TestSealImageSamples(t *testing.T) {
	variants := sealVariants(t)
	// Two inks: the colour image must keep every pixel.
	two := image.NewNRGBA(image.Rect(0, 0, 64, 32))
	for y := range 32 {
		for x := range 64 {
			if x < 32 {
				two.Set(x, y, color.NRGBA{220, 20, 20, 255})
			} else if y > 8 {
				two.Set(x, y, color.NRGBA{20, 20, 200, uint8(y * 7)})
			}
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, two)
	variants["two inks"] = struct {
		png []byte
		ink color.NRGBA
	}{buf.Bytes(), color.NRGBA{}}

	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			s, err := NewSealImage(v.png, 0)
			if err != nil {
				t.Fatal(err)
			}
			src, err := png.Decode(bytes.NewReader(v.png))
			if err != nil {
				t.Fatal(err)
			}
			if s.alpha == nil {
				t.Fatal("no soft mask for a transparent seal")
			}
			samples, alpha := inflateAll(t, s.samples), inflateAll(t, s.alpha)
			comps := 3
			if s.colorSpace == "DeviceGray" {
				comps = 1
			}
			if name == "grey+alpha" && comps != 1 {
				t.Errorf("a grey seal is written as %s", s.colorSpace)
			}
			oneInk := name != "two inks"
			if oneInk != (s.w == 1 && s.h == 1) {
				t.Errorf("colour image %d×%d; one ink: %v", s.w, s.h, oneInk)
			}
			b := src.Bounds()
			if s.maskW != b.Dx() || s.maskH != b.Dy() || len(alpha) != b.Dx()*b.Dy() || len(samples) != s.w*s.h*comps {
				t.Fatalf("%d samples (%d×%d) and %d alpha bytes (%d×%d) for %v", len(samples), s.w, s.h, len(alpha), s.maskW, s.maskH, b)
			}
			bad := 0
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					c := color.NRGBAModel.Convert(src.At(x, y)).(color.NRGBA)
					i := (y-b.Min.Y)*b.Dx() + (x - b.Min.X)
					if alpha[i] != c.A {
						bad++
						continue
					}
					// The colour image's pixel under this mask pixel.
					cx, cy := (x-b.Min.X)*s.w/b.Dx(), (y-b.Min.Y)*s.h/b.Dy()
					j := (cy*s.w + cx) * comps
					got := samples[j : j+comps]
					for k, want := range []byte{c.R, c.G, c.B}[:comps] {
						d := int(got[k]) - int(want)
						if d < 0 {
							d = -d
						}
						if d*int(c.A) > inkTolerance*255 {
							bad++
							break
						}
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d pixels converted wrongly", bad)
			}
		})
	}
}

// TestSealImageRendering draws each colour type on a page: the ink shows
// where the seal is inked, and the page shows through where it is
// transparent.
func TestSealImageRendering(t *testing.T) {
	in := fixture(t, "decision.pdf")
	before := render(t, writeTemp(t, "in.pdf", in), 1)
	for name, v := range sealVariants(t) {
		t.Run(name, func(t *testing.T) {
			img, err := NewSealImage(v.png, 0)
			if err != nil {
				t.Fatal(err)
			}
			req := baseRequest(t)
			req.Image = img
			req.Placements = []Placement{At{Page: 1, Corner: TopRight, X: 50, Y: 120}}
			out, _ := sealBytes(t, in, req)
			after := render(t, writeTemp(t, "out.pdf", out), 1)
			checkInk(t, before, after, mmBox(a4WidthMM-50, 120, 42, 42), v.ink)
		})
	}
}

func TestSealImageSize(t *testing.T) {
	testSeal(t)
	for _, tc := range []struct {
		w, h         int
		widthMM      float64
		wantW, wantH float64
	}{
		{600, 600, 0, 42, 42},
		{600, 600, 38, 38, 38},
		{400, 200, 50, 50, 25},
	} {
		img := image.NewNRGBA(image.Rect(0, 0, tc.w, tc.h))
		img.Set(1, 1, color.NRGBA{200, 0, 0, 255})
		var buf bytes.Buffer
		png.Encode(&buf, img)
		s, err := NewSealImage(buf.Bytes(), tc.widthMM)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(s.WidthMM()-tc.wantW) > 1e-9 || math.Abs(s.HeightMM()-tc.wantH) > 1e-9 {
			t.Errorf("%d×%d at %v mm: %v×%v mm, want %v×%v", tc.w, tc.h, tc.widthMM, s.WidthMM(), s.HeightMM(), tc.wantW, tc.wantH)
		}
	}
	// Drawn on the page, 38 mm is 38 mm.
	s, err := NewSealImage(sealPNG, 38)
	if err != nil {
		t.Fatal(err)
	}
	in := fixture(t, "decision.pdf")
	req := baseRequest(t)
	req.Image = s
	req.Placements = []Placement{At{Page: 1, Corner: TopLeft, X: 50, Y: 50}}
	out, _ := sealBytes(t, in, req)
	checkSealPixels(t, render(t, writeTemp(t, "in.pdf", in), 1), render(t, writeTemp(t, "out.pdf", out), 1), mmBox(50, 50, 38, 38))
}

func TestSealImageErrors(t *testing.T) {
	testSeal(t)
	huge := greyAlphaPNG(t, 1, 1, func(int, int) (uint8, uint8) { return 0, 0 })
	binary.BigEndian.PutUint32(huge[16:], 100000) // IHDR width, CRC now wrong too
	for name, tc := range map[string]struct {
		png []byte
		mm  float64
	}{
		"not a PNG":   {[]byte("GIF89a"), 0},
		"truncated":   {sealPNG[:len(sealPNG)/2], 0},
		"too large":   {huge, 0},
		"too narrow":  {sealPNG, 0.5},
		"too wide":    {sealPNG, 600},
		"negative mm": {sealPNG, -42},
	} {
		if _, err := NewSealImage(tc.png, tc.mm); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
}
