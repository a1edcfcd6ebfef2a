package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ronganxian/eseal/keystore"
)

// keystoreLedgerSchemaV1 holds the keys that sign ledger checkpoints (see
// keystore.LedgerSigner). Each row names its private key in keystore_keys,
// whose owner must be "ledger:<id>", so KEK rotation rewraps it with the
// others. The database keeps the rules:
//   - keystore_ledger_keys_one_current, _one_pending: at most one current and
//     one pending ledger key, so replicas that make one at once keep one;
//   - only pending -> current and current -> retired; a retired key, the
//     id, the key and the creation time never change, nor a certificate
//     once set; rows are never deleted.
const keystoreLedgerSchemaV1 = `
CREATE TABLE keystore_ledger_keys (
	id          TEXT PRIMARY KEY,
	key_id      TEXT NOT NULL UNIQUE REFERENCES keystore_keys (id),
	state       TEXT NOT NULL CHECK (state IN ('pending', 'current', 'retired')),
	certificate BLOB,
	created_at  TEXT NOT NULL,
	retired_at  TEXT,
	CHECK (certificate IS NOT NULL OR state = 'pending'),
	CHECK ((state = 'retired') = (retired_at IS NOT NULL))
) STRICT;

CREATE UNIQUE INDEX keystore_ledger_keys_one_current ON keystore_ledger_keys (state) WHERE state = 'current';
CREATE UNIQUE INDEX keystore_ledger_keys_one_pending ON keystore_ledger_keys (state) WHERE state = 'pending';

CREATE TRIGGER keystore_ledger_keys_owner BEFORE INSERT ON keystore_ledger_keys
WHEN (SELECT owner FROM keystore_keys WHERE id = NEW.key_id) IS NOT 'ledger:' || NEW.id
BEGIN SELECT RAISE(ABORT, 'keystore: invalid ledger key: its key belongs to another owner'); END;

CREATE TRIGGER keystore_ledger_keys_transition BEFORE UPDATE ON keystore_ledger_keys
WHEN OLD.state = 'retired'
  OR (NEW.state IS NOT OLD.state AND OLD.state || '>' || NEW.state NOT IN ('pending>current', 'current>retired'))
  OR NEW.id IS NOT OLD.id OR NEW.key_id IS NOT OLD.key_id OR NEW.created_at IS NOT OLD.created_at
  OR (OLD.certificate IS NOT NULL AND NEW.certificate IS NOT OLD.certificate)
BEGIN SELECT RAISE(ABORT, 'keystore: invalid ledger key transition'); END;

CREATE TRIGGER keystore_ledger_keys_no_delete BEFORE DELETE ON keystore_ledger_keys
BEGIN SELECT RAISE(ABORT, 'keystore: ledger keys are never deleted'); END;
`

const ledgerKeyColumns = "id, key_id, state, certificate, created_at, retired_at"

func scanLedgerKey(row scanner) (keystore.LedgerKeyRecord, error) {
	var (
		r                keystore.LedgerKeyRecord
		state            string
		created, retired sql.NullString
		err              error
	)
	if err = row.Scan(&r.ID, &r.KeyID, &state, &r.Certificate, &created, &retired); err != nil {
		return r, err
	}
	r.State = keystore.LedgerKeyState(state)
	if r.CreatedAt, err = parseTime(created); err != nil {
		return r, err
	}
	r.RetiredAt, err = parseTime(retired)
	return r, err
}

// LedgerKeys implements keystore.Store.
func (s *KeystoreStore) LedgerKeys(ctx context.Context) ([]keystore.LedgerKeyRecord, error) {
	rows, err := s.db.r.QueryContext(ctx, "SELECT "+ledgerKeyColumns+" FROM keystore_ledger_keys ORDER BY created_at, rowid")
	if err != nil {
		return nil, fmt.Errorf("sqlite: ledger keys: %w", err)
	}
	defer rows.Close()
	var out []keystore.LedgerKeyRecord
	for rows.Next() {
		r, err := scanLedgerKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: ledger keys: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: ledger keys: %w", err)
	}
	return out, nil
}

