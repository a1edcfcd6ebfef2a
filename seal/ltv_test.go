package seal_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal"
)

type fixedLTV pdf.DSS

func (f fixedLTV) ValidationData(context.Context) (pdf.DSS, error) { return pdf.DSS(f), nil }

// TestSealerLTV: with an LTV source the sealed document carries a /DSS
// with the source's CRLs and the seal's chain, after its seal, and the
// record's output digest is that of the document returned.
func TestSealerLTV(t *testing.T) {
	ctx := context.Background()
	f := newSealerFixture(t)
	crl := []byte{0x30, 0x03, 0x02, 0x01, 0x09}
	f.sealer.LTV = fixedLTV{CRLs: [][]byte{crl}}
	out, err := f.sealer.Seal(ctx, f.clerk, f.input("ltv-1"))
	if err != nil {
		t.Fatal(err)
	}
	dss, err := pdf.ReadDSS(ctx, bytes.NewReader(out.Document), int64(len(out.Document)), pdf.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dss.CRLs) != 1 || !bytes.Equal(dss.CRLs[0], crl) || len(dss.Certs) < 2 {
		t.Fatalf("DSS: %d CRLs, %d certificates", len(dss.CRLs), len(dss.Certs))
	}
	if sum := sm3.Sum(out.Document); !bytes.Equal(out.Record.OutputSM3, sum[:]) {
		t.Error("the record's output digest is not the returned document's")
	}
	// The seal still verifies under the DSS update.
	sealedToken(t, out.Document)
}

type ltaSource struct{ fixedLTV }

func (ltaSource) DocumentTimestamp() bool { return true }

// TestSealerLTA: a source that asks for it adds a document timestamp from
// the Sealer's TSA after the DSS.
func TestSealerLTA(t *testing.T) {
	ctx := context.Background()
	f := newSealerFixture(t)
	f.sealer.Timestamping = &seal.Timestamping{TSA: newTestTSA(t)}
	f.sealer.LTV = ltaSource{fixedLTV{CRLs: [][]byte{{0x30, 0x00}}}}
	out, err := f.sealer.Seal(ctx, f.clerk, f.input("lta-1"))
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := pdf.Signatures(bytes.NewReader(out.Document), int64(len(out.Document)))
	if err != nil || len(sigs) != 2 || sigs[1].SubFilter != "ETSI.RFC3161" || !sigs[1].CoversWholeFile {
		t.Fatalf("signatures: %+v, %v", sigs, err)
	}
	if sum := sm3.Sum(out.Document); !bytes.Equal(out.Record.OutputSM3, sum[:]) {
		t.Error("the record's output digest is not the returned document's")
	}
}
