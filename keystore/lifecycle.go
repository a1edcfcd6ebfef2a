package keystore

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// Every lifecycle change below reads the seal, checks its state, and hands
// the store one Change, which commits the new state, the event and any key
// destruction together. If another change to the seal committed first, it
// fails with ErrConflict and changes nothing.

// Issue makes a seal (制章) for a township with the keystore's own CA: it
// generates the key, signs the certificate and stores the seal as issued.
// It fails with ErrLiveSealExists if the township has a live seal (the store
// enforces this, so concurrent calls for one township yield one seal), and
// ErrNoCAKey if the CA key is not held here.
func (ks *Keystore) Issue(ctx context.Context, req SealRequest) (Seal, error) {
	if err := ks.checkOpen(); err != nil {
		return Seal{}, err
	}
	if err := req.validate(); err != nil {
		return Seal{}, err
	}
	if live, err := ks.store.LiveSeal(ctx, req.TownshipCode); err == nil {
		return Seal{}, fmt.Errorf("%w: township %s has seal %s (%s)", ErrLiveSealExists, req.TownshipCode, live.ID, live.State)
	} else if !errors.Is(err, ErrNoSeal) {
		return Seal{}, fmt.Errorf("keystore: township %s: %w", req.TownshipCode, err)
	}
	s, key, err := ks.newCertifiedSeal(ctx, req, StateIssued, "")
	if err != nil {
		return Seal{}, err
	}
	err = ks.apply(ctx, Change{
		Keys:   []KeyRecord{key},
		Insert: []Seal{s},
		Events: []Event{{SealID: s.ID, Action: "issue", To: StateIssued, At: s.CreatedAt}},
	}, key)
	if err != nil {
		return Seal{}, fmt.Errorf("keystore: issue seal for township %s: %w", req.TownshipCode, err)
	}
	return s, nil
}

// newCertifiedSeal generates a key and certifies it with the local CA.
func (ks *Keystore) newCertifiedSeal(ctx context.Context, req SealRequest, state State, replaces string) (Seal, KeyRecord, error) {
	ca, err := ks.loadCA(ctx)
	if err != nil {
		return Seal{}, KeyRecord{}, err
	}
	if ca.signer == nil {
		return Seal{}, KeyRecord{}, fmt.Errorf("%w: use RequestCertificate", ErrNoCAKey)
	}
	s, key, pub, err := ks.newSealKey(ctx, req, state, replaces)
	if err != nil {
		return Seal{}, KeyRecord{}, err
	}
	cert, err := ks.sealCertificate(ca, req, pub)
	if err != nil {
		ks.discardKey(ctx, KeyRef{ID: key.ID, Owner: key.Owner}, key.Handle)
		return Seal{}, KeyRecord{}, err
	}
	s.Certificate, s.Serial, s.NotBefore, s.NotAfter = cert.Raw, cert.SerialNumber, cert.NotBefore, cert.NotAfter
	return s, key, nil
}

// newSealKey generates the key of a new seal.
func (ks *Keystore) newSealKey(ctx context.Context, req SealRequest, state State, replaces string) (Seal, KeyRecord, *ecdsa.PublicKey, error) {
	now := ks.now().UTC()
	s := Seal{
		ID:           newSealID(req.TownshipCode),
		TownshipCode: req.TownshipCode,
		Organization: req.Organization,
		Name:         req.Name,
		State:        state,
		CreatedAt:    now,
		Replaces:     replaces,
		Version:      1,
	}
	ref := KeyRef{ID: newKeyID(), Owner: sealOwner(s.ID)}
	handle, pub, err := ks.backend.GenerateKey(ctx, ref)
	if err != nil {
		return Seal{}, KeyRecord{}, nil, err
	}
	key, err := ks.keyRecord(ref, handle, pub, now)
	if err != nil {
		ks.discardKey(ctx, ref, handle)
		return Seal{}, KeyRecord{}, nil, err
	}
	s.KeyID = ref.ID
	return s, key, pub, nil
}

// apply stores a change. If it fails, the keys it would have added are
// destroyed in the backend.
func (ks *Keystore) apply(ctx context.Context, c Change, newKeys ...KeyRecord) error {
	if err := ks.store.Apply(ctx, c); err != nil {
		for _, k := range newKeys {
			ks.discardKey(ctx, KeyRef{ID: k.ID, Owner: k.Owner}, k.Handle)
		}
		return err
	}
	return nil
}

