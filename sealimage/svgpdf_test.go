package sealimage

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestPDFContentFromSVG: the content that draws a seal is a function of its
// SVG alone, so the SVG carried in the national seal data pins what the
// document draws; SVG that is not ours is refused rather than guessed at.
func TestPDFContentFromSVG(t *testing.T) {
	s, err := Draw(changan, loadFont(t))
	if err != nil {
		t.Fatal(err)
	}
	svg := s.SVG()
	c, err := PDFContentFromSVG(svg)
	if err != nil || !bytes.Equal(c, s.PDFContent()) {
		t.Fatalf("PDFContentFromSVG: %v, equal %v", err, bytes.Equal(c, s.PDFContent()))
	}
	if n := bytes.Count(c, []byte(" c\n")); n < 500 {
		t.Errorf("%d curves: the glyphs are missing", n)
	}
	// Another seal's SVG gives other content.
	other, err := Draw(Spec{Name: "融安县浮石镇人民政府", Purpose: "行政审批专用章"}, loadFont(t))
	if err != nil {
		t.Fatal(err)
	}
	if c2, _ := PDFContentFromSVG(other.SVG()); bytes.Equal(c, c2) {
		t.Error("two seals give the same content")
	}
	for _, tc := range []struct{ name, svg string }{
		{"not XML", "%PDF-1.7"},
		{"two paths", strings.Replace(string(svg), "</svg>", `<path fill="#D41C1C" fill-rule="nonzero" d="M0 0L1 1Z"/></svg>`, 1)},
		{"a raster", `<svg xmlns="http://www.w3.org/2000/svg" width="42mm" height="42mm" viewBox="0 0 42 42"><image href="seal.png"/></svg>`},
		{"pixels, not millimetres", strings.Replace(string(svg), `width="42mm"`, `width="42px"`, 1)},
		{"a relative command", strings.Replace(string(svg), `d="M`, `d="m`, 1)},
		{"even-odd", strings.Replace(string(svg), `nonzero`, `evenodd`, 1)},
	} {
		if _, err := PDFContentFromSVG([]byte(tc.svg)); !errors.Is(err, ErrNotOurSVG) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestParseSVG: a seal read back from its SVG rasterises as the seal drawn.
func TestParseSVG(t *testing.T) {
	s, err := Draw(changan, loadFont(t))
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSVG(s.SVG())
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.raster(300), back.raster(300)
	differ := 0
	for i := range a.Pix {
		if d := int(a.Pix[i]) - int(b.Pix[i]); d > 8 || d < -8 {
			differ++
		}
	}
	if back.DiameterMM() != 42 || differ > len(a.Pix)/10000 { // the SVG rounds to a micrometre
		t.Errorf("read back: %g mm, %d pixels differ", back.DiameterMM(), differ)
	}
	if _, err := ParseSVG([]byte("<svg/>")); !errors.Is(err, ErrNotOurSVG) {
		t.Errorf("ParseSVG of another SVG: %v", err)
	}
}
