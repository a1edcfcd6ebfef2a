package cms

import (
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Errors about time-stamp tokens.
var (
	// ErrNotTimeStampToken means a SignedData whose content is not a
	// TSTInfo was given as a time-stamp token.
	ErrNotTimeStampToken = fmt.Errorf("%w: not a time-stamp token (eContentType is not id-ct-TSTInfo)", ErrMalformed)
	// ErrTokenWithoutSigningCert means a token lacks the ESS
	// signing-certificate attribute that RFC 3161 and RFC 5816 require.
	ErrTokenWithoutSigningCert = errors.New("cms: time-stamp token has no ESS signing-certificate attribute")
	// ErrHasTimeStamp means a SignedData already carries a signature
	// time-stamp token.
	ErrHasTimeStamp = errors.New("cms: the signature already carries a time-stamp token")
)

// TokenResult is what VerifyTimeStampToken found: the signature check, as
// Result reports it (DigestMatch is about the TSTInfo, Signer is the TSA's
// certificate), and the TSTInfo.
type TokenResult struct {
	Result
	TSTInfo *TSTInfo
}

// VerifyTimeStampToken checks a time-stamp token, a DER ContentInfo
// holding a SignedData that encapsulates a TSTInfo: its structure, the
// TSTInfo's digest, the signature under the embedded TSA certificate and
// the ESS signing-certificate attribute. It does not check the TSA's chain,
// key usage or what the imprint covers: that is the caller's, with
// TokenResult.Signer and TSTInfo (see TSTInfo.Covers). A TokenResult comes
// back whenever the structure parses.
func VerifyTimeStampToken(token []byte, opts *VerifyOptions) (*TokenResult, error) {
	if opts == nil {
		opts = &VerifyOptions{}
	}
	sd, err := parseSignedData(token, true)
	if err != nil {
		return nil, err
	}
	if !sd.eContentType.Equal(oidTSTInfo) {
		return nil, ErrNotTimeStampToken
	}
	si := &sd.signer
	dalg, err := lookupDigest(si.digestAlg)
	if err != nil {
		return nil, err
	}
	salg, err := lookupSignature(si.sigAlg)
	if err != nil {
		return nil, err
	}
	if (salg.digest != nil && !salg.digest.Equal(dalg.oid)) || (salg.family != SM2 && dalg.hash == 0) {
		return nil, fmt.Errorf("%w: %s with digest %s", ErrUnsupportedAlgorithm, salg.name, dalg.name)
	}
	info, err := ParseTSTInfo(sd.eContent)
	if err != nil {
		return nil, err
	}
	res := &TokenResult{TSTInfo: info, Result: Result{
		DigestAlgorithm:    Algorithm{dalg.oid, dalg.name},
		SignatureAlgorithm: Algorithm{salg.oid, salg.name},
		SignedAttributes:   si.signedAttrs != nil,
		Certificates:       sd.certs,
		SigningTime:        si.signingTime,
		MessageDigest:      si.messageDigest,
		Signature:          si.signature,
	}}
	if !opts.Algorithms.accepts(salg.family) {
		return res, fmt.Errorf("%w: %s", ErrAlgorithmNotAccepted, salg.name)
	}
	if res.Signer = findSigner(sd); res.Signer == nil {
		return res, ErrSignerCertNotFound
	}
	if err := checkKeyFamily(res.Signer, salg.family); err != nil {
		return res, err
	}
	if si.signedAttrs == nil {
		return res, fmt.Errorf("%w: time-stamp token without signed attributes", ErrMalformed)
	}
	if !si.contentType.Equal(oidTSTInfo) {
		return res, ErrMissingContentType
	}
	if len(si.essCerts) == 0 {
		return res, ErrTokenWithoutSigningCert
	}
	if err := checkESS(si.essCerts, res.Signer); err != nil {
		return res, err
	}
	h := dalg.new()
	h.Write(sd.eContent)
	res.DigestMatch = len(si.messageDigest) == dalg.size && subtle.ConstantTimeCompare(h.Sum(nil), si.messageDigest) == 1
	res.SignatureValid = verifySignature(res.Signer, salg, dalg, si.signedAttrs, si.signature)
	switch {
	case !res.DigestMatch:
		return res, ErrDigestMismatch
	case !res.SignatureValid:
		return res, ErrBadSignature
	}
	return res, nil
}

// Covers reports whether the message imprint is the digest of data, with
// the imprint's hash algorithm (SM3 or SHA-1/2). An unknown algorithm is an
// error.
func (t *TSTInfo) Covers(data []byte) (bool, error) {
	d, err := lookupDigest(t.HashAlgorithm)
	if err != nil {
		return false, err
	}
	h := d.new()
	h.Write(data)
	return subtle.ConstantTimeCompare(h.Sum(nil), t.HashedMessage) == 1, nil
}

// CoversReader is Covers for data read from r to its end: a document
// timestamp's imprint covers the signed byte ranges of a PDF.
func (t *TSTInfo) CoversReader(r io.Reader) (bool, error) {
	d, err := lookupDigest(t.HashAlgorithm)
	if err != nil {
		return false, err
	}
	h := d.new()
	if _, err := io.Copy(h, r); err != nil {
		return false, fmt.Errorf("cms: reading content: %w", err)
	}
	return subtle.ConstantTimeCompare(h.Sum(nil), t.HashedMessage) == 1, nil
}

// HashAlgorithmName names the imprint's hash algorithm, or gives its
// identifier when unknown.
func (t *TSTInfo) HashAlgorithmName() string {
	if d, err := lookupDigest(t.HashAlgorithm); err == nil {
		return d.name
	}
	return t.HashAlgorithm.String()
}

// AddTimeStampToken returns der, a SignedData with one signer, with token
// added to the SignerInfo as the unsigned attribute
// id-aa-signatureTimeStampToken (RFC 3161 appendix A). The signed parts
// are copied byte for byte, so the signature still verifies. A SignerInfo
// that has unsigned attributes already fails (ErrHasTimeStamp when one of
// them is a token): adding to them would need them re-sorted.
func AddTimeStampToken(der, token []byte) ([]byte, error) {
	if _, err := parseSignedData(token, true); err != nil {
		return nil, fmt.Errorf("the token: %w", err)
	}
	sd, err := parse(der)
	if err != nil {
		return nil, err
	}
	if sd.signer.timeStampToken != nil {
		return nil, ErrHasTimeStamp
	}
	// Walk down to the SignerInfo, remembering what precedes it at each
	// level; parse has checked every step.
	in := cryptobyte.String(der)
	var ci, explicit, body cryptobyte.String
	var ctype cryptobyte.String
	in.ReadASN1(&ci, cbasn1.SEQUENCE)
	ci.ReadASN1Element(&ctype, cbasn1.OBJECT_IDENTIFIER)
	ci.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific())
	explicit.ReadASN1(&body, cbasn1.SEQUENCE)
	var before []byte
	for !body.PeekASN1Tag(cbasn1.SET) || len(before) == 0 || !isLast(body) {
		var elem cryptobyte.String
		var tag cbasn1.Tag
		if !body.ReadAnyASN1Element(&elem, &tag) {
			return nil, malformed("SignedData", nil)
		}
		before = append(before, elem...)
	}
	var signers, si cryptobyte.String
	body.ReadASN1(&signers, cbasn1.SET)
	signers.ReadASN1(&si, cbasn1.SEQUENCE)
	if si.Empty() {
		return nil, ErrNoSigner
	}
	unsignedTag := cbasn1.Tag(1).Constructed().ContextSpecific()
	var parts []byte
	for !si.Empty() {
		var elem cryptobyte.String
		var tag cbasn1.Tag
		if !si.ReadAnyASN1Element(&elem, &tag) {
			return nil, malformed("SignerInfo", nil)
		}
		if tag == unsignedTag {
			return nil, fmt.Errorf("cms: the SignerInfo has unsigned attributes already")
		}
		parts = append(parts, elem...)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(ctype)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(before)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddBytes(parts)
						b.AddASN1(unsignedTag, func(b *cryptobyte.Builder) {
							b.AddBytes(attribute(oidAttrTimeStampToken, func(b *cryptobyte.Builder) { b.AddBytes(token) }))
						})
					})
				})
			})
		})
	})
	return b.Bytes()
}

