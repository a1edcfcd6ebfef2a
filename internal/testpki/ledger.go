package testpki

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// LedgerPolicy is a certificatePolicies extension holding the one policy
// oid (dotted): what marks a ledger-signing certificate (seal.LedgerKeyPolicyOID).
// The arc is too long for asn1.ObjectIdentifier, so smx509 encodes it.
func LedgerPolicy(oid string) (pkix.Extension, error) {
	pol, err := smx509.ParseOID(oid)
	if err != nil {
		return pkix.Extension{}, err
	}
	der, err := pol.MarshalBinary()
	if err != nil {
		return pkix.Extension{}, err
	}
	if len(der) > 120 {
		return pkix.Extension{}, fmt.Errorf("testpki: policy %s is too long", oid)
	}
	info := append([]byte{0x30, byte(len(der) + 2), 0x06, byte(len(der))}, der...)
	val, err := asn1.Marshal([]asn1.RawValue{{FullBytes: info}})
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 32}, Value: val}, err
}

// IssueLedgerLeaf issues a ledger-signing certificate (policy oid) under
// the chain's issuing CA, valid for two days either side of now.
func (c *Chain) IssueLedgerLeaf(oid string) (crypto.Signer, *smx509.Certificate, error) {
	ext, err := LedgerPolicy(oid)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	return c.IssueLeaf("县政务服务账本签名 (测试)", []pkix.Extension{ext}, now.Add(-48*time.Hour), now.Add(48*time.Hour))
}