// RequestCertificate starts a seal whose certificate an external (licensed)
// CA issues: it generates the key, stores the seal as pending, and returns
// the seal and a DER CSR (SM3withSM2, with the seal subject and key usage)
// to send to the CA. If the township has an issued or active seal, the new
// seal will replace it when its certificate is accepted. A township has at
// most one pending seal (ErrPendingSealExists).
func (ks *Keystore) RequestCertificate(ctx context.Context, req SealRequest) (Seal, []byte, error) {
	if err := ks.checkOpen(); err != nil {
		return Seal{}, nil, err
	}
	if err := req.validate(); err != nil {
		return Seal{}, nil, err
	}
	if _, err := ks.loadCA(ctx); err != nil {
		return Seal{}, nil, err
	}
	replaces := ""
	live, err := ks.store.LiveSeal(ctx, req.TownshipCode)
	switch {
	case err == nil && live.State == StateSuspended:
		return Seal{}, nil, &StateError{Op: "replace", SealID: live.ID, State: live.State}
	case err == nil:
		replaces = live.ID
	case !errors.Is(err, ErrNoSeal):
		return Seal{}, nil, fmt.Errorf("keystore: township %s: %w", req.TownshipCode, err)
	}
	s, key, _, err := ks.newSealKey(ctx, req, StatePending, replaces)
	if err != nil {
		return Seal{}, nil, err
	}
	csr, err := ks.csr(ctx, s, key)
	if err != nil {
		ks.discardKey(ctx, KeyRef{ID: key.ID, Owner: key.Owner}, key.Handle)
		return Seal{}, nil, err
	}
	err = ks.apply(ctx, Change{
		Keys:   []KeyRecord{key},
		Insert: []Seal{s},
		Events: []Event{{SealID: s.ID, Action: "request", To: StatePending, At: s.CreatedAt, Detail: replaces}},
	}, key)
	if err != nil {
		return Seal{}, nil, fmt.Errorf("keystore: request certificate for township %s: %w", req.TownshipCode, err)
	}
	return s, csr, nil
}

// CSR returns a new DER CSR for a pending seal, e.g. when the first was lost.
func (ks *Keystore) CSR(ctx context.Context, sealID string) ([]byte, error) {
	if err := ks.checkOpen(); err != nil {
		return nil, err
	}
	s, err := ks.Seal(ctx, sealID)
	if err != nil {
		return nil, err
	}
	if s.State != StatePending {
		return nil, &StateError{Op: "request a certificate for", SealID: s.ID, State: s.State}
	}
	key, err := ks.store.Key(ctx, s.KeyID)
	if err != nil {
		return nil, fmt.Errorf("keystore: seal %s: key %s: %w", s.ID, s.KeyID, err)
	}
	return ks.csr(ctx, s, key)
}

func (ks *Keystore) csr(ctx context.Context, s Seal, key KeyRecord) ([]byte, error) {
	signer, err := ks.backend.Signer(ctx, KeyRef{ID: key.ID, Owner: key.Owner}, key.Handle)
	if err != nil {
		return nil, fmt.Errorf("keystore: seal %s: %w", s.ID, err)
	}
	return certificateRequest(s, signer)
}

