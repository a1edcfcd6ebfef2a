package keystore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Default validity periods, used when Config leaves them zero.
const (
	DefaultSealValidity = 3 * 365 * 24 * time.Hour
	DefaultCAValidity   = 20 * 365 * 24 * time.Hour
	DefaultCRLValidity  = 7 * 24 * time.Hour
)

// Config configures a Keystore.
type Config struct {
	Store   Store      // required
	Backend KeyBackend // required; e.g. NewSoftwareBackend(kek)

	// SealValidity is how long a seal certificate is valid
	// (DefaultSealValidity if zero). It never extends past the CA's own
	// certificate.
	SealValidity time.Duration
	// CRLValidity is the gap between a CRL's thisUpdate and nextUpdate
	// (DefaultCRLValidity if zero).
	CRLValidity time.Duration
	// CRLDistributionPoints are URLs written into seal certificates.
	CRLDistributionPoints []string

	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time
}

// Keystore is the custodian of the county CA and the township seals. It is
// safe for concurrent use; see the package documentation.
type Keystore struct {
	store   Store
	backend KeyBackend
	cfg     Config
	now     func() time.Time

	seals  sync.Map // seal id -> *sealEntry: decrypted signers
	ca     atomic.Pointer[caEntry]
	caLoad sync.Mutex                  // serialises loading the CA, not its use
	ledger atomic.Pointer[ledgerEntry] // the decrypted ledger-signing key
	maker  makerCache                  // the decrypted seal-maker key (sealmaker.go)
	closed atomic.Bool
}

