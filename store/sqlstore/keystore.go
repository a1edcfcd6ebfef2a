package sqlstore

import (
	"context"
	"database/sql"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ronganxian/eseal/keystore"
)

// Keystore is keystore.Store over a KeystoreBackend, once for every SQL
// database the keystore runs on.
//
// Each method is one transaction. Every write runs in the backend's write
// transaction and first takes the keystore lock (LockKeystore), so keystore
// writes from every process run one at a time and each write's checks (the
// township's live seal, the seal's version, the recorded backend, the next
// CRL number) are exact. Keystore writes are administrative, so
// serialising them costs nothing that matters; reads, and so signing, take
// no lock. Behind the checks, each schema's constraints and triggers refuse
// whatever would break the rules, even from a writer that skips the lock;
// KeystoreError names their refusals.
//
// Every constant query is a prepared statement: parsing SQL costs as much
// as running the reads on the signing path.
type Keystore struct {
	b             KeystoreBackend
	q             *keystoreQueries
	writeQueries  []string
	reads, writes *stmtCache
}

var _ keystore.Store = (*Keystore)(nil)

// NewKeystore returns the keystore's store over b. Its statements are
// prepared as they are first used; Close closes them.
func NewKeystore(b KeystoreBackend) *Keystore {
	q := newKeystoreQueries(b)
	return &Keystore{
		b:            b,
		q:            q,
		writeQueries: q.writes(),
		reads:        newStmtCache(b.Reader(), b.Rebind),
		writes:       newStmtCache(b.Writer(), b.Rebind),
	}
}

// Prepare prepares the reads on the signing path now rather than at their
// first use, so that a database without the keystore's tables fails here.
func (k *Keystore) Prepare(ctx context.Context) error {
	return k.reads.prepare(ctx, k.q.signingReads())
}

// Close closes the prepared statements. The backend stays open: its owner
// closes it.
func (k *Keystore) Close() error {
	k.reads.close()
	k.writes.close()
	return nil
}

// write runs fn in a write transaction that holds the keystore lock,
// committing if fn returns nil. A failure to begin, lock or commit (a
// deferred constraint) is mapped like any other refusal; fn maps its own.
func (k *Keystore) write(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := k.writes.prepare(ctx, k.writeQueries); err != nil {
		return fmt.Errorf("keystore store: %w", err)
	}
	var fnErr error
	err := k.b.Write(ctx, func(tx *sql.Tx) error {
		if err := k.b.LockKeystore(ctx, tx); err != nil {
			return fmt.Errorf("keystore store: lock: %w", err)
		}
		fnErr = fn(tx)
		return fnErr
	})
	if err != nil && fnErr == nil {
		return k.b.KeystoreError(err, "")
	}
	return err
}

// encodeTime returns t as stored: NULL when zero.
func (k *Keystore) encodeTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return k.b.EncodeTime(t)
}

// timeDest scans a time column into *t through the backend's DecodeTime.
type timeDest struct {
	b KeystoreBackend
	t *time.Time
}

func (d timeDest) Scan(src any) (err error) {
	*d.t, err = d.b.DecodeTime(src)
	return err
}

// scanTime returns a Scan destination that stores a time column in *t.
func (k *Keystore) scanTime(t *time.Time) timeDest { return timeDest{k.b, t} }

// stored returns t as it reads back after being stored, at the database's
// precision.
func (k *Keystore) stored(t time.Time) (time.Time, error) {
	return k.b.DecodeTime(k.encodeTime(t))
}

func fmtSerial(n *big.Int) any {
	if n == nil {
		return nil
	}
	return n.Text(16)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// splitDER splits concatenated DER values.
func splitDER(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(b, &v)
		if err != nil {
			return nil, err
		}
		out = append(out, v.FullBytes)
		b = rest
	}
	return out, nil
}

// ClaimBackend implements keystore.Store.
func (k *Keystore) ClaimBackend(ctx context.Context, id string) (string, error) {
	var recorded string
	// Most opens find the id recorded: read it without the write lock.
	err := k.reads.row(ctx, k.q.claimed, backendIDKey).Scan(&recorded)
	if err == nil {
		return recorded, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("keystore store: claim backend: %w", err)
	}
	err = k.write(ctx, func(tx *sql.Tx) error {
		err := k.writes.txRow(ctx, tx, k.q.backendID, backendIDKey).Scan(&recorded)
		if errors.Is(err, sql.ErrNoRows) {
			recorded = id
			_, err = k.writes.txExec(ctx, tx, k.q.insertMeta, backendIDKey, id)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("keystore store: claim backend: %w", err)
	}
	return recorded, nil
}

// checkBackend fails with ErrWrongKEK unless id is the recorded backend id.
func (k *Keystore) checkBackend(ctx context.Context, tx *sql.Tx, id string) error {
	var recorded string
	err := k.writes.txRow(ctx, tx, k.q.backendID, backendIDKey).Scan(&recorded)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: the store has no backend recorded", keystore.ErrWrongKEK)
	}
	if err != nil {
		return err
	}
	if recorded != id {
		return fmt.Errorf("%w: key made under %s, the store's keys are under %s", keystore.ErrWrongKEK, id, recorded)
	}
	return nil
}

// CA implements keystore.Store.
func (k *Keystore) CA(ctx context.Context) (keystore.CARecord, error) {
	var (
		rec   keystore.CARecord
		keyID sql.NullString
		chain []byte
	)
	err := k.reads.row(ctx, k.q.ca).Scan(&keyID, &rec.Certificate, &chain, k.scanTime(&rec.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return rec, keystore.ErrNoCA
	}
	if err != nil {
		return rec, fmt.Errorf("keystore store: CA: %w", err)
	}
	rec.KeyID = keyID.String
	if rec.Chain, err = splitDER(chain); err != nil {
		return rec, fmt.Errorf("keystore store: CA chain: %w", err)
	}
	return rec, nil
}

// PutCA implements keystore.Store.
func (k *Keystore) PutCA(ctx context.Context, ca keystore.CARecord, key *keystore.KeyRecord) error {
	return k.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := k.writes.txRow(ctx, tx, k.q.countCA).Scan(&n); err != nil {
			return fmt.Errorf("keystore store: put CA: %w", err)
		}
		if n > 0 {
			return keystore.ErrCAExists
		}
		keyID := ""
		if key != nil {
			if err := k.insertKey(ctx, tx, *key); err != nil {
				return err
			}
			keyID = key.ID
		}
		chain := []byte{}
		for _, c := range ca.Chain {
			chain = append(chain, c...)
		}
		_, err := k.writes.txExec(ctx, tx, k.q.insertCA, nullString(keyID), ca.Certificate, chain, k.encodeTime(ca.CreatedAt))
		if err != nil {
			return fmt.Errorf("keystore store: put CA: %w", k.b.KeystoreError(err, ""))
		}
		return nil
	})
}
