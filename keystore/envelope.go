package keystore

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/asn1"
	"encoding/binary"
	"fmt"

	"github.com/emmansun/gmsm/sm4"
)

// envelope is how SoftwareBackend stores a private key: the PKCS#8 key sealed
// with SM4-GCM under a fresh data key, and the data key sealed with SM4-GCM
// under the KEK's wrapping key. Both seals carry the key id and owner as
// additional data, and the data key's seal also the KEK id, so that an
// envelope only opens in its own row, under its own KEK. Rotating the KEK
// rewraps the data key and leaves the sealed key as it is.
type envelope struct {
	Version   int
	KEKID     string `asn1:"utf8"`
	WrapNonce []byte
	WrappedDK []byte
	KeyNonce  []byte
	SealedKey []byte
}

const (
	envelopeVersion = 1
	dataKeySize     = 16 // SM4
	aadKeyLabel     = "eseal/keystore/key/v1"
	aadWrapLabel    = "eseal/keystore/wrap/v1"
)

// aad encodes its parts with length prefixes, so that no two different lists
// of parts give the same bytes.
func aad(parts ...string) []byte {
	var b []byte
	for _, p := range parts {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

func newSM4GCM(key []byte) (cipher.AEAD, error) {
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func sealAEAD(key, plaintext, ad []byte) (nonce, ciphertext []byte, err error) {
	aead, err := newSM4GCM(key)
	if err != nil {
		return nil, nil, err
	}
	nonce = make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return nonce, aead.Seal(nil, nonce, plaintext, ad), nil
}

func openAEAD(key, nonce, ciphertext, ad []byte) ([]byte, error) {
	aead, err := newSM4GCM(key)
	if err != nil {
		return nil, err
	}
	if len(nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("nonce is %d bytes", len(nonce))
	}
	return aead.Open(nil, nonce, ciphertext, ad)
}

// sealEnvelope encrypts plaintext (a PKCS#8 key) for the key ref under kek.
func sealEnvelope(kek *KEK, ref KeyRef, plaintext []byte) ([]byte, error) {
	dk := make([]byte, dataKeySize)
	rand.Read(dk)
	defer clear(dk)
	keyNonce, sealedKey, err := sealAEAD(dk, plaintext, aad(aadKeyLabel, ref.ID, ref.Owner))
	if err != nil {
		return nil, fmt.Errorf("keystore: seal key %s: %w", ref.ID, err)
	}
	env := envelope{Version: envelopeVersion, KeyNonce: keyNonce, SealedKey: sealedKey}
	if err := wrapDataKey(&env, kek, ref, dk); err != nil {
		return nil, err
	}
	return asn1.Marshal(env)
}

func wrapDataKey(env *envelope, kek *KEK, ref KeyRef, dk []byte) error {
	nonce, wrapped, err := sealAEAD(kek.wrapKey, dk, aad(aadWrapLabel, kek.id, ref.ID, ref.Owner))
	if err != nil {
		return fmt.Errorf("keystore: wrap data key of %s: %w", ref.ID, err)
	}
	env.KEKID, env.WrapNonce, env.WrappedDK = kek.id, nonce, wrapped
	return nil
}

func parseEnvelope(ref KeyRef, handle []byte) (envelope, error) {
	var env envelope
	rest, err := asn1.Unmarshal(handle, &env)
	if err != nil || len(rest) != 0 {
		return env, fmt.Errorf("%w: key %s: envelope does not parse", ErrKeyCorrupt, ref.ID)
	}
	if env.Version != envelopeVersion {
		return env, fmt.Errorf("%w: key %s: envelope version %d", ErrKeyCorrupt, ref.ID, env.Version)
	}
	return env, nil
}

// unwrapDataKey returns the envelope's data key. A KEK with another id gives
// ErrWrongKEK; a failed authentication gives ErrKeyCorrupt.
func unwrapDataKey(env *envelope, kek *KEK, ref KeyRef) ([]byte, error) {
	if env.KEKID != kek.id {
		return nil, fmt.Errorf("%w: key %s is wrapped under KEK %s, the configured KEK is %s",
			ErrWrongKEK, ref.ID, env.KEKID, kek.id)
	}
	dk, err := openAEAD(kek.wrapKey, env.WrapNonce, env.WrappedDK, aad(aadWrapLabel, kek.id, ref.ID, ref.Owner))
	if err != nil {
		return nil, fmt.Errorf("%w: key %s (owner %s): data key does not authenticate", ErrKeyCorrupt, ref.ID, ref.Owner)
	}
	return dk, nil
}

// openEnvelope returns the plaintext key. The caller clears it after use.
func openEnvelope(kek *KEK, ref KeyRef, handle []byte) ([]byte, error) {
	env, err := parseEnvelope(ref, handle)
	if err != nil {
		return nil, err
	}
	dk, err := unwrapDataKey(&env, kek, ref)
	if err != nil {
		return nil, err
	}
	defer clear(dk)
	pt, err := openAEAD(dk, env.KeyNonce, env.SealedKey, aad(aadKeyLabel, ref.ID, ref.Owner))
	if err != nil {
		return nil, fmt.Errorf("%w: key %s (owner %s): key does not authenticate", ErrKeyCorrupt, ref.ID, ref.Owner)
	}
	return pt, nil
}

// rewrapEnvelope rewraps the data key from one KEK to another. The sealed key
// is not decrypted.
func rewrapEnvelope(from, to *KEK, ref KeyRef, handle []byte) ([]byte, error) {
	env, err := parseEnvelope(ref, handle)
	if err != nil {
		return nil, err
	}
	dk, err := unwrapDataKey(&env, from, ref)
	if err != nil {
		return nil, err
	}
	defer clear(dk)
	if err := wrapDataKey(&env, to, ref, dk); err != nil {
		return nil, err
	}
	return asn1.Marshal(env)
}
