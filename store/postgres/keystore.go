package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/store/sqlstore"
)

// KeystoreStore is the keystore's Store in PostgreSQL, shared by every
// replica of the service: sqlstore.Keystore over PostgreSQL's dialect
// (keystoreBackend).
//
// Each method is one transaction. Every write first takes one
// transaction-level advisory lock (keystoreLock), so keystore writes from all
// replicas run one at a time, as they do in SQLite under BEGIN IMMEDIATE,
// and each write's checks (the township's live seal, the seal's version,
// the recorded backend, the next CRL number) are exact: at READ COMMITTED
// every statement after the lock sees every write committed before it.
// Keystore writes are administrative (issuing, suspending, rotating seals,
// publishing CRLs, rotating the KEK), so serialising them costs nothing that
// matters; reads, and so signing, take no lock. Behind the checks, the
// schema's unique indexes and triggers refuse whatever would break the
// rules, even from a writer that skips the lock.
type KeystoreStore struct {
	*sqlstore.Keystore
}

var _ keystore.Store = (*KeystoreStore)(nil)

// Keystore returns the keystore's view of the database. It shares the
// database's connections; closing the database closes it.
func (d *DB) Keystore() *KeystoreStore { return d.ks }

func newKeystoreStore(db *sql.DB) *KeystoreStore {
	return &KeystoreStore{sqlstore.NewKeystore(keystoreBackend{backend{db}})}
}

// keystoreBackend is PostgreSQL's dialect for sqlstore.Keystore.
type keystoreBackend struct{ backend }

// keystoreLock is the advisory lock key under which keystore writes run.
const keystoreLock = 0x65_73_65_61_6c_6b // "eseal" "k"

// LockKeystore takes the keystore's transaction-level advisory lock.
func (keystoreBackend) LockKeystore(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", keystoreLock)
	return err
}

// ForUpdate locks the rows a write transaction checks, so the checks hold
// even against a writer that skips the keystore lock.
func (keystoreBackend) ForUpdate() string { return " FOR UPDATE" }

// InsertionOrder is the identity column pos, which stands for SQLite's
// rowid.
func (keystoreBackend) InsertionOrder() string { return "pos" }

// EncodeTime stores t as timestamptz: UTC, to the microsecond.
func (keystoreBackend) EncodeTime(t time.Time) any { return t.UTC().Truncate(time.Microsecond) }

// DecodeTime returns a timestamptz in UTC.
func (keystoreBackend) DecodeTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time:
		return v.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("postgres: a stored time is %T, not a timestamp", v)
}

// The SQLSTATEs the schema's trigger functions raise.
const (
	codeInvalidTransition = "ES001"
	codeImmutable         = "ES002"
)

// KeystoreError is mapKeystoreError: the constraint names tell a second
// live seal from a second pending one, so state is not needed.
func (keystoreBackend) KeystoreError(err error, _ keystore.State) error { return mapKeystoreError(err) }

// mapKeystoreError turns PostgreSQL's refusals into the keystore's
// sentinels, by SQLSTATE and constraint name.
func mapKeystoreError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case codeInvalidTransition:
		return fmt.Errorf("%w: %s", keystore.ErrInvalidTransition, pe.Message)
	case codeImmutable:
		return fmt.Errorf("%w: %s", keystore.ErrInvalidRequest, pe.Message)
	case "23505": // unique_violation
		switch pe.ConstraintName {
		case "keystore_seals_one_live":
			return fmt.Errorf("%w: %s", keystore.ErrLiveSealExists, pe.Message)
		case "keystore_seals_one_pending":
			return fmt.Errorf("%w: %s", keystore.ErrPendingSealExists, pe.Message)
		case "keystore_ledger_keys_one_current", "keystore_ledger_keys_one_pending":
			return fmt.Errorf("%w: %s", keystore.ErrLedgerKeyExists, pe.Message)
		}
		return fmt.Errorf("%w: %s (%s)", keystore.ErrConflict, pe.Message, pe.ConstraintName)
	case "23503": // foreign_key_violation
		return fmt.Errorf("%w: %s (%s)", keystore.ErrNotFound, pe.Message, pe.ConstraintName)
	case "23514", "23502": // check_violation, not_null_violation
		return fmt.Errorf("%w: %s (%s)", keystore.ErrInvalidRequest, pe.Message, pe.ConstraintName)
	}
	return err
}
