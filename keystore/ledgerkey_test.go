package keystore_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/ronganxian/eseal/keystore"
)

// ledgerSign signs msg with the ledger signer and checks the signature with
// both SM2 implementations.
func (e *env) ledgerSign(ks *keystore.Keystore, msg []byte) *smx509.Certificate {
	e.t.Helper()
	signer, cert, err := ks.LedgerSigner(e.ctx)
	if err != nil {
		e.t.Fatalf("LedgerSigner: %v", err)
	}
	if !cert.PublicKey.(*ecdsa.PublicKey).Equal(signer.Public()) {
		e.t.Fatal("the ledger signer's key is not its certificate's")
	}
	sig, err := signer.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	if err != nil {
		e.t.Fatalf("ledger Sign: %v", err)
	}
	verifyBoth(e.t, signer.Public().(*ecdsa.PublicKey), msg, sig)
	return cert
}

func (e *env) ledgerKeys() []keystore.LedgerKeyRecord {
	e.t.Helper()
	recs, err := e.db.Keystore().LedgerKeys(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return recs
}

// TestLedgerSigner makes the ledger key on first use and checks its
// certificate profile, its signatures, and that later calls and other
// Keystores use the same key.
func TestLedgerSigner(t *testing.T) {
	e := newEnv(t, true)
	if len(e.ledgerKeys()) != 0 {
		t.Fatal("a new keystore has a ledger key")
	}
	e.clock.add(time.Hour) // so that the backdated validity is not cut to the CA's
	cert := e.ledgerSign(e.ks, []byte("eseal ledger checkpoint"))
	root := e.root()

	profile := []struct {
		what string
		ok   bool
	}{
		{"CN is the CA organisation's ledger signing name", cert.Subject.CommonName == countyCA.Organization+"用印账本签名"},
		{"O is the CA organisation", fmt.Sprint(cert.Subject.Organization) == "["+countyCA.Organization+"]"},
		{"C is CN", fmt.Sprint(cert.Subject.Country) == "[CN]"},
		{"key usage is digitalSignature only", cert.KeyUsage == smx509.KeyUsageDigitalSignature},
		{"not a CA", cert.BasicConstraintsValid && !cert.IsCA},
		{"no extended key usage", len(cert.ExtKeyUsage) == 0 && len(cert.UnknownExtKeyUsage) == 0},
		{"the ledger policy", len(cert.Policies) == 1 && cert.Policies[0].String() == keystore.LedgerKeyPolicyOID},
		{"IsLedgerCertificate", keystore.IsLedgerCertificate(cert)},
		{"SM3withSM2", cert.SignatureAlgorithm == smx509.SM2WithSM3},
		{"positive 127-bit serial", cert.SerialNumber.Sign() > 0 && cert.SerialNumber.BitLen() == 127},
		{"valid a little before issuance", cert.NotBefore.Before(e.clock.now().Add(-4*time.Minute)) && cert.NotBefore.After(e.clock.now().Add(-6*time.Minute))},
		{"valid for the seal validity", cert.NotAfter.Sub(e.clock.now()) > 364*24*time.Hour && cert.NotAfter.Sub(e.clock.now()) <= 365*24*time.Hour},
		{"issued by the root", bytes.Equal(cert.RawIssuer, root.RawSubject) && cert.CheckSignatureFrom(root) == nil},
	}
	for _, p := range profile {
		if !p.ok {
			t.Errorf("ledger certificate: %s: no", p.what)
		}
	}
	pool := smx509.NewCertPool()
	pool.AddCert(root)
	if _, err := cert.Verify(smx509.VerifyOptions{Roots: pool, CurrentTime: e.clock.now(),
		KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("the ledger certificate does not verify under the county root: %v", err)
	}

	// Later calls, and another Keystore on the database, use the same key.
	again := e.ledgerSign(e.ks, []byte("again"))
	other, err := e.open(e.openDB(), e.kek)
	if err != nil {
		t.Fatal(err)
	}
	fromOther := e.ledgerSign(other, []byte("from another process"))
	if !bytes.Equal(again.Raw, cert.Raw) || !bytes.Equal(fromOther.Raw, cert.Raw) {
		t.Fatal("a later call made another ledger key")
	}
	recs := e.ledgerKeys()
	if len(recs) != 1 || recs[0].State != keystore.LedgerKeyCurrent || !bytes.Equal(recs[0].Certificate, cert.Raw) {
		t.Fatalf("ledger keys = %+v, want one current", recs)
	}
	k, err := e.db.Keystore().Key(e.ctx, recs[0].KeyID)
	if err != nil || k.Owner != "ledger:"+recs[0].ID {
		t.Fatalf("the ledger key's key = %+v, %v", k, err)
	}

	signer, _, _ := e.ks.LedgerSigner(e.ctx)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		if out := fmt.Sprintf(verb, signer); out != "keystore.ledgerSigner("+recs[0].ID+")" {
			t.Errorf("Sprintf(%q, signer) = %q", verb, out)
		}
	}
	if err := e.ks.Check(e.ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	e.ks.Close()
	if _, err := signer.Sign(rand.Reader, []byte("x"), sm2.DefaultSM2SignerOpts); !errors.Is(err, keystore.ErrClosed) {
		t.Fatalf("signing after Close: err = %v, want ErrClosed", err)
	}
	if _, _, err := e.ks.LedgerSigner(e.ctx); !errors.Is(err, keystore.ErrClosed) {
		t.Fatalf("LedgerSigner after Close: err = %v, want ErrClosed", err)
	}
}

// TestLedgerKeyFirstUseConcurrently asks for the ledger key from two
// Keystores on two connections at once: one key is made and all get it.
func TestLedgerKeyFirstUseConcurrently(t *testing.T) {
	e := newEnv(t, true)
	other, err := e.open(e.openDB(), e.kek)
	if err != nil {
		t.Fatal(err)
	}
	keystores := []*keystore.Keystore{e.ks, other}
	const n = 10
	var wg sync.WaitGroup
	serials := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, cert, err := keystores[i%2].LedgerSigner(e.ctx)
			if err == nil {
				serials[i] = cert.SerialNumber.String()
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("LedgerSigner %d: %v", i, errs[i])
		}
		if serials[i] != serials[0] {
			t.Fatalf("callers got ledger certificates %s and %s", serials[0], serials[i])
		}
	}
	if recs := e.ledgerKeys(); len(recs) != 1 {
		t.Fatalf("%d ledger keys stored, want 1", len(recs))
	}
	if err := e.ks.Check(e.ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// TestLedgerKeyRenewal moves the clock into the last tenth of the ledger
// certificate's validity: the next call makes a new key, retires the old
// one and destroys its key; until then the key stays.
func TestLedgerKeyRenewal(t *testing.T) {
	e := newEnv(t, true)
	first := e.ledgerSign(e.ks, []byte("first"))
	other, err := e.open(e.openDB(), e.kek)
	if err != nil {
		t.Fatal(err)
	}
	if cached := e.ledgerSign(other, []byte("cached")); !bytes.Equal(cached.Raw, first.Raw) {
		t.Fatal("another Keystore made its own ledger key")
	}
	e.clock.add(300 * 24 * time.Hour) // 65 days of 365 left
	if same := e.ledgerSign(e.ks, []byte("still the first")); !bytes.Equal(same.Raw, first.Raw) {
		t.Fatal("the ledger key was renewed early")
	}
	e.clock.add(40 * 24 * time.Hour) // 25 days left: under a tenth
	second := e.ledgerSign(e.ks, []byte("renewed"))
	if bytes.Equal(second.Raw, first.Raw) || second.PublicKey.(*ecdsa.PublicKey).Equal(first.PublicKey) {
		t.Fatal("the ledger key was not renewed in the last tenth of its validity")
	}
	recs := e.ledgerKeys()
	if len(recs) != 2 || recs[0].State != keystore.LedgerKeyRetired || recs[1].State != keystore.LedgerKeyCurrent ||
		!bytes.Equal(recs[0].Certificate, first.Raw) || !bytes.Equal(recs[1].Certificate, second.Raw) {
		t.Fatalf("after renewal: %+v", recs)
	}
	if k, _ := e.db.Keystore().Key(e.ctx, recs[0].KeyID); k.Handle != nil {
		t.Fatal("the retired ledger key's key was not destroyed")
	}
	// Another Keystore that cached the first key moves to the second.
	if got := e.ledgerSign(other, []byte("moved on")); !bytes.Equal(got.Raw, second.Raw) {
		t.Fatal("a Keystore that cached the retired ledger key still uses it")
	}
	if err := e.ks.Check(e.ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// TestLedgerKeyAfterKEKRotation checks that RotateKEK rewraps the ledger key
// and that it signs under the new KEK in a new process.
func TestLedgerKeyAfterKEKRotation(t *testing.T) {
	e := newEnv(t, true)
	cert := e.ledgerSign(e.ks, []byte("before"))
	key := e.ledgerKeys()[0].KeyID
	before, _ := e.db.Keystore().Key(e.ctx, key)
	next := keystore.GenerateKEK()
	if err := e.ks.RotateKEK(e.ctx, next); err != nil {
		t.Fatal(err)
	}
	after, _ := e.db.Keystore().Key(e.ctx, key)
	if bytes.Equal(after.Handle, before.Handle) || after.BackendID != next.ID() {
		t.Fatal("KEK rotation did not rewrap the ledger key")
	}
	ks, err := e.open(e.openDB(), next)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.ledgerSign(ks, []byte("after")); !bytes.Equal(got.Raw, cert.Raw) {
		t.Fatal("the ledger key changed with the KEK")
	}
	if err := ks.Check(e.ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// TestLedgerKeyBoundToRow moves a seal's envelope into the ledger key's row:
// it does not open there, and nothing signs with it.
func TestLedgerKeyBoundToRow(t *testing.T) {
	e := newEnv(t, true)
	s := e.issueActive(changan)
	e.ledgerSign(e.ks, []byte("x"))
	raw, err := sql.Open("sqlite", e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var h []byte
	if err := raw.QueryRow("SELECT handle FROM keystore_keys WHERE id = ?", s.KeyID).Scan(&h); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("UPDATE keystore_keys SET handle = ? WHERE id = ?", h, e.ledgerKeys()[0].KeyID); err != nil {
		t.Fatal(err)
	}
	ks, err := e.open(e.openDB(), e.kek) // nothing cached
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ks.LedgerSigner(e.ctx); !errors.Is(err, keystore.ErrKeyCorrupt) {
		t.Fatalf("LedgerSigner with a moved envelope: err = %v, want ErrKeyCorrupt", err)
	}
	if err := ks.Check(e.ctx); !errors.Is(err, keystore.ErrKeyCorrupt) {
		t.Fatalf("Check: err = %v, want ErrKeyCorrupt", err)
	}
}

// TestLedgerKeyExternalCA: without the CA key there is no ledger key until
// the external CA certifies one; its certificate is checked like a seal's,
// and a later one replaces it the same way.
func TestLedgerKeyExternalCA(t *testing.T) {
	l := newLicensedCA(t, "测试")
	e := newEnv(t, false)
	if _, _, err := e.ks.LedgerSigner(e.ctx); !errors.Is(err, keystore.ErrNoCA) {
		t.Fatalf("LedgerSigner without a CA: err = %v, want ErrNoCA", err)
	}
	if _, err := e.ks.ImportCA(e.ctx, l.chainPEM(), nil, nil); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.ks.LedgerSigner(e.ctx)
	if !errors.Is(err, keystore.ErrNoLedgerKey) || !errors.Is(err, keystore.ErrNoCAKey) {
		t.Fatalf("LedgerSigner without the CA key: err = %v, want ErrNoLedgerKey and ErrNoCAKey", err)
	}
	if _, err := e.ks.AcceptLedgerCertificate(e.ctx, l.inter.Raw); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("accepting with no pending ledger key: err = %v, want ErrNotFound", err)
	}
	if _, err := e.ks.RequestLedgerCertificate(e.ctx, " 办公室"); !errors.Is(err, keystore.ErrInvalidRequest) {
		t.Fatalf("a request for a bad organisation: err = %v, want ErrInvalidRequest", err)
	}

	const org = "融安县政务服务监督管理办公室"
	csrDER, err := e.ks.RequestLedgerCertificate(e.ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := smx509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	if csr.Subject.CommonName != org+"用印账本签名" || fmt.Sprint(csr.Subject.Organization) != "["+org+"]" ||
		csr.SignatureAlgorithm != smx509.SM2WithSM3 {
		t.Fatalf("CSR subject %v, algorithm %v", csr.Subject, csr.SignatureAlgorithm)
	}
	again, err := e.ks.RequestLedgerCertificate(e.ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if c2, _ := smx509.ParseCertificateRequest(again); c2 == nil || !c2.PublicKey.(*ecdsa.PublicKey).Equal(csr.PublicKey) {
		t.Fatal("a second request made another ledger key")
	}
	if _, _, err := e.ks.LedgerSigner(e.ctx); !errors.Is(err, keystore.ErrNoLedgerKey) {
		t.Fatalf("LedgerSigner while the key is pending: err = %v, want ErrNoLedgerKey", err)
	}

	// The CA grants what the CSR asks for: its extensions, including the
	// ledger policy, go into the certificate.
	asked := func(c *smx509.Certificate) { c.ExtraExtensions = csr.Extensions }
	otherKey, _ := sm2.GenerateKey(rand.Reader)
	stranger := newLicensedCA(t, "陌生")
	bad := []struct {
		name string
		cert []byte
		want error
	}{
		{"garbage", []byte{0x30, 0x03, 0x02, 0x01}, keystore.ErrInvalidCertificate},
		{"another key", l.issue(t, csrDER, func(c *smx509.Certificate) { asked(c); c.PublicKey = &otherKey.PublicKey }), keystore.ErrCertificateMismatch},
		{"without the ledger policy", l.issue(t, csrDER, nil), keystore.ErrInvalidCertificate},
		{"a CA certificate", l.issue(t, csrDER, func(c *smx509.Certificate) {
			asked(c)
			c.ExtraExtensions = c.ExtraExtensions[1:] // drop the requested key usage
			c.IsCA, c.KeyUsage = true, smx509.KeyUsageCertSign|smx509.KeyUsageDigitalSignature
		}), keystore.ErrInvalidCertificate},
		{"expired", l.issue(t, csrDER, func(c *smx509.Certificate) { asked(c); c.NotAfter = time.Now().Add(-time.Minute) }), keystore.ErrCertificateExpired},
		{"from another CA", stranger.issue(t, csrDER, asked), keystore.ErrUntrustedCertificate},
		{"with its chain", append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.issue(t, csrDER, asked)}), l.chainPEM()...), keystore.ErrInvalidCertificate},
	}
	for _, b := range bad {
		if _, err := e.ks.AcceptLedgerCertificate(e.ctx, b.cert); !errors.Is(err, b.want) {
			t.Errorf("accept %s: err = %v, want %v", b.name, err, b.want)
		}
	}
	if recs := e.ledgerKeys(); len(recs) != 1 || recs[0].State != keystore.LedgerKeyPending {
		t.Fatalf("refused certificates changed the ledger keys: %+v", recs)
	}

	good := l.issue(t, csrDER, asked)
	cert, err := e.ks.AcceptLedgerCertificate(e.ctx, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: good}))
	if err != nil {
		t.Fatalf("AcceptLedgerCertificate: %v", err)
	}
	if !keystore.IsLedgerCertificate(cert) || cert.KeyUsage != smx509.KeyUsageDigitalSignature {
		t.Fatalf("accepted certificate: ledger %v, key usage %v", keystore.IsLedgerCertificate(cert), cert.KeyUsage)
	}
	if got := e.ledgerSign(e.ks, []byte("checkpoint")); !bytes.Equal(got.Raw, good) {
		t.Fatal("LedgerSigner does not use the accepted certificate")
	}
	if _, err := e.ks.AcceptLedgerCertificate(e.ctx, good); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("accepting twice: err = %v, want ErrNotFound", err)
	}

	// Renewal through the external CA: the current key signs until the new
	// one's certificate is accepted, then it is retired and destroyed.
	csr2, err := e.ks.RequestLedgerCertificate(e.ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.ledgerSign(e.ks, []byte("still the first")); !bytes.Equal(got.Raw, good) {
		t.Fatal("a pending ledger key replaced the current one before its certificate was accepted")
	}
	c2, _ := smx509.ParseCertificateRequest(csr2)
	second := l.issue(t, csr2, func(c *smx509.Certificate) { c.ExtraExtensions = c2.Extensions })
	if _, err := e.ks.AcceptLedgerCertificate(e.ctx, second); err != nil {
		t.Fatal(err)
	}
	if got := e.ledgerSign(e.ks, []byte("the second")); !bytes.Equal(got.Raw, second) {
		t.Fatal("LedgerSigner does not use the second certificate")
	}
	recs := e.ledgerKeys()
	if len(recs) != 2 || recs[0].State != keystore.LedgerKeyRetired || recs[1].State != keystore.LedgerKeyCurrent {
		t.Fatalf("after the second certificate: %+v", recs)
	}
	if err := e.ks.Check(e.ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}

	// Once the certificate expires, with no CA key to renew it, signing
	// stops with a clear error.
	e.clock.add(3 * 365 * 24 * time.Hour)
	if _, _, err := e.ks.LedgerSigner(e.ctx); !errors.Is(err, keystore.ErrCertificateExpired) {
		t.Fatalf("LedgerSigner after the certificate expired: err = %v, want ErrCertificateExpired", err)
	}
}

// staleLedgerStore answers LedgerKeys once with a list read before another
// process renewed the ledger key, as a read racing that renewal would.
type staleLedgerStore struct {
	keystore.Store
	stale []keystore.LedgerKeyRecord
}

func (s *staleLedgerStore) LedgerKeys(ctx context.Context) ([]keystore.LedgerKeyRecord, error) {
	if recs := s.stale; recs != nil {
		s.stale = nil
		return recs, nil
	}
	return s.Store.LedgerKeys(ctx)
}

// TestLedgerSignerRacesRenewal: a Keystore that finds a ledger key current
// just before another process retires it (and its key is destroyed) reads
// again and uses the new key.
func TestLedgerSignerRacesRenewal(t *testing.T) {
	e := newEnv(t, true)
	e.ledgerSign(e.ks, []byte("first"))
	stale := e.ledgerKeys()
	e.clock.add(340 * 24 * time.Hour)
	renewed := e.ledgerSign(e.ks, []byte("renewed"))

	ks, err := keystore.Open(e.ctx, keystore.Config{
		Store:   &staleLedgerStore{Store: e.db.Keystore(), stale: stale},
		Backend: keystore.NewSoftwareBackend(e.kek), SealValidity: 365 * 24 * time.Hour, Now: e.clock.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.ledgerSign(ks, []byte("after the race")); !bytes.Equal(got.Raw, renewed.Raw) {
		t.Fatal("the racing Keystore did not move to the renewed key")
	}
}
