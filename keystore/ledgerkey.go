package keystore

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// The ledger-signing key signs the checkpoints of the sealing ledger: the
// county's statement that record n had hash h at time t. It is a key of its
// own, certified by the county CA for this one use (see ledgercert.go),
// rather than the CA key, which should sign certificates and CRLs only and
// can then stay offline or in a hardware module.
//
// There is at most one current ledger key, and the store enforces it, so
// replicas that need the key at the same moment end up with one. Its private
// key is a KeyRecord like any other (owner "ledger:<ledger key id>"), stored
// encrypted, rewrapped by RotateKEK and checked by Check.

// LedgerKeyState is where a ledger-signing key is in its life.
//
//	from      to        by
//	(none)    current   LedgerSigner, when the CA key is held here
//	(none)    pending   RequestLedgerCertificate, for an external CA
//	pending   current   AcceptLedgerCertificate
//	current   retired   a newer key becoming current (renewal)
//
// A retired key's private key is destroyed; its certificate stays, because
// it verifies the checkpoints it signed.
type LedgerKeyState string

// The ledger key states.
const (
	LedgerKeyPending LedgerKeyState = "pending"
	LedgerKeyCurrent LedgerKeyState = "current"
	LedgerKeyRetired LedgerKeyState = "retired"
)

func ledgerOwner(id string) string { return "ledger:" + id }

func newLedgerKeyID() string { return newID("ledger", 8) }

// ledgerEntry is the decrypted current ledger key, cached by ledger key id.
type ledgerEntry struct {
	id     string
	signer crypto.MessageSigner
	cert   *smx509.Certificate
}

// LedgerSigner returns the signer of the keystore's ledger-signing key and
// its certificate, which chains to the county CA. The signer signs like
// *sm2.PrivateKey (default user ID, SM3, ASN.1 DER) and never reveals the
// key.
//
// On first use, when the CA key is held here, it generates the key in the
// KeyBackend, has the CA certify it and stores it; a process that loses the
// race to store one uses the winner's. When less than a tenth of the
// certificate's validity remains, it makes a new key the same way and
// retires the old one. Later calls read which key is current from the Store
// and use the decrypted key cached in memory.
//
// Without the CA key (an external CA), it fails with ErrNoLedgerKey (and
// ErrNoCAKey) until a ledger certificate is requested and accepted
// (RequestLedgerCertificate, AcceptLedgerCertificate), and with
// ErrCertificateExpired once that certificate is no longer valid.
func (ks *Keystore) LedgerSigner(ctx context.Context) (crypto.Signer, *smx509.Certificate, error) {
	if err := ks.checkOpen(); err != nil {
		return nil, nil, err
	}
	for attempt := 1; ; attempt++ {
		e, err := ks.ledgerKey(ctx)
		// Another process made or renewed the key first (or, between our
		// reads, retired and destroyed the one we found): use its key.
		if attempt < 3 && (errors.Is(err, ErrLedgerKeyExists) || errors.Is(err, ErrConflict) || errors.Is(err, ErrKeyDestroyed)) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("keystore: ledger key: %w", err)
		}
		return &ledgerSigner{ks: ks, e: e}, e.cert, nil
	}
}

// ledgerKey returns the current ledger key, making or renewing it if it
// must and can.
func (ks *Keystore) ledgerKey(ctx context.Context) (*ledgerEntry, error) {
	recs, err := ks.store.LedgerKeys(ctx)
	if err != nil {
		return nil, err
	}
	cur := findLedgerKey(recs, LedgerKeyCurrent)
	var e *ledgerEntry
	if cur != nil {
		if e, err = ks.loadLedgerEntry(ctx, *cur); err != nil {
			return nil, err
		}
		now := ks.now()
		if now.Before(e.cert.NotBefore) {
			return nil, fmt.Errorf("%w: the ledger certificate is valid from %s", ErrCertificateExpired,
				e.cert.NotBefore.Format(time.RFC3339))
		}
		if !renewalDue(e.cert, now) {
			return e, nil
		}
	}
	ca, err := ks.loadCA(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	// A new certificate must outlast the current one, or renewing gains
	// nothing: near the end of the CA's own validity the key is kept.
	case ca.signer != nil && (e == nil || ca.cert.NotAfter.After(e.cert.NotAfter)):
		return ks.newLedgerKey(ctx, ca, cur)
	case e != nil && !ks.now().After(e.cert.NotAfter):
		return e, nil
	case e != nil:
		return nil, fmt.Errorf("%w: the ledger certificate expired at %s", ErrCertificateExpired,
			e.cert.NotAfter.Format(time.RFC3339))
	}
	return nil, fmt.Errorf("%w: %w: the external CA must certify one (RequestLedgerCertificate, AcceptLedgerCertificate)",
		ErrNoLedgerKey, ErrNoCAKey)
}

