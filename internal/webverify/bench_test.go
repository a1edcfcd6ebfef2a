package webverify

import (
	"context"
	"testing"

	"github.com/emmansun/gmsm/sm3"
)

// BenchmarkReport is what the page runs, natively: the report of the
// BouncyCastle-signed one-page file (a visible SM2 seal) against its
// root, beside its floor, the SM3 of the same bytes, whose line carries
// the ratio (ours/sm3floor). The same benchmark runs as WebAssembly in
// Node's V8 (the engine of Chromium) with
//
//	PATH=$PATH:$(go env GOROOT)/lib/wasm GOOS=js GOARCH=wasm go test -run '^$' -bench . ./internal/webverify/
//
// and the verification in the browser itself is logged by verifyweb's
// TestBrowserVerifies (the sealed decision there also carries a timestamp
// and an SESeal).
func BenchmarkReport(b *testing.B) {
	doc := read(b, interop+"bc-signed-visible.pdf")
	root := read(b, interop+"bc-root.pem")
	var ours float64
	b.Run("onepage/ours", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Report(context.Background(), Input{Document: doc, Trust: [][]byte{root}}); err != nil {
				b.Fatal(err)
			}
		}
		ours = float64(b.Elapsed()) / float64(b.N)
	})
	b.Run("onepage/sm3floor", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			sm3.Sum(doc)
		}
		if ours > 0 {
			b.ReportMetric(ours/(float64(b.Elapsed())/float64(b.N)), "ours/sm3floor")
		}
	})
}
