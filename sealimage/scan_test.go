package sealimage

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"
)

// fakeScan is a scan of a seal impression: cream paper with grain, a ring
// of faded scanner red, and a pale smudge that is not ink.
func fakeScan(t *testing.T) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 200, 200))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := range 200 {
		for x := range 200 {
			grain := uint8(rng.IntN(8))
			c := color.NRGBA{246 - grain, 240 - grain, 226 - grain, 255}
			d := math.Hypot(float64(x)-100, float64(y)-100)
			switch {
			case d > 80 && d < 90:
				c = color.NRGBA{196, 58, 64, 255}
			case x > 20 && x < 30 && y > 20 && y < 30:
				c = color.NRGBA{232, 226, 212, 255} // a shade of the paper
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCleanScan(t *testing.T) {
	out, err := CleanScan(fakeScan(t))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	at := func(x, y int) color.NRGBA { return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) }
	for _, tc := range []struct {
		name string
		x, y int
		ink  bool
	}{
		{"paper at the corner", 2, 2, false},
		{"paper inside the ring", 100, 100, false},
		{"a shade of the paper", 25, 25, false},
		{"the ring", 185, 100, true},
		{"the ring, above", 100, 15, true},
	} {
		c := at(tc.x, tc.y)
		if tc.ink && (c.A < 250 || c.R != redR || c.G != redG || c.B != redB) {
			t.Errorf("%s: %v, want solid seal red", tc.name, c)
		}
		if !tc.ink && c.A != 0 {
			t.Errorf("%s: %v, want transparent", tc.name, c)
		}
	}
	// A page with no ink is not a seal.
	blank := image.NewNRGBA(image.Rect(0, 0, 50, 50))
	for i := range blank.Pix {
		blank.Pix[i] = 250
	}
	var buf bytes.Buffer
	png.Encode(&buf, blank)
	if _, err := CleanScan(buf.Bytes()); !errors.Is(err, ErrBadSpec) {
		t.Errorf("a blank scan: %v", err)
	}
	if _, err := CleanScan([]byte("GIF89a")); !errors.Is(err, ErrBadSpec) {
		t.Errorf("not a PNG: %v", err)
	}
}
