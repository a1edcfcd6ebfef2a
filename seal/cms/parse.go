package cms

import (
	"bytes"
	"encoding/asn1"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// maxCertificates bounds how many certificates one SignedData may embed, so
// a hostile input cannot make the parser do unbounded work.
const maxCertificates = 64

// signedData is the parsed form of a detached SignedData with one signer.
type signedData struct {
	contentType  asn1.ObjectIdentifier // of the outer ContentInfo
	eContentType asn1.ObjectIdentifier
	// eContent is the encapsulated content, nil when detached.
	eContent []byte
	certs    []*smx509.Certificate
	signer   signerInfo
}

type signerInfo struct {
	issuer []byte   // raw issuer Name, when identified by issuer and serial
	serial *big.Int // with issuer
	skid   []byte   // subject key identifier, when identified by it

	digestAlg asn1.ObjectIdentifier
	sigAlg    asn1.ObjectIdentifier
	signature []byte

	// signedAttrs is the DER SET OF Attribute that the signature covers
	// (the [0] IMPLICIT tag replaced by SET), nil when absent.
	signedAttrs   []byte
	contentType   asn1.ObjectIdentifier
	messageDigest []byte
	signingTime   time.Time
	essCerts      []essCertID

	// timeStampToken is the first value of the first
	// id-aa-signatureTimeStampToken unsigned attribute, nil when absent.
	timeStampToken []byte
}

// essCertID is one certificate reference from an ESS signing-certificate
// attribute (v1 uses SHA-1, v2 names its hash, SHA-256 by default).
type essCertID struct {
	hashAlg asn1.ObjectIdentifier
	hash    []byte
}

// parse reads a DER ContentInfo holding a detached SignedData with exactly
// one signer. It checks structure only; verify checks meaning.
func parse(der []byte) (*signedData, error) { return parseSignedData(der, false) }

// parseSignedData is parse that, with encapsulated, accepts an
// encapsulated content (a time-stamp token's TSTInfo) and requires one.
func parseSignedData(der []byte, encapsulated bool) (*signedData, error) {
	in := cryptobyte.String(der)
	var ci cryptobyte.String
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) {
		return nil, malformed("ContentInfo is not a DER SEQUENCE", nil)
	}
	if !in.Empty() {
		return nil, ErrTrailingData
	}
	sd := new(signedData)
	var content cryptobyte.String
	if !ci.ReadASN1ObjectIdentifier(&sd.contentType) ||
		!ci.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() {
		return nil, malformed("ContentInfo", nil)
	}
	if !sd.contentType.Equal(oidSignedData) && !sd.contentType.Equal(oidGMSignedData) {
		return nil, ErrNotSignedData
	}
	var body cryptobyte.String
	if !content.ReadASN1(&body, cbasn1.SEQUENCE) || !content.Empty() {
		return nil, malformed("SignedData is not a SEQUENCE", nil)
	}

	var version int64
	var digestAlgs, encap cryptobyte.String
	if !body.ReadASN1Integer(&version) || version < 1 || version > 5 {
		return nil, malformed("SignedData version", nil)
	}
	if !body.ReadASN1(&digestAlgs, cbasn1.SET) {
		return nil, malformed("digestAlgorithms", nil)
	}
	for !digestAlgs.Empty() {
		if _, err := readAlgorithm(&digestAlgs); err != nil {
			return nil, malformed("digestAlgorithms", err)
		}
	}
	if !body.ReadASN1(&encap, cbasn1.SEQUENCE) || !encap.ReadASN1ObjectIdentifier(&sd.eContentType) {
		return nil, malformed("encapContentInfo", nil)
	}
	switch {
	case encapsulated:
		var explicit, octets cryptobyte.String
		if !encap.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
			!explicit.ReadASN1(&octets, cbasn1.OCTET_STRING) || !explicit.Empty() || !encap.Empty() || len(octets) == 0 {
			return nil, malformed("encapContentInfo: no encapsulated content", nil)
		}
		sd.eContent = octets
	case !encap.Empty():
		return nil, ErrNotDetached
	}

	var certs cryptobyte.String
	var hasCerts bool
	if !body.ReadOptionalASN1(&certs, &hasCerts, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, malformed("certificates", nil)
	}
	for !certs.Empty() {
		var raw cryptobyte.String
		if !certs.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
			return nil, malformed("certificates: only X.509 certificates are supported", nil)
		}
		if len(sd.certs) == maxCertificates {
			return nil, malformed("certificates: too many", nil)
		}
		c, err := smx509.ParseCertificate(raw)
		if err != nil {
			return nil, malformed("certificate", err)
		}
		sd.certs = append(sd.certs, c)
	}
	// crls [1] IMPLICIT RevocationInfoChoices OPTIONAL: carried, not used.
	if !body.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, malformed("crls", nil)
	}

	var signers cryptobyte.String
	if !body.ReadASN1(&signers, cbasn1.SET) || !body.Empty() {
		return nil, malformed("signerInfos", nil)
	}
	var si cryptobyte.String
	if !signers.ReadASN1(&si, cbasn1.SEQUENCE) {
		if signers.Empty() {
			return nil, ErrNoSigner
		}
		return nil, malformed("SignerInfo", nil)
	}
	if !signers.Empty() {
		return nil, ErrMultipleSigners
	}
	if err := parseSignerInfo(si, &sd.signer); err != nil {
		return nil, err
	}
	return sd, nil
}

