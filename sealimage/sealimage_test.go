package sealimage

import (
	"bytes"
	"image/png"
	"testing"
)

func TestRound(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(Round(200)))
	if err != nil {
		t.Fatal(err)
	}
	at := func(x, y int) (r, g, b, a uint32) { return img.At(x, y).RGBA() }
	for _, tc := range []struct {
		name   string
		x, y   int
		opaque bool
	}{
		{"corner is transparent", 2, 2, false},
		{"ring at the left", 5, 100, true},
		{"between ring and star", 30, 100, false},
		{"star centre", 100, 100, true},
		{"near the star's upper point", 100, 62, true},
		{"above the star's upper point", 100, 55, false},
	} {
		r, g, _, a := at(tc.x, tc.y)
		if got := a > 0xf000; got != tc.opaque {
			t.Errorf("%s: alpha %#x", tc.name, a)
		}
		if tc.opaque && (r < 0xc000 || g > 0x3000) {
			t.Errorf("%s: not red: r=%#x g=%#x", tc.name, r, g)
		}
	}
}
