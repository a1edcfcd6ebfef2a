package keystore_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/ronganxian/eseal/keystore"
)

// TestSealCertificateProfile checks every field of the seal profile, and
// that both SM2 implementations verify the certificates.
func TestSealCertificateProfile(t *testing.T) {
	e := newEnv(t, true)
	root := e.root()
	serials := map[string]bool{}
	for _, tw := range townships {
		s, err := e.ks.Issue(e.ctx, tw)
		if err != nil {
			t.Fatal(err)
		}
		c, err := smx509.ParseCertificate(s.Certificate)
		if err != nil {
			t.Fatal(err)
		}
		subj := c.Subject
		if subj.CommonName != tw.Name || len(subj.Organization) != 1 || subj.Organization[0] != tw.Organization ||
			len(subj.Country) != 1 || subj.Country[0] != "CN" || subj.SerialNumber != tw.TownshipCode {
			t.Errorf("subject %v, want CN=%s O=%s C=CN serialNumber=%s", subj, tw.Name, tw.Organization, tw.TownshipCode)
		}
		if c.KeyUsage != smx509.KeyUsageDigitalSignature|smx509.KeyUsageContentCommitment {
			t.Errorf("key usage %b, want digitalSignature|nonRepudiation", c.KeyUsage)
		}
		critical := false
		for _, ext := range c.Extensions {
			if ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 15}) {
				critical = ext.Critical
			}
		}
		if !critical {
			t.Error("key usage is not critical")
		}
		if !c.BasicConstraintsValid || c.IsCA {
			t.Error("a seal certificate must say it is not a CA")
		}
		if c.SerialNumber.Sign() <= 0 || len(c.SerialNumber.Bytes()) != 16 || serials[c.SerialNumber.String()] {
			t.Errorf("serial %x: want positive, 16 bytes, unique", c.SerialNumber)
		}
		serials[c.SerialNumber.String()] = true
		if s.Serial.Cmp(c.SerialNumber) != 0 || !s.NotAfter.Equal(c.NotAfter) {
			t.Error("the seal's serial or validity differs from its certificate")
		}
		if got := c.NotAfter.Sub(c.NotBefore); got != 365*24*time.Hour {
			t.Errorf("validity %v, want the configured 365 days", got)
		}
		if c.SignatureAlgorithm != smx509.SM2WithSM3 || !bytes.Contains(c.Raw, []byte{0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75}) {
			t.Errorf("signature algorithm %v, want SM3withSM2 (1.2.156.10197.1.501)", c.SignatureAlgorithm)
		}
		if !bytes.Equal(c.AuthorityKeyId, root.SubjectKeyId) || len(c.SubjectKeyId) != 20 {
			t.Error("authority or subject key identifier missing or wrong")
		}
		if err := c.CheckSignatureFrom(root); err != nil {
			t.Errorf("emmansun: %v", err)
		}
		tjfocVerifies(t, c.Raw, root.Raw)
	}
}

