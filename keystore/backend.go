package keystore

import (
	"context"
	"crypto"
	"crypto/ecdsa"

	"github.com/emmansun/gmsm/sm2"
)

// KeyRef names a key to its backend: the key's id and its owner ("ca" or
// "seal:<seal id>"). A backend binds both to the key, so that a key stored
// for one owner cannot be used as another's.
type KeyRef struct {
	ID    string
	Owner string
}

// KeyBackend holds SM2 private keys. The Keystore asks it to generate a key,
// keeps the handle it returns in the Store, and asks it for a signer when a
// seal signs. The Keystore never sees key bytes through this interface, so a
// hardware module (an HSM through PKCS#11, a cipher machine through the SDF
// interface) can implement it without changing callers. SoftwareBackend is
// the implementation that keeps keys encrypted in the Store.
//
// Implementations must be safe for concurrent use.
type KeyBackend interface {
	// Name names the kind of backend, e.g. "software-sm4gcm-v1". It is
	// recorded with each key.
	Name() string
	// ID identifies the key container: for SoftwareBackend the KEK id, for a
	// hardware module e.g. its token serial. The Store records it, and the
	// Keystore refuses a backend with another ID (ErrWrongKEK).
	ID() string
	// GenerateKey makes a new SM2 key pair from a cryptographic random
	// source and returns its handle and public key. The handle is opaque; the
	// Keystore stores it together with the seal or CA, in one transaction.
	GenerateKey(ctx context.Context, ref KeyRef) (handle []byte, pub *ecdsa.PublicKey, err error)
	// Signer returns a signer for the key. It must sign exactly like
	// *sm2.PrivateKey: Public returns an *ecdsa.PublicKey on sm2.P256(), and
	// Sign(rand, msg, sm2.DefaultSM2SignerOpts) signs the raw message msg
	// with the default user ID and SM3, returning an ASN.1 DER signature.
	Signer(ctx context.Context, ref KeyRef, handle []byte) (crypto.MessageSigner, error)
	// DestroyKey destroys the key when its seal ends, or when the Keystore
	// could not store a handle it generated. A backend whose handle is the
	// only copy of the key (SoftwareBackend) may do nothing: the Store
	// erases the handle.
	DestroyKey(ctx context.Context, ref KeyRef, handle []byte) error
}

// KeyImporter is a KeyBackend that can take in an existing private key, such
// as a CA key issued by a licensed CA. ImportCA with a key needs it.
type KeyImporter interface {
	ImportKey(ctx context.Context, ref KeyRef, key *sm2.PrivateKey) (handle []byte, err error)
}
