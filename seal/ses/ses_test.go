package ses

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/internal/testpki"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
)

// The second decoder: GB/T 38540-2020's ASN.1 as encoding/asn1 structures,
// written from the standard's text, not from this package's encoder.
type (
	gbHeader struct {
		ID      string `asn1:"ia5"`
		Version int
		Vid     string `asn1:"ia5"`
	}
	gbProperty struct {
		Type         int
		Name         string `asn1:"utf8"`
		CertListType int
		CertList     [][]byte
		CreateDate   time.Time `asn1:"generalized"`
		ValidStart   time.Time `asn1:"generalized"`
		ValidEnd     time.Time `asn1:"generalized"`
	}
	gbPicture struct {
		Type   string `asn1:"ia5"`
		Data   []byte
		Width  int
		Height int
	}
	gbSealInfo struct {
		Header   gbHeader
		EsID     string `asn1:"ia5"`
		Property gbProperty
		Picture  gbPicture
		ExtDatas asn1.RawValue `asn1:"optional"`
	}
	gbSeal struct {
		ESealInfo   asn1.RawValue
		Cert        []byte
		SignAlgID   asn1.ObjectIdentifier
		SignedValue asn1.BitString
	}
	gbTBSSign struct {
		Version      int
		ESeal        asn1.RawValue
		TimeInfo     time.Time `asn1:"generalized"`
		DataHash     asn1.BitString
		PropertyInfo string        `asn1:"ia5"`
		ExtDatas     asn1.RawValue `asn1:"optional,explicit,tag:0"`
	}
	gbSignature struct {
		ToSign         asn1.RawValue
		Cert           []byte
		SignatureAlgID asn1.ObjectIdentifier
		Signature      asn1.BitString
		TimeStamp      asn1.BitString `asn1:"optional,explicit,tag:0"`
	}
)

type fixture struct {
	maker, holder *testpki.Chain
	info          SealInfo
	sealDER       []byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		maker:  testpki.MustChain(testpki.Options{LeafName: "融安县电子印章制作 (seal maker)"}),
		holder: testpki.MustChain(testpki.Options{LeafName: "融安县长安镇人民政府行政审批专用章"}),
	}
	now := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	f.info = SealInfo{
		VendorID: "eseal", ID: "450224100-0001", Type: TypeOrganization, Name: "融安县长安镇人民政府行政审批专用章",
		Certs:   [][]byte{f.holder.Leaf().Raw},
		Created: now, ValidFrom: now, ValidUntil: now.AddDate(3, 0, 0),
		Picture: Picture{Type: PictureSVG, Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), WidthMM: 42, HeightMM: 42},
	}
	var err error
	if f.sealDER, err = MakeSeal(f.info, f.maker.LeafKey(), f.maker.Leaf()); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSealBySecondDecoder: the SESeal we write is read by a decoder written
// from the standard, field by field, and its maker signature verifies under
// tjfoc's SM2, an implementation apart from ours.
func TestSealBySecondDecoder(t *testing.T) {
	f := newFixture(t)
	var s gbSeal
	if rest, err := asn1.Unmarshal(f.sealDER, &s); err != nil || len(rest) != 0 {
		t.Fatalf("SESeal: %v, %d bytes after", err, len(rest))
	}
	var info gbSealInfo
	if _, err := asn1.Unmarshal(s.ESealInfo.FullBytes, &info); err != nil {
		t.Fatal(err)
	}
	want := f.info
	if info.Header != (gbHeader{"ES", 4, "eseal"}) || info.EsID != want.ID || info.Property.Type != 1 || info.Property.Name != want.Name ||
		info.Property.CertListType != 1 || len(info.Property.CertList) != 1 || !bytes.Equal(info.Property.CertList[0], want.Certs[0]) ||
		!info.Property.ValidEnd.Equal(want.ValidUntil) || info.Picture.Type != "svg" || !bytes.Equal(info.Picture.Data, want.Picture.Data) ||
		info.Picture.Width != 42 || info.Picture.Height != 42 {
		t.Errorf("decoded %+v", info)
	}
	if !s.SignAlgID.Equal(asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}) || !bytes.Equal(s.Cert, f.maker.Leaf().Raw) {
		t.Errorf("algorithm %v, maker certificate %d bytes", s.SignAlgID, len(s.Cert))
	}
	if !tjfocVerify(t, f.maker.Leaf().PublicKey.(*ecdsa.PublicKey), s.ESealInfo.FullBytes, s.SignedValue.Bytes) {
		t.Error("tjfoc does not verify the maker's signature over SES_SealInfo")
	}
}

