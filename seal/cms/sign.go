package cms

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/asn1"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Profile selects the object identifiers a Signer writes.
type Profile int

const (
	// ProfileDefault writes the PKCS#7 content types and SM3withSM2
	// (1.2.156.10197.1.501), which BouncyCastle-based verifiers accept.
	ProfileDefault Profile = iota
	// ProfileGMT0010 writes the GM/T 0010 content types and the sm2-1
	// signature algorithm (1.2.156.10197.1.301.1).
	ProfileGMT0010
)

func (p Profile) String() string {
	switch p {
	case ProfileDefault:
		return "PKCS#7 (SM3withSM2)"
	case ProfileGMT0010:
		return "GM/T 0010"
	}
	return fmt.Sprintf("Profile(%d)", int(p))
}

func (p Profile) contentTypes() (outer, inner asn1.ObjectIdentifier) {
	if p == ProfileGMT0010 {
		return oidGMSignedData, oidGMData
	}
	return oidSignedData, oidData
}

func (p Profile) signatureOID() asn1.ObjectIdentifier {
	if p == ProfileGMT0010 {
		return oidSM2Sign
	}
	return oidSM3WithSM2
}

// maxSM2SignatureLen is the longest DER SM2 signature: a SEQUENCE of two
// 33-byte INTEGERs (32 bytes and a leading zero).
const maxSM2SignatureLen = 72

// A Signer makes detached SM2 SignedData for one key and certificate chain.
// It precomputes everything that does not depend on the content, so one
// Signer per seal serves every document. A Signer is safe for concurrent use
// when its crypto.Signer is.
type Signer struct {
	key     crypto.Signer
	cert    *smx509.Certificate
	profile Profile

	sid     []byte // IssuerAndSerialNumber, DER
	certs   []byte // the certificates, DER, concatenated in chain order
	essAttr []byte // the signing-certificate-v2 Attribute, DER
	ctAttr  []byte // the content-type Attribute, DER
	rand    io.Reader

	// sizeUTC and sizeGeneralized are the output lengths with a signing
	// time written as UTCTime and as GeneralizedTime (see addTime).
	sizeUTC, sizeGeneralized int
}

// NewSigner returns a Signer for key, whose certificate is chain[0];
// the rest of chain (intermediates, optionally the root) is embedded too.
// key must be an SM2 key that signs like *sm2.PrivateKey: given
// sm2.DefaultSM2SignerOpts, it signs the raw message with the default user ID.
func NewSigner(key crypto.Signer, chain []*smx509.Certificate, profile Profile) (*Signer, error) {
	if profile != ProfileDefault && profile != ProfileGMT0010 {
		return nil, fmt.Errorf("cms: unknown profile %d", int(profile))
	}
	if len(chain) == 0 || chain[0] == nil {
		return nil, fmt.Errorf("cms: no signer certificate")
	}
	pub := key.Public()
	if !sm2.IsSM2PublicKey(pub) {
		return nil, ErrNotSM2Key
	}
	cert := chain[0]
	if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(cert.PublicKey) {
		return nil, ErrKeyCertMismatch
	}
	s := &Signer{key: key, cert: cert, profile: profile, rand: rand.Reader}

	var b cryptobyte.Builder
	addIssuerAndSerial(&b, cert)
	s.sid = b.BytesOrPanic()

	for _, c := range chain {
		if c == nil {
			return nil, fmt.Errorf("cms: nil certificate in chain")
		}
		s.certs = append(s.certs, c.Raw...)
	}

	_, inner := profile.contentTypes()
	s.ctAttr = attribute(oidAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(inner) })
	certHash := sm3.Sum(cert.Raw)
	s.essAttr = attribute(oidAttrSigningCert2, func(b *cryptobyte.Builder) {
		// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				// ESSCertIDv2 ::= SEQUENCE { hashAlgorithm, certHash, issuerSerial }
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					addAlgorithm(b, oidSM3)
					b.AddASN1OctetString(certHash[:])
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						// issuer GeneralNames: one directoryName [4].
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddBytes(cert.RawIssuer)
							})
						})
						b.AddASN1BigInt(cert.SerialNumber)
					})
				})
			})
		})
	})
	s.sizeUTC = s.maxLength(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	s.sizeGeneralized = s.maxLength(time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC))
	return s, nil
}

