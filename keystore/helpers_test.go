package keystore_test

import (
	"context"
	"crypto/ecdsa"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjx509 "github.com/tjfoc/gmsm/x509"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/store/sqlite"
)

// townships are real rows of the county catalogue (catalog/townships.csv).
var townships = []keystore.SealRequest{
	{TownshipCode: "450224100", Organization: "融安县长安镇人民政府", Name: "融安县长安镇人民政府行政审批专用章"},
	{TownshipCode: "450224101", Organization: "融安县浮石镇人民政府", Name: "融安县浮石镇人民政府行政审批专用章"},
	{TownshipCode: "450224102", Organization: "融安县泗顶镇人民政府", Name: "融安县泗顶镇人民政府行政审批专用章"},
	{TownshipCode: "450224103", Organization: "融安县板榄镇人民政府", Name: "融安县板榄镇人民政府行政审批专用章"},
	{TownshipCode: "450224104", Organization: "融安县大将镇人民政府", Name: "融安县大将镇人民政府行政审批专用章"},
	{TownshipCode: "450224105", Organization: "融安县大良镇人民政府", Name: "融安县大良镇人民政府行政审批专用章"},
	{TownshipCode: "450224200", Organization: "融安县雅瑶乡人民政府", Name: "融安县雅瑶乡人民政府政务服务专用章"},
	{TownshipCode: "450224201", Organization: "融安县大坡乡人民政府", Name: "融安县大坡乡人民政府政务服务专用章"},
	{TownshipCode: "450224202", Organization: "融安县东起乡人民政府", Name: "融安县东起乡人民政府政务服务专用章"},
	{TownshipCode: "450224203", Organization: "融安县沙子乡人民政府", Name: "融安县沙子乡人民政府政务服务专用章"},
	{TownshipCode: "450224204", Organization: "融安县桥板乡人民政府", Name: "融安县桥板乡人民政府政务服务专用章"},
	{TownshipCode: "450224205", Organization: "融安县潭头乡人民政府", Name: "融安县潭头乡人民政府政务服务专用章"},
}

var changan = townships[0]

var countyCA = keystore.CAOptions{
	CommonName:   "融安县电子印章CA",
	Organization: "融安县政务服务监督管理办公室",
	Validity:     10 * 365 * 24 * time.Hour,
}

// clock is a settable time source for the Keystore.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.set(time.Now())
	return c
}
func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

// env is a keystore over a fresh SQLite file.
type env struct {
	t     testing.TB
	ctx   context.Context
	path  string
	db    *sqlite.DB
	kek   *keystore.KEK
	clock *clock
	ks    *keystore.Keystore
}

// newEnv opens a keystore with a new KEK; withCA creates the county root.
func newEnv(t testing.TB, withCA bool) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "eseal.db"),
		kek: keystore.GenerateKEK(), clock: newClock()}
	e.db = e.openDB()
	ks, err := e.open(e.db, e.kek)
	if err != nil {
		t.Fatalf("open keystore: %v", err)
	}
	e.ks = ks
	if withCA {
		if _, err := ks.CreateCA(e.ctx, countyCA); err != nil {
			t.Fatalf("CreateCA: %v", err)
		}
	}
	return e
}

func (e *env) openDB() *sqlite.DB {
	e.t.Helper()
	db, err := sqlite.Open(e.ctx, e.path)
	if err != nil {
		e.t.Fatalf("open database: %v", err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

func (e *env) open(db *sqlite.DB, kek *keystore.KEK) (*keystore.Keystore, error) {
	return keystore.Open(e.ctx, keystore.Config{
		Store:        db.Keystore(),
		Backend:      keystore.NewSoftwareBackend(kek),
		SealValidity: 365 * 24 * time.Hour,
		Now:          e.clock.now,
	})
}

// issueActive issues and activates a seal for req.
func (e *env) issueActive(req keystore.SealRequest) keystore.Seal {
	e.t.Helper()
	s, err := e.ks.Issue(e.ctx, req)
	if err != nil {
		e.t.Fatalf("Issue %s: %v", req.TownshipCode, err)
	}
	s, err = e.ks.Activate(e.ctx, s.ID)
	if err != nil {
		e.t.Fatalf("Activate %s: %v", s.ID, err)
	}
	return s
}

func (e *env) root() *smx509.Certificate {
	e.t.Helper()
	ca, err := e.ks.CA(e.ctx)
	if err != nil {
		e.t.Fatalf("CA: %v", err)
	}
	if len(ca.Chain) == 0 {
		return ca.Certificate
	}
	return ca.Chain[len(ca.Chain)-1]
}

// mustSign signs msg with the township's seal and checks the signature with
// both SM2 implementations.
func (e *env) mustSign(township string, msg []byte) *keystore.SealSigner {
	e.t.Helper()
	s, err := e.ks.Signer(e.ctx, township)
	if err != nil {
		e.t.Fatalf("Signer(%s): %v", township, err)
	}
	sig, err := s.Sign(nil, msg, sm2.DefaultSM2SignerOpts)
	if err != nil {
		e.t.Fatalf("Sign: %v", err)
	}
	verifyBoth(e.t, s.Public().(*ecdsa.PublicKey), msg, sig)
	return s
}

// verifyBoth checks an SM2 signature (default user ID) with emmansun/gmsm and
// with tjfoc/gmsm.
func verifyBoth(t testing.TB, pub *ecdsa.PublicKey, msg, sig []byte) {
	t.Helper()
	if !sm2.VerifyASN1WithSM2(pub, nil, msg, sig) {
		t.Fatalf("emmansun/gmsm rejects the signature")
	}
	if !tjfocPublicKey(t, pub).Verify(msg, sig) {
		t.Fatalf("tjfoc/gmsm rejects the signature")
	}
}

func tjfocPublicKey(t testing.TB, pub *ecdsa.PublicKey) *tjsm2.PublicKey {
	t.Helper()
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	k, err := tjx509.ParseSm2PublicKey(der)
	if err != nil {
		t.Fatalf("tjfoc cannot parse the public key: %v", err)
	}
	return k
}

// tjfocVerifies checks certificate der against its issuer with tjfoc/gmsm.
func tjfocVerifies(t *testing.T, der, issuerDER []byte) {
	t.Helper()
	c, err := tjx509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("tjfoc cannot parse the certificate: %v", err)
	}
	p, err := tjx509.ParseCertificate(issuerDER)
	if err != nil {
		t.Fatalf("tjfoc cannot parse the issuer: %v", err)
	}
	if err := c.CheckSignatureFrom(p); err != nil {
		t.Fatalf("tjfoc: %q does not verify under %q: %v", c.Subject.CommonName, p.Subject.CommonName, err)
	}
}
