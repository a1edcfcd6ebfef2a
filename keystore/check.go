package keystore

import (
	"context"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/smx509"
)

// Check verifies the stored keystore against its rules and returns every
// problem it finds, joined (nil if none). Run it after restoring a backup or
// after a crash. It checks that:
//   - each township has at most one live and at most one pending seal;
//   - each seal's events lead, change by change, to its state;
//   - each seal's certificate (if any) is for its key, and each seal that has
//     not ended has a key the backend opens and that matches;
//   - each ended seal's key is destroyed, and each rotated seal names the
//     seal that replaced it, which names it back;
//   - the CA key, if held, opens and matches the CA certificate;
//   - there is at most one current and one pending ledger-signing key; the
//     current one has a ledger certificate and, like the pending one, a key
//     the backend opens and that matches; retired ones' keys are destroyed.
//
// Check decrypts keys but caches none of them.
func (ks *Keystore) Check(ctx context.Context) error {
	if err := ks.checkOpen(); err != nil {
		return err
	}
	var errs []error
	fail := func(err error) { errs = append(errs, err) }

	rec, err := ks.store.CA(ctx)
	switch {
	case errors.Is(err, ErrNoCA):
	case err != nil:
		return fmt.Errorf("keystore: check: %w", err)
	case rec.KeyID != "":
		cert, err := smx509.ParseCertificate(rec.Certificate)
		if err != nil {
			fail(fmt.Errorf("%w: CA: %v", ErrInvalidCertificate, err))
		} else if _, err := ks.loadSigner(ctx, rec.KeyID, caOwner, cert); err != nil {
			fail(fmt.Errorf("keystore: CA: %w", err))
		}
	}

	seals, err := ks.store.Seals(ctx, SealFilter{})
	if err != nil {
		return fmt.Errorf("keystore: check: %w", err)
	}
	byID := make(map[string]Seal, len(seals))
	live, pending := map[string]string{}, map[string]string{}
	for _, s := range seals {
		byID[s.ID] = s
		count := live
		if s.State == StatePending {
			count = pending
		} else if !s.State.Live() {
			continue
		}
		if other, dup := count[s.TownshipCode]; dup {
			fail(fmt.Errorf("%w: township %s has seals %s and %s", ErrLiveSealExists, s.TownshipCode, other, s.ID))
		}
		count[s.TownshipCode] = s.ID
	}
	for _, s := range seals {
		if err := ks.checkSeal(ctx, s, byID); err != nil {
			fail(err)
		}
	}
	ledger, err := ks.store.LedgerKeys(ctx)
	if err != nil {
		return fmt.Errorf("keystore: check: %w", err)
	}
	count := map[LedgerKeyState]string{}
	for _, r := range ledger {
		if other, dup := count[r.State]; dup && r.State != LedgerKeyRetired {
			fail(fmt.Errorf("%w: ledger keys %s and %s are both %s", ErrLedgerKeyExists, other, r.ID, r.State))
		}
		count[r.State] = r.ID
		if err := ks.checkLedgerKey(ctx, r); err != nil {
			fail(err)
		}
	}
	return errors.Join(errs...)
}

func (ks *Keystore) checkLedgerKey(ctx context.Context, r LedgerKeyRecord) error {
	var cert *smx509.Certificate
	if r.Certificate != nil {
		var err error
		if cert, err = smx509.ParseCertificate(r.Certificate); err != nil {
			return fmt.Errorf("%w: ledger key %s: %v", ErrInvalidCertificate, r.ID, err)
		}
		if !IsLedgerCertificate(cert) {
			return fmt.Errorf("%w: ledger key %s: the certificate is not a ledger certificate", ErrInvalidCertificate, r.ID)
		}
	}
	switch r.State {
	case LedgerKeyRetired:
		key, err := ks.store.Key(ctx, r.KeyID)
		if err != nil {
			return fmt.Errorf("keystore: ledger key %s: key %s: %w", r.ID, r.KeyID, err)
		}
		if key.Handle != nil {
			return fmt.Errorf("keystore: ledger key %s is retired but its key %s is not destroyed", r.ID, key.ID)
		}
		return nil
	case LedgerKeyCurrent:
		if cert == nil {
			return fmt.Errorf("keystore: ledger key %s is current without a certificate", r.ID)
		}
	case LedgerKeyPending:
	default:
		return fmt.Errorf("keystore: ledger key %s has unknown state %q", r.ID, r.State)
	}
	if _, err := ks.loadSigner(ctx, r.KeyID, ledgerOwner(r.ID), cert); err != nil {
		return fmt.Errorf("keystore: ledger key %s: %w", r.ID, err)
	}
	return nil
}

func (ks *Keystore) checkSeal(ctx context.Context, s Seal, byID map[string]Seal) error {
	if !s.State.Valid() {
		return fmt.Errorf("keystore: seal %s has unknown state %q", s.ID, s.State)
	}
	events, err := ks.store.Events(ctx, s.ID)
	if err != nil {
		return fmt.Errorf("keystore: seal %s: events: %w", s.ID, err)
	}
	at := State("")
	for _, e := range events {
		if e.From != at || (at != "" && !ValidTransition(e.From, e.To)) {
			return fmt.Errorf("keystore: seal %s: event %d (%s) goes %q -> %q, but the seal was %q",
				s.ID, e.Seq, e.Action, e.From, e.To, at)
		}
		at = e.To
	}
	if at != s.State {
		return fmt.Errorf("keystore: seal %s is %s, but its events end at %q", s.ID, s.State, at)
	}

	var cert *smx509.Certificate
	if s.Certificate != nil {
		if cert, err = smx509.ParseCertificate(s.Certificate); err != nil {
			return fmt.Errorf("%w: seal %s: %v", ErrInvalidCertificate, s.ID, err)
		}
	} else if s.State != StatePending && s.State != StateRevoked {
		return fmt.Errorf("keystore: seal %s is %s without a certificate", s.ID, s.State)
	}
	key, err := ks.store.Key(ctx, s.KeyID)
	if err != nil {
		return fmt.Errorf("keystore: seal %s: key %s: %w", s.ID, s.KeyID, err)
	}
	if s.State.Final() {
		if key.Handle != nil {
			return fmt.Errorf("keystore: seal %s is %s but its key %s is not destroyed", s.ID, s.State, key.ID)
		}
	} else if _, err := ks.loadSigner(ctx, s.KeyID, sealOwner(s.ID), cert); err != nil {
		return fmt.Errorf("keystore: seal %s: %w", s.ID, err)
	}
	if s.State == StateRotated {
		if next, ok := byID[s.ReplacedBy]; !ok || next.Replaces != s.ID {
			return fmt.Errorf("keystore: rotated seal %s names %q as its replacement, which does not name it back", s.ID, s.ReplacedBy)
		}
	}
	return nil
}
