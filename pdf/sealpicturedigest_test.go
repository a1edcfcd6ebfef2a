package pdf

import (
	"errors"
	"testing"
)

// TestSealPictureDigest: the verifier's digest of a registered picture,
// made without preparing it to be drawn, is the digest of the picture
// prepared (SealPicture), for a drawn seal (SVG) and a scan (PNG); and
// what SealPicture refuses it refuses.
func TestSealPictureDigest(t *testing.T) {
	_, svg := drawnSeal(t)
	png := drawnPNG(t)
	cases := []struct {
		name string
		typ  string
		data []byte
		mm   int
	}{
		{"svg", "svg", svg, 42},
		{"svg 40 mm", "svg", svg, 40},
		{"png", "png", png, 42},
		{"svg too large", "svg", svg, 501},
		{"not svg", "svg", []byte("<svg"), 42},
		{"bmp", "bmp", png, 42},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img, werr := SealPicture(tc.typ, tc.data, tc.mm)
			got, gerr := SealPictureDigest(tc.typ, tc.data, tc.mm)
			if (werr == nil) != (gerr == nil) || (werr != nil && !errors.Is(gerr, ErrBadImage)) {
				t.Fatalf("SealPicture: %v; SealPictureDigest: %v", werr, gerr)
			}
			if werr == nil && got != img.Digest() {
				t.Errorf("digest %x, want %x", got[:8], img.Digest())
			}
		})
	}
}

// BenchmarkSealPictureDigest: the verifier's digest of a registered
// picture, a drawn seal (SVG) and a scan (PNG), made without compressing
// it, beside the same digest made by preparing the picture to be drawn
// (SealPicture), in one run; each digest line carries the ratio
// (digest/prepared).
func BenchmarkSealPictureDigest(b *testing.B) {
	_, svg := drawnSeal(b)
	for _, tc := range []struct {
		typ  string
		data []byte
	}{{"svg", svg}, {"png", drawnPNG(b)}} {
		var prepared float64
		b.Run(tc.typ+"/prepared", func(b *testing.B) {
			for b.Loop() {
				if _, err := SealPicture(tc.typ, tc.data, 42); err != nil {
					b.Fatal(err)
				}
			}
			prepared = float64(b.Elapsed()) / float64(b.N)
		})
		b.Run(tc.typ+"/digest", func(b *testing.B) {
			for b.Loop() {
				if _, err := SealPictureDigest(tc.typ, tc.data, 42); err != nil {
					b.Fatal(err)
				}
			}
			if prepared > 0 {
				b.ReportMetric(float64(b.Elapsed())/float64(b.N)/prepared, "digest/prepared")
			}
		})
	}
}
