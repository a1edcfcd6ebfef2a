package pdf

import (
	"bytes"
	"testing"
)

// BenchmarkPageText measures reading the last page's text of decision.pdf
// as Default placement does: a fresh document each time, so that fonts,
// CMaps and the content stream are read as they are for each seal. Opening
// the document and finding the page are left out of the timing.
func BenchmarkPageText(b *testing.B) {
	in := fixture(b, "decision.pdf")
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		d, err := open(bytes.NewReader(in), int64(len(in)), defaultBudget())
		if err != nil {
			b.Fatal(err)
		}
		pl, err := newPlacer(d, nil)
		if err != nil {
			b.Fatal(err)
		}
		p, err := pl.page(pl.npages - 1)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t, err := pl.text(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := t.dateLine(); !ok {
			b.Fatal("no date line")
		}
	}
}
