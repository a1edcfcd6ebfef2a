package keystore_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/store/sqlite"
	"github.com/ronganxian/eseal/tsa"
)

// twoTSAKeystores opens two Keystores on one SQLite file, as two replicas,
// with a CA made by the first and a clock the test moves.
func twoTSAKeystores(t *testing.T) (a, b *keystore.Keystore, clock *atomic.Int64) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ks.db")
	kek := keystore.GenerateKEK()
	clock = new(atomic.Int64)
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	var kss []*keystore.Keystore
	for range 2 {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		ks, err := keystore.Open(ctx, keystore.Config{Store: db.Keystore(), Backend: keystore.NewSoftwareBackend(kek), Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ks.Close() })
		kss = append(kss, ks)
	}
	if _, err := kss[0].CreateCA(ctx, keystore.CAOptions{CommonName: "测试县电子印章CA", Organization: "测试县政务服务监督管理办公室"}); err != nil {
		t.Fatal(err)
	}
	return kss[0], kss[1], clock
}

// TestTSAKey: replicas that ask for the TSA key at once end up with one; its
// certificate has the critical id-kp-timeStamping alone and chains to the
// county root; it is renewed near its end; tokens issued with it verify.
func TestTSAKey(t *testing.T) {
	ctx := context.Background()
	a, b, clock := twoTSAKeystores(t)
	var wg sync.WaitGroup
	certs := make([]*smx509.Certificate, 8)
	for i := range certs {
		wg.Go(func() {
			ks := a
			if i%2 == 1 {
				ks = b
			}
			_, chain, err := ks.TSAKey().TSASigner(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			certs[i] = chain[0]
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, c := range certs[1:] {
		if !c.Equal(certs[0]) {
			t.Fatal("two replicas made two current TSA keys")
		}
	}
	cert := certs[0]
	if !keystore.IsTSACertificate(cert) {
		t.Fatal("the TSA certificate lacks the critical id-kp-timeStamping")
	}
	bundle, err := a.TrustBundle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roots := smx509.NewCertPool()
	roots.AppendCertsFromPEM(bundle)
	if _, err := cert.Verify(smx509.VerifyOptions{Roots: roots, KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageTimeStamping},
		CurrentTime: time.Unix(0, clock.Load())}); err != nil {
		t.Fatalf("the TSA certificate does not chain to the trust bundle: %v", err)
	}

	key := a.TSAKey()
	auth, err := tsa.New(key, key, tsa.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sum := sm3.Sum([]byte("signature"))
	token, err := auth.Timestamp(ctx, tsa.OIDSM3, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cms.VerifyTimeStampToken(token, nil)
	if err != nil || !tr.Signer.Equal(cert) {
		t.Fatalf("token: %v, signer is the TSA's: %v", err, err == nil && tr.Signer.Equal(cert))
	}

	// Near the end of its validity the key is renewed, once.
	clock.Store(cert.NotAfter.Add(-time.Hour).UnixNano())
	_, chain, err := b.TSAKey().TSASigner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if chain[0].Equal(cert) || !keystore.IsTSACertificate(chain[0]) {
		t.Fatal("the TSA key was not renewed near its end")
	}
	_, again, err := a.TSAKey().TSASigner(ctx)
	if err != nil || !again[0].Equal(chain[0]) {
		t.Fatalf("the other replica uses another key after the renewal: %v", err)
	}
}

// TestTSASerialBlocks: replicas taking serial blocks at once never get the
// same one.
func TestTSASerialBlocks(t *testing.T) {
	ctx := context.Background()
	a, b, _ := twoTSAKeystores(t)
	var (
		mu   sync.Mutex
		seen = map[int64]bool{}
		wg   sync.WaitGroup
	)
	for i := range 40 {
		wg.Go(func() {
			ks := a
			if i%2 == 1 {
				ks = b
			}
			n, err := ks.TSAKey().NextTSASerialBlock(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[n] {
				t.Errorf("block %d handed out twice", n)
			}
			seen[n] = true
		})
	}
	wg.Wait()
	if len(seen) != 40 {
		t.Errorf("%d distinct blocks, want 40", len(seen))
	}
}
