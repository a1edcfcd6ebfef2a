package pdf

import (
	"bytes"
	"context"
	"errors"
	"image"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	goqr "github.com/piglig/go-qr"
)

// testQR is a verification code as package seal makes it (a version 3
// symbol at level M), made here with the same library.
func testQR(t testing.TB, text string) *QRCode {
	t.Helper()
	segs, err := goqr.MakeSegmentsOptimally(text, goqr.Medium, 1, 40)
	if err != nil {
		t.Fatal(err)
	}
	code, err := goqr.EncodeSegments(segs, goqr.Medium, 1, 40, -1, true)
	if err != nil {
		t.Fatal(err)
	}
	m := make([][]bool, code.Size())
	for y := range m {
		m[y] = make([]bool, code.Size())
		for x := range m[y] {
			m[y][x] = code.Module(x, y)
		}
	}
	return &QRCode{Modules: m, SizeMM: 22, Text: text}
}

// decodeQR reads the one QR code in img with gozxing, a decoder written
// apart from the encoder (a port of ZXing).
func decodeQR(t testing.TB, img image.Image) (string, error) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

const qrText = "HTTP://127.0.0.1:8080/VERIFY/R/ABCDEFGHIJKLMNOPQRST"

// TestQRDrawnAndRead: the verification code drawn beside the seal, on an
// upright and on a rotated page, is read back by an independent decoder
// from each viewer's render at 150 dpi (poppler, MuPDF, pdf.js); the
// signature still covers the whole file, its widget still draws exactly
// the seal's picture, and the code is an annotation of its own in the
// signed revision.
func TestQRDrawnAndRead(t *testing.T) {
	gs := fixture(t, "one_type0_gs.pdf")
	cases := []struct {
		name string
		in   []byte
		pl   []Placement
	}{
		{"decision.pdf", fixture(t, "decision.pdf"), nil},
		{"rotated 90", pageVariant(t, gs, 4, gsPage("/MediaBox [0 0 595.28 841.89]", 90)), []Placement{Keyword{Text: "乙方（盖章）："}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := baseRequest(t)
			req.Image = testSeal(t)
			req.Placements = tc.pl
			req.QR = testQR(t, qrText)
			out, res := sealOnPage(t, tc.in, req)
			checkSealed(t, tc.in, out, res, 0) // qpdf --check, and pdfsig verifies the signature over the code too
			if res.QR == nil || res.QRNote != "" {
				t.Fatalf("QR not drawn: %q", res.QRNote)
			}
			if res.QR.Page != res.Seals[0].Page {
				t.Errorf("QR on page %d, the seal on %d", res.QR.Page, res.Seals[0].Page)
			}
			if q, s := res.QR.Rect, res.Seals[0].Rect; q[0] < s[2] && s[0] < q[2] && q[1] < s[3] && s[1] < q[3] {
				t.Errorf("the QR code %v overlaps the seal %v", q, s)
			}
			a, err := Analyze(context.Background(), bytes.NewReader(out), int64(len(out)), Limits{})
			if err != nil || len(a.Signatures) != 1 {
				t.Fatalf("Analyze: %v", err)
			}
			sig := a.Signatures[0]
			if w := sig.Widgets; len(w) != 1 || !w[0].HasPicture || w[0].Picture != req.Image.Digest() {
				t.Errorf("the seal's widget no longer draws just the seal: %+v", w)
			}
			if !bytes.Contains(out[res.UpdateOffset:], []byte("ESeal1-qr")) {
				t.Error("the QR annotation is not in the sealing revision")
			}
			if res.ByteRange[2]+res.ByteRange[3] != int64(len(out)) {
				t.Errorf("the signature does not reach the end of the file: %v", res.ByteRange)
			}
			file := writeTemp(t, "qr.pdf", out)
			for _, v := range viewers {
				t.Run(v.name, func(t *testing.T) {
					t.Parallel()
					got, err := decodeQR(t, v.render(t, file, res.QR.Page))
					if err != nil || got != qrText {
						t.Errorf("decoded %q, %v; want %q", got, err, qrText)
					}
				})
			}
		})
	}
}

// TestQRAbsentWithout: without the code, the render has none to read
// (the decoder does not find the seal or the text to be one).
func TestQRAbsentWithout(t *testing.T) {
	req := baseRequest(t)
	req.Image = testSeal(t)
	out, res := sealBytes(t, fixture(t, "decision.pdf"), req)
	if res.QR != nil {
		t.Fatalf("a QR code drawn without one asked: %+v", res.QR)
	}
	if got, err := decodeQR(t, render(t, writeTemp(t, "plain.pdf", out), 1)); err == nil {
		t.Errorf("decoded %q from a page without a code", got)
	}
}

