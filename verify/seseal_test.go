package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509/pkix"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/ses"
	"github.com/ronganxian/eseal/sealimage"
)

// TestSealMakerPolicyAgrees: the verifier's copy of the seal-maker policy
// is the keystore's.
func TestSealMakerPolicyAgrees(t *testing.T) {
	if sealMakerPolicy != keystore.SealMakerPolicyOID {
		t.Fatalf("verify has %s, keystore %s", sealMakerPolicy, keystore.SealMakerPolicyOID)
	}
}

// issueMaker issues a certificate under the corpus root for a seal maker,
// with the seal-maker policy when marked.
func issueMaker(t *testing.T, p *corpusPKI, marked bool) (*smx509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &smx509.Certificate{
		SerialNumber: randSerial(), Subject: pkix.Name{CommonName: "测试县电子印章制作"},
		NotBefore: p.signingTime.Add(-time.Hour), NotAfter: p.signingTime.Add(24 * 365 * time.Hour),
		KeyUsage: smx509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	if marked {
		oid, _ := smx509.ParseOID(keystore.SealMakerPolicyOID)
		tmpl.Policies = []smx509.OID{oid}
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, p.root, key.Public(), p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// drawnPicture draws a township's seal by the rules and returns its SVG.
func drawnPicture(t *testing.T, name string) ses.Picture {
	t.Helper()
	f, err := sealimage.LoadFont(sealimage.DefaultFontPath)
	if err != nil {
		t.Fatalf("%v (scripts/install-deps.sh installs fonts-arphic-uming)", err)
	}
	defer f.Close()
	s, err := sealimage.Draw(sealimage.Spec{Name: name, Purpose: "行政审批专用章"}, f)
	if err != nil {
		t.Fatal(err)
	}
	return ses.Picture{Type: ses.PictureSVG, Data: s.SVG(), WidthMM: 42, HeightMM: 42}
}

// TestVerifySESeal: the verifier checks the seal, not only the signature:
// the maker's signature and certificate, the seal's validity at the
// signing time, that it lists the signing certificate, and that the
// picture on the page is its picture — a valid signature under another
// township's picture is invalid.
func TestVerifySESeal(t *testing.T) {
	p := testPKI(t)
	in := fixture(t, "decision.pdf")
	maker, makerKey := issueMaker(t, p, true)
	unmarked, unmarkedKey := issueMaker(t, p, false)
	changan, fushi := drawnPicture(t, "融安县长安镇人民政府"), drawnPicture(t, "融安县浮石镇人民政府")
	info := func(mod func(*ses.SealInfo)) ses.SealInfo {
		i := ses.SealInfo{VendorID: "test", ID: "450224100-1", Type: ses.TypeOrganization, Name: "融安县长安镇人民政府行政审批专用章",
			Certs: [][]byte{p.goodCert.Raw}, Created: p.signingTime.Add(-time.Minute), ValidFrom: p.signingTime.Add(-time.Hour),
			ValidUntil: p.signingTime.Add(365 * 24 * time.Hour), Picture: changan}
		if mod != nil {
			mod(&i)
		}
		return i
	}
	makeSeal := func(i ses.SealInfo, key crypto.Signer, cert *smx509.Certificate) []byte {
		der, err := ses.MakeSeal(i, key, cert)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	picture := func(pic ses.Picture) *pdf.SealImage {
		img, err := pdf.SealPicture(pic.Type, pic.Data, pic.WidthMM)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	for _, tc := range []struct {
		name   string
		seseal []byte
		drawn  ses.Picture
		want   Code // "" for valid
	}{
		{"the seal's own picture", makeSeal(info(nil), makerKey, maker), changan, ""},
		{"another township's picture", makeSeal(info(nil), makerKey, maker), fushi, CodeSealImageMismatch},
		{"made by a certificate that is not a seal maker's", makeSeal(info(nil), unmarkedKey, unmarked), changan, CodeSESealMaker},
		{"made by the township seal itself", makeSeal(info(nil), p.goodKey, p.goodCert), changan, CodeSESealMaker},
		{"listing another certificate", makeSeal(info(func(i *ses.SealInfo) { i.Certs = [][]byte{maker.Raw} }), makerKey, maker), changan, CodeSESealNotHolder},
		{"expired before signing", makeSeal(info(func(i *ses.SealInfo) { i.ValidUntil = p.signingTime.Add(-time.Minute) }), makerKey, maker), changan, CodeSESealNotValid},
		{"garbage", []byte("not an SESeal"), changan, CodeSESealInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := pdf.Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), pdf.Request{
				Signer: p.good, Time: p.signingTime, SealName: "融安县长安镇人民政府行政审批专用章",
				Image: withSESeal(t, picture(tc.drawn), tc.seseal),
			})
			if err != nil {
				t.Fatal(err)
			}
			rep := verifyBytes(t, out.Bytes(), Options{Roots: []*smx509.Certificate{p.root}, CRLs: []*smx509.RevocationList{p.crl(t)}})
			sr := rep.Signatures[0]
			switch {
			case tc.want == "" && (!sr.Valid || sr.SESeal == nil || !sr.SESeal.MakerTrusted || !sr.SESeal.PictureMatches):
				t.Errorf("valid %v, reasons %v, SESeal %+v", sr.Valid, sr.Reasons, sr.SESeal)
			case tc.want != "" && (sr.Valid || !hasCode(sr.Reasons, tc.want)):
				t.Errorf("valid %v, reasons %v; want %s", sr.Valid, sr.Reasons, tc.want)
			}
			if tc.want == "" && (sr.SESeal.ID != "450224100-1" || sr.SESeal.Maker != "测试县电子印章制作" || !bytes.Equal(sr.SESeal.Picture, changan.Data)) {
				t.Errorf("SESeal reported as %+v", sr.SESeal)
			}
		})
	}
	// A signature without an SESeal is checked as a signature and says so.
	out := p.seal(t, in, p.good)
	if sr := verifyBytes(t, out, Options{Roots: []*smx509.Certificate{p.root}, CRLs: []*smx509.RevocationList{p.crl(t)}}).Signatures[0]; !sr.Valid || sr.SESeal != nil {
		t.Errorf("no SESeal: valid %v, %v", sr.Valid, sr.Reasons)
	}
}

func withSESeal(t *testing.T, img *pdf.SealImage, der []byte) *pdf.SealImage {
	t.Helper()
	out, err := img.WithSESeal(der)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVerifySESProfile: a PDF sealed with a GB/T 38540 SES_Signature
// (/GM.sm2seal) verifies with its seal; changed bytes, another township's
// picture, and a signer the seal does not list are caught.
func TestVerifySESProfile(t *testing.T) {
	p := testPKI(t)
	in := fixture(t, "decision.pdf")
	maker, makerKey := issueMaker(t, p, true)
	changan, fushi := drawnPicture(t, "融安县长安镇人民政府"), drawnPicture(t, "融安县浮石镇人民政府")
	info := ses.SealInfo{VendorID: "test", ID: "450224100-1", Type: ses.TypeOrganization, Name: "融安县长安镇人民政府行政审批专用章",
		Certs: [][]byte{p.goodCert.Raw}, Created: p.signingTime.Add(-time.Minute), ValidFrom: p.signingTime.Add(-time.Hour),
		ValidUntil: p.signingTime.Add(365 * 24 * time.Hour), Picture: changan}
	sealDER, err := ses.MakeSeal(info, makerKey, maker)
	if err != nil {
		t.Fatal(err)
	}
	seal := func(pic ses.Picture, key crypto.Signer, cert *smx509.Certificate) []byte {
		img, err := pdf.SealPicture(pic.Type, pic.Data, pic.WidthMM)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := pdf.Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), pdf.Request{
			Signer: &ses.PDFSigner{Seal: sealDER, Key: key, Cert: cert, PropertyInfo: "decision.pdf"}, Time: p.signingTime,
			SealName: "融安县长安镇人民政府行政审批专用章", Image: img,
		}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	opts := Options{Roots: []*smx509.Certificate{p.root}, CRLs: []*smx509.RevocationList{p.crl(t)}}
	good := seal(changan, p.goodKey, p.goodCert)
	sr := verifyBytes(t, good, opts).Signatures[0]
	if !sr.Valid || sr.SubFilter != "GM.sm2seal" || sr.Filter != "GM.PKILite" || !sr.DigestMatch || !sr.SignatureValid || !sr.ChainTrusted ||
		sr.SigningTimeSource != "ses" || sr.SESeal == nil || !sr.SESeal.PictureMatches || !sr.SESeal.MakerTrusted {
		t.Fatalf("the ses profile: valid %v, reasons %v, %+v", sr.Valid, sr.Reasons, sr)
	}
	flipped := bytes.Clone(good)
	flipped[7]++        // the header's version digit: still a PDF, no longer the signed bytes
	other := testPKI(t) // a seal certificate of another county
	for name, tc := range map[string]struct {
		doc  []byte
		want Code
	}{
		"changed bytes":                   {flipped, CodeDigestMismatch},
		"another township's picture":      {seal(fushi, p.goodKey, p.goodCert), CodeSealImageMismatch},
		"a signer the seal does not list": {seal(changan, other.goodKey, other.goodCert), CodeSESealNotHolder},
	} {
		sr := verifyBytes(t, tc.doc, opts).Signatures[0]
		if sr.Valid || !hasCode(sr.Reasons, tc.want) {
			t.Errorf("%s: valid %v, reasons %v; want %s", name, sr.Valid, sr.Reasons, tc.want)
		}
	}
}
