package pdf

import (
	"errors"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/sealimage"
)

// drawnSeal is the demo township's seal drawn by the rules, as a vector
// seal, with its SVG.
func drawnSeal(t testing.TB) (*SealImage, []byte) {
	t.Helper()
	f, err := sealimage.LoadFont(sealimage.DefaultFontPath)
	if err != nil {
		t.Fatalf("%v (scripts/install-deps.sh installs fonts-arphic-uming)", err)
	}
	defer f.Close()
	s, err := sealimage.Draw(sealimage.Spec{Name: "融安县长安镇人民政府", Purpose: "行政审批专用章"}, f)
	if err != nil {
		t.Fatal(err)
	}
	img, err := NewVectorSeal(s.PDFContent(), s.DiameterMM())
	if err != nil {
		t.Fatal(err)
	}
	return img, s.SVG()
}

// drawnPNG is drawnSeal's seal as a PNG, for sampling renders.
func drawnPNG(t testing.TB) []byte {
	t.Helper()
	f, err := sealimage.LoadFont(sealimage.DefaultFontPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := sealimage.Draw(sealimage.Spec{Name: "融安县长安镇人民政府", Purpose: "行政审批专用章"}, f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.PNG(600)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewVectorSealRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		mm      float64
		says    string
	}{
		{"text", "q 1 0 0 rg BT /F1 12 Tf (x) Tj ET Q", 42, `"BT"`},
		{"an image", "q 10 0 0 10 0 0 cm /Im0 Do Q", 42, `"/Im0"`},
		{"inline image", "BI /W 1 /H 1 ID x EI", 42, `"BI"`},
		{"empty", "", 42, "0 bytes"},
		{"no size", "0 0 m 1 1 l f", 0, "outside"},
	} {
		_, err := NewVectorSeal([]byte(tc.content), tc.mm)
		if !errors.Is(err, ErrBadImage) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want ErrBadImage saying %s", tc.name, err, tc.says)
		}
	}
}

// TestVectorSealShows: a seal drawn by the rules is a form of paths, and it
// shows in poppler, MuPDF and pdf.js where the engine says it put it: its
// ring, star and characters inked, the page unchanged between them. The
// document embeds no font and no image for it.
func TestVectorSealShows(t *testing.T) {
	img, _ := drawnSeal(t)
	red, clear, ink, err := samplesFrom(drawnPNG(t), img.WidthMM())
	if err != nil {
		t.Fatal(err)
	}
	if len(red) < 50 || len(clear) < 50 {
		t.Fatalf("%d red and %d clear sample points", len(red), len(clear))
	}
	in := fixture(t, "decision.pdf")
	req := baseRequest(t)
	req.Image = img
	out, res := sealOnPage(t, in, req)
	checkSealed(t, in, out, res, 0)
	added := string(out[len(in):])
	if strings.Contains(added, "/FontFile") || strings.Contains(added, "/Subtype /Image") || strings.Contains(added, "/Subtype/Image") {
		t.Error("the sealed revision carries a font or an image for a vector seal")
	}
	inFile, outFile := writeTemp(t, "in.pdf", in), writeTemp(t, "out.pdf", out)
	box := placedBox(t, res, 0, 841.89)
	for _, v := range viewers {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			checkInkAt(t, v.render(t, inFile, 1), v.render(t, outFile, 1), box, red, clear, ink)
		})
	}
}