// ApplyLedgerKey implements keystore.Store. The write transaction (BEGIN
// IMMEDIATE) makes its checks exact; the indexes and triggers stand behind
// them.
func (s *KeystoreStore) ApplyLedgerKey(ctx context.Context, c keystore.LedgerKeyChange) error {
	put := c.Put
	if put.State != keystore.LedgerKeyPending && put.State != keystore.LedgerKeyCurrent {
		return fmt.Errorf("sqlite: ledger key %s: %w: state %q", put.ID, keystore.ErrInvalidRequest, put.State)
	}
	if put.State == keystore.LedgerKeyCurrent && put.Certificate == nil {
		return fmt.Errorf("sqlite: ledger key %s: %w: a current key needs its certificate", put.ID, keystore.ErrInvalidRequest)
	}
	if c.Retire != "" && put.State != keystore.LedgerKeyCurrent {
		return fmt.Errorf("sqlite: ledger key %s: %w: only a current key replaces %s", put.ID, keystore.ErrInvalidRequest, c.Retire)
	}
	return s.db.write(ctx, func(tx *sql.Tx) error {
		if c.Retire != "" {
			if err := retireLedgerKey(ctx, tx, c.Retire, c.At); err != nil {
				return err
			}
		}
		if c.Key != nil {
			if err := insertKey(ctx, tx, *c.Key); err != nil {
				return err
			}
		}
		stored, err := scanLedgerKey(tx.QueryRowContext(ctx, "SELECT "+ledgerKeyColumns+" FROM keystore_ledger_keys WHERE id = ?", put.ID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if err := ledgerKeyHolds(ctx, tx, put.State, put.ID); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, "INSERT INTO keystore_ledger_keys ("+ledgerKeyColumns+") VALUES (?, ?, ?, ?, ?, NULL)",
				put.ID, put.KeyID, string(put.State), put.Certificate, fmtTime(put.CreatedAt))
			if err != nil {
				return fmt.Errorf("sqlite: add ledger key %s: %w", put.ID, mapLedgerError(err))
			}
			return nil
		case err != nil:
			return fmt.Errorf("sqlite: ledger key %s: %w", put.ID, err)
		}
		if c.Key != nil || stored.State != keystore.LedgerKeyPending || put.State != keystore.LedgerKeyCurrent ||
			put.KeyID != stored.KeyID || !put.CreatedAt.Equal(stored.CreatedAt) {
			return fmt.Errorf("%w: ledger key %s is %s; only a pending key becomes current, keeping its key",
				keystore.ErrInvalidTransition, put.ID, stored.State)
		}
		if err := ledgerKeyHolds(ctx, tx, put.State, put.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE keystore_ledger_keys SET state = ?, certificate = ? WHERE id = ?",
			string(put.State), put.Certificate, put.ID)
		if err != nil {
			return fmt.Errorf("sqlite: ledger key %s: %w", put.ID, mapLedgerError(err))
		}
		return nil
	})
}

// retireLedgerKey retires the current ledger key id and erases its key's
// handle.
func retireLedgerKey(ctx context.Context, tx *sql.Tx, id string, at time.Time) error {
	var state, keyID string
	err := tx.QueryRowContext(ctx, "SELECT state, key_id FROM keystore_ledger_keys WHERE id = ?", id).Scan(&state, &keyID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("ledger key %s: %w", id, keystore.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: ledger key %s: %w", id, err)
	}
	if keystore.LedgerKeyState(state) != keystore.LedgerKeyCurrent {
		return fmt.Errorf("%w: ledger key %s is %s, no longer current", keystore.ErrConflict, id, state)
	}
	if at.IsZero() {
		at = time.Now()
	}
	if _, err := tx.ExecContext(ctx, "UPDATE keystore_ledger_keys SET state = 'retired', retired_at = ? WHERE id = ?", fmtTime(at), id); err != nil {
		return fmt.Errorf("sqlite: retire ledger key %s: %w", id, mapLedgerError(err))
	}
	if _, err := tx.ExecContext(ctx, "UPDATE keystore_keys SET handle = NULL, destroyed_at = ? WHERE id = ? AND handle IS NOT NULL",
		fmtTime(at), keyID); err != nil {
		return fmt.Errorf("sqlite: destroy key %s: %w", keyID, mapLedgerError(err))
	}
	return nil
}

// ledgerKeyHolds fails with ErrLedgerKeyExists if another ledger key is in
// state.
func ledgerKeyHolds(ctx context.Context, tx *sql.Tx, state keystore.LedgerKeyState, exceptID string) error {
	var other string
	err := tx.QueryRowContext(ctx, "SELECT id FROM keystore_ledger_keys WHERE state = ? AND id <> ?", string(state), exceptID).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("sqlite: ledger keys: %w", err)
	}
	return fmt.Errorf("%w: ledger key %s is %s", keystore.ErrLedgerKeyExists, other, state)
}

// mapLedgerError turns the ledger key table's constraint failures into the
// keystore's sentinels, and others as mapError does.
func mapLedgerError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed: keystore_ledger_keys.state"):
		return fmt.Errorf("%w: %s", keystore.ErrLedgerKeyExists, msg)
	case strings.Contains(msg, "invalid ledger key"):
		return fmt.Errorf("%w: %s", keystore.ErrInvalidTransition, msg)
	}
	return mapError(err, "")
}
