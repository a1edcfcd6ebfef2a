package keystore

import (
	"context"
	"time"
)

// Store persists the keystore: keys (as opaque handles), the CA, seals, their
// events and the CRLs. Every method is one transaction: it either commits all
// of its writes or none. Implementations must be safe for concurrent use by
// several goroutines and several processes sharing the same database.
//
// The package storetest holds the conformance tests every implementation
// must pass. Errors are the package's sentinels: ErrNotFound, ErrNoSeal,
// ErrNoCA, ErrCAExists, ErrLiveSealExists, ErrPendingSealExists, ErrConflict,
// ErrInvalidTransition, ErrWrongKEK.
type Store interface {
	// ClaimBackend records id as the key backend that protects the store's
	// keys, unless one is recorded already. It returns the recorded id. The
	// Keystore refuses to open with any other backend (ErrWrongKEK).
	ClaimBackend(ctx context.Context, id string) (string, error)

	// CA returns the CA record, or ErrNoCA.
	CA(ctx context.Context) (CARecord, error)
	// PutCA stores the CA and, if key is not nil, its key. There is one CA:
	// a second PutCA fails with ErrCAExists. A key whose BackendID is not
	// the recorded one fails with ErrWrongKEK.
	PutCA(ctx context.Context, ca CARecord, key *KeyRecord) error

	// Key returns a key record, or ErrNotFound.
	Key(ctx context.Context, id string) (KeyRecord, error)
	// Seal returns a seal, or ErrNotFound.
	Seal(ctx context.Context, id string) (Seal, error)
	// LiveSeal returns the township's issued, active or suspended seal, or
	// ErrNoSeal.
	LiveSeal(ctx context.Context, townshipCode string) (Seal, error)
	// Seals returns the seals that match f, oldest first.
	Seals(ctx context.Context, f SealFilter) ([]Seal, error)
	// Events returns the events of one seal in the order they happened.
	Events(ctx context.Context, sealID string) ([]Event, error)

	// Apply makes one lifecycle change atomically; see Change.
	Apply(ctx context.Context, c Change) error

	// RewrapKeys replaces the handle of every key that is not destroyed with
	// rewrap's result and records to as the backend id, in one transaction.
	// If the recorded backend id is not from it fails with ErrWrongKEK; if
	// rewrap fails for any key nothing changes. rewrap must not call the
	// Store.
	RewrapKeys(ctx context.Context, from, to string, rewrap func(KeyRecord) ([]byte, error)) (int, error)

	// PublishCRL, in one transaction, passes build the next CRL number
	// (1, 2, …) and the seals to list (suspended or revoked, with a
	// certificate), and stores the CRL that build returns. If build fails
	// nothing is stored. build must not call the Store.
	PublishCRL(ctx context.Context, build func(number int64, listed []Seal) (CRLRecord, error)) (CRLRecord, error)
	// LatestCRL returns the CRL with the highest number, or ErrNotFound.
	LatestCRL(ctx context.Context) (CRLRecord, error)

	// LedgerKeys returns the keys that sign ledger checkpoints, oldest
	// first: at most one current, at most one pending, and those retired.
	LedgerKeys(ctx context.Context) ([]LedgerKeyRecord, error)
	// ApplyLedgerKey makes one change to the ledger-signing keys
	// atomically; see LedgerKeyChange.
	ApplyLedgerKey(ctx context.Context, c LedgerKeyChange) error
}

