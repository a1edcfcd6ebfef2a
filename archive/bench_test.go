package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// BenchmarkArchive builds and verifies a township's package (the fixture's
// four sealed documents and five records) and, as the peer in the same
// run, writes a plain ZIP of the same documents: the ratios say what the
// signing, hashing and verifying cost over the copying.
func BenchmarkArchive(b *testing.B) {
	ctx := context.Background()
	f := Filter{Township: town, From: fix.recs[0].Time, To: fix.recs[len(fix.recs)-1].Time.Add(time.Second)}
	opts := Options{Filter: f, Source: "/eseal/county", By: "bench", Role: "admin", Key: fix.ledgerKey, Cert: fix.ledgerCrt}
	roots := []*smx509.Certificate{fix.chain.Root()}
	var zipT, buildT, verifyT time.Duration
	var size int64
	for b.Loop() {
		t0 := time.Now()
		var plain bytes.Buffer
		zw := zip.NewWriter(&plain)
		for _, r := range fix.recs {
			if d, ok := fix.docs[r.Seq]; ok && f.Matches(r) {
				w, _ := zw.CreateHeader(&zip.FileHeader{Name: DocumentName(r.Seq), Method: zip.Store})
				w.Write(d)
			}
		}
		zw.Close()
		t1 := time.Now()
		var pkg bytes.Buffer
		if _, err := Build(ctx, &pkg, source{f: fix}, opts); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		rep, err := Verify(ctx, bytes.NewReader(pkg.Bytes()), int64(pkg.Len()), VerifyOptions{Roots: roots})
		if err != nil || !rep.Valid() {
			b.Fatalf("the package does not verify: %v", err)
		}
		t3 := time.Now()
		zipT, buildT, verifyT, size = zipT+t1.Sub(t0), buildT+t2.Sub(t1), verifyT+t3.Sub(t2), int64(pkg.Len())
	}
	n := float64(b.N)
	b.ReportMetric(float64(zipT.Microseconds())/n/1000, "zip-ms")
	b.ReportMetric(float64(buildT.Microseconds())/n/1000, "build-ms")
	b.ReportMetric(float64(verifyT.Microseconds())/n/1000, "verify-ms")
	b.ReportMetric(float64(buildT)/float64(zipT), "build/zip")
	b.ReportMetric(float64(verifyT)/float64(zipT), "verify/zip")
	b.ReportMetric(float64(size), "package-bytes")
}