// tjfocVerify verifies an SM3withSM2 signature (default user ID) with tjfoc.
func tjfocVerify(t *testing.T, pub *ecdsa.PublicKey, msg, sig []byte) bool {
	t.Helper()
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig, &rs); err != nil {
		t.Fatal(err)
	}
	k, err := sm2.PublicKeyToECDH(pub) // the point, without ecdsa's deprecated fields
	if err != nil {
		t.Fatal(err)
	}
	p := k.Bytes()
	tpub := &tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: new(big.Int).SetBytes(p[1:33]), Y: new(big.Int).SetBytes(p[33:])}
	return tjsm2.Sm2Verify(tpub, msg, nil, rs.R, rs.S)
}

func TestSealRoundTrip(t *testing.T) {
	f := newFixture(t)
	s, err := ParseSeal(f.sealDER)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifyMaker(); err != nil {
		t.Fatal(err)
	}
	if s.ID != f.info.ID || s.Name != f.info.Name || !s.Holds(f.holder.Leaf().Raw) || s.Holds(f.maker.Leaf().Raw) ||
		!s.ValidAt(f.info.ValidFrom.Add(time.Hour)) || s.ValidAt(f.info.ValidUntil.Add(time.Second)) ||
		!bytes.Equal(s.Picture.Data, f.info.Picture.Data) || !s.MakerCert.Equal(f.maker.Leaf()) {
		t.Errorf("parsed %+v", s.SealInfo)
	}
}

func TestSealTampered(t *testing.T) {
	f := newFixture(t)
	// Another picture in the signed info: the maker's signature breaks.
	forged := bytes.Replace(f.sealDER, []byte(`<svg xmlns`), []byte(`<svg xmlnz`), 1)
	s, err := ParseSeal(forged)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifyMaker(); !errors.Is(err, ErrSignature) {
		t.Errorf("a changed picture: %v", err)
	}
	for _, bad := range [][]byte{nil, {0x30, 0x00}, f.sealDER[:len(f.sealDER)-1], append(bytes.Clone(f.sealDER), 0)} {
		if _, err := ParseSeal(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseSeal(%d bytes): %v", len(bad), err)
		}
	}
	info := f.info
	info.Certs = nil
	if _, err := MakeSeal(info, f.maker.LeafKey(), f.maker.Leaf()); err == nil {
		t.Error("a seal without a holder certificate was made")
	}
}

// TestSignature: an SES_Signature made with the seal is read by the second
// decoder, its signature over TBS_Sign verifies under tjfoc, and Verify
// catches a signer the seal does not list and a changed hash.
func TestSignature(t *testing.T) {
	f := newFixture(t)
	hash := sm3.Sum([]byte("the approval decision"))
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	der, err := Sign(f.sealDER, hash[:], at, "decision.pdf", f.holder.LeafKey(), f.holder.Leaf(), func(sig []byte) ([]byte, error) {
		return append([]byte("token over "), sig[:4]...), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var g gbSignature
	if rest, err := asn1.Unmarshal(der, &g); err != nil || len(rest) != 0 {
		t.Fatalf("SES_Signature: %v", err)
	}
	var tbs gbTBSSign
	if _, err := asn1.Unmarshal(g.ToSign.FullBytes, &tbs); err != nil {
		t.Fatal(err)
	}
	if tbs.Version != 4 || !bytes.Equal(tbs.ESeal.FullBytes, f.sealDER) || !tbs.TimeInfo.Equal(at) || !bytes.Equal(tbs.DataHash.Bytes, hash[:]) ||
		tbs.PropertyInfo != "decision.pdf" || !bytes.HasPrefix(g.TimeStamp.Bytes, []byte("token over ")) {
		t.Errorf("decoded TBS_Sign %+v", tbs)
	}
	if !tjfocVerify(t, f.holder.Leaf().PublicKey.(*ecdsa.PublicKey), g.ToSign.FullBytes, g.Signature.Bytes) {
		t.Error("tjfoc does not verify the signature over TBS_Sign")
	}
	s, err := ParseSignature(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(); err != nil || !bytes.Equal(s.DataHash, hash[:]) || s.Seal.ID != f.info.ID || !s.Time.Equal(at) {
		t.Errorf("Verify: %v; %+v", err, s)
	}
	// A signer whose certificate the seal does not list.
	other := testpki.MustChain(testpki.Options{LeafName: "another township"})
	der2, err := Sign(f.sealDER, hash[:], at, "x", other.LeafKey(), other.Leaf(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s2, err := ParseSignature(der2); err != nil || !errors.Is(s2.Verify(), ErrSignature) {
		t.Errorf("a signer the seal does not list: %v", err)
	}
	// A changed data hash in the signed TBS_Sign.
	forged := bytes.Replace(der, hash[:8], make([]byte, 8), 1)
	if s3, err := ParseSignature(forged); err != nil || !errors.Is(s3.Verify(), ErrSignature) {
		t.Errorf("a changed hash: %v", err)
	}
}
