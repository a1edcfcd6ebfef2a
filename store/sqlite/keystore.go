package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/store/sqlstore"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// KeystoreStore is the keystore's Store in SQLite: sqlstore.Keystore over
// SQLite's dialect (keystoreBackend). Each method is one transaction;
// writes take BEGIN IMMEDIATE and check their preconditions inside it, so
// the answers are exact even when several processes write.
type KeystoreStore struct {
	*sqlstore.Keystore
}

var _ keystore.Store = (*KeystoreStore)(nil)

// Keystore returns the keystore's view of the database.
func (db *DB) Keystore() *KeystoreStore { return db.ks }

// newKeystoreStore returns the keystore's store over db, with the reads on
// the signing path prepared.
func newKeystoreStore(ctx context.Context, db *DB) (*KeystoreStore, error) {
	k := sqlstore.NewKeystore(keystoreBackend{serviceBackend{db}})
	if err := k.Prepare(ctx); err != nil {
		k.Close()
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	return &KeystoreStore{k}, nil
}

func (s *KeystoreStore) close() error { return s.Keystore.Close() }

// keystoreBackend is SQLite's dialect for sqlstore.Keystore.
type keystoreBackend struct{ serviceBackend }

// LockKeystore has nothing to do: every write transaction begins
// IMMEDIATE, which already excludes every other writer.
func (keystoreBackend) LockKeystore(context.Context, *sql.Tx) error { return nil }

// ForUpdate is empty: SQLite has no row locks, and BEGIN IMMEDIATE already
// excludes every other writer.
func (keystoreBackend) ForUpdate() string { return "" }

// InsertionOrder is the rowid, which grows as rows are inserted.
func (keystoreBackend) InsertionOrder() string { return "rowid" }

// timeLayout is fixed-width UTC, so stored times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// EncodeTime stores t as text in timeLayout, to the nanosecond.
func (keystoreBackend) EncodeTime(t time.Time) any { return t.UTC().Format(timeLayout) }

// DecodeTime parses a time stored by EncodeTime.
func (keystoreBackend) DecodeTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case nil:
		return time.Time{}, nil
	case string:
		return time.Parse(timeLayout, v)
	case []byte:
		return time.Parse(timeLayout, string(v))
	}
	return time.Time{}, fmt.Errorf("sqlite: a stored time is %T, not text", v)
}

// KeystoreError turns SQLite constraint failures into the keystore's
// sentinels, by the messages of the constraints and the triggers'
// RAISE(ABORT, …). The ledger key table's messages name it, so they are
// matched first, whatever the error's type.
func (keystoreBackend) KeystoreError(err error, state keystore.State) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed: keystore_ledger_keys.state"):
		return fmt.Errorf("%w: %s", keystore.ErrLedgerKeyExists, msg)
	case strings.Contains(msg, "invalid ledger key"):
		return fmt.Errorf("%w: %s", keystore.ErrInvalidTransition, msg)
	}
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_CONSTRAINT {
		return err
	}
	msg = se.Error()
	switch {
	case strings.Contains(msg, "invalid seal state transition"):
		return fmt.Errorf("%w: %s", keystore.ErrInvalidTransition, msg)
	case strings.Contains(msg, "UNIQUE constraint failed: keystore_seals.township_code"):
		if state == keystore.StatePending {
			return fmt.Errorf("%w: %s", keystore.ErrPendingSealExists, msg)
		}
		return fmt.Errorf("%w: %s", keystore.ErrLiveSealExists, msg)
	case strings.Contains(msg, "UNIQUE constraint failed"), strings.Contains(msg, "PRIMARY KEY"):
		return fmt.Errorf("%w: %s", keystore.ErrConflict, msg)
	}
	return err
}
