package webverify

import (
	"context"
	"testing"

	"github.com/emmansun/gmsm/sm3"
)

// BenchmarkReport is what the page runs, natively: the report of a
// one-page file against its root, beside its floor, the SM3 of the same
// bytes, whose line carries the ratio (ours/sm3floor). "onepage" is the
// BouncyCastle-signed file (a visible SM2 seal, nothing more); "service"
// is the warm-up document, sealed by the demo service as it seals every
// document (a drawn seal with its SESeal, whose picture is compared with
// the one drawn, a TSA token and the verification QR code). The same
// benchmark runs as WebAssembly in Node's V8 (the engine of Chromium) with
//
//	PATH=$PATH:$(go env GOROOT)/lib/wasm GOOS=js GOARCH=wasm go test -run '^$' -bench . ./internal/webverify/
//
// and the verification in the browser itself is logged by verifyweb's
// TestBrowserVerifies (the sealed decision there also carries a timestamp
// and an SESeal).
func BenchmarkReport(b *testing.B) {
	for _, tc := range []struct {
		name      string
		doc       []byte
		root, crl []byte
	}{
		{"onepage", read(b, interop+"bc-signed-visible.pdf"), read(b, interop+"bc-root.pem"), nil},
		{"service", warmPDF, warmRoot, warmCRL},
	} {
		in := Input{Document: tc.doc, Trust: [][]byte{tc.root}}
		if tc.crl != nil {
			in.CRLs = [][]byte{tc.crl}
		}
		var ours float64
		b.Run(tc.name+"/ours", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Report(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
			ours = float64(b.Elapsed()) / float64(b.N)
		})
		b.Run(tc.name+"/sm3floor", func(b *testing.B) {
			b.SetBytes(int64(len(tc.doc)))
			for b.Loop() {
				sm3.Sum(tc.doc)
			}
			if ours > 0 {
				b.ReportMetric(ours/(float64(b.Elapsed())/float64(b.N)), "ours/sm3floor")
			}
		})
	}
}