// Change is one lifecycle change, applied by Store.Apply in one transaction
// in this order: Update, DestroyKeys, Keys, Insert, Events.
//
// The store refuses the whole change, and writes nothing, if
//   - an updated seal's Version is not the stored one (ErrConflict); the
//     stored Version becomes Version+1;
//   - an update changes State in a way ValidTransition forbids
//     (ErrInvalidTransition), or changes ID, TownshipCode, Organization,
//     Name, KeyID, CreatedAt or Replaces, or a Certificate already set
//     (ErrInvalidTransition);
//   - the township would have two live seals (ErrLiveSealExists) or two
//     pending seals (ErrPendingSealExists). Updates run in order, so a
//     rotation lists the old seal, which leaves the live states, first.
//   - an updated or destroyed id does not exist (ErrNotFound);
//   - a new key's BackendID is not the recorded backend id (ErrWrongKEK).
//
// An update that takes a seal into the suspended or revoked state fences
// its sealing: where the ledger shares the store's database, the store
// takes the ledger's lock in the same transaction, so that no sealing with
// the seal commits after the change, and it stores as SuspendedAt (or
// EndedAt) the revocation time: the first whole second strictly after the
// update's time and after the latest sealing the ledger holds with the
// seal. Read the seal back for the time stored.
type Change struct {
	Update      []Seal
	DestroyKeys []string // erase these keys' handles
	Keys        []KeyRecord
	Insert      []Seal // new seals; their Version is stored as 1
	Events      []Event
}

// SealFilter selects seals. Zero fields match everything.
type SealFilter struct {
	TownshipCode string
	States       []State
}

// KeyRecord is a key as the store keeps it.
type KeyRecord struct {
	ID string
	// Owner is "ca" or "seal:<seal id>". The software backend binds ID and
	// Owner into the key's ciphertext, so a handle moved to another row does
	// not decrypt.
	Owner   string
	Backend string // KeyBackend.Name() of the backend that holds the key
	// BackendID is KeyBackend.ID() when the handle was made (the KEK id for
	// the software backend). The store refuses to add a key whose BackendID
	// is not the recorded one (ErrWrongKEK), so a process still holding an
	// old KEK cannot add keys after the KEK was rotated; RewrapKeys sets it.
	BackendID string
	PublicKey []byte // PKIX DER
	// Handle is opaque to the store: an encrypted envelope for the software
	// backend, an object id for a hardware module. Nil once destroyed.
	Handle      []byte
	CreatedAt   time.Time
	DestroyedAt time.Time
}

// CARecord is the county seal CA as stored.
type CARecord struct {
	// KeyID is the CA key, or "" when the key is held by an external CA.
	KeyID string
	// Certificate is the DER certificate of the CA that issues seal
	// certificates and signs the CRL.
	Certificate []byte
	// Chain holds the DER certificates above Certificate, up to and including
	// the self-signed root; it is empty when Certificate is the root.
	Chain     [][]byte
	CreatedAt time.Time
}

// CRLRecord is one published CRL.
type CRLRecord struct {
	Number     int64
	ThisUpdate time.Time
	NextUpdate time.Time
	DER        []byte
}

// LedgerKeyRecord is a key that signs ledger checkpoints, as stored. Its key
// is a KeyRecord whose Owner is "ledger:<ID>", so KEK rotation rewraps it
// like any other key.
type LedgerKeyRecord struct {
	ID    string
	KeyID string
	State LedgerKeyState
	// Certificate is the DER certificate the CA issued for the key; nil
	// while pending.
	Certificate []byte
	CreatedAt   time.Time
	RetiredAt   time.Time // when a newer key replaced it; zero until then
}

// LedgerKeyChange is one change to the ledger-signing keys, applied by
// Store.ApplyLedgerKey in one transaction in this order: Retire, Key, Put.
//
// The store refuses the whole change, and writes nothing, if
//   - Retire names a ledger key that is not current (ErrConflict: another
//     process replaced it first), or none at all (ErrNotFound);
//   - Put would leave two current or two pending ledger keys
//     (ErrLedgerKeyExists);
//   - Put has the ID of a stored record and is not that pending record
//     made current with a certificate, its KeyID and CreatedAt unchanged
//     (ErrInvalidTransition);
//   - Retire is set but Put is not current (ErrInvalidRequest);
//   - Key's BackendID is not the recorded backend id (ErrWrongKEK).
type LedgerKeyChange struct {
	// Retire is the current ledger key that Put replaces ("" if none). It
	// becomes retired at At and its key's handle is erased.
	Retire string
	At     time.Time
	// Key is Put's key when Put is a new record; nil otherwise.
	Key *KeyRecord
	// Put is a new record (pending or current), or a stored pending record
	// now current with its certificate.
	Put LedgerKeyRecord
}
