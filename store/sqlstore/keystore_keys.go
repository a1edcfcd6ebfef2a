package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ronganxian/eseal/keystore"
)

// scanKey reads a row of ksKeyColumns.
func (k *Keystore) scanKey(row scanner) (keystore.KeyRecord, error) {
	var r keystore.KeyRecord
	err := row.Scan(&r.ID, &r.Owner, &r.Backend, &r.BackendID, &r.PublicKey, &r.Handle,
		k.scanTime(&r.CreatedAt), k.scanTime(&r.DestroyedAt))
	return r, err
}

// Key implements keystore.Store.
func (k *Keystore) Key(ctx context.Context, id string) (keystore.KeyRecord, error) {
	r, err := k.scanKey(k.reads.row(ctx, k.q.key, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("key %s: %w", id, keystore.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("keystore store: key %s: %w", id, err)
	}
	return r, nil
}

// insertKey adds a new key, made under the recorded backend.
func (k *Keystore) insertKey(ctx context.Context, tx *sql.Tx, r keystore.KeyRecord) error {
	if err := k.checkBackend(ctx, tx, r.BackendID); err != nil {
		return err
	}
	if r.Handle == nil {
		return fmt.Errorf("keystore store: key %s: %w: a new key must have a handle", r.ID, keystore.ErrInvalidRequest)
	}
	_, err := k.writes.txExec(ctx, tx, k.q.insertKey,
		r.ID, r.Owner, r.Backend, r.BackendID, r.PublicKey, r.Handle, k.encodeTime(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("keystore store: add key %s: %w", r.ID, k.b.KeystoreError(err, ""))
	}
	return nil
}

// destroyKey erases a key's handle; a key destroyed already stays as it is.
func (k *Keystore) destroyKey(ctx context.Context, tx *sql.Tx, id string, at time.Time) error {
	var handle []byte
	err := k.writes.txRow(ctx, tx, k.q.keyHandle, id).Scan(&handle)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("key %s: %w", id, keystore.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("keystore store: key %s: %w", id, err)
	}
	if handle == nil {
		return nil
	}
	if _, err := k.writes.txExec(ctx, tx, k.q.destroyKey, k.encodeTime(at), id); err != nil {
		return fmt.Errorf("keystore store: destroy key %s: %w", id, k.b.KeystoreError(err, ""))
	}
	return nil
}

// RewrapKeys implements keystore.Store.
func (k *Keystore) RewrapKeys(ctx context.Context, from, to string, rewrap func(keystore.KeyRecord) ([]byte, error)) (int, error) {
	n := 0
	err := k.write(ctx, func(tx *sql.Tx) error {
		if err := k.checkBackend(ctx, tx, from); err != nil {
			return err
		}
		keys, err := k.liveKeys(ctx, tx)
		if err != nil {
			return fmt.Errorf("keystore store: rewrap: %w", err)
		}
		for _, r := range keys {
			h, err := rewrap(r)
			if err != nil {
				return err
			}
			if h == nil {
				return fmt.Errorf("keystore store: rewrap key %s: %w: empty handle", r.ID, keystore.ErrInvalidRequest)
			}
			res, err := k.writes.txExec(ctx, tx, k.q.rewrapKey, h, to, r.ID)
			if err != nil {
				return fmt.Errorf("keystore store: rewrap key %s: %w", r.ID, k.b.KeystoreError(err, ""))
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return fmt.Errorf("%w: key %s was destroyed while it was rewrapped", keystore.ErrConflict, r.ID)
			}
		}
		if _, err := k.writes.txExec(ctx, tx, k.q.setBackendID, to, backendIDKey); err != nil {
			return fmt.Errorf("keystore store: rewrap: %w", err)
		}
		n = len(keys)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// liveKeys returns the keys that are not destroyed, by id.
func (k *Keystore) liveKeys(ctx context.Context, tx *sql.Tx) ([]keystore.KeyRecord, error) {
	rows, err := k.writes.txRows(ctx, tx, k.q.liveKeys)
	if err != nil {
		return nil, err
	}
	return scanRows(rows, k.scanKey)
}
