package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// Three viewers render the sealed page: poppler (pdftoppm, as render
// does), MuPDF (mutool draw) and pdf.js (pdfjs-dist under Node, through
// tools/pdfjs/render.mjs). scripts/install-deps.sh installs them all; a
// missing one fails the test, never skips it.

// viewer renders page (1-based) of file at renderDPI.
type viewer struct {
	name   string
	render func(t testing.TB, file string, page int) image.Image
}

var viewers = []viewer{
	{"poppler", render},
	{"mupdf", renderMuPDF},
	{"pdf.js", renderPDFJS},
}

// pdfjsDir holds the pdf.js renderer and its node_modules.
const pdfjsDir = "../tools/pdfjs"

func renderMuPDF(t testing.TB, file string, page int) image.Image {
	t.Helper()
	out := filepath.Join(t.TempDir(), "mupdf.png")
	cmd := exec.Command(tool(t, "mutool", "mupdf-tools"), "draw", "-q", "-r", strconv.Itoa(renderDPI), "-F", "png", "-o", out, file, strconv.Itoa(page))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mutool draw %s page %d: %v\n%s", file, page, err, b)
	}
	return readPNG(t, out)
}

func renderPDFJS(t testing.TB, file string, page int) image.Image {
	t.Helper()
	node := tool(t, "node", "nodejs")
	if _, err := os.Stat(filepath.Join(pdfjsDir, "node_modules", "pdfjs-dist")); err != nil {
		t.Fatalf("pdf.js is required for this test: run scripts/install-deps.sh (npm ci in tools/pdfjs): %v", err)
	}
	out := filepath.Join(t.TempDir(), "pdfjs.png")
	cmd := exec.Command(node, filepath.Join(pdfjsDir, "render.mjs"), file, strconv.Itoa(page), strconv.Itoa(renderDPI), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdf.js %s page %d: %v\n%s", file, page, err, b)
	}
	return readPNG(t, out)
}

func readPNG(t testing.TB, file string) image.Image {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return img
}

// placedBox is where the seal of res.Seals[i] shows, as a sealBox: on an
// unrotated page whose crop box is its media box, from the rectangle.
func placedBox(t testing.TB, res *Result, i int, pageHeight float64) sealBox {
	t.Helper()
	r := res.Seals[i].Rect
	cx := (r[0] + r[2]) / 2 / 72 * 25.4
	cy := (pageHeight - (r[1]+r[3])/2) / 72 * 25.4
	return mmBox(cx, cy, (r[2]-r[0])/72*25.4, (r[3]-r[1])/72*25.4)
}

// TestViewersShowSeal: the seal shows in poppler, MuPDF and pdf.js, where
// the engine says it put it, and the page around it is as before. The
// forms with /NeedAppearances true are issue 14's: poppler rebuilt their
// fields and showed no seal.
func TestViewersShowSeal(t *testing.T) {
	cases := []struct {
		name       string
		in         []byte
		pageHeight float64
	}{
		{"decision.pdf", fixture(t, "decision.pdf"), 841.89},
		{"pdfjs-annotation-tx.pdf (NeedAppearances)", visibleFile(t, "pdfjs-annotation-tx.pdf"), 792},
		{"qpdf-need-appearances.pdf (NeedAppearances)", visibleFile(t, "qpdf-need-appearances.pdf"), 792},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // the viewers are processes of their own
			req := baseRequest(t)
			req.Image = testSeal(t)
			out, res := sealOnPage(t, tc.in, req)
			checkSealed(t, tc.in, out, res, 0)
			inFile, outFile := writeTemp(t, "in.pdf", tc.in), writeTemp(t, "out.pdf", out)
			box := placedBox(t, res, 0, tc.pageHeight)
			for _, v := range viewers {
				t.Run(v.name, func(t *testing.T) {
					t.Parallel()
					checkSealPixels(t, v.render(t, inFile, 1), v.render(t, outFile, 1), box)
				})
			}
		})
	}
}

// TestNeedAppearancesKeepsSignatures: sealing a form with /NeedAppearances
// true a second time keeps the first seal valid and visible, and leaves
// the form as it was (the flag included).
func TestNeedAppearancesKeepsSignatures(t *testing.T) {
	in := visibleFile(t, "qpdf-need-appearances.pdf")
	img := testSeal(t)
	req := baseRequest(t)
	req.Image = img
	req.Placements = []Placement{At{Page: 1, Corner: TopRight, X: 40, Y: 40}}
	once, _ := sealOnPage(t, in, req)
	req.Placements = []Placement{At{Page: 1, Corner: BottomRight, X: 40, Y: 40}}
	twice, res := sealOnPage(t, once, req)
	checkSealed(t, once, twice, res, 1)
	d, err := open(bytes.NewReader(twice), int64(len(twice)), newBudget(t.Context(), Limits{}))
	if err != nil {
		t.Fatal(err)
	}
	f, err := d.form()
	if err != nil {
		t.Fatal(err)
	}
	if !f.needAppearances {
		t.Error("the form's /NeedAppearances was changed")
	}
	outFile := writeTemp(t, "twice.pdf", twice)
	before := render(t, writeTemp(t, "in.pdf", in), 1)
	after := render(t, outFile, 1)
	// both seals show in poppler, which rebuilds the fields
	checkSealPixels(t, before, after, mmBox(215.9-40, 40, img.WidthMM(), img.HeightMM()))
	checkSealPixels(t, before, after, mmBox(215.9-40, 279.4-40, img.WidthMM(), img.HeightMM()))
}

// TestNeedAppearancesCertified: a certification that forbids added
// annotations (P=2) forbids the stamp that shows the seal in poppler: such
// a form is refused; P=3 permits it.
func TestNeedAppearancesCertified(t *testing.T) {
	one := fixture(t, "one.pdf")
	form := func(p int) []byte {
		return appendRevision(t, one,
			rawObj{19, "<</Type/Catalog/Pages 4 0 R/AcroForm<</Fields[]/NeedAppearances true>>/Perms<</DocMDP 30 0 R>>>>"},
			rawObj{30, fmt.Sprintf("<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/Reference[<</Type/SigRef/TransformMethod/DocMDP/TransformParams<</Type/TransformParams/P %d/V/1.2>>>>]>>", p)})
	}
	req := baseRequest(t)
	req.Image = testSeal(t)
	in := form(2)
	var out bytes.Buffer
	if _, err := Seal(t.Context(), &out, bytes.NewReader(in), int64(len(in)), req); !errors.Is(err, ErrCertifiedNoAnnotations) || out.Len() != 0 {
		t.Errorf("P=2: %v, %d bytes written; want ErrCertifiedNoAnnotations", err, out.Len())
	}
	sealed, _ := sealBytes(t, form(3), req)
	if n := bytes.Count(sealed, []byte("/Subtype /Stamp")) + bytes.Count(sealed, []byte("/Subtype/Stamp")); n != 1 {
		t.Errorf("P=3: %d stamps written, want 1", n)
	}
}