// renewalDue reports whether less than a tenth of cert's validity is left.
func renewalDue(cert *smx509.Certificate, now time.Time) bool {
	life := cert.NotAfter.Sub(cert.NotBefore)
	return now.After(cert.NotAfter.Add(-life / 10))
}

func findLedgerKey(recs []LedgerKeyRecord, state LedgerKeyState) *LedgerKeyRecord {
	for i := range recs {
		if recs[i].State == state {
			return &recs[i]
		}
	}
	return nil
}

// loadLedgerEntry returns the cached entry of a current ledger key,
// decrypting its key on a miss. loadSigner checks that the key belongs to
// the record and matches the certificate.
func (ks *Keystore) loadLedgerEntry(ctx context.Context, rec LedgerKeyRecord) (*ledgerEntry, error) {
	if e := ks.ledger.Load(); e != nil && e.id == rec.ID {
		return e, nil
	}
	cert, err := smx509.ParseCertificate(rec.Certificate)
	if err != nil {
		return nil, fmt.Errorf("%w: ledger key %s: %v", ErrInvalidCertificate, rec.ID, err)
	}
	signer, err := ks.loadSigner(ctx, rec.KeyID, ledgerOwner(rec.ID), cert)
	if err != nil {
		return nil, fmt.Errorf("ledger key %s: %w", rec.ID, err)
	}
	e := &ledgerEntry{id: rec.ID, signer: signer, cert: cert}
	ks.ledger.Store(e)
	return e, nil
}

// newLedgerKey generates a ledger key, has the local CA certify it, and
// stores it as current in place of old (nil on first use).
func (ks *Keystore) newLedgerKey(ctx context.Context, ca *caEntry, old *LedgerKeyRecord) (*ledgerEntry, error) {
	now := ks.now().UTC()
	rec := LedgerKeyRecord{ID: newLedgerKeyID(), State: LedgerKeyCurrent, CreatedAt: now}
	ref := KeyRef{ID: newKeyID(), Owner: ledgerOwner(rec.ID)}
	handle, pub, err := ks.backend.GenerateKey(ctx, ref)
	if err != nil {
		return nil, err
	}
	key, err := ks.keyRecord(ref, handle, pub, now)
	if err != nil {
		ks.discardKey(ctx, ref, handle)
		return nil, err
	}
	cert, err := ks.ledgerCertificate(ca, pub)
	if err != nil {
		ks.discardKey(ctx, ref, handle)
		return nil, err
	}
	rec.KeyID, rec.Certificate = ref.ID, cert.Raw
	if committed, err := ks.commitLedgerKey(ctx, LedgerKeyChange{Key: &key, Put: rec, At: now}, old); err != nil {
		if !committed {
			ks.discardKey(ctx, ref, handle)
		}
		return nil, err
	}
	return ks.loadLedgerEntry(ctx, rec)
}

// commitLedgerKey applies a change that makes c.Put current in place of old
// (if not nil), then destroys old's key in the backend (the software
// backend's key is already gone with the handle the change erased). It
// reports whether the change was committed.
func (ks *Keystore) commitLedgerKey(ctx context.Context, c LedgerKeyChange, old *LedgerKeyRecord) (committed bool, err error) {
	var oldKey KeyRecord
	if old != nil {
		c.Retire = old.ID
		if oldKey, err = ks.store.Key(ctx, old.KeyID); err != nil {
			return false, fmt.Errorf("ledger key %s: key %s: %w", old.ID, old.KeyID, err)
		}
	}
	if err := ks.store.ApplyLedgerKey(ctx, c); err != nil {
		return false, err
	}
	if old != nil && oldKey.Handle != nil {
		ref := KeyRef{ID: oldKey.ID, Owner: oldKey.Owner}
		if err := ks.backend.DestroyKey(context.WithoutCancel(ctx), ref, oldKey.Handle); err != nil {
			return true, fmt.Errorf("the ledger key is replaced, but destroying key %s in the backend failed: %w", oldKey.ID, err)
		}
	}
	return true, nil
}