func parseSignerInfo(si cryptobyte.String, s *signerInfo) error {
	var version int64
	if !si.ReadASN1Integer(&version) || (version != 1 && version != 3) {
		return malformed("SignerInfo version", nil)
	}
	switch {
	case si.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias cryptobyte.String
		var issuer cryptobyte.String
		s.serial = new(big.Int)
		if !si.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(s.serial) || !ias.Empty() {
			return malformed("SignerInfo issuerAndSerialNumber", nil)
		}
		s.issuer = issuer
	case si.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var skid cryptobyte.String
		if !si.ReadASN1(&skid, cbasn1.Tag(0).ContextSpecific()) || len(skid) == 0 {
			return malformed("SignerInfo subjectKeyIdentifier", nil)
		}
		s.skid = skid
	default:
		return malformed("SignerInfo sid", nil)
	}
	var err error
	if s.digestAlg, err = readAlgorithm(&si); err != nil {
		return malformed("SignerInfo digestAlgorithm", err)
	}
	var attrs cryptobyte.String
	var hasAttrs bool
	tag0 := cbasn1.Tag(0).Constructed().ContextSpecific()
	var attrsElem cryptobyte.String
	if si.PeekASN1Tag(tag0) {
		if !si.ReadASN1Element(&attrsElem, tag0) {
			return malformed("signedAttrs", nil)
		}
		hasAttrs = true
		// The signature covers the DER SET OF: same content, SET tag.
		s.signedAttrs = bytes.Clone(attrsElem)
		s.signedAttrs[0] = byte(cbasn1.SET)
		var tag cbasn1.Tag
		if !attrsElem.ReadAnyASN1(&attrs, &tag) {
			return malformed("signedAttrs", nil)
		}
	}
	if s.sigAlg, err = readAlgorithm(&si); err != nil {
		return malformed("SignerInfo signatureAlgorithm", err)
	}
	var sig cryptobyte.String
	if !si.ReadASN1(&sig, cbasn1.OCTET_STRING) || len(sig) == 0 {
		return malformed("SignerInfo signature", nil)
	}
	s.signature = sig
	// unsignedAttrs [1] IMPLICIT: a signature time-stamp token is kept,
	// the rest carried and not used.
	var unsigned cryptobyte.String
	var hasUnsigned bool
	if !si.ReadOptionalASN1(&unsigned, &hasUnsigned, cbasn1.Tag(1).Constructed().ContextSpecific()) || !si.Empty() {
		return malformed("SignerInfo unsignedAttrs", nil)
	}
	if hasUnsigned {
		if err := parseUnsignedAttrs(unsigned, s); err != nil {
			return err
		}
	}
	if hasAttrs {
		return parseSignedAttrs(attrs, s)
	}
	return nil
}

