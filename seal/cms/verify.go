package cms

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"fmt"
	"io"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// VerifyOptions says what a verification accepts. A nil *VerifyOptions is
// the zero value: SM2 signatures only.
type VerifyOptions struct {
	// Algorithms is the set of signature algorithm families accepted. A
	// known algorithm outside it fails with ErrAlgorithmNotAccepted.
	Algorithms Algorithms
}

// Result reports what a SignedData says and whether it verifies. Verify
// returns a Result whenever the structure parses, also when the check fails,
// so that a report can say who claimed to sign what.
type Result struct {
	// Profile is ProfileGMT0010 when the GM/T 0010 content types are used.
	Profile            Profile
	DigestAlgorithm    Algorithm
	SignatureAlgorithm Algorithm
	// SignedAttributes is whether the signature covers signed attributes.
	SignedAttributes bool
	// DigestMatch is whether the content's digest equals the signed
	// message-digest. Without signed attributes the digest is inside the
	// signature, and DigestMatch equals SignatureValid.
	DigestMatch bool
	// SignatureValid is whether the signature verifies under Signer's key.
	SignatureValid bool
	// Signer is the certificate the SignerInfo identifies.
	Signer *smx509.Certificate
	// Certificates are all embedded certificates, in their order.
	Certificates []*smx509.Certificate
	// SigningTime is the signing-time attribute, zero when absent. It is
	// the signer's claim, not a trusted time.
	SigningTime time.Time
	// MessageDigest is the signed message-digest, nil without signed
	// attributes.
	MessageDigest []byte
	// Signature is the SignerInfo's signature value, which a signature
	// time-stamp token's message imprint covers.
	Signature []byte
	// TimeStampToken is the DER ContentInfo of the signature time-stamp
	// token in the unsigned attributes, nil when there is none. It is not
	// checked here; see VerifyTimeStampToken.
	TimeStampToken []byte
}

// Valid reports whether both the digest and the signature verify.
func (r *Result) Valid() bool { return r != nil && r.DigestMatch && r.SignatureValid }

// Verify checks der, a detached SignedData, against content, which it reads
// to the end. It returns an error unless the signature is valid; see Result.
func Verify(der []byte, content io.Reader, opts *VerifyOptions) (*Result, error) {
	return verify(der, content, nil, opts)
}

// VerifyDigest is Verify for a caller that has already computed the
// content's digest with the algorithm that the SignedData names (SM3 for
// SM2 signatures; see DigestAlgorithm). A signature without signed
// attributes cannot be checked this way and fails with ErrNeedContent.
func VerifyDigest(der, digest []byte, opts *VerifyOptions) (*Result, error) {
	return verify(der, nil, digest, opts)
}

