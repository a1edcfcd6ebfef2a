package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ronganxian/eseal/keystore"
)

// The TSA's statements (keystore.TSAStore), on the tables of SQLite
// migration 8 and PostgreSQL migration 10.
const (
	tsaKeyColumns  = "id, key_id, certificate, created_at, retired_at"
	tsaKeysQuery   = "SELECT " + tsaKeyColumns + " FROM keystore_tsa_keys ORDER BY created_at, id"
	tsaCurrent     = "SELECT id, key_id FROM keystore_tsa_keys WHERE retired_at IS NULL"
	tsaRetire      = "UPDATE keystore_tsa_keys SET retired_at = ? WHERE id = ? AND retired_at IS NULL"
	tsaInsert      = "INSERT INTO keystore_tsa_keys (" + tsaKeyColumns + ") VALUES (?, ?, ?, ?, NULL)"
	tsaNextSerials = "UPDATE tsa_serial_blocks SET last = last + 1 WHERE singleton = 1 RETURNING last"
)

// The TSA's statements are not prepared through the statement caches:
// the first token comes while other requests hold the write pool's only
// connection in their transactions, and a cache preparing a statement
// then waits for that connection while holding the lock the transactions
// need for their own statements. They run as plain queries, in the
// transaction or on the read pool.

// tsaTxRow runs q in tx, unprepared.
func (k *Keystore) tsaTxRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	return tx.QueryRowContext(ctx, k.writes.rebind(q), args...)
}

// TSAKeys implements keystore.TSAStore.
func (k *Keystore) TSAKeys(ctx context.Context) ([]keystore.TSAKeyRecord, error) {
	rows, err := k.reads.db.QueryContext(ctx, k.reads.rebind(tsaKeysQuery))
	if err != nil {
		return nil, fmt.Errorf("keystore store: TSA keys: %w", err)
	}
	out, err := scanRows(rows, func(row scanner) (keystore.TSAKeyRecord, error) {
		var r keystore.TSAKeyRecord
		err := row.Scan(&r.ID, &r.KeyID, &r.Certificate, k.scanTime(&r.CreatedAt), k.scanTime(&r.RetiredAt))
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("keystore store: TSA keys: %w", err)
	}
	return out, nil
}

// PutTSAKey implements keystore.TSAStore, under the keystore lock.
func (k *Keystore) PutTSAKey(ctx context.Context, key keystore.KeyRecord, rec keystore.TSAKeyRecord, retire string, at time.Time) error {
	if rec.Certificate == nil || key.ID != rec.KeyID || key.Owner != "tsa:"+rec.ID {
		return fmt.Errorf("keystore store: TSA key %s: %w: it needs its certificate and its own key", rec.ID, keystore.ErrInvalidRequest)
	}
	return k.write(ctx, func(tx *sql.Tx) error {
		var curID, curKey string
		err := k.tsaTxRow(ctx, tx, tsaCurrent).Scan(&curID, &curKey)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			curID = ""
		case err != nil:
			return fmt.Errorf("keystore store: TSA keys: %w", err)
		}
		if curID != retire {
			return fmt.Errorf("%w: the current TSA key is %q, not %q", keystore.ErrConflict, curID, retire)
		}
		if curID != "" {
			if _, err := tx.ExecContext(ctx, k.writes.rebind(tsaRetire), k.encodeTime(at), curID); err != nil {
				return fmt.Errorf("keystore store: retire TSA key %s: %w", curID, err)
			}
			if err := k.destroyKey(ctx, tx, curKey, at); err != nil {
				return err
			}
		}
		if err := k.insertKey(ctx, tx, key); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, k.writes.rebind(tsaInsert), rec.ID, rec.KeyID, rec.Certificate, k.encodeTime(rec.CreatedAt)); err != nil {
			return fmt.Errorf("keystore store: add TSA key %s: %w", rec.ID, k.b.KeystoreError(err, ""))
		}
		return nil
	})
}

// NextTSASerialBlock implements keystore.TSAStore: the counter row is
// incremented under the keystore lock, so every process sharing the
// database gets a number of its own.
func (k *Keystore) NextTSASerialBlock(ctx context.Context) (int64, error) {
	var n int64
	err := k.write(ctx, func(tx *sql.Tx) error {
		return k.tsaTxRow(ctx, tx, tsaNextSerials).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("keystore store: TSA serial block: %w", err)
	}
	return n, nil
}
