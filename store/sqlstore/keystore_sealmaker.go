package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ronganxian/eseal/keystore"
)

// The seal maker's statements (keystore.SealMakerStore), on the tables of
// SQLite migration 10 and PostgreSQL migration 12.
const (
	makerKeyColumns = "id, key_id, certificate, created_at, retired_at"
	makerKeysQuery  = "SELECT " + makerKeyColumns + " FROM keystore_maker_keys ORDER BY created_at, id"
	makerCurrent    = "SELECT id, key_id FROM keystore_maker_keys WHERE retired_at IS NULL"
	makerRetire     = "UPDATE keystore_maker_keys SET retired_at = ? WHERE id = ? AND retired_at IS NULL"
	makerInsert     = "INSERT INTO keystore_maker_keys (" + makerKeyColumns + ") VALUES (?, ?, ?, ?, NULL)"
	sesealColumns   = "seal_id, es_id, der, imported, created_at"
	sesealQuery     = "SELECT " + sesealColumns + " FROM keystore_seseals WHERE seal_id = ?"
	sesealKeep      = "INSERT INTO keystore_seseals (" + sesealColumns + ") VALUES (?, ?, ?, ?, ?) ON CONFLICT (seal_id) DO NOTHING"
	sesealReplace   = "INSERT INTO keystore_seseals (" + sesealColumns + ") VALUES (?, ?, ?, ?, ?) ON CONFLICT (seal_id) DO UPDATE SET " +
		"es_id = excluded.es_id, der = excluded.der, imported = excluded.imported, created_at = excluded.created_at"
)

var makerWrites = []string{makerCurrent, makerRetire, makerInsert, sesealKeep, sesealReplace, sesealQuery}

// MakerKeys implements keystore.SealMakerStore.
func (k *Keystore) MakerKeys(ctx context.Context) ([]keystore.MakerKeyRecord, error) {
	rows, err := k.reads.rows(ctx, makerKeysQuery)
	if err != nil {
		return nil, fmt.Errorf("keystore store: seal-maker keys: %w", err)
	}
	out, err := scanRows(rows, func(row scanner) (keystore.MakerKeyRecord, error) {
		var r keystore.MakerKeyRecord
		err := row.Scan(&r.ID, &r.KeyID, &r.Certificate, k.scanTime(&r.CreatedAt), k.scanTime(&r.RetiredAt))
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("keystore store: seal-maker keys: %w", err)
	}
	return out, nil
}

// PutMakerKey implements keystore.SealMakerStore, under the keystore lock.
func (k *Keystore) PutMakerKey(ctx context.Context, key keystore.KeyRecord, rec keystore.MakerKeyRecord, retire string, at time.Time) error {
	if rec.Certificate == nil || key.ID != rec.KeyID || key.Owner != "sealmaker:"+rec.ID {
		return fmt.Errorf("keystore store: seal-maker key %s: %w: it needs its certificate and its own key", rec.ID, keystore.ErrInvalidRequest)
	}
	if err := k.writes.prepare(ctx, makerWrites); err != nil {
		return fmt.Errorf("keystore store: %w", err)
	}
	return k.write(ctx, func(tx *sql.Tx) error {
		var curID, curKey string
		err := k.writes.txRow(ctx, tx, makerCurrent).Scan(&curID, &curKey)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			curID = ""
		case err != nil:
			return fmt.Errorf("keystore store: seal-maker keys: %w", err)
		}
		if curID != retire {
			return fmt.Errorf("%w: the current seal-maker key is %q, not %q", keystore.ErrConflict, curID, retire)
		}
		if curID != "" {
			if _, err := k.writes.txExec(ctx, tx, makerRetire, k.encodeTime(at), curID); err != nil {
				return fmt.Errorf("keystore store: retire seal-maker key %s: %w", curID, err)
			}
			if err := k.destroyKey(ctx, tx, curKey, at); err != nil {
				return err
			}
		}
		if err := k.insertKey(ctx, tx, key); err != nil {
			return err
		}
		if _, err := k.writes.txExec(ctx, tx, makerInsert, rec.ID, rec.KeyID, rec.Certificate, k.encodeTime(rec.CreatedAt)); err != nil {
			return fmt.Errorf("keystore store: add seal-maker key %s: %w", rec.ID, k.b.KeystoreError(err, ""))
		}
		return nil
	})
}

// SESeal implements keystore.SealMakerStore.
func (k *Keystore) SESeal(ctx context.Context, sealID string) (keystore.SESealRecord, error) {
	var r keystore.SESealRecord
	err := k.reads.row(ctx, sesealQuery, sealID).Scan(&r.SealID, &r.ESID, &r.DER, &r.Imported, k.scanTime(&r.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w: seal %s has no SESeal", keystore.ErrNotFound, sealID)
	}
	if err != nil {
		return r, fmt.Errorf("keystore store: SESeal of seal %s: %w", sealID, err)
	}
	return r, nil
}

// PutSESeal implements keystore.SealMakerStore, under the keystore lock.
func (k *Keystore) PutSESeal(ctx context.Context, rec keystore.SESealRecord, replace bool) (keystore.SESealRecord, error) {
	if err := k.writes.prepare(ctx, makerWrites); err != nil {
		return rec, fmt.Errorf("keystore store: %w", err)
	}
	stmt := sesealKeep
	if replace {
		stmt = sesealReplace
	}
	var out keystore.SESealRecord
	err := k.write(ctx, func(tx *sql.Tx) error {
		if _, err := k.writes.txExec(ctx, tx, stmt, rec.SealID, rec.ESID, rec.DER, rec.Imported, k.encodeTime(rec.CreatedAt)); err != nil {
			return fmt.Errorf("keystore store: SESeal of seal %s: %w", rec.SealID, k.b.KeystoreError(err, ""))
		}
		return k.writes.txRow(ctx, tx, sesealQuery, rec.SealID).Scan(&out.SealID, &out.ESID, &out.DER, &out.Imported, k.scanTime(&out.CreatedAt))
	})
	return out, err
}