// RequestLedgerCertificate starts a ledger key whose certificate an
// external CA issues: it generates the key, stores it as pending, and
// returns a DER CSR (SM3withSM2) asking for the ledger profile's key usage,
// policy and subject, which names organization (the county office, e.g.
// 融安县政务服务监督管理办公室). If a ledger key is pending already, it
// returns a new CSR for that key. A current ledger key keeps signing until
// the pending one's certificate is accepted.
func (ks *Keystore) RequestLedgerCertificate(ctx context.Context, organization string) ([]byte, error) {
	if err := ks.checkOpen(); err != nil {
		return nil, err
	}
	if err := validateName("organization", organization); err != nil {
		return nil, err
	}
	if _, err := ks.loadCA(ctx); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		recs, err := ks.store.LedgerKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("keystore: ledger keys: %w", err)
		}
		if p := findLedgerKey(recs, LedgerKeyPending); p != nil {
			signer, err := ks.loadSigner(ctx, p.KeyID, ledgerOwner(p.ID), nil)
			if err != nil {
				return nil, fmt.Errorf("keystore: ledger key %s: %w", p.ID, err)
			}
			return ledgerCertificateRequest(organization, signer)
		}
		now := ks.now().UTC()
		rec := LedgerKeyRecord{ID: newLedgerKeyID(), State: LedgerKeyPending, CreatedAt: now}
		ref := KeyRef{ID: newKeyID(), Owner: ledgerOwner(rec.ID)}
		handle, pub, err := ks.backend.GenerateKey(ctx, ref)
		if err != nil {
			return nil, err
		}
		key, err := ks.keyRecord(ref, handle, pub, now)
		if err == nil {
			rec.KeyID = ref.ID
			err = ks.store.ApplyLedgerKey(ctx, LedgerKeyChange{Key: &key, Put: rec, At: now})
		}
		if err != nil {
			ks.discardKey(ctx, ref, handle)
			if attempt < 3 && errors.Is(err, ErrLedgerKeyExists) {
				continue // another process requested one first: send its CSR
			}
			return nil, fmt.Errorf("keystore: request a ledger certificate: %w", err)
		}
	}
}

// AcceptLedgerCertificate takes the certificate (DER or PEM) that the
// external CA issued for the pending ledger key, and makes that key current,
// retiring the previous one. The certificate must be for the pending key
// (ErrCertificateMismatch), carry LedgerKeyPolicy, allow digitalSignature
// and not be a CA (ErrInvalidCertificate), be valid now
// (ErrCertificateExpired) and chain to the CA's trust bundle
// (ErrUntrustedCertificate). Without a pending key it fails with
// ErrNotFound.
func (ks *Keystore) AcceptLedgerCertificate(ctx context.Context, certData []byte) (*smx509.Certificate, error) {
	if err := ks.checkOpen(); err != nil {
		return nil, err
	}
	certs, err := parseCertificates(certData)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("%w: got %d certificates, want the ledger certificate only", ErrInvalidCertificate, len(certs))
	}
	cert := certs[0]
	recs, err := ks.store.LedgerKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keystore: ledger keys: %w", err)
	}
	p := findLedgerKey(recs, LedgerKeyPending)
	if p == nil {
		return nil, fmt.Errorf("%w: no ledger key is waiting for a certificate; call RequestLedgerCertificate first", ErrNotFound)
	}
	if err := ks.checkLedgerCertificate(ctx, *p, cert); err != nil {
		return nil, err
	}
	next := *p
	next.State, next.Certificate = LedgerKeyCurrent, cert.Raw
	c := LedgerKeyChange{Put: next, At: ks.now().UTC()}
	if _, err := ks.commitLedgerKey(ctx, c, findLedgerKey(recs, LedgerKeyCurrent)); err != nil {
		return nil, fmt.Errorf("keystore: accept the ledger certificate: %w", err)
	}
	return cert, nil
}

// checkLedgerCertificate checks a certificate an external CA issued for the
// pending ledger key p: for its key, with the ledger profile, and then what
// checkCertificateNow checks.
func (ks *Keystore) checkLedgerCertificate(ctx context.Context, p LedgerKeyRecord, cert *smx509.Certificate) error {
	if err := ks.checkCertifiesKey(ctx, cert, p.KeyID, "pending ledger key "+p.ID); err != nil {
		return err
	}
	if !IsLedgerCertificate(cert) {
		return fmt.Errorf("%w: a ledger certificate must allow digitalSignature, must not be a CA, and must carry policy %s",
			ErrInvalidCertificate, LedgerKeyPolicyOID)
	}
	return ks.checkCertificateNow(ctx, cert)
}

// ledgerSigner signs with the ledger key. Like SealSigner it behaves like
// *sm2.PrivateKey, refuses to sign once its Keystore is closed, and never
// reveals or prints its key.
type ledgerSigner struct {
	ks *Keystore
	e  *ledgerEntry
}

func (s *ledgerSigner) Public() crypto.PublicKey { return s.e.signer.Public() }

func (s *ledgerSigner) Sign(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.ks.closed.Load() {
		return nil, ErrClosed
	}
	return s.e.signer.Sign(rand, msg, opts)
}

func (s *ledgerSigner) SignMessage(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.ks.closed.Load() {
		return nil, ErrClosed
	}
	return s.e.signer.SignMessage(rand, msg, opts)
}

// Format prints the ledger key's id only, whatever the verb.
func (s *ledgerSigner) Format(f fmt.State, _ rune) {
	io.WriteString(f, "keystore.ledgerSigner("+s.e.id+")")
}
