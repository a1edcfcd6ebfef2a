package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// A seal is always visible: it lies wholly within its page's crop box, or
// the sealing is refused with ErrSealOffPage and nothing is written.

// visibleFile reads a file of testdata/realworld (its README names the
// source of each).
func visibleFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/realworld", name))
	if err != nil {
		t.Fatalf("realworld fixture: %v", err)
	}
	return b
}

// sealOnPage seals in as req asks and checks that every seal drawn lies
// within the crop box of its page, as read back from the output.
func sealOnPage(t *testing.T, in []byte, req Request) ([]byte, *Result) {
	t.Helper()
	out, res := sealBytes(t, in, req)
	d, err := open(bytes.NewReader(out), int64(len(out)), newBudget(context.Background(), Limits{}))
	if err != nil {
		t.Fatalf("reading the output: %v", err)
	}
	if len(res.Seals) == 0 {
		t.Fatal("no seal drawn")
	}
	for _, s := range res.Seals {
		p, err := d.page(s.Page - 1)
		if err != nil {
			t.Fatal(err)
		}
		b := p.box
		if s.Rect[0] < b.llx-0.01 || s.Rect[1] < b.lly-0.01 || s.Rect[2] > b.urx+0.01 || s.Rect[3] > b.ury+0.01 {
			t.Errorf("seal on page %d at %v, outside the crop box %v", s.Page, s.Rect, b)
		}
	}
	return out, res
}

func TestSealOffPageRefused(t *testing.T) {
	decision := fixture(t, "decision.pdf")
	gs := fixture(t, "one_type0_gs.pdf")
	cases := []struct {
		name   string
		in     []byte
		pl     Placement
		repair bool
	}{
		{"at, across the top left corner", decision, At{Page: 1, Corner: TopLeft, X: 10, Y: 10}, false},
		{"at, past the right edge", decision, At{Page: 1, Corner: BottomLeft, X: 300, Y: 100}, false},
		{"at, below the page", decision, At{Page: 1, Corner: BottomRight, X: 50, Y: -30}, false},
		{"default, a page lower than the seal", pageVariant(t, gs, 4, gsPage("/MediaBox [0 0 595.28 100]", 0)), Default{}, false},
		{"default, a crop box narrower than the seal", pageVariant(t, gs, 4, gsPage("/MediaBox [0 0 595.28 841.89] /CropBox [100 100 200 800]", 0)), Default{}, false},
		{"keyword, a crop box lower than the seal", pageVariant(t, gs, 4, gsPage("/MediaBox [0 0 595.28 841.89] /CropBox [0 300 595.28 400]", 0)), Keyword{Text: "（盖章）"}, false},
		{"default, a small /UserUnit makes the page small", pageVariant(t, gs, 4, gsPage("/MediaBox [0 0 200 200] /UserUnit 0.5", 0)), Default{}, false},
		// issue 14's real-world rows: tiny pages, a damaged one among them.
		{"pdfjs-IdentityToUnicodeMap_charCodeOf (200×50 pt)", visibleFile(t, "pdfjs-IdentityToUnicodeMap_charCodeOf.pdf"), Default{}, true},
		{"pdfjs-Type3WordSpacing (300×80 pt)", visibleFile(t, "pdfjs-Type3WordSpacing.pdf"), Default{}, true},
		{"pdfjs-bug1011159 (200×50 pt, damaged)", visibleFile(t, "pdfjs-bug1011159.pdf"), Default{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := baseRequest(t)
			req.Image = testSeal(t)
			req.Placements = []Placement{tc.pl}
			req.Repair = tc.repair
			var out bytes.Buffer
			res, err := Seal(context.Background(), &out, bytes.NewReader(tc.in), int64(len(tc.in)), req)
			if !errors.Is(err, ErrSealOffPage) {
				t.Fatalf("err = %v (result %+v), want ErrSealOffPage", err, res)
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written by a refusal", out.Len())
			}
			t.Log(err)
		})
	}
}

// TestSealMovedOntoPage: Default and Keyword keep a seal that would cross
// an edge on the page, and the pixels show it there.
func TestSealMovedOntoPage(t *testing.T) {
	gs := fixture(t, "one_type0_gs.pdf")
	img := testSeal(t)
	for _, tc := range []struct {
		name string
		in   []byte
		pl   Placement
		// the expected centre's x, mm from the left; y is checked on the page only
		cx   float64
		high float64 // the page's height in mm
	}{
		// 60 × 100 mm: the date line, far right of the narrow page, would
		// put the seal across the right edge; it is moved to touch it.
		{"default, a narrow page", pageVariant(t, gs, 4, gsPage("/MediaBox [0 0 170.08 283.46]", 0)), Default{}, 60 - 21, 100},
		// the keyword moved 200 mm right puts the seal past the right edge.
		{"keyword moved past the edge", gs, Keyword{Text: "（盖章）", Occurrence: 1, DX: 200}, a4WidthMM - 21, a4HeightMM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := baseRequest(t)
			req.Image = img
			req.Placements = []Placement{tc.pl}
			out, res := sealOnPage(t, tc.in, req)
			r := res.Seals[0].Rect
			cx := (r[0] + r[2]) / 2 / 72 * 25.4
			cy := tc.high - (r[1]+r[3])/2/72*25.4
			if math.Abs(cx-tc.cx) > 0.1 {
				t.Errorf("seal centred %.1f mm from the left, want %.1f", cx, tc.cx)
			}
			inFile := writeTemp(t, "in.pdf", tc.in)
			before := render(t, inFile, 1)
			after := render(t, writeTemp(t, "out.pdf", out), 1)
			checkSealPixels(t, before, after, mmBox(cx, cy, img.WidthMM(), img.HeightMM()))
		})
	}
}

// TestUserUnit: on a page whose unit is two points, the seal takes half as
// many units, and so keeps its 42 mm.
func TestUserUnit(t *testing.T) {
	gs := fixture(t, "one_type0_gs.pdf")
	for _, unit := range []float64{1, 2, 0.5} {
		t.Run(fmt.Sprint(unit), func(t *testing.T) {
			in := pageVariant(t, gs, 4, gsPage(fmt.Sprintf("/MediaBox [0 0 %.2f %.2f] /UserUnit %g", 595.28/unit, 841.89/unit, unit), 0))
			req := baseRequest(t)
			req.Image = testSeal(t)
			req.Placements = []Placement{At{Page: 1, Corner: BottomRight, X: 50, Y: 50}}
			_, res := sealOnPage(t, in, req)
			r := res.Seals[0].Rect
			wantW := DefaultSealWidthMM * 72 / 25.4 / unit
			if math.Abs((r[2]-r[0])-wantW) > 0.01 {
				t.Errorf("seal %.2f units wide, want %.2f (42 mm at /UserUnit %g)", r[2]-r[0], wantW, unit)
			}
			// centre 50 mm from the right and bottom edges
			wantX := 595.28/unit - 50*72/25.4/unit
			if math.Abs((r[0]+r[2])/2-wantX) > 0.01 {
				t.Errorf("seal centred at x %.2f units, want %.2f", (r[0]+r[2])/2, wantX)
			}
		})
	}
}
