package pdf

import (
	"bytes"
	"testing"
)

// BenchmarkPress9704 measures what the GB/T 9704 placement costs on top of
// reading the page's text, which Default did before it too: for each
// document, text reads the last page's text (the peer), and press finds
// the 署名 and 成文日期 block in that text and searches for the seal's
// place (metric press/text: its time as a fraction of the text's).
//
//	decision  the demo's decision: the seal is moved 6 mm down
//	full      a page of body text down to the block at its foot, where no
//	          place clears the body, so that every step is searched
func BenchmarkPress9704(b *testing.B) {
	for _, doc := range []struct {
		name string
		in   []byte
	}{
		{"decision", fixture(b, "decision.pdf")},
		{"full", decisionPage(b, 80, 446.1, 40, 15, decisionName)},
	} {
		var textNs float64
		b.Run(doc.name+"/text", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				pl, p := benchPlacer(b, doc.in)
				b.StartTimer()
				if _, err := pl.text(p); err != nil {
					b.Fatal(err)
				}
			}
			textNs = perOp(b)
		})
		b.Run(doc.name+"/press", func(b *testing.B) {
			pl, p := benchPlacer(b, doc.in)
			t, err := pl.text(p)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				blk, ok := t.signatureBlock()
				if !ok {
					b.Fatal("no block")
				}
				pl.press(p, t, blk, "")
			}
			if textNs > 0 {
				b.ReportMetric(perOp(b)/textNs, "press/text")
			}
		})
	}
}

// benchPlacer opens in and returns a placer with the interop seal and its
// last page.
func benchPlacer(b *testing.B, in []byte) (*placer, *page) {
	d, err := open(bytes.NewReader(in), int64(len(in)), defaultBudget())
	if err != nil {
		b.Fatal(err)
	}
	pl, err := newPlacer(d, testSeal(b))
	if err != nil {
		b.Fatal(err)
	}
	p, err := pl.page(pl.npages - 1)
	if err != nil {
		b.Fatal(err)
	}
	return pl, p
}