// isLast reports whether s holds exactly one element.
func isLast(s cryptobyte.String) bool {
	var elem cryptobyte.String
	var tag cbasn1.Tag
	return s.ReadAnyASN1Element(&elem, &tag) && s.Empty()
}

// TimeStampTokenSize is how many bytes AddTimeStampToken adds for a token
// of tokenLen bytes, at most: the attribute's and the [1]'s headers, and
// the longer length fields of the enclosing SignerInfo, SET, SignedData,
// [0] and ContentInfo.
func TimeStampTokenSize(tokenLen int) int {
	return tokenLen + 11 + 3*4 + 5*2 // the OID; the SEQ, SET and [1] heads; five lengths growing by up to 2
}

// TokenTSTInfo reads the TSTInfo out of a time-stamp token without
// checking the token's signature or parsing its certificates: for a caller
// that has the token from a TSA it trusts already (the in-process one, or
// a Client, which verified it), and wants its time. A verifier uses
// VerifyTimeStampToken.
func TokenTSTInfo(token []byte) (*TSTInfo, error) {
	in := cryptobyte.String(token)
	var ci, explicit, body, encap, econtent, octets cryptobyte.String
	var ctype, etype asn1.ObjectIdentifier
	var version int64
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&ctype) || !ctype.Equal(oidSignedData) ||
		!ci.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!explicit.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1Integer(&version) || !body.SkipASN1(cbasn1.SET) ||
		!body.ReadASN1(&encap, cbasn1.SEQUENCE) || !encap.ReadASN1ObjectIdentifier(&etype) {
		return nil, malformed("time-stamp token", nil)
	}
	if !etype.Equal(oidTSTInfo) {
		return nil, ErrNotTimeStampToken
	}
	if !encap.ReadASN1(&econtent, cbasn1.Tag(0).Constructed().ContextSpecific()) || !econtent.ReadASN1(&octets, cbasn1.OCTET_STRING) {
		return nil, malformed("time-stamp token: no TSTInfo", nil)
	}
	return ParseTSTInfo(octets)
}