func verify(der []byte, content io.Reader, digest []byte, opts *VerifyOptions) (*Result, error) {
	if opts == nil {
		opts = &VerifyOptions{}
	}
	sd, err := parse(der)
	if err != nil {
		return nil, err
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
	res := &Result{
		DigestAlgorithm:    Algorithm{dalg.oid, dalg.name},
		SignatureAlgorithm: Algorithm{salg.oid, salg.name},
		SignedAttributes:   si.signedAttrs != nil,
		Certificates:       sd.certs,
		SigningTime:        si.signingTime,
		MessageDigest:      si.messageDigest,
		Signature:          si.signature,
		TimeStampToken:     si.timeStampToken,
	}
	if sd.contentType.Equal(oidGMSignedData) {
		res.Profile = ProfileGMT0010
	}
	if !opts.Algorithms.accepts(salg.family) {
		return res, fmt.Errorf("%w: %s", ErrAlgorithmNotAccepted, salg.name)
	}
	if !sd.eContentType.Equal(oidData) && !sd.eContentType.Equal(oidGMData) {
		return res, fmt.Errorf("%w: eContentType %s is not data", ErrMalformed, sd.eContentType)
	}
	if res.Signer = findSigner(sd); res.Signer == nil {
		return res, ErrSignerCertNotFound
	}
	if err := checkKeyFamily(res.Signer, salg.family); err != nil {
		return res, err
	}

	if si.signedAttrs == nil {
		if content == nil {
			return res, ErrNeedContent
		}
		ok, err := verifyContentSignature(res.Signer, salg, dalg, si.signature, content)
		if err != nil {
			return res, err
		}
		res.DigestMatch, res.SignatureValid = ok, ok
		if !ok {
			return res, ErrBadSignature
		}
		return res, nil
	}

	if !si.contentType.Equal(sd.eContentType) {
		return res, ErrMissingContentType
	}
	if err := checkESS(si.essCerts, res.Signer); err != nil {
		return res, err
	}
	if digest == nil {
		h := dalg.new()
		if _, err := io.Copy(h, content); err != nil {
			return res, fmt.Errorf("cms: reading content: %w", err)
		}
		digest = h.Sum(nil)
	} else if len(digest) != dalg.size {
		return res, fmt.Errorf("cms: given digest is %d bytes, %s needs %d", len(digest), dalg.name, dalg.size)
	}
	res.DigestMatch = len(si.messageDigest) == dalg.size && subtle.ConstantTimeCompare(digest, si.messageDigest) == 1
	res.SignatureValid = verifySignature(res.Signer, salg, dalg, si.signedAttrs, si.signature)
	switch {
	case !res.DigestMatch:
		return res, ErrDigestMismatch
	case !res.SignatureValid:
		return res, ErrBadSignature
	}
	return res, nil
}

// findSigner returns the embedded certificate that the SignerInfo names.
func findSigner(sd *signedData) *smx509.Certificate {
	si := &sd.signer
	for _, c := range sd.certs {
		if si.skid != nil {
			if bytes.Equal(c.SubjectKeyId, si.skid) {
				return c
			}
			continue
		}
		if c.SerialNumber.Cmp(si.serial) == 0 && bytes.Equal(c.RawIssuer, si.issuer) {
			return c
		}
	}
	return nil
}

func checkKeyFamily(c *smx509.Certificate, family Algorithms) error {
	var keyFamily Algorithms
	switch pub := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		keyFamily = ECDSA
		if sm2.IsSM2PublicKey(pub) {
			keyFamily = SM2
		}
	case *rsa.PublicKey:
		keyFamily = RSA
	}
	if keyFamily == family {
		return nil
	}
	return fmt.Errorf("%w: signer key %T does not fit the signature algorithm", ErrUnsupportedAlgorithm, c.PublicKey)
}

// checkESS checks that an ESS signing-certificate attribute, when present,
// names the signer certificate first, so that a signature cannot be passed
// off as made under another certificate for the same key.
func checkESS(ids []essCertID, signer *smx509.Certificate) error {
	if len(ids) == 0 {
		return nil
	}
	d, err := lookupDigest(ids[0].hashAlg)
	if err != nil {
		return fmt.Errorf("ESS signing-certificate: %w", err)
	}
	h := d.new()
	h.Write(signer.Raw)
	if subtle.ConstantTimeCompare(h.Sum(nil), ids[0].hash) != 1 {
		return ErrSigningCertMismatch
	}
	return nil
}

// verifySignature checks sig over msg (the DER signed attributes).
func verifySignature(c *smx509.Certificate, s signatureAlgorithm, d digestAlgorithm, msg, sig []byte) bool {
	switch pub := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if s.family == SM2 {
			return sm2.VerifyASN1WithSM2(pub, nil, msg, sig)
		}
		h := d.new()
		h.Write(msg)
		return ecdsa.VerifyASN1(pub, h.Sum(nil), sig)
	case *rsa.PublicKey:
		h := d.new()
		h.Write(msg)
		return rsa.VerifyPKCS1v15(pub, d.hash, h.Sum(nil), sig) == nil
	}
	return false
}

// verifyContentSignature checks a signature without signed attributes,
// which covers the content itself (for SM2, SM3 of Z and the content).
func verifyContentSignature(c *smx509.Certificate, s signatureAlgorithm, d digestAlgorithm, sig []byte, content io.Reader) (bool, error) {
	if s.family == SM2 {
		pub := c.PublicKey.(*ecdsa.PublicKey)
		h, err := sm2.NewHash(pub)
		if err != nil {
			return false, fmt.Errorf("cms: SM2 public key: %w", err)
		}
		if _, err := io.Copy(h, content); err != nil {
			return false, fmt.Errorf("cms: reading content: %w", err)
		}
		return sm2.VerifyASN1(pub, h.Sum(nil), sig), nil
	}
	h := d.new()
	if _, err := io.Copy(h, content); err != nil {
		return false, fmt.Errorf("cms: reading content: %w", err)
	}
	sum := h.Sum(nil)
	switch pub := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(pub, sum, sig), nil
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, d.hash, sum, sig) == nil, nil
	}
	return false, nil
}
