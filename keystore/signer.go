package keystore

import (
	"crypto"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/smx509"
)

// SealSigner signs with one active seal. It is a crypto.Signer (and a
// crypto.MessageSigner) that behaves exactly like *sm2.PrivateKey from
// github.com/emmansun/gmsm: Public returns the seal's *ecdsa.PublicKey on
// sm2.P256(), and Sign(rand, msg, sm2.DefaultSM2SignerOpts) signs the raw
// message msg, computing the Z value with the default user ID
// 1234567812345678 and SM3, and returns an ASN.1 DER signature.
//
// Before each signature it checks, with one atomic load, that its seal is
// still active as far as this Keystore knows: once the seal is suspended,
// rotated or revoked through this Keystore, or the Keystore is closed, Sign
// fails with a *StateError (or ErrClosed). A signature already under way
// completes with the key it started with. A change made by another process is
// seen by the next Keystore.Signer call, so get a SealSigner per document.
//
// A SealSigner is safe for concurrent use and never reveals its key.
type SealSigner struct {
	ks   *Keystore
	e    *sealEntry
	seal Seal
}

// Public returns the seal's public key, an *ecdsa.PublicKey on sm2.P256().
func (s *SealSigner) Public() crypto.PublicKey { return s.e.pub }

// Sign signs like (*sm2.PrivateKey).Sign, if the seal is still active.
func (s *SealSigner) Sign(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	return s.e.signer.Sign(rand, msg, opts)
}

// SignMessage signs like (*sm2.PrivateKey).SignMessage, if the seal is still
// active.
func (s *SealSigner) SignMessage(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	return s.e.signer.SignMessage(rand, msg, opts)
}

func (s *SealSigner) usable() error {
	if s.ks.closed.Load() {
		return ErrClosed
	}
	if st := s.e.status.Load(); st.state != StateActive {
		return &StateError{Op: "sign", SealID: s.e.id, State: st.state}
	}
	return nil
}

// Seal returns the seal as it was when the signer was obtained.
func (s *SealSigner) Seal() Seal { return s.seal }

// Certificate returns the seal's certificate. It is shared: do not modify it.
func (s *SealSigner) Certificate() *smx509.Certificate { return s.e.cert }

// Chain returns the seal certificate followed by the CA certificates above
// it, from its issuer up to and including the root: the chain to embed in a
// signature (e.g. cms.NewSigner(signer, signer.Chain(), …)). The
// certificates are shared: do not modify them.
func (s *SealSigner) Chain() []*smx509.Certificate {
	return append([]*smx509.Certificate{s.e.cert}, s.e.chain...)
}

// Format prints the seal id only, whatever the verb.
func (s *SealSigner) Format(f fmt.State, _ rune) {
	io.WriteString(f, "keystore.SealSigner("+s.e.id+")")
}