// TestQRRefused: a malformed symbol or size, or a code without a seal to
// stand beside, is a bad request, and nothing is written.
func TestQRRefused(t *testing.T) {
	good := testQR(t, qrText)
	short := *good
	short.Modules = good.Modules[:len(good.Modules)-1]
	ragged := *good
	ragged.Modules = append([][]bool{good.Modules[0][:5]}, good.Modules[1:]...)
	tiny := *good
	tiny.SizeMM = 5
	huge := *good
	huge.SizeMM = 61
	cases := []struct {
		name  string
		qr    *QRCode
		image bool
	}{
		{"not square", &short, true},
		{"ragged row", &ragged, true},
		{"too small", &tiny, true},
		{"too large", &huge, true},
		{"no seal image", good, false},
		{"empty", &QRCode{SizeMM: 22}, true},
	}
	in := fixture(t, "decision.pdf")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := baseRequest(t)
			if tc.image {
				req.Image = testSeal(t)
			}
			req.QR = tc.qr
			var out bytes.Buffer
			if _, err := Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req); !errors.Is(err, ErrBadRequest) || out.Len() != 0 {
				t.Errorf("%v, %d bytes written; want ErrBadRequest and nothing", err, out.Len())
			}
		})
	}
}

// TestQRCertifiedLeftOut: a certification that permits signing but no
// added annotations (DocMDP P=2) gets the seal without the code, and the
// result says why.
func TestQRCertifiedLeftOut(t *testing.T) {
	one := fixture(t, "one.pdf")
	in := appendRevision(t, one,
		rawObj{19, "<</Type/Catalog/Pages 4 0 R/Perms<</DocMDP 30 0 R>>>>"},
		rawObj{30, "<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/Reference[<</Type/SigRef/TransformMethod/DocMDP/TransformParams<</Type/TransformParams/P 2/V/1.2>>>>]>>"})
	req := baseRequest(t)
	req.Image = testSeal(t)
	req.QR = testQR(t, qrText)
	out, res := sealBytes(t, in, req)
	if res.QR != nil || !strings.Contains(res.QRNote, "DocMDP P=2") {
		t.Errorf("QR %+v, note %q", res.QR, res.QRNote)
	}
	if bytes.Contains(out, []byte("ESeal1-qr")) {
		t.Error("the code was written")
	}
}

// TestQRContentRuns: the drawing is one white square and one rectangle per
// run of dark modules, each at its module's place.
func TestQRContentRuns(t *testing.T) {
	m := make([][]bool, 21)
	for i := range m {
		m[i] = make([]bool, 21)
	}
	m[0][0], m[0][1], m[0][2] = true, true, true // one run of 3
	m[20][20] = true                             // one of 1
	got := string(qrContent(m, 29))              // 29 modules with the quiet zone: 1 pt each
	want := "q 1 g 0 0 29 29 re f 0 g\n4 24 3 1 re\n24 4 1 1 re\nf Q\n"
	if got != want {
		t.Errorf("content\n%q\nwant\n%q", got, want)
	}
}

// TestQRCoversNoText: wherever the code goes it covers none of the page's
// words as poppler finds them (pdftotext -bbox), on documents with room
// beside the seal and without; where it has none, it is left out and the
// result says why.
func TestQRCoversNoText(t *testing.T) {
	for _, name := range []string{"decision.pdf", "one.pdf", "one_type0.pdf", "one_type0_gs.pdf", "one_droid.pdf"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := baseRequest(t)
			req.Image = testSeal(t)
			req.QR = testQR(t, qrText)
			out, res := sealBytes(t, fixture(t, name), req)
			if res.QR == nil {
				if res.QRNote == "" {
					t.Fatal("no code and no note")
				}
				t.Logf("left out: %s", res.QRNote)
				return
			}
			t.Logf("placed %s", res.QR.Why)
			file := writeTemp(t, "qr.pdf", out)
			height := pageHeight(t, file, res.QR.Page)
			q := res.QR.Rect // default user space; these pages are upright, their boxes at the origin
			for _, w := range pdftotextWords(t, file, res.QR.Page) {
				y0, y1 := height-w.y1, height-w.y0
				if w.x0 < q[2] && q[0] < w.x1 && y0 < q[3] && q[1] < y1 {
					t.Errorf("the code %v covers %q at %v", q, w.text, w)
				}
			}
		})
	}
}

// pageHeight is the height pdftotext gives page n of file.
func pageHeight(t *testing.T, file string, n int) float64 {
	t.Helper()
	p := strconv.Itoa(n)
	out, err := exec.Command(tool(t, "pdftotext", "poppler-utils"), "-bbox", "-f", p, "-l", p, file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<page width="[0-9.]+" height="([0-9.]+)"`).FindSubmatch(out)
	if m == nil {
		t.Fatal("no page height in pdftotext's output")
	}
	h, _ := strconv.ParseFloat(string(m[1]), 64)
	return h
}
