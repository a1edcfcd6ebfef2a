package keystore

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// Seal certificates follow one profile:
//   - subject C=CN, O=<township government>, CN=<seal legal name>, and the
//     township's division code as the serialNumber attribute (2.5.4.5), which
//     X.520 defines for an identifier of the subject;
//   - key usage digitalSignature and nonRepudiation, marked critical;
//   - not a CA (basic constraints, critical);
//   - a random positive serial of 127 bits (16 bytes in DER);
//   - validity Config.SealValidity from issuance, cut to the CA's notAfter;
//   - signed SM3withSM2 (1.2.156.10197.1.501).

// sealKeyUsage is what a seal certificate allows.
const sealKeyUsage = smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment

func sealSubject(townshipCode, organization, name string) pkix.Name {
	return pkix.Name{
		Country:      []string{"CN"},
		Organization: []string{organization},
		CommonName:   name,
		SerialNumber: townshipCode,
	}
}

// randomSerial returns a serial of 127 bits with the top bit set, so every
// serial is positive and exactly 16 bytes long in DER.
func randomSerial() *big.Int {
	b := make([]byte, 16)
	rand.Read(b)
	b[0] = b[0]&0x7f | 0x40
	return new(big.Int).SetBytes(b)
}

// subjectKeyID is the leftmost 160 bits of the SM3 hash of the public key
// point (RFC 7093 method 1, with SM3).
func subjectKeyID(pub *ecdsa.PublicKey) []byte {
	k, err := sm2.PublicKeyToECDH(pub)
	if err != nil {
		// Every key here is an SM2 key that was parsed or generated: a
		// key that is not cannot be identified, and must not be.
		panic("keystore: subject key id of a key that is not SM2: " + err.Error())
	}
	h := sm3.Sum(k.Bytes()) // the uncompressed point, 04 || X || Y
	return h[:20]
}

// validityUnder returns now, to the second, and the end of a certificate
// the CA would issue now: SealValidity on, cut to the CA's own end. It
// fails when the CA certificate is not valid now.
func (ks *Keystore) validityUnder(ca *caEntry) (now, notAfter time.Time, err error) {
	now = ks.now().UTC().Truncate(time.Second)
	notAfter = now.Add(ks.cfg.SealValidity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	if !notAfter.After(now) || now.Before(ca.cert.NotBefore) {
		return now, notAfter, fmt.Errorf("%w: the CA certificate is valid from %s to %s", ErrCertificateExpired,
			ca.cert.NotBefore.Format(time.RFC3339), ca.cert.NotAfter.Format(time.RFC3339))
	}
	return now, notAfter, nil
}

// sealCertificate signs a certificate for a seal key with the CA.
func (ks *Keystore) sealCertificate(ca *caEntry, req SealRequest, pub *ecdsa.PublicKey) (*smx509.Certificate, error) {
	if ca.signer == nil {
		return nil, ErrNoCAKey
	}
	now, notAfter, err := ks.validityUnder(ca)
	if err != nil {
		return nil, err
	}
	tmpl := &smx509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               sealSubject(req.TownshipCode, req.Organization, req.Name),
		NotBefore:             now,
		NotAfter:              notAfter,
		KeyUsage:              sealKeyUsage,
		BasicConstraintsValid: true,
		SubjectKeyId:          subjectKeyID(pub),
		CRLDistributionPoints: ks.cfg.CRLDistributionPoints,
		SignatureAlgorithm:    smx509.SM2WithSM3,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.signer)
	if err != nil {
		return nil, fmt.Errorf("keystore: sign certificate for %s: %w", req.Name, err)
	}
	return smx509.ParseCertificate(der)
}

// certificateRequest makes a CSR for a seal key, asking for the seal
// certificate profile's subject and key usage.
func certificateRequest(s Seal, signer crypto.Signer) ([]byte, error) {
	tmpl := &smx509.CertificateRequest{
		Subject:            sealSubject(s.TownshipCode, s.Organization, s.Name),
		SignatureAlgorithm: smx509.SM2WithSM3,
		ExtraExtensions:    []pkix.Extension{keyUsageExtension()},
	}
	der, err := smx509.CreateCertificateRequest(rand.Reader, tmpl, signer)
	if err != nil {
		return nil, fmt.Errorf("keystore: CSR for seal %s: %w", s.ID, err)
	}
	return der, nil
}

// keyUsageExtension is the critical keyUsage extension with
// digitalSignature and nonRepudiation, for CSRs.
func keyUsageExtension() pkix.Extension {
	v, _ := asn1.Marshal(asn1.BitString{Bytes: []byte{0xc0}, BitLength: 2})
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 15}, Critical: true, Value: v}
}

// parseCertificates reads DER or PEM certificates. PEM blocks other than
// CERTIFICATE are refused.
func parseCertificates(data []byte) ([]*smx509.Certificate, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: no certificate given", ErrInvalidCertificate)
	}
	// DER is parsed as given: its last byte may well be a space or newline.
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN")) {
		certs, err := smx509.ParseCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidCertificate, err)
		}
		return certs, nil
	}
	data = bytes.TrimSpace(data)
	var certs []*smx509.Certificate
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			if len(bytes.TrimSpace(data)) > 0 {
				return nil, fmt.Errorf("%w: trailing data after PEM block %d", ErrInvalidCertificate, len(certs))
			}
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%w: PEM block %d is %q, want CERTIFICATE", ErrInvalidCertificate, len(certs), b.Type)
		}
		c, err := smx509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PEM block %d: %v", ErrInvalidCertificate, len(certs), err)
		}
		certs = append(certs, c)
		data = bytes.TrimSpace(data)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no certificate found", ErrInvalidCertificate)
	}
	return certs, nil
}

// chainFor returns the certificates of bundle above cert, from its issuer to
// the root, found by name and signature. It stops at a self-signed
// certificate or when no issuer is found.
func chainFor(cert *smx509.Certificate, bundle []*smx509.Certificate) []*smx509.Certificate {
	var chain []*smx509.Certificate
	cur := cert
	for len(chain) <= len(bundle) {
		var next *smx509.Certificate
		for _, p := range bundle {
			if bytes.Equal(p.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(p) == nil {
				next = p
				break
			}
		}
		if next == nil || next == cur {
			break
		}
		chain = append(chain, next)
		if isSelfSigned(next) {
			break
		}
		cur = next
	}
	return chain
}

func isSelfSigned(c *smx509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil
}

// isSM2Key reports whether pub is an SM2 public key.
func isSM2Key(pub any) bool {
	k, ok := pub.(*ecdsa.PublicKey)
	return ok && k.Curve == sm2.P256()
}

// verifySealCertificate checks that a certificate issued for a seal chains to
// the CA's bundle, at now, and has the seal profile's key usage.
func verifySealCertificate(cert *smx509.Certificate, bundle []*smx509.Certificate, now time.Time) error {
	roots, inter := smx509.NewCertPool(), smx509.NewCertPool()
	for _, c := range bundle {
		if isSelfSigned(c) {
			roots.AddCert(c)
		} else {
			inter.AddCert(c)
		}
	}
	_, err := cert.Verify(smx509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny},
	})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUntrustedCertificate, err)
	}
	return nil
}
