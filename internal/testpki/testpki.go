// Package testpki makes throwaway certificate chains for tests: SM2 chains
// like the county seal CA's, and RSA and ECDSA chains like those of other
// signers whose documents we must still verify. Nothing here is for
// production; keys come from crypto/rand and live only in memory.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// KeyType selects the key algorithm of a chain.
type KeyType int

const (
	SM2 KeyType = iota
	ECDSA
	RSA
)

// Chain is a certificate chain with its keys. Certs[0] is the leaf and the
// last is the self-signed root; Keys[i] belongs to Certs[i].
type Chain struct {
	Certs []*smx509.Certificate
	Keys  []crypto.Signer
}

// Leaf returns the leaf certificate.
func (c *Chain) Leaf() *smx509.Certificate { return c.Certs[0] }

// LeafKey returns the leaf's private key.
func (c *Chain) LeafKey() crypto.Signer { return c.Keys[0] }

// Root returns the root certificate.
func (c *Chain) Root() *smx509.Certificate { return c.Certs[len(c.Certs)-1] }

// Options shape a chain. The zero value makes a valid SM2 chain of length
// 2 (root and seal), valid from an hour ago for a year.
type Options struct {
	KeyType KeyType
	// Length is the number of certificates, root included; at least 1.
	Length int
	// LeafName is the leaf's common name.
	LeafName  string
	NotBefore time.Time
	NotAfter  time.Time
	// LeafKeyUsage overrides the leaf's key usage (digitalSignature and
	// contentCommitment by default).
	LeafKeyUsage smx509.KeyUsage
	// LeafExtensions are added to the leaf (a critical extended key
	// usage, say: see TimeStampingEKU).
	LeafExtensions []pkix.Extension
}

// TimeStampingEKU is an extended key usage extension with id-kp-timeStamping
// alone, as RFC 3161 asks of a TSA certificate (critical).
func TimeStampingEKU(critical bool) pkix.Extension {
	v, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: critical, Value: v}
}

// IssueLeaf issues another leaf under the chain's issuing CA (Certs[1]),
// a TSA's beside the seal's, say, with its own key. The chain must have at
// least two certificates.
func (c *Chain) IssueLeaf(name string, ext []pkix.Extension, notBefore, notAfter time.Time) (crypto.Signer, *smx509.Certificate, error) {
	key, err := newKey(SM2)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &smx509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)), NotBefore: notBefore, NotAfter: notAfter,
		Subject:               pkix.Name{Country: []string{"CN"}, Organization: []string{"测试县政务服务监督管理办公室"}, CommonName: name},
		BasicConstraintsValid: true, KeyUsage: smx509.KeyUsageDigitalSignature, ExtraExtensions: ext,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, c.Certs[1], key.Public(), c.Keys[1])
	if err != nil {
		return nil, nil, fmt.Errorf("testpki: leaf %s: %w", name, err)
	}
	cert, err := smx509.ParseCertificate(der)
	return key, cert, err
}

// NewChain makes a chain. It fails only if key generation or certificate
// creation fails, which does not happen with crypto/rand.
func NewChain(opts Options) (*Chain, error) {
	if opts.Length == 0 {
		opts.Length = 2
	}
	if opts.LeafName == "" {
		opts.LeafName = "融安县长安镇人民政府行政审批专用章 (测试)"
	}
	now := time.Now()
	if opts.NotBefore.IsZero() {
		opts.NotBefore = now.Add(-time.Hour)
	}
	if opts.NotAfter.IsZero() {
		opts.NotAfter = now.Add(365 * 24 * time.Hour)
	}
	if opts.LeafKeyUsage == 0 {
		opts.LeafKeyUsage = smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment
	}
	keys := make([]crypto.Signer, opts.Length)
	for i := range keys {
		k, err := newKey(opts.KeyType)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	certs := make([]*smx509.Certificate, opts.Length)
	// Build from the root (last) down to the leaf (first).
	for i := opts.Length - 1; i >= 0; i-- {
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
		if err != nil {
			return nil, err
		}
		tmpl := &smx509.Certificate{
			SerialNumber: serial.Add(serial, big.NewInt(1)),
			NotBefore:    opts.NotBefore,
			NotAfter:     opts.NotAfter,
		}
		switch {
		case i == opts.Length-1 && i > 0:
			tmpl.Subject = pkix.Name{Country: []string{"CN"}, Organization: []string{"测试县政务服务监督管理办公室"}, CommonName: "测试县电子印章根CA (TEST)"}
		case i > 0:
			tmpl.Subject = pkix.Name{Country: []string{"CN"}, Organization: []string{"测试县政务服务监督管理办公室"}, CommonName: fmt.Sprintf("测试县电子印章中级CA %d (TEST)", i)}
		default:
			tmpl.Subject = pkix.Name{Country: []string{"CN"}, Organization: []string{"融安县长安镇人民政府"}, CommonName: opts.LeafName}
		}
		if i > 0 {
			tmpl.IsCA = true
			tmpl.BasicConstraintsValid = true
			tmpl.KeyUsage = smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign
		} else {
			tmpl.BasicConstraintsValid = true
			tmpl.KeyUsage = opts.LeafKeyUsage
			tmpl.ExtraExtensions = opts.LeafExtensions
		}
		parent, parentKey := tmpl, keys[i]
		if i < opts.Length-1 {
			parent, parentKey = certs[i+1], keys[i+1]
		}
		der, err := smx509.CreateCertificate(rand.Reader, tmpl, parent, keys[i].Public(), parentKey)
		if err != nil {
			return nil, fmt.Errorf("testpki: certificate %d: %w", i, err)
		}
		if certs[i], err = smx509.ParseCertificate(der); err != nil {
			return nil, err
		}
	}
	return &Chain{Certs: certs, Keys: keys}, nil
}

// MustChain is NewChain for tests, which panics on the impossible failure.
func MustChain(opts Options) *Chain {
	c, err := NewChain(opts)
	if err != nil {
		panic(err)
	}
	return c
}

func newKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case SM2:
		return sm2.GenerateKey(rand.Reader)
	case ECDSA:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("testpki: unknown key type %d", t)
}
