package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ronganxian/eseal/keystore"
)

const ledgerKeyColumns = "id, key_id, state, certificate, created_at, retired_at"

func scanLedgerKey(row scanner) (keystore.LedgerKeyRecord, error) {
	var (
		r                keystore.LedgerKeyRecord
		state            string
		created, retired sql.NullTime
	)
	if err := row.Scan(&r.ID, &r.KeyID, &state, &r.Certificate, &created, &retired); err != nil {
		return r, err
	}
	r.State = keystore.LedgerKeyState(state)
	r.CreatedAt, r.RetiredAt = fromNull(created), fromNull(retired)
	return r, nil
}

// LedgerKeys implements keystore.Store.
func (s *KeystoreStore) LedgerKeys(ctx context.Context) ([]keystore.LedgerKeyRecord, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+ledgerKeyColumns+" FROM keystore_ledger_keys ORDER BY created_at, pos")
	if err != nil {
		return nil, fmt.Errorf("postgres: ledger keys: %w", err)
	}
	defer rows.Close()
	var out []keystore.LedgerKeyRecord
	for rows.Next() {
		r, err := scanLedgerKey(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: ledger keys: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: ledger keys: %w", err)
	}
	return out, nil
}

// ApplyLedgerKey implements keystore.Store. Under the keystore lock its
// checks are exact; the unique indexes and the trigger stand behind them.
func (s *KeystoreStore) ApplyLedgerKey(ctx context.Context, c keystore.LedgerKeyChange) error {
	put := c.Put
	if put.State != keystore.LedgerKeyPending && put.State != keystore.LedgerKeyCurrent {
		return fmt.Errorf("postgres: ledger key %s: %w: state %q", put.ID, keystore.ErrInvalidRequest, put.State)
	}
	if put.State == keystore.LedgerKeyCurrent && put.Certificate == nil {
		return fmt.Errorf("postgres: ledger key %s: %w: a current key needs its certificate", put.ID, keystore.ErrInvalidRequest)
	}
	if c.Retire != "" && put.State != keystore.LedgerKeyCurrent {
		return fmt.Errorf("postgres: ledger key %s: %w: only a current key replaces %s", put.ID, keystore.ErrInvalidRequest, c.Retire)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
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
		stored, err := scanLedgerKey(tx.QueryRowContext(ctx,
			"SELECT "+ledgerKeyColumns+" FROM keystore_ledger_keys WHERE id = $1 FOR UPDATE", put.ID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if err := ledgerKeyHolds(ctx, tx, put.State, put.ID); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, "INSERT INTO keystore_ledger_keys ("+ledgerKeyColumns+") VALUES ($1, $2, $3, $4, $5, NULL)",
				put.ID, put.KeyID, string(put.State), put.Certificate, ts(put.CreatedAt))
			if err != nil {
				return fmt.Errorf("postgres: add ledger key %s: %w", put.ID, mapKeystoreError(err))
			}
			return nil
		case err != nil:
			return fmt.Errorf("postgres: ledger key %s: %w", put.ID, err)
		}
		if c.Key != nil || stored.State != keystore.LedgerKeyPending || put.State != keystore.LedgerKeyCurrent ||
			put.KeyID != stored.KeyID || !put.CreatedAt.Truncate(time.Microsecond).Equal(stored.CreatedAt) {
			return fmt.Errorf("%w: ledger key %s is %s; only a pending key becomes current, keeping its key",
				keystore.ErrInvalidTransition, put.ID, stored.State)
		}
		if err := ledgerKeyHolds(ctx, tx, put.State, put.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE keystore_ledger_keys SET state = $1, certificate = $2 WHERE id = $3",
			string(put.State), put.Certificate, put.ID)
		if err != nil {
			return fmt.Errorf("postgres: ledger key %s: %w", put.ID, mapKeystoreError(err))
		}
		return nil
	})
}

// retireLedgerKey retires the current ledger key id and erases its key's
// handle.
func retireLedgerKey(ctx context.Context, tx *sql.Tx, id string, at time.Time) error {
	var state, keyID string
	err := tx.QueryRowContext(ctx, "SELECT state, key_id FROM keystore_ledger_keys WHERE id = $1 FOR UPDATE", id).Scan(&state, &keyID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("ledger key %s: %w", id, keystore.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: ledger key %s: %w", id, err)
	}
	if keystore.LedgerKeyState(state) != keystore.LedgerKeyCurrent {
		return fmt.Errorf("%w: ledger key %s is %s, no longer current", keystore.ErrConflict, id, state)
	}
	if at.IsZero() {
		at = time.Now()
	}
	if _, err := tx.ExecContext(ctx, "UPDATE keystore_ledger_keys SET state = 'retired', retired_at = $1 WHERE id = $2", ts(at), id); err != nil {
		return fmt.Errorf("postgres: retire ledger key %s: %w", id, mapKeystoreError(err))
	}
	return destroyKey(ctx, tx, keyID, at)
}

// ledgerKeyHolds fails with ErrLedgerKeyExists if another ledger key is in
// state.
func ledgerKeyHolds(ctx context.Context, tx *sql.Tx, state keystore.LedgerKeyState, exceptID string) error {
	var other string
	err := tx.QueryRowContext(ctx, "SELECT id FROM keystore_ledger_keys WHERE state = $1 AND id <> $2", string(state), exceptID).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("postgres: ledger keys: %w", err)
	}
	return fmt.Errorf("%w: ledger key %s is %s", keystore.ErrLedgerKeyExists, other, state)
}
