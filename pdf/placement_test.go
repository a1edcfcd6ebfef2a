package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A4 as the fixtures have it, in millimetres.
const (
	a4WidthMM  = 595.303937007874 / 72 * 25.4
	a4HeightMM = 841.889763779528 / 72 * 25.4
)

func TestExplicitCorners(t *testing.T) {
	in := fixture(t, "decision.pdf")
	before := render(t, writeTemp(t, "in.pdf", in), 1)
	img := testSeal(t)
	w, h := img.WidthMM(), img.HeightMM()
	for _, tc := range []struct {
		at     At
		cx, cy float64 // expected centre, mm from the top left
	}{
		{At{Page: 1, Corner: TopLeft, X: 40, Y: 50}, 40, 50},
		{At{Page: 1, Corner: TopRight, X: 40, Y: 50}, a4WidthMM - 40, 50},
		{At{Page: 1, Corner: BottomLeft, X: 40, Y: 50}, 40, a4HeightMM - 50},
		{At{Page: 0, Corner: BottomRight, X: 35, Y: 30}, a4WidthMM - 35, a4HeightMM - 30},
	} {
		t.Run(tc.at.Corner.String(), func(t *testing.T) {
			req := baseRequest(t)
			req.Image = img
			req.Placements = []Placement{tc.at}
			out, res := sealBytes(t, in, req)
			checkSealed(t, in, out, res, 0)
			after := render(t, writeTemp(t, "out.pdf", out), 1)
			checkSealPixels(t, before, after, mmBox(tc.cx, tc.cy, w, h))
		})
	}
}

func TestPageOutOfRange(t *testing.T) {
	in := fixture(t, "one.pdf")
	for _, p := range []Placement{At{Page: 2}, At{Page: -1}, Keyword{Text: "甲方", Pages: []int{3}}, Riding{Pages: []int{1, 2}}} {
		req := baseRequest(t)
		req.Image = testSeal(t)
		req.Placements = []Placement{p}
		var out bytes.Buffer
		if _, err := Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req); !errors.Is(err, ErrPageOutOfRange) || out.Len() != 0 {
			t.Errorf("%#v on a one-page document: %v, %d bytes written", p, err, out.Len())
		}
	}
}

// oracleWord is a word's box as pdftotext (poppler) reports it: in points
// from the top left of the page as seen.
type oracleWord struct {
	x0, y0, x1, y1 float64
	text           string
}

var wordRE = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)

