package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ronganxian/eseal/keystore"
)

// PublishCRL implements keystore.Store. The keystore lock makes the number
// the next one, and the listed seals those committed before it.
func (k *Keystore) PublishCRL(ctx context.Context, build func(int64, []keystore.Seal) (keystore.CRLRecord, error)) (keystore.CRLRecord, error) {
	var rec keystore.CRLRecord
	err := k.write(ctx, func(tx *sql.Tx) error {
		var number int64
		if err := k.writes.txRow(ctx, tx, k.q.nextCRL).Scan(&number); err != nil {
			return fmt.Errorf("keystore store: CRL number: %w", err)
		}
		listed, err := k.querySeals(ctx, tx, keystore.SealFilter{States: []keystore.State{keystore.StateSuspended, keystore.StateRevoked}})
		if err != nil {
			return err
		}
		withCert := listed[:0]
		for _, seal := range listed {
			if seal.Certificate != nil {
				withCert = append(withCert, seal)
			}
		}
		if rec, err = build(number, withCert); err != nil {
			return err
		}
		rec.Number = number
		_, err = k.writes.txExec(ctx, tx, k.q.insertCRL,
			number, k.encodeTime(rec.ThisUpdate), k.encodeTime(rec.NextUpdate), rec.DER)
		if err != nil {
			return fmt.Errorf("keystore store: store CRL %d: %w", number, k.b.KeystoreError(err, ""))
		}
		return nil
	})
	if err != nil {
		return keystore.CRLRecord{}, err
	}
	return rec, nil
}

// LatestCRL implements keystore.Store.
func (k *Keystore) LatestCRL(ctx context.Context) (keystore.CRLRecord, error) {
	var rec keystore.CRLRecord
	err := k.reads.row(ctx, k.q.latestCRL).
		Scan(&rec.Number, k.scanTime(&rec.ThisUpdate), k.scanTime(&rec.NextUpdate), &rec.DER)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, fmt.Errorf("no CRL published: %w", keystore.ErrNotFound)
	}
	if err != nil {
		return rec, fmt.Errorf("keystore store: latest CRL: %w", err)
	}
	return rec, nil
}
