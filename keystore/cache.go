package keystore

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"fmt"
	"sync/atomic"

	"github.com/emmansun/gmsm/smx509"
)

// sealEntry is a seal's decrypted signer, cached by seal id. The signing path
// reads it without locks: the signer is immutable and the state is one
// atomic pointer.
type sealEntry struct {
	id     string
	signer crypto.MessageSigner
	pub    *ecdsa.PublicKey
	cert   *smx509.Certificate
	chain  []*smx509.Certificate // issuing CA up to the root
	status atomic.Pointer[sealStatus]
}

type sealStatus struct {
	version int64
	state   State
}

// observe records a state read from or written to the store. Versions only
// grow, so an older read never overwrites a newer change.
func (e *sealEntry) observe(version int64, state State) {
	next := &sealStatus{version: version, state: state}
	for {
		cur := e.status.Load()
		if cur != nil && cur.version >= version {
			return
		}
		if e.status.CompareAndSwap(cur, next) {
			return
		}
	}
}

// observe passes a seal's state to its cached entry, and drops the entry
// once the seal has ended. Signers still holding the entry see the state and
// refuse to sign; a signature already under way completes.
func (ks *Keystore) observe(s Seal) {
	v, ok := ks.seals.Load(s.ID)
	if !ok {
		return
	}
	v.(*sealEntry).observe(s.Version, s.State)
	if s.State.Final() {
		ks.seals.Delete(s.ID)
	}
}

// entry returns the cached entry of a seal, decrypting its key on a miss.
// Two goroutines that miss at once both decrypt; one entry wins.
func (ks *Keystore) entry(ctx context.Context, s Seal) (*sealEntry, error) {
	if v, ok := ks.seals.Load(s.ID); ok {
		e := v.(*sealEntry)
		e.observe(s.Version, s.State)
		return e, nil
	}
	ca, err := ks.loadCA(ctx)
	if err != nil {
		return nil, err
	}
	cert, err := smx509.ParseCertificate(s.Certificate)
	if err != nil {
		return nil, fmt.Errorf("%w: seal %s: %v", ErrInvalidCertificate, s.ID, err)
	}
	signer, err := ks.loadSigner(ctx, s.KeyID, sealOwner(s.ID), cert)
	if err != nil {
		return nil, fmt.Errorf("keystore: seal %s: %w", s.ID, err)
	}
	e := &sealEntry{
		id:     s.ID,
		signer: signer,
		pub:    cert.PublicKey.(*ecdsa.PublicKey), // loadSigner checked the type
		cert:   cert,
		chain:  chainFor(cert, ca.bundle),
	}
	e.observe(s.Version, s.State)
	v, _ := ks.seals.LoadOrStore(s.ID, e)
	return v.(*sealEntry), nil
}

// loadSigner reads a key from the store and has the backend open it. It
// checks that the key belongs to owner and matches cert (when cert is not
// nil), so a key row moved or altered in the database is refused.
func (ks *Keystore) loadSigner(ctx context.Context, keyID, owner string, cert *smx509.Certificate) (crypto.MessageSigner, error) {
	rec, err := ks.store.Key(ctx, keyID)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", keyID, err)
	}
	if rec.Handle == nil {
		return nil, fmt.Errorf("%w: key %s", ErrKeyDestroyed, keyID)
	}
	if rec.Owner != owner {
		return nil, fmt.Errorf("%w: key %s belongs to %q, not %q", ErrKeyCorrupt, keyID, rec.Owner, owner)
	}
	if rec.Backend != ks.backend.Name() {
		return nil, fmt.Errorf("%w: key %s is held by backend %s, configured is %s",
			ErrUnsupported, keyID, rec.Backend, ks.backend.Name())
	}
	signer, err := ks.backend.Signer(ctx, KeyRef{ID: rec.ID, Owner: rec.Owner}, rec.Handle)
	if err != nil {
		return nil, err
	}
	spki, err := smx509.MarshalPKIXPublicKey(signer.Public())
	if err != nil || !bytes.Equal(spki, rec.PublicKey) {
		return nil, fmt.Errorf("%w: key %s does not match its stored public key", ErrKeyCorrupt, keyID)
	}
	if cert != nil {
		if certPub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !certPub.Equal(signer.Public()) {
			return nil, fmt.Errorf("%w: key %s does not match its certificate", ErrKeyCorrupt, keyID)
		}
	}
	return signer, nil
}

func sealOwner(sealID string) string { return "seal:" + sealID }

const caOwner = "ca"