// Certificate returns the signer certificate.
func (s *Signer) Certificate() *smx509.Certificate { return s.cert }

// Profile returns the profile the Signer writes.
func (s *Signer) Profile() Profile { return s.profile }

// Size returns the longest DER SignedData that SignDigest and Sign can
// produce for signingTime, so that a PDF placeholder can be sized before
// the content is hashed. The output is never longer, and in three cases
// out of four one or two bytes shorter: the SM2 signature's r and s are
// DER INTEGERs, 33 bytes only when their top bit is set. A PDF writer pads
// the rest of the placeholder with zeros, as PDF signers do.
// (Re-signing until the signature is full length made the size exact but
// cost four signatures per document instead of one.)
func (s *Signer) Size(signingTime time.Time) int {
	if utcTime(signingTime) {
		return s.sizeUTC
	}
	return s.sizeGeneralized
}

// maxLength builds the output for signingTime with a full-length signature.
func (s *Signer) maxLength(signingTime time.Time) int {
	var zero [sm3.Size]byte
	der, _ := s.build(zero[:], signingTime, func([]byte) ([]byte, error) {
		return make([]byte, maxSM2SignatureLen), nil
	})
	return len(der)
}

// Sign reads content to its end, and returns a detached SignedData over it.
func (s *Signer) Sign(content io.Reader, signingTime time.Time) ([]byte, error) {
	h := sm3.New()
	if _, err := io.Copy(h, content); err != nil {
		return nil, fmt.Errorf("cms: reading content: %w", err)
	}
	return s.SignDigest(h.Sum(nil), signingTime)
}

// SignDigest returns a detached SignedData for content whose SM3 digest the
// caller has already computed.
func (s *Signer) SignDigest(digest []byte, signingTime time.Time) ([]byte, error) {
	if len(digest) != sm3.Size {
		return nil, ErrBadDigest
	}
	return s.build(digest, signingTime, s.signOnce)
}

// SignTSTInfo returns a time-stamp token (RFC 3161 section 2.4.2): a
// SignedData, version 3, that encapsulates tstInfo (a DER TSTInfo) with
// eContentType id-ct-TSTInfo, signed with the signed attributes Sign writes
// (content type TSTInfo, its SM3 digest, the signing time genTime and the
// ESS signing-certificate-v2 that RFC 5816 requires). withCerts says
// whether the certificates go in, as the request's certReq asks. A token is
// always written in the PKCS#7 content types, which RFC 3161 clients know,
// whatever the Signer's profile.
func (s *Signer) SignTSTInfo(tstInfo []byte, genTime time.Time, withCerts bool) ([]byte, error) {
	if len(tstInfo) == 0 {
		return nil, fmt.Errorf("cms: empty TSTInfo")
	}
	digest := sm3.Sum(tstInfo)
	return s.buildContent(digest[:], genTime, s.signOnce, encapsulated{
		eContentType: oidTSTInfo, eContent: tstInfo, omitCerts: !withCerts, pkcs7: true,
	})
}

// SignDigestWithTimeStamp is SignDigest that, once the signature is made,
// passes its value to stamp and puts the token stamp returns in the
// SignerInfo's unsigned attributes as id-aa-signatureTimeStampToken
// (RFC 3161 appendix A). stamp may return nil, nil for no token; its error
// is returned as is. Size does not count the token: the caller adds
// TimeStampTokenSize of its bound.
func (s *Signer) SignDigestWithTimeStamp(digest []byte, signingTime time.Time, stamp func(signature []byte) ([]byte, error)) ([]byte, error) {
	if len(digest) != sm3.Size {
		return nil, ErrBadDigest
	}
	return s.buildContent(digest, signingTime, s.signOnce, encapsulated{stamp: stamp})
}

// encapsulated says what buildContent wraps: nothing (a detached signature
// in the Signer's profile) or eContent of eContentType.
type encapsulated struct {
	eContentType asn1.ObjectIdentifier
	eContent     []byte
	omitCerts    bool
	pkcs7        bool // the PKCS#7 content types whatever the profile
	// stamp, when set, gives the signature time-stamp token for the
	// signature value (nil for none).
	stamp func(signature []byte) ([]byte, error)
}

