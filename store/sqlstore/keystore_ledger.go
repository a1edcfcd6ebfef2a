package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ronganxian/eseal/keystore"
)

// scanLedgerKey reads a row of ksLedgerKeyColumns.
func (k *Keystore) scanLedgerKey(row scanner) (keystore.LedgerKeyRecord, error) {
	var (
		r     keystore.LedgerKeyRecord
		state string
	)
	err := row.Scan(&r.ID, &r.KeyID, &state, &r.Certificate, k.scanTime(&r.CreatedAt), k.scanTime(&r.RetiredAt))
	r.State = keystore.LedgerKeyState(state)
	return r, err
}

// LedgerKeys implements keystore.Store.
func (k *Keystore) LedgerKeys(ctx context.Context) ([]keystore.LedgerKeyRecord, error) {
	rows, err := k.reads.rows(ctx, k.q.ledgerKeys)
	if err != nil {
		return nil, fmt.Errorf("keystore store: ledger keys: %w", err)
	}
	out, err := scanRows(rows, k.scanLedgerKey)
	if err != nil {
		return nil, fmt.Errorf("keystore store: ledger keys: %w", err)
	}
	return out, nil
}

// ApplyLedgerKey implements keystore.Store. Under the keystore lock its
// checks are exact; the unique indexes and triggers stand behind them.
func (k *Keystore) ApplyLedgerKey(ctx context.Context, c keystore.LedgerKeyChange) error {
	put := c.Put
	if put.State != keystore.LedgerKeyPending && put.State != keystore.LedgerKeyCurrent {
		return fmt.Errorf("keystore store: ledger key %s: %w: state %q", put.ID, keystore.ErrInvalidRequest, put.State)
	}
	if put.State == keystore.LedgerKeyCurrent && put.Certificate == nil {
		return fmt.Errorf("keystore store: ledger key %s: %w: a current key needs its certificate", put.ID, keystore.ErrInvalidRequest)
	}
	if c.Retire != "" && put.State != keystore.LedgerKeyCurrent {
		return fmt.Errorf("keystore store: ledger key %s: %w: only a current key replaces %s", put.ID, keystore.ErrInvalidRequest, c.Retire)
	}
	return k.write(ctx, func(tx *sql.Tx) error {
		if c.Retire != "" {
			if err := k.retireLedgerKey(ctx, tx, c.Retire, c.At); err != nil {
				return err
			}
		}
		if c.Key != nil {
			if err := k.insertKey(ctx, tx, *c.Key); err != nil {
				return err
			}
		}
		stored, err := k.scanLedgerKey(k.writes.txRow(ctx, tx, k.q.ledgerKey, put.ID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if err := k.ledgerKeyHolds(ctx, tx, put.State, put.ID); err != nil {
				return err
			}
			_, err = k.writes.txExec(ctx, tx, k.q.insertLedgerKey,
				put.ID, put.KeyID, string(put.State), put.Certificate, k.encodeTime(put.CreatedAt))
			if err != nil {
				return fmt.Errorf("keystore store: add ledger key %s: %w", put.ID, k.b.KeystoreError(err, ""))
			}
			return nil
		case err != nil:
			return fmt.Errorf("keystore store: ledger key %s: %w", put.ID, err)
		}
		// The creation time is compared as stored, at the database's
		// precision.
		created, err := k.stored(put.CreatedAt)
		if err != nil || c.Key != nil || stored.State != keystore.LedgerKeyPending || put.State != keystore.LedgerKeyCurrent ||
			put.KeyID != stored.KeyID || !created.Equal(stored.CreatedAt) {
			return fmt.Errorf("%w: ledger key %s is %s; only a pending key becomes current, keeping its key",
				keystore.ErrInvalidTransition, put.ID, stored.State)
		}
		if err := k.ledgerKeyHolds(ctx, tx, put.State, put.ID); err != nil {
			return err
		}
		_, err = k.writes.txExec(ctx, tx, k.q.makeLedgerKeyCurrent, string(put.State), put.Certificate, put.ID)
		if err != nil {
			return fmt.Errorf("keystore store: ledger key %s: %w", put.ID, k.b.KeystoreError(err, ""))
		}
		return nil
	})
}

// retireLedgerKey retires the current ledger key id and erases its key's
// handle.
func (k *Keystore) retireLedgerKey(ctx context.Context, tx *sql.Tx, id string, at time.Time) error {
	var state, keyID string
	err := k.writes.txRow(ctx, tx, k.q.ledgerKeyState, id).Scan(&state, &keyID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("ledger key %s: %w", id, keystore.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("keystore store: ledger key %s: %w", id, err)
	}
	if keystore.LedgerKeyState(state) != keystore.LedgerKeyCurrent {
		return fmt.Errorf("%w: ledger key %s is %s, no longer current", keystore.ErrConflict, id, state)
	}
	if at.IsZero() {
		at = time.Now()
	}
	if _, err := k.writes.txExec(ctx, tx, k.q.retireLedgerKey, k.encodeTime(at), id); err != nil {
		return fmt.Errorf("keystore store: retire ledger key %s: %w", id, k.b.KeystoreError(err, ""))
	}
	return k.destroyKey(ctx, tx, keyID, at)
}

// ledgerKeyHolds fails with ErrLedgerKeyExists if another ledger key is in
// state.
func (k *Keystore) ledgerKeyHolds(ctx context.Context, tx *sql.Tx, state keystore.LedgerKeyState, exceptID string) error {
	var other string
	err := k.writes.txRow(ctx, tx, k.q.otherLedgerKey, string(state), exceptID).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("keystore store: ledger keys: %w", err)
	}
	return fmt.Errorf("%w: ledger key %s is %s", keystore.ErrLedgerKeyExists, other, state)
}
