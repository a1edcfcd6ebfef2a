package cms

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// The benchmarks pair each SM operation with its standard-library peer in
// the same run, so the ratio reads straight off the output:
//
//	BenchmarkSign/sm2 vs BenchmarkSign/ecdsa-p256
//	BenchmarkVerify/sm2 vs BenchmarkVerify/ecdsa-p256
//	BenchmarkHash1MiB/sm3 vs BenchmarkHash1MiB/sha256
//	BenchmarkCMS/sign and /verify vs BenchmarkCMS/sm2-sign-floor (one raw SM2 sign)

var benchMsg = bytes.Repeat([]byte("融安县"), 64)

func BenchmarkSign(b *testing.B) {
	sk, _ := sm2.GenerateKey(rand.Reader)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b.Run("sm2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sk.Sign(rand.Reader, benchMsg, sm2.DefaultSM2SignerOpts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ecdsa-p256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h := sha256.Sum256(benchMsg)
			if _, err := ecdsa.SignASN1(rand.Reader, ek, h[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	sk, _ := sm2.GenerateKey(rand.Reader)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ssig, _ := sk.Sign(rand.Reader, benchMsg, sm2.DefaultSM2SignerOpts)
	h := sha256.Sum256(benchMsg)
	esig, _ := ecdsa.SignASN1(rand.Reader, ek, h[:])
	b.Run("sm2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !sm2.VerifyASN1WithSM2(&sk.PublicKey, nil, benchMsg, ssig) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("ecdsa-p256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h := sha256.Sum256(benchMsg)
			if !ecdsa.VerifyASN1(&ek.PublicKey, h[:], esig) {
				b.Fatal("invalid")
			}
		}
	})
}

func BenchmarkHash1MiB(b *testing.B) {
	data := make([]byte, 1<<20)
	rand.Read(data)
	b.Run("sm3", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			sm3.Sum(data)
		}
	})
	b.Run("sha256", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			sha256.Sum256(data)
		}
	})
}

func BenchmarkCMS(b *testing.B) {
	s, chain := newTestSigner(b, ProfileDefault, 2)
	digest := sm3.Sum(testContent)
	now := time.Now()
	der, err := s.SignDigest(digest[:], now)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.SignDigest(digest[:], now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("size", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Size(now)
		}
	})
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := VerifyDigest(der, digest[:], nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sm2-sign-floor", func(b *testing.B) {
		b.ReportAllocs()
		key := chain.LeafKey()
		for b.Loop() {
			if _, err := key.Sign(rand.Reader, benchMsg, sm2.DefaultSM2SignerOpts); err != nil {
				b.Fatal(err)
			}
		}
	})
}
