package keystore

import (
	"context"

	"github.com/emmansun/gmsm/sm2"
)

// OpenEnvelopeForTest decrypts a software-backend handle. Only tests see it:
// the custody test needs the private scalars to search the database file for
// them, and the signer test compares deterministic signatures with the key's.
func OpenEnvelopeForTest(b *SoftwareBackend, ref KeyRef, handle []byte) (*sm2.PrivateKey, error) {
	s, err := b.Signer(context.Background(), ref, handle)
	if err != nil {
		return nil, err
	}
	return s.(*softSigner).key, nil
}

// CachedSeals reports how many decrypted seal keys the Keystore holds.
func (ks *Keystore) CachedSeals() int {
	n := 0
	ks.seals.Range(func(_, _ any) bool { n++; return true })
	return n
}

// GenerateKEK returns a random KEK that exists only in memory. The package
// offers no such function, because a KEK that cannot be kept loses every
// key it wraps; WriteKEKFile is the way to make one.
func GenerateKEK() *KEK {
	k, err := newKEK(randomKEKBytes())
	if err != nil {
		panic(err)
	}
	return k
}
