package keystore

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// SoftwareBackend keeps each private key as an envelope in the Store: the
// PKCS#8 key sealed with SM4-GCM under its own random data key, and the data
// key sealed with SM4-GCM under the KEK. Only the envelope leaves the
// backend. Its ID is the KEK id.
type SoftwareBackend struct {
	kek atomic.Pointer[KEK]
}

// softwareBackendName is recorded with every key the backend holds.
const softwareBackendName = "software-sm4gcm-v1"

// NewSoftwareBackend returns a backend that wraps data keys under kek.
func NewSoftwareBackend(kek *KEK) *SoftwareBackend {
	b := new(SoftwareBackend)
	b.kek.Store(kek)
	return b
}

// Name returns "software-sm4gcm-v1".
func (b *SoftwareBackend) Name() string { return softwareBackendName }

// ID returns the id of the KEK in use ("" if there is none).
func (b *SoftwareBackend) ID() string { return b.kek.Load().ID() }

// current returns the KEK in use.
func (b *SoftwareBackend) current() (*KEK, error) {
	k := b.kek.Load()
	if k == nil {
		return nil, fmt.Errorf("%w: the software backend has no KEK", ErrInvalidKEK)
	}
	return k, nil
}

// GenerateKey generates an SM2 key with crypto/rand and returns its envelope.
func (b *SoftwareBackend) GenerateKey(ctx context.Context, ref KeyRef) ([]byte, *ecdsa.PublicKey, error) {
	if _, err := b.current(); err != nil {
		return nil, nil, err
	}
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("keystore: generate key %s: %w", ref.ID, err)
	}
	defer wipe(priv)
	handle, err := b.seal(ref, priv)
	if err != nil {
		return nil, nil, err
	}
	pub := priv.PublicKey // a copy: wipe clears the private scalar only
	return handle, &pub, nil
}

// ImportKey returns the envelope of key.
func (b *SoftwareBackend) ImportKey(ctx context.Context, ref KeyRef, key *sm2.PrivateKey) ([]byte, error) {
	return b.seal(ref, key)
}

func (b *SoftwareBackend) seal(ref KeyRef, key *sm2.PrivateKey) ([]byte, error) {
	der, err := smx509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("keystore: encode key %s: %w", ref.ID, err)
	}
	defer clear(der)
	kek, err := b.current()
	if err != nil {
		return nil, err
	}
	return sealEnvelope(kek, ref, der)
}

// Signer decrypts the key's envelope and returns a signer for it. The
// signer is the only holder of the decrypted key.
func (b *SoftwareBackend) Signer(ctx context.Context, ref KeyRef, handle []byte) (crypto.MessageSigner, error) {
	kek, err := b.current()
	if err != nil {
		return nil, err
	}
	pt, err := openEnvelope(kek, ref, handle)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	k, err := smx509.ParsePKCS8PrivateKey(pt)
	if err != nil {
		return nil, fmt.Errorf("%w: key %s: PKCS#8 does not parse", ErrKeyCorrupt, ref.ID)
	}
	priv, ok := k.(*sm2.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: key %s is %T, not SM2", ErrKeyCorrupt, ref.ID, k)
	}
	return &softSigner{key: priv}, nil
}

// DestroyKey does nothing: the envelope in the Store is the only copy of the
// key, and the Store erases it.
func (b *SoftwareBackend) DestroyKey(ctx context.Context, ref KeyRef, handle []byte) error {
	return nil
}

// rewrap rewraps an envelope's data key from one KEK to another.
func (b *SoftwareBackend) rewrap(ref KeyRef, handle []byte, from, to *KEK) ([]byte, error) {
	return rewrapEnvelope(from, to, ref, handle)
}

// wipe overwrites the private scalar of a key that is no longer needed. It
// is best effort: the Go runtime may have copied the value elsewhere.
func wipe(k *sm2.PrivateKey) {
	if k != nil && k.D != nil {
		clear(k.D.Bits())
	}
}

// softSigner is the decrypted key. It exposes Public, Sign and SignMessage
// only; the key cannot be type-asserted out of it, and it never prints.
type softSigner struct {
	key *sm2.PrivateKey
}

func (s *softSigner) Public() crypto.PublicKey { return s.key.Public() }

func (s *softSigner) Sign(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.key.Sign(rand, msg, opts)
}

func (s *softSigner) SignMessage(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.key.SignMessage(rand, msg, opts)
}

func (s *softSigner) Format(f fmt.State, _ rune) { io.WriteString(f, "keystore.softSigner{}") }
