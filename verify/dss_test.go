package verify

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/tsa"
)

// TestLongTermValidation: a timestamped seal with the CRL of its day in a
// /DSS verifies in 2050, long after its certificate expired, with its
// revocation checked from the DSS (good, and stale only as every old CRL
// is); without the DSS it says what it lacks (no CRL); a DSS CRL that
// lists the seal as compromised before the proven time makes it invalid.
func TestLongTermValidation(t *testing.T) {
	ctx := context.Background()
	p := testPKI(t)
	t0 := p.signingTime
	tsaKey, tsaCert := issueTSA(t, p.root, p.rootKey, timeStampingExt(true))
	auth := testTSA(t, tsaKey, []*smx509.Certificate{tsaCert, p.root}, t0.Add(time.Second))
	doc := fixture(t, "one_type0.pdf")
	var sealed bytes.Buffer
	if _, err := pdf.Seal(ctx, &sealed, bytes.NewReader(doc), int64(len(doc)), pdf.Request{
		Signer: &stampingSigner{Signer: p.good, tsa: auth}, Time: t0}); err != nil {
		t.Fatal(err)
	}
	ltv := func(crls ...*smx509.RevocationList) []byte {
		var out bytes.Buffer
		add := pdf.DSS{Certs: [][]byte{p.goodCert.Raw, tsaCert.Raw, p.root.Raw}}
		for _, rl := range crls {
			add.CRLs = append(add.CRLs, rl.Raw)
		}
		if err := pdf.AddDSS(ctx, &out, bytes.NewReader(sealed.Bytes()), int64(sealed.Len()), add, pdf.Limits{}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	ofTheDay := crlBy(t, p.root, p.rootKey, t0.Add(time.Minute), t0.Add(7*24*time.Hour))
	compromised := crlBy(t, p.root, p.rootKey, t0.Add(time.Hour), t0.Add(7*24*time.Hour),
		smx509.RevocationListEntry{SerialNumber: p.goodCert.SerialNumber, RevocationTime: t0.Add(-time.Minute), ReasonCode: reasonKeyCompromise})
	in2050 := Options{Roots: []*smx509.Certificate{p.root}, Now: func() time.Time { return time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC) }}

	rep := verifyBytes(t, ltv(ofTheDay), in2050)
	s := rep.Signatures[0]
	if rep.Verdict != VerdictValid || s.Revocation != RevocationGood || s.TimeBasis != TimeProven || !hasCode(rep.Warnings, CodeDSSUsed) {
		t.Errorf("with LTV in 2050: verdict %s, revocation %s, basis %s, reasons %v, warnings %v %v",
			rep.Verdict, s.Revocation, s.TimeBasis, rep.Reasons, rep.Warnings, s.Warnings)
	}
	if n := len(s.LaterRevisions); n == 0 || s.LaterRevisions[n-1].Kind != "dss" || !s.LaterRevisions[n-1].Allowed {
		t.Errorf("the DSS revision, as the seal sees it: %+v", s.LaterRevisions)
	}

	rep = verifyBytes(t, sealed.Bytes(), in2050)
	s = rep.Signatures[0]
	if s.Revocation != RevocationUnknown || !hasCode(s.Warnings, CodeRevocationUnknown) || hasCode(rep.Warnings, CodeDSSUsed) {
		t.Errorf("without LTV in 2050: revocation %s, warnings %v", s.Revocation, s.Warnings)
	}

	rep = verifyBytes(t, ltv(compromised), in2050)
	if s = rep.Signatures[0]; s.Valid || !hasCode(s.Reasons, CodeKeyCompromised) {
		t.Errorf("a DSS CRL listing a compromise before the proven time: valid %v, reasons %v", s.Valid, s.Reasons)
	}
}

// TestBLTA: a stamped seal, its /DSS, then a document timestamp over both
// (pdf.AddDocTimestamp with the county TSA), as PAdES B-LTA has it,
// verifies as of 2050: the seal at its proven time, the document
// timestamp as a signature of the TSA, both revisions allowed.
func TestBLTA(t *testing.T) {
	ctx := context.Background()
	p := testPKI(t)
	tsaKey, tsaCert := issueTSA(t, p.root, p.rootKey, timeStampingExt(true))
	auth := testTSA(t, tsaKey, []*smx509.Certificate{tsaCert, p.root}, p.signingTime.Add(time.Second))
	doc := fixture(t, "one_type0.pdf")
	var sealed, withDSS, lta bytes.Buffer
	if _, err := pdf.Seal(ctx, &sealed, bytes.NewReader(doc), int64(len(doc)), pdf.Request{
		Signer: &stampingSigner{Signer: p.good, tsa: auth}, Time: p.signingTime}); err != nil {
		t.Fatal(err)
	}
	crl := crlBy(t, p.root, p.rootKey, p.signingTime.Add(time.Minute), p.signingTime.Add(7*24*time.Hour))
	if err := pdf.AddDSS(ctx, &withDSS, bytes.NewReader(sealed.Bytes()), int64(sealed.Len()),
		pdf.DSS{CRLs: [][]byte{crl.Raw}, Certs: [][]byte{tsaCert.Raw}}, pdf.Limits{}); err != nil {
		t.Fatal(err)
	}
	stamp := func(d []byte) ([]byte, error) { return auth.Timestamp(ctx, tsa.OIDSM3, d) }
	if err := pdf.AddDocTimestamp(ctx, &lta, bytes.NewReader(withDSS.Bytes()), int64(withDSS.Len()), stamp, 4096, pdf.Limits{}); err != nil {
		t.Fatal(err)
	}
	rep := verifyBytes(t, lta.Bytes(), Options{Roots: []*smx509.Certificate{p.root},
		Now: func() time.Time { return time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if rep.Verdict != VerdictValid || len(rep.Signatures) != 2 {
		t.Fatalf("verdict %s, %d signatures, reasons %v", rep.Verdict, len(rep.Signatures), rep.Reasons)
	}
	seal, ts := rep.Signatures[0], rep.Signatures[1]
	if seal.TimeBasis != TimeProven || seal.Revocation != RevocationGood || ts.TimeBasis != TimeProven || ts.Signer != "测试县时间戳服务" {
		t.Errorf("seal %s/%s, document timestamp %s by %q", seal.TimeBasis, seal.Revocation, ts.TimeBasis, ts.Signer)
	}
	kinds := map[string]bool{}
	for _, c := range seal.LaterRevisions {
		kinds[c.Kind] = c.Allowed
	}
	if !kinds["dss"] || !kinds["timestamp"] {
		t.Errorf("the seal's later revisions: %+v", seal.LaterRevisions)
	}
}