func pdftotextWords(t testing.TB, file string, page int) []oracleWord {
	t.Helper()
	p := strconv.Itoa(page)
	out, err := exec.Command(tool(t, "pdftotext", "poppler-utils"), "-bbox", "-f", p, "-l", p, file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	var ws []oracleWord
	for _, m := range wordRE.FindAllStringSubmatch(string(out), -1) {
		var v [4]float64
		for i := range v {
			v[i], _ = strconv.ParseFloat(m[i+1], 64)
		}
		ws = append(ws, oracleWord{v[0], v[1], v[2], v[3], m[5]})
	}
	return ws
}

// oracleCentre finds the occurrence-th (1-based; -1 the last) appearance
// of key in pdftotext's words and returns its centre in millimetres from
// the top left as seen. A key that is a whole word is centred in the
// word's box, whichever way the word runs. A key within a word is placed
// taking every character to be equally wide, and the word to run left to
// right (true of the full-width CJK words the tests use it on).
func oracleCentre(t testing.TB, file string, page int, key string, occurrence int) (float64, float64) {
	t.Helper()
	type hit struct{ x, y float64 }
	var hits []hit
	for _, w := range pdftotextWords(t, file, page) {
		rs := []rune(w.text)
		kr := []rune(key)
		for i := 0; i+len(kr) <= len(rs); i++ {
			if string(rs[i:i+len(kr)]) != key {
				continue
			}
			f := (float64(i) + float64(len(kr))/2) / float64(len(rs))
			hits = append(hits, hit{w.x0 + f*(w.x1-w.x0), (w.y0 + w.y1) / 2})
		}
	}
	i := occurrence - 1
	if occurrence < 0 {
		i = len(hits) + occurrence
	}
	if i < 0 || i >= len(hits) {
		t.Fatalf("pdftotext finds %q %d times", key, len(hits))
	}
	return hits[i].x / 72 * 25.4, hits[i].y / 72 * 25.4
}

// pageVariant appends a revision to a fixture that replaces its page
// object with pageDict, to make rotated pages and pages whose boxes do not
// start at the origin out of a real CJK document.
func pageVariant(t testing.TB, in []byte, pageNum int, pageDict string) []byte {
	t.Helper()
	return appendRevision(t, in, rawObj{pageNum, pageDict})
}

// rawObj is an object for appendRevision: its number and its syntax.
type rawObj struct {
	num  int
	body string
}

// appendRevision appends an incremental update with objs to a file whose
// newest section is a classic table, writing it by hand, apart from the
// package's writer.
func appendRevision(t testing.TB, in []byte, objs ...rawObj) []byte {
	t.Helper()
	tr := regexp.MustCompile(`/Size (\d+)\s*/Root (\d+ \d+ R)`).FindSubmatch(in)
	sx := regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`).FindSubmatch(in)
	if tr == nil || sx == nil {
		t.Fatal("appendRevision: trailer not found")
	}
	size, _ := strconv.Atoi(string(tr[1]))
	b := append([]byte(nil), in...)
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = len(b)
		b = fmt.Appendf(b, "%d 0 obj\n%s\nendobj\n", o.num, o.body)
		size = max(size, o.num+1)
	}
	xref := len(b)
	b = append(b, "xref\n"...)
	for i, o := range objs {
		b = fmt.Appendf(b, "%d 1\n%010d 00000 n \n", o.num, offs[i])
	}
	b = fmt.Appendf(b, "trailer\n<< /Size %d /Root %s /Prev %s >>\nstartxref\n%d\n%%%%EOF\n", size, tr[2], sx[1], xref)
	return b
}

// gsPage is the page of one_type0_gs.pdf (a Ghostscript CJK document with
// a Type0 Identity-H font and a ToUnicode map) with boxes and rotation
// substituted.
func gsPage(boxes string, rotate int) string {
	return fmt.Sprintf("<</Type/Page %s /Rotate %d /Parent 3 0 R /Resources<</ProcSet[/PDF /Text] /Font 11 0 R>> /Contents 5 0 R>>", boxes, rotate)
}

// TestKeywordPlacement puts the seal on keywords of CJK documents,
// rotated and with boxes away from the origin, and checks the seal's
// pixels at the keyword's position as poppler's text extraction finds it.
func TestKeywordPlacement(t *testing.T) {
	gs := fixture(t, "one_type0_gs.pdf")
	cases := []struct {
		name string
		in   []byte
		kw   Keyword
		key  string // the text pdftotext must find
		occ  int
	}{
		// The signature line's keyword is a 署名: TestPlacement9704.
		{"decision title", fixture(t, "decision.pdf"), Keyword{Text: "青山镇人民政府", Occurrence: 1}, "青山镇人民政府", 1},
		{"type0 first", fixture(t, "one_type0.pdf"), Keyword{Text: "（盖章）", Occurrence: 1}, "（盖章）", 1},
		{"type0 half-width query", fixture(t, "one_type0.pdf"), Keyword{Text: "乙方 (盖章)"}, "乙方（盖章）", -1},
		{"droid", fixture(t, "one_droid.pdf"), Keyword{Text: "乙方：上海测试贸易有限公司"}, "乙方：上海测试贸易有限公司", -1},
		{"gs", gs, Keyword{Text: "（盖章）", Occurrence: -2}, "（盖章）", 1},
		{"gs rotate 90", pageVariant(t, gs, 4, gsPage("/MediaBox [0 0 595.28 841.89]", 90)), Keyword{Text: "乙方（盖章）："}, "乙方（盖章）：", -1},
		{"gs rotate 180", pageVariant(t, gs, 4, gsPage("/MediaBox [0 0 595.28 841.89]", 180)), Keyword{Text: "乙方（盖章）："}, "乙方（盖章）：", -1},
		{"gs rotate 270", pageVariant(t, gs, 4, gsPage("/MediaBox [0 0 595.28 841.89]", 270)), Keyword{Text: "乙方（盖章）："}, "乙方（盖章）：", -1},
		{"gs negative MediaBox origin", pageVariant(t, gs, 4, gsPage("/MediaBox [-60 -80 535.28 761.89]", 0)), Keyword{Text: "乙方（盖章）"}, "乙方（盖章）", -1},
		{"gs CropBox", pageVariant(t, gs, 4, gsPage("/MediaBox [0 0 595.28 841.89] /CropBox [40 60 555.28 801.89]", 0)), Keyword{Text: "甲方（盖章）"}, "甲方（盖章）", -1},
		{"gs CropBox rotate 90", pageVariant(t, gs, 4, gsPage("/MediaBox [0 0 595.28 841.89] /CropBox [40 60 555.28 801.89]", 90)), Keyword{Text: "甲方（盖章）："}, "甲方（盖章）：", -1},
	}
	img := testSeal(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inFile := writeTemp(t, "in.pdf", tc.in)
			qpdfCheck(t, inFile) // the variant itself is sound
			cx, cy := oracleCentre(t, inFile, 1, tc.key, tc.occ)
			req := baseRequest(t)
			req.Image = img
			req.Placements = []Placement{tc.kw}
			out, res := sealBytes(t, tc.in, req)
			checkSealed(t, tc.in, out, res, 0)
			before := render(t, inFile, 1)
			after := render(t, writeTemp(t, "out.pdf", out), 1)
			// A keyword near an edge (the title) moves the seal onto the page,
			// the least that keeps it whole.
			cx, cy = clampMM(cx, img.WidthMM(), after.Bounds().Dx()), clampMM(cy, img.HeightMM(), after.Bounds().Dy())
			checkSealPixels(t, before, after, mmBox(cx, cy, img.WidthMM(), img.HeightMM()))
		})
	}
}

// clampMM moves a centre c (mm) of a seal size mm wide so that it lies
// within a page rendered px pixels wide at renderDPI.
func clampMM(c, size float64, px int) float64 {
	page := float64(px) / renderDPI * 25.4
	return math.Min(math.Max(c, size/2), page-size/2)
}

func TestKeywordOffset(t *testing.T) {
	in := fixture(t, "decision.pdf")
	inFile := writeTemp(t, "in.pdf", in)
	cx, cy := oracleCentre(t, inFile, 1, "青山镇人民政府", -1)
	img := testSeal(t)
	req := baseRequest(t)
	req.Image = img
	req.Placements = []Placement{Keyword{Text: "青山镇人民政府", DX: -15, DY: 10}}
	out, _ := sealBytes(t, in, req)
	checkSealPixels(t, render(t, inFile, 1), render(t, writeTemp(t, "out.pdf", out), 1), mmBox(cx-15, cy-10, img.WidthMM(), img.HeightMM()))
}

func TestKeywordNotFound(t *testing.T) {
	in := fixture(t, "decision.pdf")
	for _, k := range []Keyword{{Text: "长安镇人民政府"}, {Text: "青山镇人民政府", Occurrence: 3}, {Text: "青山镇人民政府", Occurrence: -3}} {
		req := baseRequest(t)
		req.Image = testSeal(t)
		req.Placements = []Placement{k}
		var out bytes.Buffer
		_, err := Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req)
		if !errors.Is(err, ErrKeywordNotFound) || out.Len() != 0 {
			t.Errorf("%+v: %v", k, err)
		}
	}
	req := baseRequest(t)
	req.Image = testSeal(t)
	req.Placements = []Placement{Keyword{Text: " \t"}}
	if _, err := Seal(context.Background(), new(bytes.Buffer), bytes.NewReader(in), int64(len(in)), req); !errors.Is(err, ErrBadRequest) {
		t.Errorf("blank keyword: %v", err)
	}
}

// TestDefaultPlacement checks the default on a page whose date line
// (日期：2026年11月27日, a contract's) has no 署名 above it and no room
// between it and the text above: the seal is centred across the date,
// which lies just below the seal's centre as GB/T 9704 §7.3.5 has it, and
// the reason says that it covers text. The pixels show the seal where the
// result says. TestPlacement9704 checks the 署名 and 成文日期 of official
// documents.
func TestDefaultPlacement(t *testing.T) {
	img := testSeal(t)
	in := fixture(t, "one_type0_gs.pdf")
	inFile := writeTemp(t, "in.pdf", in)
	var box oracleWord
	found := false
	for _, w := range pdftotextWords(t, inFile, 1) {
		if w.text == "日期：2026年11月27日" {
			box, found = w, true
		}
	}
	if !found {
		t.Fatal("pdftotext does not find the date")
	}
	box.x0 += 3.0 / 14 * (box.x1 - box.x0) // the date is the word's part after the label
	req := baseRequest(t)
	req.Image = img
	out, res := sealBytes(t, in, req)
	checkSealed(t, in, out, res, 0)
	if why, want := res.Seals[0].Why, "centred on the 成文日期 (2026年11月27日), covering body text"; !strings.HasPrefix(why, want) {
		t.Errorf("reason %q, want %q…", why, want)
	}
	// In points from the top left.
	r := res.Seals[0].Rect
	cx, cy := (r[0]+r[2])/2, 841.889763779528-(r[1]+r[3])/2
	if want := (box.x0 + box.x1) / 2; math.Abs(cx-want) > 0.5 {
		t.Errorf("seal centred at x %.1f, want the date's centre %.1f", cx, want)
	}
	// Below the centre, by less than a quarter of the seal's radius.
	if below := (box.y0+box.y1)/2 - cy; below <= 0 || below > (r[3]-r[1])/8 {
		t.Errorf("the date's centre lies %.1f pt below the seal's centre, want 0 to %.1f", below, (r[3]-r[1])/8)
	}
	checkSealPixels(t, render(t, inFile, 1), render(t, writeTemp(t, "out.pdf", out), 1), mmBox(cx/72*25.4, cy/72*25.4, img.WidthMM(), img.HeightMM()))
}

func TestRiding(t *testing.T) {
	qpdf := tool(t, "qpdf", "qpdf")
	dir := t.TempDir()
	three := dir + "/three.pdf"
	src := fixtureDir + "/decision.pdf"
	if out, err := exec.Command(qpdf, "--empty", "--pages", src, src, src, "--", three).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v\n%s", err, out)
	}
	in := readFile(t, three)
	img := testSeal(t)
	w, h := img.WidthMM(), img.HeightMM()
	for _, tc := range []struct {
		name       string
		placements []Placement
		pages      []int   // pages with strips, 1-based
		y          float64 // expected centre, mm from the top
		widgets    int
	}{
		{"all pages", []Placement{Riding{}}, []int{1, 2, 3}, a4HeightMM / 2, 3},
		{"two pages at 80 mm", []Placement{Riding{Pages: []int{2, 3}, Y: 80}}, []int{2, 3}, 80, 2},
		{"with keyword", []Placement{Keyword{Text: "青山镇人民政府", Pages: []int{0}}, Riding{Y: 100}}, []int{1, 2, 3}, 100, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := baseRequest(t)
			req.Image = img
			req.Placements = tc.placements
			out, res := sealBytes(t, in, req)
			checkSealed(t, in, out, res, 0)
			if len(res.Seals) != tc.widgets {
				t.Errorf("%d widgets, want %d", len(res.Seals), tc.widgets)
			}
			outFile := writeTemp(t, "out.pdf", out)
			n := float64(len(tc.pages))
			sw := w / n
			for i, p := range tc.pages {
				before := render(t, three, p)
				after := render(t, outFile, p)
				// The whole image's box lies so that strip i ends at the
				// right edge.
				box := mmBox(a4WidthMM-sw*(float64(i)+1)+w/2, tc.y, w, h)
				box.u0, box.u1 = float64(i)/n, float64(i+1)/n
				checkSealPixels(t, before, after, box)
			}
		})
	}
	req := baseRequest(t)
	req.Image = img
	req.Placements = []Placement{Riding{Pages: []int{1}}}
	if _, err := Seal(context.Background(), new(bytes.Buffer), bytes.NewReader(in), int64(len(in)), req); !errors.Is(err, ErrBadRequest) {
		t.Errorf("riding seal on one page: %v", err)
	}
	req.Placements = []Placement{Riding{Pages: []int{1, 2, 1}}}
	if _, err := Seal(context.Background(), new(bytes.Buffer), bytes.NewReader(in), int64(len(in)), req); !errors.Is(err, ErrBadRequest) {
		t.Errorf("riding seal with a page twice: %v", err)
	}
}