func TestRootCA(t *testing.T) {
	e := newEnv(t, true)
	ca, err := e.ks.CA(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := ca.Certificate
	if !ca.HoldsKey || len(ca.Chain) != 0 {
		t.Fatalf("created CA: HoldsKey %v, chain %d", ca.HoldsKey, len(ca.Chain))
	}
	if !r.IsCA || !r.MaxPathLenZero || r.KeyUsage != smx509.KeyUsageCertSign|smx509.KeyUsageCRLSign {
		t.Errorf("root: IsCA %v, MaxPathLenZero %v, key usage %b", r.IsCA, r.MaxPathLenZero, r.KeyUsage)
	}
	if r.Subject.CommonName != countyCA.CommonName || r.Subject.Organization[0] != countyCA.Organization {
		t.Errorf("root subject %v", r.Subject)
	}
	if r.NotAfter.Sub(r.NotBefore) != countyCA.Validity {
		t.Errorf("root validity %v, want %v", r.NotAfter.Sub(r.NotBefore), countyCA.Validity)
	}
	if !sm2.IsSM2PublicKey(r.PublicKey) {
		t.Error("root key is not SM2")
	}
	tjfocVerifies(t, r.Raw, r.Raw)

	bundle, err := e.ks.TrustBundle(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, rest := pem.Decode(bundle)
	if b == nil || b.Type != "CERTIFICATE" || !bytes.Equal(b.Bytes, r.Raw) || len(rest) != 0 {
		t.Fatal("the trust bundle is not the root as PEM")
	}

	if _, err := e.ks.CreateCA(e.ctx, countyCA); !errors.Is(err, keystore.ErrCAExists) {
		t.Fatalf("second CreateCA: err = %v, want ErrCAExists", err)
	}
	if _, err := e.ks.ImportCA(e.ctx, bundle, nil, nil); !errors.Is(err, keystore.ErrCAExists) {
		t.Fatalf("ImportCA after CreateCA: err = %v, want ErrCAExists", err)
	}
}

func TestNoCA(t *testing.T) {
	e := newEnv(t, false)
	if _, err := e.ks.Issue(e.ctx, changan); !errors.Is(err, keystore.ErrNoCA) {
		t.Fatalf("Issue without a CA: err = %v, want ErrNoCA", err)
	}
	if _, _, err := e.ks.RequestCertificate(e.ctx, changan); !errors.Is(err, keystore.ErrNoCA) {
		t.Fatalf("RequestCertificate without a CA: err = %v, want ErrNoCA", err)
	}
	if _, err := e.ks.PublishCRL(e.ctx); !errors.Is(err, keystore.ErrNoCA) {
		t.Fatalf("PublishCRL without a CA: err = %v, want ErrNoCA", err)
	}
	if _, err := e.ks.TrustBundle(e.ctx); !errors.Is(err, keystore.ErrNoCA) {
		t.Fatalf("TrustBundle without a CA: err = %v, want ErrNoCA", err)
	}
	if seals, _ := e.ks.Seals(e.ctx, ""); len(seals) != 0 {
		t.Fatal("a failed Issue stored a seal")
	}
}

// TestSealValidityWithinCA checks that a seal certificate never outlives the CA.
func TestSealValidityWithinCA(t *testing.T) {
	e := newEnv(t, false)
	ca, err := e.ks.CreateCA(e.ctx, keystore.CAOptions{CommonName: "短期CA", Organization: "测试", Validity: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.ks.Issue(e.ctx, changan) // configured: 365 days
	if err != nil {
		t.Fatal(err)
	}
	if !s.NotAfter.Equal(ca.Certificate.NotAfter) {
		t.Fatalf("seal valid until %v, the CA until %v", s.NotAfter, ca.Certificate.NotAfter)
	}
	e.clock.add(31 * 24 * time.Hour)
	if _, err := e.ks.Activate(e.ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ks.Signer(e.ctx, changan.TownshipCode); !errors.Is(err, keystore.ErrCertificateExpired) {
		t.Fatalf("Signer after the certificate expired: err = %v, want ErrCertificateExpired", err)
	}
	if _, err := e.ks.Issue(e.ctx, townships[1]); !errors.Is(err, keystore.ErrCertificateExpired) {
		t.Fatalf("Issue with an expired CA: err = %v, want ErrCertificateExpired", err)
	}
}

// licensedCA is a stand-in for a licensed CA outside the keystore: a root
// and an intermediate whose keys the test holds.
type licensedCA struct {
	root, inter       *smx509.Certificate
	rootKey, interKey *sm2.PrivateKey
}

func newLicensedCA(t *testing.T, name string) *licensedCA {
	t.Helper()
	l := &licensedCA{}
	l.rootKey, _ = sm2.GenerateKey(rand.Reader)
	l.interKey, _ = sm2.GenerateKey(rand.Reader)
	l.root = l.caCert(t, name+" 根CA", &l.rootKey.PublicKey, nil, l.rootKey)
	l.inter = l.caCert(t, name+" 电子印章CA", &l.interKey.PublicKey, l.root, l.rootKey)
	return l
}

func (l *licensedCA) caCert(t *testing.T, cn string, pub *ecdsa.PublicKey, parent *smx509.Certificate, key *sm2.PrivateKey) *smx509.Certificate {
	t.Helper()
	tmpl := &smx509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{Country: []string{"CN"}, Organization: []string{"某电子认证服务有限公司"}, CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(5 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign,
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := smx509.ParseCertificate(der)
	return c
}

func (l *licensedCA) chainPEM() []byte {
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: l.inter.Raw})
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: l.root.Raw})
	return b.Bytes()
}

// issue signs a seal certificate from a CSR, as the licensed CA would; edit
// changes the template first.
func (l *licensedCA) issue(t *testing.T, csrDER []byte, edit func(*smx509.Certificate)) []byte {
	t.Helper()
	csr, err := smx509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Fatalf("the CSR's signature does not verify: %v", err)
	}
	tmpl := &smx509.Certificate{
		SerialNumber:          new(big.Int).SetBytes([]byte{0x11, 0x22, 0x33, byte(time.Now().UnixNano())}),
		Subject:               csr.Subject,
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(2 * 365 * 24 * time.Hour),
		KeyUsage:              smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment,
		BasicConstraintsValid: true,
	}
	pub := csr.PublicKey
	if edit != nil {
		edit(tmpl)
		if tmpl.PublicKey != nil {
			pub = tmpl.PublicKey
		}
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, l.inter, pub, l.interKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func keyPEM(t *testing.T, k *sm2.PrivateKey, kind string, password []byte) []byte {
	t.Helper()
	var (
		der []byte
		err error
	)
	switch kind {
	case "PRIVATE KEY":
		der, err = smx509.MarshalPKCS8PrivateKey(k)
	case "EC PRIVATE KEY":
		der, err = smx509.MarshalSM2PrivateKey(k)
	case "ENCRYPTED PRIVATE KEY":
		der, err = pkcs8.MarshalPrivateKey(k, password, pkcs8.DefaultOpts)
	}
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

// TestImportCAWithKey imports a licensed CA's intermediate with its key, in
// each key format, and issues a seal that verifies along the whole chain.
func TestImportCAWithKey(t *testing.T) {
	l := newLicensedCA(t, "测试")
	password := []byte("县政务办 2025")
	for _, kind := range []string{"PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, false)
			ca, err := e.ks.ImportCA(e.ctx, l.chainPEM(), keyPEM(t, l.interKey, kind, password), password)
			if err != nil {
				t.Fatalf("ImportCA: %v", err)
			}
			if !ca.HoldsKey || !bytes.Equal(ca.Certificate.Raw, l.inter.Raw) || len(ca.Chain) != 1 || !bytes.Equal(ca.Chain[0].Raw, l.root.Raw) {
				t.Fatal("imported CA is not the intermediate under the root")
			}
			bundle, _ := e.ks.TrustBundle(e.ctx)
			if !bytes.Equal(bundle, l.chainPEM()) {
				t.Fatal("the trust bundle is not intermediate + root")
			}
			e.issueActive(changan)
			s := e.mustSign(changan.TownshipCode, []byte("x"))
			chain := s.Chain()
			if len(chain) != 3 || !bytes.Equal(chain[1].Raw, l.inter.Raw) || !bytes.Equal(chain[2].Raw, l.root.Raw) {
				t.Fatalf("signer chain has %d certificates, want seal, intermediate, root", len(chain))
			}
			tjfocVerifies(t, chain[0].Raw, l.inter.Raw)
			tjfocVerifies(t, l.inter.Raw, l.root.Raw)
			crl, err := e.ks.PublishCRL(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			rl, _ := smx509.ParseRevocationList(crl.DER)
			if err := rl.CheckSignatureFrom(l.inter); err != nil {
				t.Fatalf("CRL under the intermediate: %v", err)
			}
			if err := e.ks.Check(e.ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestImportRootWithKey imports a root made elsewhere, with its key.
func TestImportRootWithKey(t *testing.T) {
	l := newLicensedCA(t, "县")
	e := newEnv(t, false)
	rootPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.root.Raw})
	ca, err := e.ks.ImportCA(e.ctx, rootPEM, keyPEM(t, l.rootKey, "PRIVATE KEY", nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.HoldsKey || len(ca.Chain) != 0 {
		t.Fatalf("HoldsKey %v, chain %d", ca.HoldsKey, len(ca.Chain))
	}
	e.issueActive(changan)
	s := e.mustSign(changan.TownshipCode, []byte("x"))
	tjfocVerifies(t, s.Certificate().Raw, l.root.Raw)
}

// TestImportCABadInput offers broken chains and keys: each fails with a
// typed error, and no CA is stored.
func TestImportCABadInput(t *testing.T) {
	l := newLicensedCA(t, "测试")
	other := newLicensedCA(t, "其他")
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p256DER, _ := smx509.MarshalPKCS8PrivateKey(p256)
	pemOf := func(certs ...*smx509.Certificate) []byte {
		var b bytes.Buffer
		for _, c := range certs {
			pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		}
		return b.Bytes()
	}
	expired := l.caCert(t, "过期CA", &l.interKey.PublicKey, nil, l.interKey)
	expiredTmpl := *expired
	expiredTmpl.NotBefore, expiredTmpl.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	expDER, _ := smx509.CreateCertificate(rand.Reader, &expiredTmpl, &expiredTmpl, &l.interKey.PublicKey, l.interKey)
	expiredRoot, _ := smx509.ParseCertificate(expDER)

	e0 := newEnv(t, true)
	leaf, _ := e0.ks.Issue(e0.ctx, changan)
	leafCert, _ := smx509.ParseCertificate(leaf.Certificate)

	password := []byte("pw")
	tests := []struct {
		name  string
		chain []byte
		key   []byte
		pw    []byte
		want  error
	}{
		{"empty", nil, nil, nil, keystore.ErrInvalidCertificate},
		{"garbage", []byte("not a certificate"), nil, nil, keystore.ErrInvalidCertificate},
		{"a private key instead of certificates", keyPEM(t, l.interKey, "PRIVATE KEY", nil), nil, nil, keystore.ErrInvalidCertificate},
		{"a seal certificate, not a CA", pemOf(leafCert, e0.root()), nil, nil, keystore.ErrInvalidCertificate},
		{"no root", pemOf(l.inter), nil, nil, keystore.ErrUntrustedCertificate},
		{"root first", pemOf(l.root, l.inter), nil, nil, keystore.ErrUntrustedCertificate},
		{"another CA's root", pemOf(l.inter, other.root), nil, nil, keystore.ErrUntrustedCertificate},
		{"expired", pemOf(expiredRoot), nil, nil, keystore.ErrUntrustedCertificate},
		{"key of another CA", l.chainPEM(), keyPEM(t, other.interKey, "PRIVATE KEY", nil), nil, keystore.ErrCertificateMismatch},
		{"root's key for the intermediate", l.chainPEM(), keyPEM(t, l.rootKey, "PRIVATE KEY", nil), nil, keystore.ErrCertificateMismatch},
		{"wrong password", l.chainPEM(), keyPEM(t, l.interKey, "ENCRYPTED PRIVATE KEY", password), []byte("wrong"), keystore.ErrInvalidCertificate},
		{"no password", l.chainPEM(), keyPEM(t, l.interKey, "ENCRYPTED PRIVATE KEY", password), nil, keystore.ErrInvalidCertificate},
		{"P-256 key", l.chainPEM(), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p256DER}), nil, keystore.ErrInvalidCertificate},
		{"key not PEM", l.chainPEM(), []byte("secret"), nil, keystore.ErrInvalidCertificate},
		{"certificate as key", l.chainPEM(), pemOf(l.inter), nil, keystore.ErrInvalidCertificate},
		{"two keys", l.chainPEM(), append(keyPEM(t, l.interKey, "PRIVATE KEY", nil), keyPEM(t, l.interKey, "PRIVATE KEY", nil)...), nil, keystore.ErrInvalidCertificate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, false)
			_, err := e.ks.ImportCA(e.ctx, tt.chain, tt.key, tt.pw)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if _, err := e.db.Keystore().CA(e.ctx); !errors.Is(err, keystore.ErrNoCA) {
				t.Fatalf("a refused import stored a CA (%v)", err)
			}
		})
	}
}

// TestExternalCA runs the licensed-CA path: import the chain without its key,
// request a certificate, have the CA sign the CSR, accept it, and later
// rotate the same way. Wrong certificates are refused and change nothing.
func TestExternalCA(t *testing.T) {
	l := newLicensedCA(t, "测试")
	e := newEnv(t, false)
	ca, err := e.ks.ImportCA(e.ctx, l.chainPEM(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ca.HoldsKey {
		t.Fatal("HoldsKey after importing without a key")
	}
	if _, err := e.ks.Issue(e.ctx, changan); !errors.Is(err, keystore.ErrNoCAKey) {
		t.Fatalf("Issue without the CA key: err = %v, want ErrNoCAKey", err)
	}
	if _, err := e.ks.PublishCRL(e.ctx); !errors.Is(err, keystore.ErrNoCAKey) {
		t.Fatalf("PublishCRL without the CA key: err = %v, want ErrNoCAKey", err)
	}

	s, csrDER, err := e.ks.RequestCertificate(e.ctx, changan)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != keystore.StatePending || s.Certificate != nil {
		t.Fatalf("requested seal = %+v, want pending without a certificate", s)
	}
	csr, err := smx509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	if csr.Subject.CommonName != changan.Name || csr.Subject.SerialNumber != changan.TownshipCode ||
		csr.SignatureAlgorithm != smx509.SM2WithSM3 {
		t.Fatalf("CSR subject %v, algorithm %v", csr.Subject, csr.SignatureAlgorithm)
	}
	if _, _, err := e.ks.RequestCertificate(e.ctx, changan); !errors.Is(err, keystore.ErrPendingSealExists) {
		t.Fatalf("second request: err = %v, want ErrPendingSealExists", err)
	}
	if _, err := e.ks.Signer(e.ctx, changan.TownshipCode); !errors.Is(err, keystore.ErrSealPending) {
		t.Fatalf("Signer while pending: err = %v, want ErrSealPending", err)
	}
	again, err := e.ks.CSR(e.ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c2, _ := smx509.ParseCertificateRequest(again); c2 == nil || !c2.PublicKey.(*ecdsa.PublicKey).Equal(csr.PublicKey) {
		t.Fatal("the regenerated CSR is for another key")
	}

	otherKey, _ := sm2.GenerateKey(rand.Reader)
	stranger := newLicensedCA(t, "陌生")
	bad := []struct {
		name string
		cert []byte
		want error
	}{
		{"garbage", []byte{0x30, 0x03, 0x02, 0x01}, keystore.ErrInvalidCertificate},
		{"another key", l.issue(t, csrDER, func(c *smx509.Certificate) { c.PublicKey = &otherKey.PublicKey }), keystore.ErrCertificateMismatch},
		{"another name", l.issue(t, csrDER, func(c *smx509.Certificate) { c.Subject.CommonName = townships[1].Name }), keystore.ErrCertificateMismatch},
		{"a CA certificate", l.issue(t, csrDER, func(c *smx509.Certificate) { c.IsCA = true; c.KeyUsage |= smx509.KeyUsageCertSign }), keystore.ErrInvalidCertificate},
		{"no digitalSignature", l.issue(t, csrDER, func(c *smx509.Certificate) { c.KeyUsage = smx509.KeyUsageContentCommitment }), keystore.ErrInvalidCertificate},
		{"expired", l.issue(t, csrDER, func(c *smx509.Certificate) { c.NotAfter = time.Now().Add(-time.Minute) }), keystore.ErrCertificateExpired},
		{"from another CA", stranger.issue(t, csrDER, nil), keystore.ErrUntrustedCertificate},
		{"with its chain", append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.issue(t, csrDER, nil)}), l.chainPEM()...), keystore.ErrInvalidCertificate},
	}
	for _, b := range bad {
		if _, err := e.ks.AcceptCertificate(e.ctx, s.ID, b.cert); !errors.Is(err, b.want) {
			t.Errorf("accept %s: err = %v, want %v", b.name, err, b.want)
		}
	}
	if now, _ := e.ks.Seal(e.ctx, s.ID); now.State != keystore.StatePending || now.Version != s.Version {
		t.Fatal("a refused certificate changed the pending seal")
	}

	good := l.issue(t, csrDER, nil)
	issued, err := e.ks.AcceptCertificate(e.ctx, s.ID, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: good}))
	if err != nil {
		t.Fatalf("AcceptCertificate: %v", err)
	}
	if issued.State != keystore.StateIssued || !bytes.Equal(issued.Certificate, good) {
		t.Fatalf("accepted seal = %+v", issued)
	}
	if _, err := e.ks.AcceptCertificate(e.ctx, s.ID, good); !errors.Is(err, keystore.ErrInvalidTransition) {
		t.Fatalf("accepting twice: err = %v, want ErrInvalidTransition", err)
	}
	if _, err := e.ks.Activate(e.ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	first := e.mustSign(changan.TownshipCode, []byte("x"))
	if len(first.Chain()) != 3 {
		t.Fatalf("signer chain has %d certificates, want 3", len(first.Chain()))
	}

	// Rotation through the external CA: the new key waits as pending while
	// the old seal keeps signing, and accepting its certificate swaps them.
	next, csr2, err := e.ks.RequestCertificate(e.ctx, changan)
	if err != nil {
		t.Fatal(err)
	}
	if next.Replaces != s.ID {
		t.Fatalf("the replacement names %q as the seal it replaces, want %s", next.Replaces, s.ID)
	}
	e.mustSign(changan.TownshipCode, []byte("still the old seal"))
	if _, err := e.ks.AcceptCertificate(e.ctx, next.ID, l.issue(t, csr2, nil)); err != nil {
		t.Fatal(err)
	}
	old, _ := e.ks.Seal(e.ctx, s.ID)
	cur, _ := e.ks.LiveSeal(e.ctx, changan.TownshipCode)
	if old.State != keystore.StateRotated || old.ReplacedBy != next.ID || cur.ID != next.ID || cur.State != keystore.StateActive {
		t.Fatalf("after accepting the replacement: old %s (%s), live %s (%s)", old.ID, old.State, cur.ID, cur.State)
	}
	if _, err := first.Sign(nil, []byte("x"), sm2.DefaultSM2SignerOpts); !errors.Is(err, keystore.ErrSealRotated) {
		t.Fatalf("old signer: err = %v, want ErrSealRotated", err)
	}
	e.mustSign(changan.TownshipCode, []byte("the new seal"))

	// A suspended seal is not replaced.
	if _, err := e.ks.Suspend(e.ctx, cur.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.ks.RequestCertificate(e.ctx, changan); !errors.Is(err, keystore.ErrSealSuspended) {
		t.Fatalf("request for a suspended seal: err = %v, want ErrSealSuspended", err)
	}
	if err := e.ks.Check(e.ctx); err != nil {
		t.Fatal(err)
	}
}

// TestAcceptDERWithTrailingSpaceByte accepts DER certificates whose last
// byte is a white-space character, which a careless trim would cut off.
func TestAcceptDERWithTrailingSpaceByte(t *testing.T) {
	l := newLicensedCA(t, "测试")
	e := newEnv(t, false)
	if _, err := e.ks.ImportCA(e.ctx, l.chainPEM(), nil, nil); err != nil {
		t.Fatal(err)
	}
	s, csr, err := e.ks.RequestCertificate(e.ctx, changan)
	if err != nil {
		t.Fatal(err)
	}
	var der []byte
	for i := 0; i < 2000 && der == nil; i++ {
		d := l.issue(t, csr, nil)
		switch d[len(d)-1] {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			der = d
		}
	}
	if der == nil {
		t.Fatal("no certificate ending in a white-space byte in 2000 tries")
	}
	if _, err := e.ks.AcceptCertificate(e.ctx, s.ID, der); err != nil {
		t.Fatalf("AcceptCertificate: %v", err)
	}
}