// Open returns a Keystore over cfg.Store. The store records the backend's
// ID (the KEK id) the first time; afterwards Open fails with ErrWrongKEK if
// the configured backend has another ID. A failed Open changes nothing.
func Open(ctx context.Context, cfg Config) (*Keystore, error) {
	if cfg.Store == nil {
		return nil, invalid("Config.Store", "must not be nil")
	}
	if cfg.Backend == nil {
		return nil, invalid("Config.Backend", "must not be nil")
	}
	if cfg.SealValidity < 0 || cfg.CRLValidity < 0 {
		return nil, invalid("Config", "validity periods must not be negative")
	}
	if cfg.SealValidity == 0 {
		cfg.SealValidity = DefaultSealValidity
	}
	if cfg.CRLValidity == 0 {
		cfg.CRLValidity = DefaultCRLValidity
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	id := cfg.Backend.ID()
	if id == "" {
		return nil, fmt.Errorf("%w: the backend has no ID (for the software backend: no KEK)", ErrInvalidKEK)
	}
	recorded, err := cfg.Store.ClaimBackend(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("keystore: open: %w", err)
	}
	if recorded != id {
		return nil, fmt.Errorf("%w: the store's keys are protected by %s, the configured backend is %s",
			ErrWrongKEK, recorded, id)
	}
	return &Keystore{store: cfg.Store, backend: cfg.Backend, cfg: cfg, now: now}, nil
}

// Close forgets every decrypted key. Signers handed out before refuse to sign
// afterwards (ErrClosed). Close does not close the Store.
func (ks *Keystore) Close() error {
	ks.closed.Store(true)
	ks.seals.Range(func(k, _ any) bool { ks.seals.Delete(k); return true })
	ks.ca.Store(nil)
	ks.ledger.Store(nil)
	return nil
}

func (ks *Keystore) checkOpen() error {
	if ks.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Seal returns the seal with the given id, or ErrNotFound.
func (ks *Keystore) Seal(ctx context.Context, id string) (Seal, error) {
	s, err := ks.store.Seal(ctx, id)
	if err != nil {
		return Seal{}, fmt.Errorf("keystore: seal %s: %w", id, err)
	}
	return s, nil
}

// LiveSeal returns the township's issued, active or suspended seal, or
// ErrNoSeal.
func (ks *Keystore) LiveSeal(ctx context.Context, townshipCode string) (Seal, error) {
	s, err := ks.store.LiveSeal(ctx, townshipCode)
	if err != nil {
		return Seal{}, fmt.Errorf("keystore: township %s: %w", townshipCode, err)
	}
	return s, nil
}

// Seals returns every seal the township ever had, oldest first, including
// rotated and revoked ones, whose certificates verify earlier documents.
func (ks *Keystore) Seals(ctx context.Context, townshipCode string) ([]Seal, error) {
	ss, err := ks.store.Seals(ctx, SealFilter{TownshipCode: townshipCode})
	if err != nil {
		return nil, fmt.Errorf("keystore: seals of township %s: %w", townshipCode, err)
	}
	return ss, nil
}

// History returns the state changes of a seal in order.
func (ks *Keystore) History(ctx context.Context, sealID string) ([]Event, error) {
	ev, err := ks.store.Events(ctx, sealID)
	if err != nil {
		return nil, fmt.Errorf("keystore: history of seal %s: %w", sealID, err)
	}
	return ev, nil
}

// Signer returns the signer of the township's active seal, with its
// certificate and chain. It reads the seal's state from the Store on every
// call, so a seal suspended or revoked by another process is refused at once;
// the decrypted key itself is cached.
//
// It fails with ErrSealSuspended, ErrSealNotActive, ErrSealRevoked or
// ErrSealPending (as a *StateError) when the township's seal is in that
// state, ErrNoSeal when it never had one, and ErrCertificateExpired outside
// the certificate's validity.
func (ks *Keystore) Signer(ctx context.Context, townshipCode string) (*SealSigner, error) {
	s, signer, err := ks.TownshipSeal(ctx, townshipCode)
	if err != nil || signer != nil {
		return signer, err
	}
	return nil, ks.unusable(s)
}

// TownshipSeal returns the township's seal as one read of the Store finds
// it: its live seal, or when it has none, its latest seal (revoked, rotated
// or pending), so that a caller can say why it cannot sign. When that seal
// is active and its certificate valid now, it returns its signer too;
// otherwise the signer is nil and the error is nil. It fails with ErrNoSeal
// when the township never had a seal.
func (ks *Keystore) TownshipSeal(ctx context.Context, townshipCode string) (Seal, *SealSigner, error) {
	if err := ks.checkOpen(); err != nil {
		return Seal{}, nil, err
	}
	// A rotation between reading the live seal and loading its key leaves
	// the township with a new seal: read again rather than refuse.
	for attempt := 1; ; attempt++ {
		s, signer, err := ks.townshipSeal(ctx, townshipCode)
		if attempt < 3 && err == nil && signer == nil && s.State == StateRotated {
			continue
		}
		return s, signer, err
	}
}

func (ks *Keystore) townshipSeal(ctx context.Context, townshipCode string) (Seal, *SealSigner, error) {
	s, err := ks.store.LiveSeal(ctx, townshipCode)
	if errors.Is(err, ErrNoSeal) {
		all, err := ks.store.Seals(ctx, SealFilter{TownshipCode: townshipCode})
		if err != nil {
			return Seal{}, nil, fmt.Errorf("keystore: seals of township %s: %w", townshipCode, err)
		}
		if len(all) == 0 {
			return Seal{}, nil, fmt.Errorf("keystore: township %s: %w", townshipCode, ErrNoSeal)
		}
		return all[len(all)-1], nil, nil
	}
	if err != nil {
		return Seal{}, nil, fmt.Errorf("keystore: township %s: %w", townshipCode, err)
	}
	return ks.usableSeal(ctx, s)
}

// SealSigner returns the signer of the seal with the given id, which must be
// active; it fails like Signer.
func (ks *Keystore) SealSigner(ctx context.Context, sealID string) (*SealSigner, error) {
	if err := ks.checkOpen(); err != nil {
		return nil, err
	}
	s, err := ks.store.Seal(ctx, sealID)
	if err != nil {
		return nil, fmt.Errorf("keystore: seal %s: %w", sealID, err)
	}
	return ks.signerFor(ctx, s)
}

func (ks *Keystore) signerFor(ctx context.Context, s Seal) (*SealSigner, error) {
	s, signer, err := ks.usableSeal(ctx, s)
	if err != nil || signer != nil {
		return signer, err
	}
	return nil, ks.unusable(s)
}

// usableSeal returns s with its signer when s is active and its certificate
// valid now. Otherwise it returns the seal as last seen, without a signer
// and without an error: its state or validity says why.
func (ks *Keystore) usableSeal(ctx context.Context, s Seal) (Seal, *SealSigner, error) {
	ks.observe(s)
	if ks.unusable(s) != nil {
		return s, nil, nil
	}
	e, err := ks.entry(ctx, s)
	if errors.Is(err, ErrKeyDestroyed) {
		// The seal ended between our read and the key's: say how it ended.
		if now, err2 := ks.store.Seal(ctx, s.ID); err2 == nil && now.State != StateActive {
			ks.observe(now)
			return now, nil, nil
		}
	}
	if err != nil {
		return s, nil, err
	}
	// A local change committed after our read may already have moved the
	// entry on; the entry keeps the newest state it has seen.
	if st := e.status.Load(); st.state != StateActive {
		s.State = st.state
		return s, nil, nil
	}
	return s, &SealSigner{ks: ks, e: e, seal: s}, nil
}

// unusable says why s cannot sign now: a *StateError for a seal that is not
// active, ErrCertificateExpired outside its certificate's validity; nil
// when it can.
func (ks *Keystore) unusable(s Seal) error {
	if s.State != StateActive {
		return &StateError{Op: "sign", SealID: s.ID, State: s.State}
	}
	if now := ks.now(); now.Before(s.NotBefore) || now.After(s.NotAfter) {
		return fmt.Errorf("%w: seal %s is valid from %s to %s", ErrCertificateExpired, s.ID,
			s.NotBefore.Format(time.RFC3339), s.NotAfter.Format(time.RFC3339))
	}
	return nil
}
