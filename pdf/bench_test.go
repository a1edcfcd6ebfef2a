package pdf

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"io"
	"os"
	"testing"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/internal/testpki"
)

// BenchmarkStamp measures issue 4's goals, each against its peer in the
// same run, and prints the ratio on the peer's line:
//
//	onepage/ours     decision.pdf, visible seal at given coordinates, SM2
//	onepage/pdfsign  the same file, ECDSA P-256, the same PNG visible at
//	                 the same place (metric pdfsign/ours: how many times
//	                 slower pdfsign is)
//	onepage/ours-national
//	                 ours with the seal the service draws now: the
//	                 seal drawn by the rules (paths) and its SESeal in the
//	                 signed revision (metric national/png: what that costs
//	                 beside the PNG seal of onepage/ours)
//	onepage/ours-default, onepage/ours-keyword
//	                 ours, placed by finding the date line or a keyword:
//	                 what reading the page's text costs on top
//	10mb/ours        the 200-page, 10 MB document, visible seal, SM2
//	                 (metric peakRSS-MB: a separate process's peak RSS for
//	                 sealing it file to file with Seal)
//	10mb/sm3floor    SM3 of the same bytes (metric ours/sm3floor)
func BenchmarkStamp(b *testing.B) {
	var onepageOurs, largeOurs float64
	dec := fixture(b, "decision.pdf")
	// The rectangle pdfsign is given: the same place, 42 mm square.
	llx, lly := 464.0, 338.0
	side := 42 * ptPerMM
	b.Run("onepage/ours", func(b *testing.B) {
		req := baseRequest(b)
		req.Image = testSeal(b)
		req.Placements = []Placement{At{Page: 1, Corner: BottomLeft, X: (llx + side/2) / ptPerMM, Y: (lly + side/2) / ptPerMM}}
		onepageOurs = benchSeal(b, dec, req)
	})
	b.Run("onepage/pdfsign", func(b *testing.B) {
		chain := testpki.MustChain(testpki.Options{KeyType: testpki.ECDSA})
		cert, err := x509.ParseCertificate(chain.Leaf().Raw)
		if err != nil {
			b.Fatal(err)
		}
		testSeal(b)
		data := sign.SignData{
			Signature: sign.SignDataSignature{
				Info:     sign.SignDataSignatureInfo{Name: "Eval Seal", Reason: "准予行政许可", Date: testTime},
				CertType: sign.ApprovalSignature,
			},
			Appearance: sign.Appearance{
				Visible: true, Page: 1,
				LowerLeftX: llx, LowerLeftY: lly, UpperRightX: llx + side, UpperRightY: lly + side,
				Image: sealPNG,
			},
			DigestAlgorithm: crypto.SHA256,
			Signer:          chain.LeafKey(),
			Certificate:     cert,
		}
		var out bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			out.Reset()
			r := bytes.NewReader(dec)
			rdr, err := pdf.NewReader(r, int64(len(dec)))
			if err != nil {
				b.Fatal(err)
			}
			if err := sign.Sign(r, &out, rdr, int64(len(dec)), data); err != nil {
				b.Fatal(err)
			}
		}
		if onepageOurs > 0 {
			b.ReportMetric(perOp(b)/onepageOurs, "pdfsign/ours")
		}
	})
	b.Run("onepage/ours-national", func(b *testing.B) {
		img, svg := drawnSeal(b)
		img, err := img.WithSESeal(append(svg, make([]byte, 2048)...)) // an SESeal is its SVG and two certificates
		if err != nil {
			b.Fatal(err)
		}
		req := baseRequest(b)
		req.Image = img
		req.Placements = []Placement{At{Page: 1, Corner: BottomLeft, X: (llx + side/2) / ptPerMM, Y: (lly + side/2) / ptPerMM}}
		if national := benchSeal(b, dec, req); onepageOurs > 0 {
			b.ReportMetric(national/onepageOurs, "national/png")
		}
	})
	b.Run("onepage/ours-default", func(b *testing.B) {
		req := baseRequest(b)
		req.Image = testSeal(b)
		benchSeal(b, dec, req)
	})
	b.Run("onepage/ours-keyword", func(b *testing.B) {
		req := baseRequest(b)
		req.Image = testSeal(b)
		req.Placements = []Placement{Keyword{Text: "青山镇人民政府"}}
		benchSeal(b, dec, req)
	})
	b.Run("10mb/ours", func(b *testing.B) {
		path := largePDF(b)
		in, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		req := baseRequest(b)
		req.Image = testSeal(b)
		largeOurs = benchSealTo(b, io.Discard, in, req)
		b.ReportMetric(float64(len(in))/(1<<20), "file-MB")
		b.ReportMetric(float64(peakRSS(b, path))/(1<<20), "peakRSS-MB")
	})
	b.Run("10mb/sm3floor", func(b *testing.B) {
		in, err := os.ReadFile(largePDF(b))
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			h := sm3.New()
			h.Write(in)
			h.Sum(nil)
		}
		if largeOurs > 0 {
			b.ReportMetric(largeOurs/perOp(b), "ours/sm3floor")
		}
	})
}

// perOp is the benchmark's time per operation in nanoseconds.
func perOp(b *testing.B) float64 {
	return float64(b.Elapsed()) / float64(b.N)
}

func benchSeal(b *testing.B, in []byte, req Request) float64 {
	var out bytes.Buffer
	out.Grow(2 * len(in))
	return benchSealTo(b, &out, in, req)
}

func benchSealTo(b *testing.B, w io.Writer, in []byte, req Request) float64 {
	buf, _ := w.(*bytes.Buffer)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if buf != nil {
			buf.Reset()
		}
		if _, err := Seal(context.Background(), w, bytes.NewReader(in), int64(len(in)), req); err != nil {
			b.Fatal(err)
		}
	}
	return perOp(b)
}