// signOnce signs msg (the DER signed attributes).
func (s *Signer) signOnce(msg []byte) ([]byte, error) {
	sig, err := s.key.Sign(s.rand, msg, sm2.DefaultSM2SignerOpts)
	if err != nil {
		return nil, fmt.Errorf("cms: signing: %w", err)
	}
	if len(sig) > maxSM2SignatureLen {
		return nil, fmt.Errorf("cms: signer returned a %d-byte signature, longer than any SM2 signature", len(sig))
	}
	return sig, nil
}

// build assembles the ContentInfo around digest, signing the signed
// attributes with sign.
func (s *Signer) build(digest []byte, signingTime time.Time, sign func([]byte) ([]byte, error)) ([]byte, error) {
	return s.buildContent(digest, signingTime, sign, encapsulated{})
}

// buildContent is build with the content that enc says, if any.
func (s *Signer) buildContent(digest []byte, signingTime time.Time, sign func([]byte) ([]byte, error), enc encapsulated) ([]byte, error) {
	outer, inner := s.profile.contentTypes()
	if enc.pkcs7 {
		outer, inner = oidSignedData, oidData
	}
	ctAttr, version := s.ctAttr, int64(1)
	if enc.eContentType != nil {
		inner = enc.eContentType
		ctAttr = attribute(oidAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(inner) })
		version = 3 // RFC 5652 5.1: eContentType other than id-data
	}
	attrs := [][]byte{
		ctAttr,
		attribute(oidAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }),
		attribute(oidAttrSigningTime, func(b *cryptobyte.Builder) { addTime(b, signingTime) }),
		s.essAttr,
	}
	// DER orders the members of a SET OF by their encodings.
	slices.SortFunc(attrs, bytes.Compare)
	var ab cryptobyte.Builder
	ab.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddBytes(a)
		}
	})
	signedAttrs := ab.BytesOrPanic()
	sig, err := sign(signedAttrs)
	if err != nil {
		return nil, err
	}
	var token []byte
	if enc.stamp != nil {
		if token, err = enc.stamp(sig); err != nil {
			return nil, err
		}
	}

	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(outer)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(version)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { addAlgorithm(b, oidSM3) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(inner)
					if enc.eContent != nil {
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(enc.eContent)
						})
					}
				})
				if !enc.omitCerts {
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(s.certs) })
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1)
						b.AddBytes(s.sid)
						addAlgorithm(b, oidSM3)
						// [0] IMPLICIT SET OF Attribute: the same content, retagged.
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							for _, a := range attrs {
								b.AddBytes(a)
							}
						})
						addAlgorithm(b, s.profile.signatureOID())
						b.AddASN1OctetString(sig)
						if token != nil {
							b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddBytes(attribute(oidAttrTimeStampToken, func(b *cryptobyte.Builder) { b.AddBytes(token) }))
							})
						}
					})
				})
			})
		})
	})
	return b.Bytes()
}

func attribute(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, value)
	})
	return b.BytesOrPanic()
}

// addAlgorithm writes an AlgorithmIdentifier with absent parameters, as the
// SM2 and SM3 identifiers are written by GM/T 0010 and BouncyCastle.
func addAlgorithm(b *cryptobyte.Builder, oid asn1.ObjectIdentifier) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
}

func addIssuerAndSerial(b *cryptobyte.Builder, cert *smx509.Certificate) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(cert.RawIssuer)
		b.AddASN1BigInt(cert.SerialNumber)
	})
}

// addTime writes t as RFC 5652 requires: UTCTime for 1950 through 2049,
// GeneralizedTime otherwise, in UTC and whole seconds.
func addTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC().Truncate(time.Second)
	if utcTime(t) {
		b.AddASN1UTCTime(t)
		return
	}
	b.AddASN1GeneralizedTime(t)
}

// utcTime reports whether RFC 5652 §11.3 writes t as UTCTime.
func utcTime(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1950 && y < 2050
}
