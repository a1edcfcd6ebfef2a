package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/tsa"
)

// issueTSA certifies a TSA key under parent with the extended key usage
// extension eku (none when nil).
func issueTSA(t *testing.T, parent *smx509.Certificate, parentKey crypto.Signer, eku *pkix.Extension) (crypto.Signer, *smx509.Certificate) {
	t.Helper()
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &smx509.Certificate{
		SerialNumber: randSerial(),
		Subject:      pkix.Name{Country: []string{"CN"}, Organization: []string{"测试县政务服务监督管理办公室"}, CommonName: "测试县时间戳服务"},
		NotBefore:    parent.NotBefore, NotAfter: parent.NotAfter,
		KeyUsage: smx509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	if eku != nil {
		tmpl.ExtraExtensions = []pkix.Extension{*eku}
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func timeStampingExt(critical bool) *pkix.Extension {
	v, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	return &pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: critical, Value: v}
}

// testTSA is a TSA whose clock the test sets.
func testTSA(t *testing.T, key crypto.Signer, chain []*smx509.Certificate, at time.Time) *tsa.Authority {
	t.Helper()
	a, err := tsa.New(tsa.StaticKey{Key: key, Chain: chain}, &tsa.MemorySerials{},
		tsa.Config{Now: func() time.Time { return at }, Accuracy: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// stampingSigner signs like the sealer does with a TSA: the token over the
// signature value goes into the SignerInfo. over, when set, replaces what
// the token is over (a wrong imprint).
type stampingSigner struct {
	*cms.Signer
	tsa  *tsa.Authority
	over []byte
}

func (s *stampingSigner) Size(t time.Time) int { return s.Signer.Size(t) + 4096 }

func (s *stampingSigner) SignDigest(d []byte, t time.Time) ([]byte, error) {
	return s.Signer.SignDigestWithTimeStamp(d, t, func(sig []byte) ([]byte, error) {
		if s.over != nil {
			sig = s.over
		}
		sum := sm3.Sum(sig)
		return s.tsa.Timestamp(context.Background(), tsa.OIDSM3, sum[:])
	})
}

// TestSignatureTimestamp: a good token proves the signing time, and the
// seal's revocation is judged at it: a key compromise after it leaves the
// document valid, one before it (or a backdated claim) makes it invalid,
// and without a token a key compromise invalidates as before. Every bad
// token is a reason with its own code.
func TestSignatureTimestamp(t *testing.T) {
	p := testPKI(t)
	doc := fixture(t, "one_type0.pdf")
	t0 := p.signingTime // the claimed time
	tsaKey, tsaCert := issueTSA(t, p.root, p.rootKey, timeStampingExt(true))
	chain := []*smx509.Certificate{tsaCert, p.root}
	good := testTSA(t, tsaKey, chain, t0.Add(2*time.Second))
	noEKUKey, noEKUCert := issueTSA(t, p.root, p.rootKey, nil)
	softKey, softCert := issueTSA(t, p.root, p.rootKey, timeStampingExt(false))
	otherRoot, otherKey, err := corpusCA("另一个县电子印章根CA (TEST)", t0)
	if err != nil {
		t.Fatal(err)
	}
	strayKey, strayCert := issueTSA(t, otherRoot, otherKey, timeStampingExt(true))

	seal := func(s pdf.Signer) []byte {
		t.Helper()
		var out bytes.Buffer
		if _, err := pdf.Seal(context.Background(), &out, bytes.NewReader(doc), int64(len(doc)), pdf.Request{
			Signer: s, Time: t0, SealName: "融安县长安镇人民政府行政审批专用章"}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	compromised := func(at time.Time) []*smx509.RevocationList {
		e := smx509.RevocationListEntry{SerialNumber: p.goodCert.SerialNumber, RevocationTime: at, ReasonCode: reasonKeyCompromise}
		return []*smx509.RevocationList{crlBy(t, p.root, p.rootKey, t0.Add(2*24*time.Hour), t0.Add(30*24*time.Hour), e)}
	}
	stamped := seal(&stampingSigner{Signer: p.good, tsa: good})
	unstamped := seal(p.good)
	// A thief signs a day later but claims t0, before the compromise is
	// reported at t0+1h; the TSA stamps the real time.
	backdated := seal(&stampingSigner{Signer: p.good, tsa: testTSA(t, tsaKey, chain, t0.Add(24*time.Hour))})

	cases := []struct {
		name   string
		doc    []byte
		crls   []*smx509.RevocationList
		valid  bool
		code   Code // a reason, or (valid) a warning; "" for none
		proven bool
	}{
		{"stamped", stamped, nil, true, "", true},
		{"stamped, compromised after the proven time", stamped, compromised(t0.Add(10 * time.Second)), true, CodeRevokedLater, true},
		{"stamped, compromised before the proven time", stamped, compromised(t0.Add(time.Second)), false, CodeKeyCompromised, true},
		{"unstamped, compromised after the claimed time", unstamped, compromised(t0.Add(10 * time.Second)), false, CodeKeyCompromised, false},
		{"backdated claim, compromised between claim and stamp", backdated, compromised(t0.Add(time.Hour)), false, CodeKeyCompromised, true},
		{"stamped before the claimed time", seal(&stampingSigner{Signer: p.good, tsa: testTSA(t, tsaKey, chain, t0.Add(-time.Hour))}), nil, false, CodeTimestampBeforeClaim, false},
		{"imprint over other bytes", seal(&stampingSigner{Signer: p.good, tsa: good, over: []byte("another signature")}), nil, false, CodeTimestampImprint, false},
		{"TSA under another root", seal(&stampingSigner{Signer: p.good, tsa: testTSA(t, strayKey, []*smx509.Certificate{strayCert, otherRoot}, t0.Add(time.Second))}), nil, false, CodeTimestampUntrusted, false},
		{"TSA without the EKU", seal(&stampingSigner{Signer: p.good, tsa: testTSA(t, noEKUKey, []*smx509.Certificate{noEKUCert, p.root}, t0.Add(time.Second))}), nil, false, CodeTimestampEKU, false},
		{"TSA with the EKU not critical", seal(&stampingSigner{Signer: p.good, tsa: testTSA(t, softKey, []*smx509.Certificate{softCert, p.root}, t0.Add(time.Second))}), nil, false, CodeTimestampEKU, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := verifyBytes(t, c.doc, Options{Roots: []*smx509.Certificate{p.root}, CRLs: c.crls,
				Now: func() time.Time { return t0.Add(3 * 24 * time.Hour) }})
			s := rep.Signatures[0]
			list := s.Reasons
			if c.valid {
				list = s.Warnings
			}
			if s.Valid != c.valid || (c.code != "" && !hasCode(list, c.code)) {
				t.Fatalf("valid %v, reasons %v, warnings %v; want valid %v with %s", s.Valid, s.Reasons, s.Warnings, c.valid, c.code)
			}
			if got := s.TimeBasis == TimeProven; got != c.proven {
				t.Errorf("time basis %q, proven time %v", s.TimeBasis, s.ProvenTime)
			}
			if c.proven && (s.Timestamp == nil || s.Timestamp.TSA != "测试县时间戳服务" || !s.ProvenTime.Equal(s.Timestamp.Time) ||
				!s.SigningTime.Equal(t0)) {
				t.Errorf("timestamp %+v, proven %v, claimed %v", s.Timestamp, s.ProvenTime, s.SigningTime)
			}
		})
	}
}

// docTimestamped appends a document timestamp to doc: a signature field
// whose /SubFilter is ETSI.RFC3161 and whose /Contents is a token over its
// byte ranges. (pdf writes only /adbe.pkcs7.detached, the same length with
// padding, so the test writes that, patches it, hashes and fills in.)
func docTimestamped(t *testing.T, doc []byte, auth *tsa.Authority, tamper bool) []byte {
	t.Helper()
	var out bytes.Buffer
	blank := blankSigner{size: 4096}
	if _, err := pdf.Seal(context.Background(), &out, bytes.NewReader(doc), int64(len(doc)), pdf.Request{
		Signer: blank, Time: time.Now(), FieldName: "DocTS1"}); err != nil {
		t.Fatal(err)
	}
	b := out.Bytes()
	from := []byte("/Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached")
	to := []byte("/Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.RFC3161       ")
	i := bytes.LastIndex(b, from)
	if i < 0 || len(from) != len(to) {
		t.Fatal("no signature dictionary to make a document timestamp of")
	}
	copy(b[i:], to)
	sigs, err := pdf.Signatures(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	br := sigs[len(sigs)-1].ByteRange
	h := sm3.New()
	h.Write(b[br[0] : br[0]+br[1]])
	h.Write(b[br[2] : br[2]+br[3]])
	token, err := auth.Timestamp(context.Background(), tsa.OIDSM3, h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	hexed := hex.AppendEncode(nil, token)
	copy(b[br[0]+br[1]+1:], bytes.ToUpper(hexed))
	if tamper { // a digit of the timestamp field's /M, under its byte range only
		j := bytes.LastIndex(b, []byte("/M(D:"))
		b[j+6] ^= 1
	}
	return b
}

// blankSigner reserves a placeholder and writes nothing in it.
type blankSigner struct{ size int }

func (s blankSigner) Size(time.Time) int                           { return s.size }
func (s blankSigner) SignDigest([]byte, time.Time) ([]byte, error) { return []byte{0x30, 0x00}, nil }

// TestDocumentTimestamp: a document timestamp after a seal is verified,
// not refused as an unsupported format; its revision is an allowed change
// to the seal; a changed byte is an imprint mismatch.
func TestDocumentTimestamp(t *testing.T) {
	p := testPKI(t)
	tsaKey, tsaCert := issueTSA(t, p.root, p.rootKey, timeStampingExt(true))
	auth := testTSA(t, tsaKey, []*smx509.Certificate{tsaCert, p.root}, time.Now())
	sealed := p.seal(t, fixture(t, "one_type0.pdf"), p.good)
	opts := Options{Roots: []*smx509.Certificate{p.root}}
	rep := verifyBytes(t, docTimestamped(t, sealed, auth, false), opts)
	if rep.Verdict != VerdictValid || len(rep.Signatures) != 2 {
		t.Fatalf("verdict %s, reasons %v", rep.Verdict, rep.Reasons)
	}
	seal, ts := rep.Signatures[0], rep.Signatures[1]
	if ts.TimeBasis != TimeProven || ts.Signer != "测试县时间戳服务" || ts.Timestamp == nil || !ts.Valid {
		t.Errorf("document timestamp: %+v", ts)
	}
	if len(seal.LaterRevisions) != 1 || seal.LaterRevisions[0].Kind != "timestamp" || !seal.LaterRevisions[0].Allowed {
		t.Errorf("the seal sees the timestamp's revision as %+v", seal.LaterRevisions)
	}
	rep = verifyBytes(t, docTimestamped(t, p.seal(t, fixture(t, "one_type0.pdf"), p.good), auth, true), opts)
	if last := rep.Signatures[len(rep.Signatures)-1]; last.Valid || !hasCode(last.Reasons, CodeTimestampImprint) {
		t.Errorf("a changed byte under the document timestamp: %v", last.Reasons)
	}
}

// TestVerifyIn2050: as of 2050, long after the seal certificate expired, a
// timestamped seal still verifies at its proven time; an unstamped one
// verifies at its claimed time and says that this is all it has.
func TestVerifyIn2050(t *testing.T) {
	p := testPKI(t)
	doc := fixture(t, "one_type0.pdf")
	tsaKey, tsaCert := issueTSA(t, p.root, p.rootKey, timeStampingExt(true))
	auth := testTSA(t, tsaKey, []*smx509.Certificate{tsaCert, p.root}, p.signingTime.Add(time.Second))
	var stamped bytes.Buffer
	if _, err := pdf.Seal(context.Background(), &stamped, bytes.NewReader(doc), int64(len(doc)), pdf.Request{
		Signer: &stampingSigner{Signer: p.good, tsa: auth}, Time: p.signingTime}); err != nil {
		t.Fatal(err)
	}
	in2050 := time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)
	if !in2050.After(p.goodCert.NotAfter) {
		t.Fatalf("the seal certificate is valid until %v", p.goodCert.NotAfter)
	}
	opts := Options{Roots: []*smx509.Certificate{p.root}, Now: func() time.Time { return in2050 }}
	s := verifyBytes(t, stamped.Bytes(), opts).Signatures[0]
	if !s.Valid || s.TimeBasis != TimeProven || hasCode(s.Warnings, CodeTimeOnlyClaimed) {
		t.Errorf("stamped, in 2050: valid %v, basis %s, reasons %v, warnings %v", s.Valid, s.TimeBasis, s.Reasons, s.Warnings)
	}
	s = verifyBytes(t, p.seal(t, doc, p.good), opts).Signatures[0]
	if !s.Valid || s.TimeBasis != TimeClaimed || !hasCode(s.Warnings, CodeTimeOnlyClaimed) {
		t.Errorf("unstamped, in 2050: valid %v, basis %s, warnings %v", s.Valid, s.TimeBasis, s.Warnings)
	}
}
