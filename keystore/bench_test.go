package keystore_test

import (
	"crypto/rand"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// BenchmarkSigner measures what the keystore adds to a signature: keystore
// obtains the township's signer (one store read of the seal's state, the
// decrypted key from the cache) and signs; rawsm2 signs with an
// *sm2.PrivateKey in memory. Both sign the same 32-byte message with the
// default user ID, so keystore/rawsm2 is the keystore's overhead. The
// parallel runs show that signing does not serialise: held-parallel signs
// with one SealSigner from every goroutine and should match rawsm2-parallel.
// keystore-cold decrypts the key envelope each time (a new Keystore per
// iteration).
func BenchmarkSigner(b *testing.B) {
	e := newEnv(b, true)
	ks := e.ks
	if _, err := ks.Issue(e.ctx, changan); err != nil {
		b.Fatal(err)
	}
	live, err := ks.LiveSeal(e.ctx, changan.TownshipCode)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ks.Activate(e.ctx, live.ID); err != nil {
		b.Fatal(err)
	}
	raw, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	digest := sm3.Sum([]byte("a document's signed attributes"))
	msg := digest[:]

	b.Run("keystore", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, err := ks.Signer(e.ctx, changan.TownshipCode)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rawsm2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := raw.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("keystore-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s, err := ks.Signer(e.ctx, changan.TownshipCode)
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := s.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("rawsm2-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := raw.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("held-parallel", func(b *testing.B) {
		s, err := ks.Signer(e.ctx, changan.TownshipCode)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("keystore-cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fresh, err := e.open(e.db, e.kek)
			if err != nil {
				b.Fatal(err)
			}
			s, err := fresh.Signer(e.ctx, changan.TownshipCode)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts); err != nil {
				b.Fatal(err)
			}
		}
	})
}
