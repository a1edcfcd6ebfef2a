package postgres

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/keystore"
)

// BenchmarkKeystoreSigner measures the keystore's signing path on
// PostgreSQL, to compare with keystore's BenchmarkSigner on SQLite: signer
// obtains the township's signer (one query for the seal's state; the key is
// cached) and signs; ledger does the same with the ledger-signing key (one
// query for the current ledger key). The parallel runs show that signing
// takes no lock: keystore writes serialise, reads do not.
func BenchmarkKeystoreSigner(b *testing.B) {
	ctx := context.Background()
	dsn := pgtest.Shared(b).NewDatabase(b)
	db, err := Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ks, err := keystore.Open(ctx, keystore.Config{Store: db.Keystore(), Backend: keystore.NewSoftwareBackend(benchKEK(b)),
		SealValidity: 365 * 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer ks.Close()
	if _, err := ks.CreateCA(ctx, keystore.CAOptions{CommonName: "融安县电子印章CA (TEST)", Organization: "融安县政务服务监督管理办公室"}); err != nil {
		b.Fatal(err)
	}
	s, err := ks.Issue(ctx, changan)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ks.Activate(ctx, s.ID); err != nil {
		b.Fatal(err)
	}
	digest := sm3.Sum([]byte("a document's signed attributes"))
	msg := digest[:]
	sealSign := func() error {
		s, err := ks.Signer(ctx, changan.TownshipCode)
		if err == nil {
			_, err = s.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
		}
		return err
	}
	ledgerSign := func() error {
		s, _, err := ks.LedgerSigner(ctx)
		if err == nil {
			_, err = s.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
		}
		return err
	}
	for _, bm := range []struct {
		name string
		fn   func() error
	}{{"signer", sealSign}, {"ledger", ledgerSign}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bm.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bm.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := bm.fn(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func benchKEK(b *testing.B) *keystore.KEK {
	b.Helper()
	kek, err := keystore.WriteKEKFile(b.TempDir() + "/kek")
	if err != nil {
		b.Fatal(err)
	}
	return kek
}
