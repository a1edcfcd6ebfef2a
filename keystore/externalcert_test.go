package keystore

import (
	"crypto/rand"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// testIssuer is a self-signed SM2 CA that issues certificates for
// TestCheckCertificateAt.
type testIssuer struct {
	cert *smx509.Certificate
	key  *sm2.PrivateKey
}

func newTestIssuer(t *testing.T, name string, notBefore, notAfter time.Time) testIssuer {
	t.Helper()
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &smx509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testIssuer{cert, key}
}

// issue returns a signing certificate for a new key, valid from notBefore
// to notAfter.
func (ca testIssuer) issue(t *testing.T, notBefore, notAfter time.Time) *smx509.Certificate {
	t.Helper()
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &smx509.Certificate{
		SerialNumber:          big.NewInt(0x1122334455),
		Subject:               pkix.Name{CommonName: "长安镇", Organization: []string{"融安县长安镇人民政府"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              smx509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// withSerial returns a copy of cert whose parsed serial number is serial.
func withSerial(cert *smx509.Certificate, serial *big.Int) *smx509.Certificate {
	c := *cert
	c.SerialNumber = serial
	return &c
}

// TestCheckCertificateAt checks the serial, validity and chain checks that
// both AcceptCertificate and AcceptLedgerCertificate apply, each on its
// own, and at the edges of the validity period.
func TestCheckCertificateAt(t *testing.T) {
	// Certificates carry whole seconds.
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(2, 0, 0)
	ca := newTestIssuer(t, "测试根CA", from.AddDate(-1, 0, 0), to.AddDate(5, 0, 0))
	stranger := newTestIssuer(t, "陌生根CA", from.AddDate(-1, 0, 0), to.AddDate(5, 0, 0))
	leaf := ca.issue(t, from, to)
	mid := from.AddDate(1, 0, 0)
	bundle := []*smx509.Certificate{ca.cert}

	for _, tc := range []struct {
		name   string
		cert   *smx509.Certificate
		bundle []*smx509.Certificate
		at     time.Time
		want   error // nil: accepted
	}{
		{"valid", leaf, bundle, mid, nil},
		{"at the start of its validity", leaf, bundle, from, nil},
		{"at the end of its validity", leaf, bundle, to, nil},
		{"a second before its validity", leaf, bundle, from.Add(-time.Second), ErrCertificateExpired},
		{"a second after its validity", leaf, bundle, to.Add(time.Second), ErrCertificateExpired},
		{"serial 1", withSerial(leaf, big.NewInt(1)), bundle, mid, nil},
		{"serial zero", withSerial(leaf, big.NewInt(0)), bundle, mid, ErrInvalidCertificate},
		{"negative serial", withSerial(leaf, big.NewInt(-5)), bundle, mid, ErrInvalidCertificate},
		{"no serial", withSerial(leaf, nil), bundle, mid, ErrInvalidCertificate},
		{"another CA's bundle", leaf, []*smx509.Certificate{stranger.cert}, mid, ErrUntrustedCertificate},
		{"an empty bundle", leaf, nil, mid, ErrUntrustedCertificate},
		{"the other CA's own certificate", stranger.issue(t, from, to), bundle, mid, ErrUntrustedCertificate},
		// The serial is checked before the validity, and the validity
		// before the chain.
		{"serial zero and expired", withSerial(leaf, big.NewInt(0)), bundle, to.Add(time.Hour), ErrInvalidCertificate},
		{"expired and untrusted", leaf, nil, to.Add(time.Hour), ErrCertificateExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkCertificateAt(tc.cert, tc.bundle, tc.at)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("checkCertificateAt: %v, want it accepted", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("checkCertificateAt: %v, want %v", err, tc.want)
			}
			for _, other := range []error{ErrInvalidCertificate, ErrCertificateExpired, ErrUntrustedCertificate} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("checkCertificateAt: %v is also %v", err, other)
				}
			}
		})
	}
}