// AcceptCertificate takes the certificate (DER or PEM) that the external CA
// issued for a pending seal. The certificate must be for the seal's key
// (ErrCertificateMismatch), name the seal as CN and its organization as O,
// allow digitalSignature and not be a CA (ErrInvalidCertificate), be valid
// now (ErrCertificateExpired) and chain to the CA's trust bundle
// (ErrUntrustedCertificate); its issuing CA must be in the bundle.
//
// The seal becomes issued; if it replaces an issued or active seal, that seal
// is rotated in the same transaction and the new one takes its state.
func (ks *Keystore) AcceptCertificate(ctx context.Context, sealID string, certData []byte) (Seal, error) {
	if err := ks.checkOpen(); err != nil {
		return Seal{}, err
	}
	s, err := ks.Seal(ctx, sealID)
	if err != nil {
		return Seal{}, err
	}
	if s.State != StatePending {
		return Seal{}, &StateError{Op: "accept a certificate for", SealID: s.ID, State: s.State}
	}
	certs, err := parseCertificates(certData)
	if err != nil {
		return Seal{}, err
	}
	if len(certs) != 1 {
		return Seal{}, fmt.Errorf("%w: got %d certificates, want the seal certificate only", ErrInvalidCertificate, len(certs))
	}
	cert := certs[0]
	if err := ks.checkIssued(ctx, s, cert); err != nil {
		return Seal{}, err
	}

	now := ks.now().UTC()
	next := s
	next.State = StateIssued
	next.Certificate, next.Serial, next.NotBefore, next.NotAfter = cert.Raw, cert.SerialNumber, cert.NotBefore, cert.NotAfter
	change := Change{}
	var old *Seal
	if s.Replaces != "" {
		o, err := ks.Seal(ctx, s.Replaces)
		if err != nil {
			return Seal{}, err
		}
		switch o.State {
		case StateIssued, StateActive:
			old = &o
		case StateSuspended:
			return Seal{}, &StateError{Op: "replace", SealID: o.ID, State: o.State}
		}
	}
	if old != nil {
		ended := *old
		ended.State, ended.EndedAt, ended.ReplacedBy = StateRotated, now, s.ID
		next.State = old.State
		change.Update = []Seal{ended, next}
		change.DestroyKeys = []string{old.KeyID}
		change.Events = []Event{
			{SealID: old.ID, Action: "rotate", From: old.State, To: StateRotated, At: now, Detail: s.ID},
			{SealID: s.ID, Action: "accept", From: StatePending, To: next.State, At: now, Detail: old.ID},
		}
	} else {
		change.Update = []Seal{next}
		change.Events = []Event{{SealID: s.ID, Action: "accept", From: StatePending, To: StateIssued, At: now}}
	}
	if _, err := ks.commitEnd(ctx, change, old); err != nil {
		return Seal{}, fmt.Errorf("keystore: accept certificate for seal %s: %w", s.ID, err)
	}
	next.Version++
	ks.observe(next)
	return next, nil
}

// checkIssued checks a certificate an external CA issued for seal s: for
// its key, naming the seal, a signing certificate and not a CA's, and then
// what checkCertificateNow checks.
func (ks *Keystore) checkIssued(ctx context.Context, s Seal, cert *smx509.Certificate) error {
	if err := ks.checkCertifiesKey(ctx, cert, s.KeyID, "seal "+s.ID); err != nil {
		return err
	}
	if cert.Subject.CommonName != s.Name || len(cert.Subject.Organization) != 1 || cert.Subject.Organization[0] != s.Organization {
		return fmt.Errorf("%w: the certificate names CN=%q O=%q, the seal is CN=%q O=%q", ErrCertificateMismatch,
			cert.Subject.CommonName, cert.Subject.Organization, s.Name, s.Organization)
	}
	if cert.IsCA || cert.KeyUsage&smx509.KeyUsageDigitalSignature == 0 {
		return fmt.Errorf("%w: a seal certificate must allow digitalSignature and must not be a CA", ErrInvalidCertificate)
	}
	return ks.checkCertificateNow(ctx, cert)
}

// commitEnd applies a change that ends seal old (if not nil), then destroys
// the old key in the backend (the software backend's key is already gone
// with the handle the change erased). It reports whether the change was
// committed: a backend failure after the commit is still an error.
func (ks *Keystore) commitEnd(ctx context.Context, c Change, old *Seal) (committed bool, err error) {
	var oldKey KeyRecord
	if old != nil {
		if oldKey, err = ks.store.Key(ctx, old.KeyID); err != nil {
			return false, fmt.Errorf("key %s: %w", old.KeyID, err)
		}
	}
	if err := ks.store.Apply(ctx, c); err != nil {
		return false, err
	}
	for _, u := range c.Update {
		u.Version++
		ks.observe(u)
	}
	if old != nil && oldKey.Handle != nil {
		ref := KeyRef{ID: oldKey.ID, Owner: oldKey.Owner}
		if err := ks.backend.DestroyKey(context.WithoutCancel(ctx), ref, oldKey.Handle); err != nil {
			return true, fmt.Errorf("the change is committed, but destroying key %s in the backend failed: %w", oldKey.ID, err)
		}
	}
	return true, nil
}

// Activate puts an issued seal into use.
func (ks *Keystore) Activate(ctx context.Context, sealID string) (Seal, error) {
	return ks.transition(ctx, sealID, "activate", StateActive, "", func(s *Seal, _ time.Time) {}, StateIssued)
}

// Suspend suspends an active seal (挂失): it stops signing at once, on
// every replica that shares the store (the store fences the ledger, see
// Change), and the next CRL lists its certificate as on hold from the
// returned SuspendedAt: a whole second after every sealing the fence let
// through.
func (ks *Keystore) Suspend(ctx context.Context, sealID string) (Seal, error) {
	return ks.transition(ctx, sealID, "suspend", StateSuspended, "", func(s *Seal, now time.Time) {
		s.SuspendedAt = now
	}, StateActive)
}

