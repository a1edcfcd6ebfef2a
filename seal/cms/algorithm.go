package cms

import (
	"crypto"
	_ "crypto/sha1" // registered for ESS v1 and old RSA signatures
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/asn1"
	"fmt"
	"hash"

	"github.com/emmansun/gmsm/sm3"
)

// Algorithms is a set of signature algorithm families a verifier accepts.
// The zero value accepts SM2 only.
type Algorithms uint8

const (
	SM2 Algorithms = 1 << iota
	RSA
	ECDSA
)

func (a Algorithms) accepts(f Algorithms) bool {
	if a == 0 {
		a = SM2
	}
	return a&f != 0
}

// Algorithm names an algorithm by its identifier and a readable name.
type Algorithm struct {
	OID  asn1.ObjectIdentifier
	Name string
}

func (a Algorithm) String() string { return a.Name + " (" + a.OID.String() + ")" }

// digestAlgorithm describes one supported digest.
type digestAlgorithm struct {
	oid  asn1.ObjectIdentifier
	name string
	size int
	hash crypto.Hash // zero for SM3, which the standard library does not know
}

func (d digestAlgorithm) new() hash.Hash {
	if d.hash == 0 {
		return sm3.New()
	}
	return d.hash.New()
}

var digestAlgorithms = []digestAlgorithm{
	{oidSM3, "SM3", sm3.Size, 0},
	{oidSHA1, "SHA-1", 20, crypto.SHA1},
	{oidSHA256, "SHA-256", 32, crypto.SHA256},
	{oidSHA384, "SHA-384", 48, crypto.SHA384},
	{oidSHA512, "SHA-512", 64, crypto.SHA512},
}

func lookupDigest(oid asn1.ObjectIdentifier) (digestAlgorithm, error) {
	for _, d := range digestAlgorithms {
		if d.oid.Equal(oid) {
			return d, nil
		}
	}
	return digestAlgorithm{}, errUnsupported(oid, "digest algorithm")
}

// signatureAlgorithm describes one supported signature algorithm. digest,
// when set, is the digest the algorithm identifier implies, which must agree
// with the SignerInfo's digestAlgorithm.
type signatureAlgorithm struct {
	oid    asn1.ObjectIdentifier
	name   string
	family Algorithms
	digest asn1.ObjectIdentifier
}

var signatureAlgorithms = []signatureAlgorithm{
	{oidSM3WithSM2, "SM3withSM2", SM2, oidSM3},
	{oidSM2Sign, "SM2 (sm2-1, GM/T 0010)", SM2, oidSM3},
	{oidSM2Curve, "SM2", SM2, oidSM3},
	{oidRSAEncryption, "RSA PKCS#1 v1.5", RSA, nil},
	{oidSHA1WithRSA, "SHA1withRSA", RSA, oidSHA1},
	{oidSHA256WithRSA, "SHA256withRSA", RSA, oidSHA256},
	{oidSHA384WithRSA, "SHA384withRSA", RSA, oidSHA384},
	{oidSHA512WithRSA, "SHA512withRSA", RSA, oidSHA512},
	{oidECPublicKey, "ECDSA", ECDSA, nil},
	{oidECDSAWithSHA1, "SHA1withECDSA", ECDSA, oidSHA1},
	{oidECDSAWithSHA256, "SHA256withECDSA", ECDSA, oidSHA256},
	{oidECDSAWithSHA384, "SHA384withECDSA", ECDSA, oidSHA384},
	{oidECDSAWithSHA512, "SHA512withECDSA", ECDSA, oidSHA512},
}

func lookupSignature(oid asn1.ObjectIdentifier) (signatureAlgorithm, error) {
	for _, s := range signatureAlgorithms {
		if s.oid.Equal(oid) {
			return s, nil
		}
	}
	return signatureAlgorithm{}, errUnsupported(oid, "signature algorithm")
}

func errUnsupported(oid asn1.ObjectIdentifier, what string) error {
	return fmt.Errorf("%w: %s %s", ErrUnsupportedAlgorithm, what, oid)
}
