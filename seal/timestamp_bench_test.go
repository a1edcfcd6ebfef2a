package seal

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/tsa"
)

// BenchmarkSealTimestamp seals the one-page decision with a visible seal,
// as the Sealer does (pdf.Seal with the seal's cms.Signer), with and
// without the in-process TSA round trip, alternating in the same run, and
// reports the median of each and their ratio (the goal is at most 1.2). The ledger's
// append, the same with and without, is left out so that the ratio is
// the timestamp's share of the sealing itself.
func BenchmarkSealTimestamp(b *testing.B) {
	ctx := context.Background()
	doc, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		b.Fatal(err)
	}
	png, err := os.ReadFile("../testdata/interop/seal.png")
	if err != nil {
		b.Fatal(err)
	}
	img, err := pdf.NewSealImage(png, 42)
	if err != nil {
		b.Fatal(err)
	}
	chain := testpki.MustChain(testpki.Options{})
	signer, err := cms.NewSigner(chain.LeafKey(), chain.Certs, cms.ProfileDefault)
	if err != nil {
		b.Fatal(err)
	}
	tsaChain := testpki.MustChain(testpki.Options{LeafExtensions: []pkix.Extension{testpki.TimeStampingEKU(true)}})
	auth, err := tsa.New(tsa.StaticKey{Key: tsaChain.LeafKey(), Chain: tsaChain.Certs}, &tsa.MemorySerials{}, tsa.Config{})
	if err != nil {
		b.Fatal(err)
	}
	reserve, err := auth.MaxTokenSize(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ts := &Timestamping{TSA: auth, Reserve: reserve}
	var buf bytes.Buffer
	sealOnce := func(s pdf.Signer) time.Duration {
		buf.Reset()
		start := time.Now()
		_, err := pdf.Seal(ctx, &buf, bytes.NewReader(doc), int64(len(doc)), pdf.Request{
			Signer: s, Time: time.Now(), SealName: "融安县长安镇人民政府行政审批专用章", Image: img,
		})
		if err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	// Medians of each side, not sums: on a shared machine a pause of the
	// other tenants lands on one iteration, not on the ratio.
	var with, without []time.Duration
	for b.Loop() {
		without = append(without, sealOnce(signer))
		st := &stampingSigner{Signer: signer, ctx: ctx, ts: ts}
		with = append(with, sealOnce(st))
		if st.failed != nil {
			b.Fatal(st.failed)
		}
	}
	mw, mo := median(with), median(without)
	b.ReportMetric(float64(mo.Nanoseconds())/1e3, "µs/seal")
	b.ReportMetric(float64(mw.Nanoseconds())/1e3, "µs/seal+tsa")
	b.ReportMetric(float64(mw)/float64(mo), "ratio")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
