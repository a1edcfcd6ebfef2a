package ses

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/asn1"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Signature is a parsed SES_Signature: a signature made with a seal.
type Signature struct {
	Seal         *Seal     // TBS_Sign.eseal
	Time         time.Time // timeInfo: the signing time the signer claims
	DataHash     []byte    // the SM3 of what was signed
	PropertyInfo string    // what was signed, as the signer describes it
	Cert         *smx509.Certificate
	SignAlg      asn1.ObjectIdentifier
	Value        []byte
	TimeStamp    []byte // a time-stamp token over Value, when present
	// RawTBS is the TBS_Sign the signature is over, as read.
	RawTBS []byte
}

// Sign makes an SES_Signature with the seal sealDER (an SESeal) over
// dataHash, the SM3 of the signed data, at t, by signer, whose certificate
// is cert. stamp, when not nil, returns a time-stamp token over the
// signature value, carried in timeStamp.
func Sign(sealDER, dataHash []byte, t time.Time, propertyInfo string, signer crypto.Signer, cert *smx509.Certificate, stamp func(sig []byte) ([]byte, error)) ([]byte, error) {
	if !ia5(propertyInfo) {
		return nil, fmt.Errorf("ses: propertyInfo %q must be ASCII", propertyInfo)
	}
	var tb cryptobyte.Builder
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(Version)
		b.AddBytes(sealDER)
		b.AddASN1GeneralizedTime(t.UTC().Truncate(time.Second))
		addBitString(b, dataHash)
		b.AddASN1(cbasn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(propertyInfo)) })
	})
	tbs, err := tb.Bytes()
	if err != nil {
		return nil, err
	}
	sig, err := signer.Sign(rand.Reader, tbs, sm2.DefaultSM2SignerOpts)
	if err != nil {
		return nil, fmt.Errorf("ses: signing: %w", err)
	}
	var token []byte
	if stamp != nil {
		if token, err = stamp(sig); err != nil {
			return nil, err
		}
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddASN1OctetString(cert.Raw)
		b.AddASN1ObjectIdentifier(OIDSM3WithSM2)
		addBitString(b, sig)
		if token != nil {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { addBitString(b, token) })
		}
	})
	return b.Bytes()
}

// maxSignature bounds an SES_Signature: its seal, a certificate, a token.
const maxSignature = maxSeal + 64<<10

// ParseSignature parses the DER of an SES_Signature of version 4. It
// checks the form, not the signatures (Verify, and the seal's VerifyMaker).
func ParseSignature(der []byte) (*Signature, error) {
	if len(der) > maxSignature {
		return nil, fmt.Errorf("%w: a signature of %d bytes", ErrMalformed, len(der))
	}
	in := cryptobyte.String(der)
	var seq, tbs, tbsBody, sealDER, prop, cert cryptobyte.String
	bad := func(what string) error { return fmt.Errorf("%w: SES_Signature's %s", ErrMalformed, what) }
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, bad("SEQUENCE")
	}
	s := &Signature{}
	if !seq.ReadASN1Element(&tbs, cbasn1.SEQUENCE) {
		return nil, bad("TBS_Sign")
	}
	s.RawTBS = tbs
	var version int64
	if !tbs.ReadASN1(&tbsBody, cbasn1.SEQUENCE) || !tbsBody.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || version != Version {
		return nil, bad("version")
	}
	if !tbsBody.ReadASN1Element(&sealDER, cbasn1.SEQUENCE) {
		return nil, bad("eseal")
	}
	var err error
	if s.Seal, err = ParseSeal(sealDER); err != nil {
		return nil, err
	}
	if !tbsBody.ReadASN1GeneralizedTime(&s.Time) {
		return nil, bad("timeInfo")
	}
	if s.DataHash, err = readBitString(&tbsBody); err != nil {
		return nil, bad("dataHash")
	}
	if !tbsBody.ReadASN1(&prop, cbasn1.IA5String) {
		return nil, bad("propertyInfo")
	}
	s.PropertyInfo = string(prop)
	if !tbsBody.Empty() && !tbsBody.SkipASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !tbsBody.Empty() {
		return nil, bad("extDatas")
	}
	if !seq.ReadASN1(&cert, cbasn1.OCTET_STRING) || !seq.ReadASN1ObjectIdentifier(&s.SignAlg) {
		return nil, bad("certificate or algorithm")
	}
	if s.Value, err = readBitString(&seq); err != nil {
		return nil, bad("signature")
	}
	if !seq.Empty() {
		var ts cryptobyte.String
		if !seq.ReadASN1(&ts, cbasn1.Tag(0).Constructed().ContextSpecific()) || !seq.Empty() {
			return nil, bad("timeStamp")
		}
		if s.TimeStamp, err = readBitString(&ts); err != nil || !ts.Empty() {
			return nil, bad("timeStamp")
		}
	}
	if s.Cert, err = smx509.ParseCertificate(cert); err != nil {
		return nil, fmt.Errorf("%w: the signer's certificate: %v", ErrMalformed, err)
	}
	return s, nil
}

// Verify checks the signer's signature over TBS_Sign, that the signer's
// certificate is one the seal lists, and the maker's signature on the seal.
// It does not check that dataHash matches the data, nor chains and times:
// the caller has those.
func (s *Signature) Verify() error {
	if err := s.VerifySigner(); err != nil {
		return err
	}
	if !s.Seal.Holds(s.Cert.Raw) {
		return fmt.Errorf("%w: the signer's certificate is not one of seal %s's", ErrSignature, s.Seal.ID)
	}
	return s.Seal.VerifyMaker()
}

// VerifySigner checks the signer's signature over TBS_Sign only.
func (s *Signature) VerifySigner() error {
	if !s.SignAlg.Equal(OIDSM3WithSM2) {
		return fmt.Errorf("%w: algorithm %v, want SM3withSM2", ErrSignature, s.SignAlg)
	}
	pub, ok := s.Cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != sm2.P256() {
		return fmt.Errorf("%w: the signer's key is not SM2", ErrSignature)
	}
	if !sm2.VerifyASN1WithSM2(pub, nil, s.RawTBS, s.Value) {
		return fmt.Errorf("%w: the signer's signature", ErrSignature)
	}
	return nil
}