func parseSignedAttrs(attrs cryptobyte.String, s *signerInfo) error {
	if attrs.Empty() {
		return malformed("signedAttrs is empty", nil)
	}
	seen := map[string]bool{}
	var prev []byte
	for !attrs.Empty() {
		var attr, attrElem cryptobyte.String
		if !attrs.ReadASN1Element(&attrElem, cbasn1.SEQUENCE) {
			return malformed("signed attribute", nil)
		}
		// DER requires SET OF members in ascending order of encoding; a
		// verifier that re-sorted them would check different bytes.
		if prev != nil && bytes.Compare(prev, attrElem) > 0 {
			return malformed("signed attributes are not in DER order", nil)
		}
		prev = attrElem
		var oid asn1.ObjectIdentifier
		var values cryptobyte.String
		attr = attrElem
		if !attr.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return malformed("signed attribute", nil)
		}
		key := oid.String()
		if seen[key] {
			return ErrDuplicateAttribute
		}
		seen[key] = true
		switch {
		case oid.Equal(oidAttrContentType):
			if !values.ReadASN1ObjectIdentifier(&s.contentType) || !values.Empty() {
				return ErrMissingContentType
			}
		case oid.Equal(oidAttrMessageDigest):
			var d cryptobyte.String
			if !values.ReadASN1(&d, cbasn1.OCTET_STRING) || !values.Empty() {
				return ErrMissingMessageDigest
			}
			s.messageDigest = d
		case oid.Equal(oidAttrSigningTime):
			t, err := readTime(&values)
			if err != nil || !values.Empty() {
				return malformed("signing-time attribute", err)
			}
			s.signingTime = t
		case oid.Equal(oidAttrSigningCert2), oid.Equal(oidAttrSigningCert):
			ids, err := parseESS(values, oid.Equal(oidAttrSigningCert2))
			if err != nil {
				return err
			}
			s.essCerts = ids
		}
	}
	if s.messageDigest == nil {
		return ErrMissingMessageDigest
	}
	if s.contentType == nil {
		return ErrMissingContentType
	}
	return nil
}

// parseESS reads SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF
// ESSCertID(v2), policies OPTIONAL }.
func parseESS(values cryptobyte.String, v2 bool) ([]essCertID, error) {
	var sc, certs cryptobyte.String
	if !values.ReadASN1(&sc, cbasn1.SEQUENCE) || !values.Empty() || !sc.ReadASN1(&certs, cbasn1.SEQUENCE) {
		return nil, malformed("ESS signing-certificate attribute", nil)
	}
	var ids []essCertID
	for !certs.Empty() {
		var id cryptobyte.String
		if !certs.ReadASN1(&id, cbasn1.SEQUENCE) {
			return nil, malformed("ESSCertID", nil)
		}
		e := essCertID{hashAlg: oidSHA1}
		if v2 {
			e.hashAlg = oidSHA256 // the DEFAULT of ESSCertIDv2
			if id.PeekASN1Tag(cbasn1.SEQUENCE) {
				alg, err := readAlgorithm(&id)
				if err != nil {
					return nil, malformed("ESSCertIDv2 hashAlgorithm", err)
				}
				e.hashAlg = alg
			}
		}
		var h cryptobyte.String
		if !id.ReadASN1(&h, cbasn1.OCTET_STRING) {
			return nil, malformed("ESSCertID certHash", nil)
		}
		e.hash = h
		// issuerSerial is optional and only narrows the match; the hash
		// alone binds the certificate.
		ids = append(ids, e)
	}
	if len(ids) == 0 {
		return nil, malformed("ESS signing-certificate attribute names no certificate", nil)
	}
	return ids, nil
}

// readAlgorithm reads an AlgorithmIdentifier whose parameters are absent or
// NULL; any other parameters belong to algorithms this package does not
// implement (RSA-PSS, say) and fail.
func readAlgorithm(s *cryptobyte.String) (asn1.ObjectIdentifier, error) {
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, malformed("AlgorithmIdentifier", nil)
	}
	if !alg.Empty() {
		var null cryptobyte.String
		if !alg.ReadASN1(&null, cbasn1.NULL) || len(null) != 0 || !alg.Empty() {
			return nil, errUnsupported(oid, "parameters")
		}
	}
	return oid, nil
}

func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, malformed("UTCTime", nil)
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, malformed("GeneralizedTime", nil)
		}
	default:
		return t, malformed("time is neither UTCTime nor GeneralizedTime", nil)
	}
	return t, nil
}

// parseUnsignedAttrs reads the unsigned attributes, keeping the first
// signature time-stamp token.
func parseUnsignedAttrs(attrs cryptobyte.String, s *signerInfo) error {
	for !attrs.Empty() {
		var attr, values cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !attrs.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return malformed("unsigned attribute", nil)
		}
		if !oid.Equal(oidAttrTimeStampToken) || s.timeStampToken != nil {
			continue
		}
		var token cryptobyte.String
		if !values.ReadASN1Element(&token, cbasn1.SEQUENCE) {
			return malformed("signature time-stamp token attribute", nil)
		}
		s.timeStampToken = token
	}
	return nil
}