// Resume makes a suspended seal active again.
func (ks *Keystore) Resume(ctx context.Context, sealID string) (Seal, error) {
	return ks.transition(ctx, sealID, "resume", StateActive, "", func(s *Seal, _ time.Time) {}, StateSuspended)
}

// Revoke revokes a seal (注销) for good, with a reason, and destroys its key.
// Any seal that has not ended may be revoked, including a pending one. The
// next CRL lists its certificate.
func (ks *Keystore) Revoke(ctx context.Context, sealID string, reason RevocationReason) (Seal, error) {
	if !reason.Valid() {
		return Seal{}, invalid("reason", "%s is not a reason a seal may be revoked with", reason)
	}
	return ks.transition(ctx, sealID, "revoke", StateRevoked, reason.String(), func(s *Seal, now time.Time) {
		s.EndedAt, s.RevocationReason = now, reason
	}, StatePending, StateIssued, StateActive, StateSuspended)
}

// transition changes a seal's state from one of from to to.
func (ks *Keystore) transition(ctx context.Context, sealID, op string, to State, detail string,
	mutate func(*Seal, time.Time), from ...State) (Seal, error) {
	if err := ks.checkOpen(); err != nil {
		return Seal{}, err
	}
	s, err := ks.Seal(ctx, sealID)
	if err != nil {
		return Seal{}, err
	}
	allowed := false
	for _, f := range from {
		allowed = allowed || s.State == f
	}
	if !allowed {
		return Seal{}, &StateError{Op: op, SealID: s.ID, State: s.State}
	}
	now := ks.now().UTC()
	next := s
	next.State = to
	mutate(&next, now)
	c := Change{
		Update: []Seal{next},
		Events: []Event{{SealID: s.ID, Action: op, From: s.State, To: to, At: now, Detail: detail}},
	}
	var ended *Seal
	if to.Final() {
		c.DestroyKeys = []string{s.KeyID}
		ended = &s
	}
	if _, err := ks.commitEnd(ctx, c, ended); err != nil {
		return Seal{}, fmt.Errorf("keystore: %s seal %s: %w", op, s.ID, err)
	}
	next.Version++
	if to == StateSuspended || to == StateRevoked {
		// The store fixed the revocation time under the ledger's lock
		// (Change): return the seal as it stands.
		if stored, err := ks.store.Seal(ctx, s.ID); err == nil && stored.Version == next.Version {
			return stored, nil
		}
	}
	return next, nil
}

// Rotate replaces an issued or active seal with a new key and certificate
// from the local CA, in one transaction: the old seal becomes rotated (its
// certificate stays available for verifying earlier documents, its key is
// destroyed) and the new one takes its state. Signatures already under way
// with the old key complete; later ones are refused with ErrSealRotated.
func (ks *Keystore) Rotate(ctx context.Context, sealID string) (Seal, error) {
	if err := ks.checkOpen(); err != nil {
		return Seal{}, err
	}
	old, err := ks.Seal(ctx, sealID)
	if err != nil {
		return Seal{}, err
	}
	if old.State != StateIssued && old.State != StateActive {
		return Seal{}, &StateError{Op: "rotate", SealID: old.ID, State: old.State}
	}
	req := SealRequest{TownshipCode: old.TownshipCode, Organization: old.Organization, Name: old.Name}
	s, key, err := ks.newCertifiedSeal(ctx, req, old.State, old.ID)
	if err != nil {
		return Seal{}, err
	}
	ended := old
	ended.State, ended.EndedAt, ended.ReplacedBy = StateRotated, s.CreatedAt, s.ID
	c := Change{
		Update:      []Seal{ended},
		DestroyKeys: []string{old.KeyID},
		Keys:        []KeyRecord{key},
		Insert:      []Seal{s},
		Events: []Event{
			{SealID: old.ID, Action: "rotate", From: old.State, To: StateRotated, At: s.CreatedAt, Detail: s.ID},
			{SealID: s.ID, Action: "rotate", To: s.State, At: s.CreatedAt, Detail: old.ID},
		},
	}
	if committed, err := ks.commitEnd(ctx, c, &old); err != nil {
		if !committed {
			ks.discardKey(ctx, KeyRef{ID: key.ID, Owner: key.Owner}, key.Handle)
		}
		return Seal{}, fmt.Errorf("keystore: rotate seal %s: %w", old.ID, err)
	}
	return s, nil
}
