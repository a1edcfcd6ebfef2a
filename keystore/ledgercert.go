package keystore

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cryptobyte_asn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Ledger-signing certificates follow one profile:
//   - subject C=CN, O=<the county office>, CN=<the county office>用印账本签名
//     (CN is 用印账本签名 alone when the two would exceed 64 characters).
//     The local CA names the office in its own organisation (its common
//     name stands in when it has none); for an external CA the operator
//     names it in RequestLedgerCertificate;
//   - key usage digitalSignature only, marked critical; not a CA;
//   - the certificate policy LedgerKeyPolicy, which marks the key as one
//     that signs ledger checkpoints and nothing else, so that a verifier can
//     tell it from a seal key that chains to the same root;
//   - a random positive serial of 127 bits;
//   - validity Config.SealValidity, starting ledgerClockSkew before
//     issuance and cut to the CA's own validity;
//   - signed SM3withSM2 (1.2.156.10197.1.501).

// LedgerKeyPolicyOID is the certificate policy that marks a ledger-signing
// certificate: 2.25 followed by the UUID eca8112a-6de1-4af9-bbfc-03f61606b04e
// as one integer (ITU-T X.667), an arc that needs no registration. It is a
// policy rather than an extended key usage because Go's certificate parsers
// accept arcs above 2^63 only in policies. Parsers that limit arcs to 31 or
// 63 bits (Go before 1.22, tjfoc/gmsm) cannot read these certificates;
// checkpoints are verified with smx509, which can.
const LedgerKeyPolicyOID = "2.25.314570461040026313166235592539012247630"

// LedgerKeyPolicy is LedgerKeyPolicyOID parsed.
var LedgerKeyPolicy = mustParseOID(LedgerKeyPolicyOID)

func mustParseOID(s string) smx509.OID {
	oid, err := smx509.ParseOID(s)
	if err != nil {
		panic("keystore: bad built-in OID " + s + ": " + err.Error())
	}
	return oid
}

// ledgerSubjectSuffix ends the common name of a ledger-signing certificate:
// "seal-use ledger signing".
const ledgerSubjectSuffix = "用印账本签名"

// ledgerClockSkew is how long before its issuance a ledger certificate
// becomes valid, so that a replica whose clock lags the issuing one by up to
// this much still signs checkpoints within the certificate's validity.
const ledgerClockSkew = 5 * time.Minute

// ledgerKeyUsage is what a ledger certificate allows.
const ledgerKeyUsage = smx509.KeyUsageDigitalSignature

// caOrganization is the organisation a CA certificate names, or its common
// name when it names none.
func caOrganization(ca *smx509.Certificate) string {
	if len(ca.Subject.Organization) > 0 && ca.Subject.Organization[0] != "" {
		return ca.Subject.Organization[0]
	}
	return ca.Subject.CommonName
}

// ledgerSubject names the ledger key of organisation org.
func ledgerSubject(org string) pkix.Name {
	cn := org + ledgerSubjectSuffix
	if utf8.RuneCountInString(cn) > maxNameRunes {
		cn = ledgerSubjectSuffix
	}
	return pkix.Name{Country: []string{"CN"}, Organization: []string{org}, CommonName: cn}
}

// IsLedgerCertificate reports whether cert is marked as a ledger-signing
// certificate: it carries LedgerKeyPolicy, allows digitalSignature and is
// not a CA. It does not check the chain.
func IsLedgerCertificate(cert *smx509.Certificate) bool {
	if cert.IsCA || cert.KeyUsage&smx509.KeyUsageDigitalSignature == 0 {
		return false
	}
	for _, p := range cert.Policies {
		if p.Equal(LedgerKeyPolicy) {
			return true
		}
	}
	return false
}

// ledgerCertificate signs a ledger certificate for pub with the CA.
func (ks *Keystore) ledgerCertificate(ca *caEntry, pub *ecdsa.PublicKey) (*smx509.Certificate, error) {
	if ca.signer == nil {
		return nil, ErrNoCAKey
	}
	now, notAfter, err := ks.validityUnder(ca)
	if err != nil {
		return nil, err
	}
	notBefore := now.Add(-ledgerClockSkew)
	if notBefore.Before(ca.cert.NotBefore) {
		notBefore = ca.cert.NotBefore
	}
	tmpl := &smx509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               ledgerSubject(caOrganization(ca.cert)),
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              ledgerKeyUsage,
		BasicConstraintsValid: true,
		Policies:              []smx509.OID{LedgerKeyPolicy},
		SubjectKeyId:          subjectKeyID(pub),
		CRLDistributionPoints: ks.cfg.CRLDistributionPoints,
		SignatureAlgorithm:    smx509.SM2WithSM3,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.signer)
	if err != nil {
		return nil, fmt.Errorf("keystore: sign the ledger certificate: %w", err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("keystore: the ledger certificate just signed does not parse: %w", err)
	}
	if !IsLedgerCertificate(cert) {
		return nil, fmt.Errorf("%w: the ledger certificate just signed lacks policy %s", ErrInvalidCertificate, LedgerKeyPolicyOID)
	}
	return cert, nil
}

// ledgerCertificateRequest makes a CSR for the ledger key of organisation
// org that asks for the ledger profile's subject, key usage and policy.
func ledgerCertificateRequest(org string, signer crypto.Signer) ([]byte, error) {
	policies, err := policiesExtension(LedgerKeyPolicy)
	if err != nil {
		return nil, err
	}
	ku, _ := asn1.Marshal(asn1.BitString{Bytes: []byte{0x80}, BitLength: 1}) // digitalSignature
	tmpl := &smx509.CertificateRequest{
		Subject:            ledgerSubject(org),
		SignatureAlgorithm: smx509.SM2WithSM3,
		ExtraExtensions: []pkix.Extension{
			{Id: asn1.ObjectIdentifier{2, 5, 29, 15}, Critical: true, Value: ku},
			policies,
		},
	}
	der, err := smx509.CreateCertificateRequest(rand.Reader, tmpl, signer)
	if err != nil {
		return nil, fmt.Errorf("keystore: CSR for the ledger key: %w", err)
	}
	return der, nil
}

// policiesExtension encodes a certificatePolicies extension (RFC 5280
// 4.2.1.4) with one policy and no qualifiers. encoding/asn1 cannot encode
// the policy's arcs, which exceed an int.
func policiesExtension(policy smx509.OID) (pkix.Extension, error) {
	body, err := policy.MarshalBinary()
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("keystore: encode policy %s: %w", policy, err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cryptobyte_asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cryptobyte_asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cryptobyte_asn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(body) })
		})
	})
	v, err := b.Bytes()
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("keystore: encode policy %s: %w", policy, err)
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 32}, Value: v}, nil
}
