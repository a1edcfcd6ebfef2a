package sealimage

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden seal image in testdata")

// loadFont opens the font that scripts/install-deps.sh installs. Without it
// the tests fail: a seal drawn with no font is not tested.
func loadFont(t testing.TB) *Font {
	t.Helper()
	f, err := LoadFont(DefaultFontPath)
	if err != nil {
		t.Fatalf("%v (run scripts/install-deps.sh as root: it installs fonts-arphic-uming)", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

var changan = Spec{Name: "融安县长安镇人民政府", Purpose: "行政审批专用章", Code: "4502241000012"}

func TestSplitSealName(t *testing.T) {
	for _, tc := range []struct{ full, name, purpose string }{
		{"融安县长安镇人民政府行政审批专用章", "融安县长安镇人民政府", "行政审批专用章"},
		{"融安县浮石镇人民政府政务服务专用章", "融安县浮石镇人民政府", "政务服务专用章"},
		{"融安县长安镇人民政府", "融安县长安镇人民政府", ""},
		{"某某委员会", "某某委员会", ""},
	} {
		if n, p := SplitSealName(tc.full); n != tc.name || p != tc.purpose {
			t.Errorf("SplitSealName(%q) = %q, %q; want %q, %q", tc.full, n, p, tc.name, tc.purpose)
		}
	}
}

func TestDrawRefuses(t *testing.T) {
	f := loadFont(t)
	for _, tc := range []struct {
		name string
		spec Spec
		want error
		says string
	}{
		{"no name", Spec{Purpose: "行政审批专用章"}, ErrBadSpec, "no name"},
		{"name too long", Spec{Name: strings.Repeat("镇", 21)}, ErrBadSpec, "21 characters"},
		{"purpose too long", Spec{Name: "长安镇人民政府", Purpose: strings.Repeat("章", 11)}, ErrBadSpec, "under the star"},
		{"short code", Spec{Name: "长安镇人民政府", Code: "450224"}, ErrBadSpec, "13 digits"},
		{"code with letters", Spec{Name: "长安镇人民政府", Code: "45022410000AB"}, ErrBadSpec, "13 digits"},
		{"too small", Spec{Name: "长安镇人民政府", DiameterMM: 20}, ErrBadSpec, "20 mm"},
		{"a character the font lacks", Spec{Name: "长安镇\U0001F600人民政府"}, ErrMissingGlyph, "U+1F600"},
	} {
		_, err := Draw(tc.spec, f)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want %v saying %q", tc.name, err, tc.want, tc.says)
		}
	}
}

// coverage returns the share of the mask's pixels inside the rotated box
// (centre c, w×h mm, upright at angle up) that are inked more than half.
func coverage(mask *image.Alpha, d float64, c Point, w, h, up float64) float64 {
	scale := float64(mask.Rect.Dx()) / d
	var in, inked int
	for py := range mask.Rect.Dy() {
		for px := range mask.Rect.Dx() {
			p := Point{(float64(px)+0.5)/scale - d/2, d/2 - (float64(py)+0.5)/scale}
			// In the box's own frame: u along its width, v along its upright.
			dx, dy := p.X-c.X, p.Y-c.Y
			v := dx*math.Cos(up) + dy*math.Sin(up)
			u := dx*math.Sin(up) - dy*math.Cos(up)
			if math.Abs(u) <= w/2 && math.Abs(v) <= h/2 {
				in++
				if mask.AlphaAt(px, py).A > 128 {
					inked++
				}
			}
		}
	}
	return float64(inked) / float64(max(in, 1))
}

func TestDrawLayout(t *testing.T) {
	f := loadFont(t)
	for _, d := range []float64{42, 40} {
		spec := changan
		spec.DiameterMM = d
		s, err := Draw(spec, f)
		if err != nil {
			t.Fatal(err)
		}
		L := s.layout
		const px = 840 // 20 px per mm at 42 mm
		mask := s.raster(px)
		scale := float64(px) / d
		alphaAt := func(p Point) uint8 {
			return mask.AlphaAt(int((p.X+d/2)*scale), int((d/2-p.Y)*scale)).A
		}
		polar := func(r, deg float64) Point {
			a := deg * math.Pi / 180
			return Point{r * math.Cos(a), r * math.Sin(a)}
		}
		// The ring: inked all round at its middle; clear just inside it
		// where no text is (between the name's ends and the code), and
		// clear outside it.
		mid := (L.ringOuter + L.ringInner) / 2
		for deg := 0.0; deg < 360; deg += 7.5 {
			if a := alphaAt(polar(mid, deg)); a < 200 {
				t.Errorf("%g mm: the ring at %g° has alpha %d", d, deg, a)
			}
			if a := alphaAt(polar(L.ringOuter+0.3, deg)); a != 0 {
				t.Errorf("%g mm: outside the ring at %g° has alpha %d", d, deg, a)
			}
		}
		for _, deg := range []float64{-45, -40, 220, 225} {
			if a := alphaAt(polar(L.ringInner-0.4*d/42, deg)); a != 0 {
				t.Errorf("%g mm: inside the ring at %g°, where nothing is set, alpha %d", d, deg, a)
			}
		}
		if math.Abs(2*L.ringOuter-d) > 0.2 || math.Abs(L.ringOuter-L.ringInner-1.2*d/42) > 1e-9 {
			t.Errorf("%g mm: ring %g–%g mm", d, L.ringInner, L.ringOuter)
		}
		// The star: solid at its centre and near each point, clear just
		// beyond its top point.
		c, r := L.starCentre, L.starRadius
		probes := []Point{c}
		for i, p := range starPoints(c, r*0.8) {
			if i%2 == 0 { // the five points, pulled a fifth inward
				probes = append(probes, p)
			}
		}
		for i, p := range probes {
			if a := alphaAt(p); a < 200 {
				t.Errorf("%g mm: star point %d at %v has alpha %d", d, i, p, a)
			}
		}
		if a := alphaAt(Point{c.X, c.Y + r + 0.4}); a != 0 {
			t.Errorf("%g mm: above the star's top point, alpha %d", d, a)
		}
		if math.Abs(2*r-d/3) > 0.01*d {
			t.Errorf("%g mm: star %g mm across, want a third of the diameter", d, 2*r)
		}
		// The name: every character inked in its box, read clockwise from
		// the lower left to the lower right, symmetric about the vertical,
		// within the ring, each upright to it.
		name := []rune(spec.Name)
		if len(L.name) != len(name) {
			t.Fatalf("%g mm: %d name characters placed", d, len(L.name))
		}
		for i, p := range L.name {
			if p.r != name[i] {
				t.Errorf("%g mm: name character %d is %c", d, i, p.r)
			}
			if cv := coverage(mask, d, p.centre, p.w, p.h, p.up); cv < 0.08 {
				t.Errorf("%g mm: name character %c: %.0f%% of its box inked", d, p.r, 100*cv)
			}
			if got := math.Atan2(p.centre.Y, p.centre.X); math.Abs(math.Remainder(got-p.up, 2*math.Pi)) > 1e-9 {
				t.Errorf("%g mm: %c is not upright to the ring", d, p.r)
			}
			if i > 0 && p.up >= L.name[i-1].up {
				t.Errorf("%g mm: %c does not follow %c clockwise", d, p.r, L.name[i-1].r)
			}
			if reach := math.Hypot(math.Hypot(p.centre.X, p.centre.Y)+p.h/2, p.w/2); reach > L.ringInner {
				t.Errorf("%g mm: %c reaches %g mm, into the ring at %g", d, p.r, reach, L.ringInner)
			}
		}
		first, last := L.name[0], L.name[len(L.name)-1]
		if first.centre.X >= 0 || math.Abs(first.centre.X+last.centre.X) > 1e-9 || math.Abs(first.centre.Y-last.centre.Y) > 1e-9 {
			t.Errorf("%g mm: the name runs from %v to %v", d, first.centre, last.centre)
		}
		if span := (first.up - last.up) * 180 / math.Pi; span > 220+1e-9 || span < 180 {
			t.Errorf("%g mm: the name spans %g°", d, span)
		}
		// The purpose: one horizontal line under the star, centred, each
		// character inked, and clear of the name's last characters.
		starBottom := c.Y - r*math.Cos(math.Pi/5)
		for _, p := range L.purpose {
			if p.up != math.Pi/2 || p.centre.Y+p.h/2 >= starBottom {
				t.Errorf("%g mm: purpose %c at %v, not under the star (bottom %g)", d, p.r, p.centre, starBottom)
			}
			if cv := coverage(mask, d, p.centre, p.w, p.h, p.up); cv < 0.08 {
				t.Errorf("%g mm: purpose character %c: %.0f%% of its box inked", d, p.r, 100*cv)
			}
		}
		if len(L.purpose) != 7 || math.Abs(L.purpose[0].centre.X+L.purpose[6].centre.X) > 1e-9 {
			t.Errorf("%g mm: purpose placed %v", d, L.purpose)
		}
		for _, end := range []placed{first, last} {
			for _, p := range L.purpose {
				if boxesOverlap(end, p) {
					t.Errorf("%g mm: purpose %c overlaps name %c", d, p.r, end.r)
				}
			}
		}
		// The code: 13 digits on the lower arc, read left to right, tops
		// toward the centre, below the purpose.
		if len(L.code) != 13 {
			t.Fatalf("%g mm: %d code digits placed", d, len(L.code))
		}
		for i, p := range L.code {
			if i > 0 && p.centre.X <= L.code[i-1].centre.X {
				t.Errorf("%g mm: code digit %d not right of %d", d, i, i-1)
			}
			if p.centre.Y+p.h/2 > L.purpose[0].centre.Y-L.purpose[0].h/2 {
				t.Errorf("%g mm: code digit %d at %v reaches the purpose", d, i, p.centre)
			}
			if cv := coverage(mask, d, p.centre, p.w, p.h, p.up); cv < 0.04 {
				t.Errorf("%g mm: code digit %c: %.0f%% of its box inked", d, p.r, 100*cv)
			}
		}
	}
}

// boxesOverlap reports whether two placed boxes overlap, by their bounding
// circles shrunk to the boxes' inscribed circles — a conservative test of
// clear space for near-square boxes.
func boxesOverlap(a, b placed) bool {
	return math.Hypot(a.centre.X-b.centre.X, a.centre.Y-b.centre.Y) < (min(a.w, a.h)+min(b.w, b.h))/2
}

// TestGoldenSeal compares the drawn 长安镇 seal with the reviewed image in
// testdata, pixel by pixel, allowing for small differences of
// anti-aliasing. Rewrite it with -update after a deliberate change, and
// look at it.
func TestGoldenSeal(t *testing.T) {
	s, err := Draw(changan, loadFont(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.PNG(150)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "changan-150dpi.png")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	a, err1 := png.Decode(bytes.NewReader(got))
	b, err2 := png.Decode(bytes.NewReader(want))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if a.Bounds() != b.Bounds() {
		t.Fatalf("%v, golden %v", a.Bounds(), b.Bounds())
	}
	var differ, inked int
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			_, _, _, aa := a.At(x, y).RGBA()
			_, _, _, ba := b.At(x, y).RGBA()
			if ba > 0x8000 {
				inked++
			}
			if d := int(aa>>8) - int(ba>>8); d > 64 || d < -64 {
				differ++
			}
		}
	}
	if inked == 0 || float64(differ) > 0.002*float64(r.Dx()*r.Dy()) {
		t.Errorf("%d of %d pixels differ from the golden image by more than a quarter (%d inked)", differ, r.Dx()*r.Dy(), inked)
	}
}

func TestOutputs(t *testing.T) {
	s, err := Draw(changan, loadFont(t))
	if err != nil {
		t.Fatal(err)
	}
	pdf := string(s.PDFContent())
	if !strings.HasPrefix(pdf, "q 0.831 0.11 0.11 rg\n") || !strings.HasSuffix(pdf, "f\nQ\n") {
		t.Errorf("content stream starts %q, ends %q", pdf[:30], pdf[len(pdf)-10:])
	}
	for _, op := range []string{" Tf", " Tj", " Do", "BI "} {
		if strings.Contains(pdf, op) {
			t.Errorf("content stream uses %q: it should be paths only", op)
		}
	}
	// Every coordinate lies in the box of the seal.
	box := 42 * 72 / 25.4
	for _, tok := range strings.Fields(pdf) {
		if v, err := strconv.ParseFloat(tok, 64); err == nil && (v < 0 || v > box) {
			t.Errorf("coordinate %s outside the %g pt box", tok, box)
			break
		}
	}
	var doc struct {
		XMLName xml.Name
		Width   string `xml:"width,attr"`
		Title   string `xml:"title"`
		Path    []struct {
			D string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal(s.SVG(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.XMLName.Local != "svg" || doc.Width != "42mm" || doc.Title != "融安县长安镇人民政府行政审批专用章" || len(doc.Path) != 1 || !strings.HasPrefix(doc.Path[0].D, "M") {
		t.Errorf("SVG: %+v", doc)
	}
	for _, dpi := range []int{0, 35, 2401} {
		if _, err := s.PNG(dpi); !errors.Is(err, ErrBadSpec) {
			t.Errorf("PNG(%d): %v", dpi, err)
		}
	}
	p, err := s.PNG(254)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(p))
	if err != nil || cfg.Width != 420 || cfg.Height != 420 {
		t.Errorf("PNG at 254 dpi: %v %dx%d, want 420x420", err, cfg.Width, cfg.Height)
	}
}
