package sqlite

import (
	"context"
	"database/sql"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ronganxian/eseal/keystore"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// KeystoreStore is the keystore's Store in SQLite. Each method is one
// transaction; writes take BEGIN IMMEDIATE and check their preconditions
// inside it, so the answers are exact even when several processes write.
type KeystoreStore struct {
	db *DB
	// Prepared statements for the reads on the signing path: parsing SQL
	// costs as much as running it.
	liveSeal, seal, key *sql.Stmt
}

var _ keystore.Store = (*KeystoreStore)(nil)

// Keystore returns the keystore's view of the database.
func (db *DB) Keystore() *KeystoreStore { return db.ks }

func newKeystoreStore(ctx context.Context, db *DB) (*KeystoreStore, error) {
	s := &KeystoreStore{db: db}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.liveSeal, "SELECT " + sealColumns + " FROM keystore_seals WHERE township_code = ? AND state IN ('issued', 'active', 'suspended')"},
		{&s.seal, "SELECT " + sealColumns + " FROM keystore_seals WHERE id = ?"},
		{&s.key, "SELECT " + keyColumns + " FROM keystore_keys WHERE id = ?"},
	} {
		stmt, err := db.r.PrepareContext(ctx, p.sql)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
		*p.stmt = stmt
	}
	return s, nil
}

func (s *KeystoreStore) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.liveSeal, s.seal, s.key} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// timeLayout is fixed-width UTC, so stored times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return time.Parse(timeLayout, s.String)
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

const backendIDKey = "backend_id"

// ClaimBackend implements keystore.Store.
func (s *KeystoreStore) ClaimBackend(ctx context.Context, id string) (string, error) {
	var recorded string
	// Most opens find the id recorded: read it without taking the write lock.
	err := s.db.r.QueryRowContext(ctx, "SELECT value FROM keystore_meta WHERE name = ?", backendIDKey).Scan(&recorded)
	if err == nil {
		return recorded, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlite: claim backend: %w", err)
	}
	err = s.db.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT value FROM keystore_meta WHERE name = ?", backendIDKey).Scan(&recorded)
		if errors.Is(err, sql.ErrNoRows) {
			recorded = id
			_, err = tx.ExecContext(ctx, "INSERT INTO keystore_meta (name, value) VALUES (?, ?)", backendIDKey, id)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sqlite: claim backend: %w", err)
	}
	return recorded, nil
}

// checkBackend fails with ErrWrongKEK unless id is the recorded backend id.
func checkBackend(ctx context.Context, tx *sql.Tx, id string) error {
	var recorded string
	err := tx.QueryRowContext(ctx, "SELECT value FROM keystore_meta WHERE name = ?", backendIDKey).Scan(&recorded)
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
func (s *KeystoreStore) CA(ctx context.Context) (keystore.CARecord, error) {
	var (
		rec      keystore.CARecord
		keyID    sql.NullString
		chain    []byte
		created  sql.NullString
		chainErr error
	)
	err := s.db.r.QueryRowContext(ctx, "SELECT key_id, certificate, chain, created_at FROM keystore_ca").
		Scan(&keyID, &rec.Certificate, &chain, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, keystore.ErrNoCA
	}
	if err != nil {
		return rec, fmt.Errorf("sqlite: CA: %w", err)
	}
	rec.KeyID = keyID.String
	rec.Chain, chainErr = splitDER(chain)
	if chainErr != nil {
		return rec, fmt.Errorf("sqlite: CA chain: %w", chainErr)
	}
	if rec.CreatedAt, err = parseTime(created); err != nil {
		return rec, fmt.Errorf("sqlite: CA: %w", err)
	}
	return rec, nil
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

// PutCA implements keystore.Store.
func (s *KeystoreStore) PutCA(ctx context.Context, ca keystore.CARecord, key *keystore.KeyRecord) error {
	return s.db.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM keystore_ca").Scan(&n); err != nil {
			return fmt.Errorf("sqlite: put CA: %w", err)
		}
		if n > 0 {
			return keystore.ErrCAExists
		}
		if key != nil {
			if err := insertKey(ctx, tx, *key); err != nil {
				return err
			}
		}
		var chain []byte
		for _, c := range ca.Chain {
			chain = append(chain, c...)
		}
		if chain == nil {
			chain = []byte{}
		}
		keyID := ""
		if key != nil {
			keyID = key.ID
		}
		_, err := tx.ExecContext(ctx,
			"INSERT INTO keystore_ca (singleton, key_id, certificate, chain, created_at) VALUES (1, ?, ?, ?, ?)",
			nullString(keyID), ca.Certificate, chain, fmtTime(ca.CreatedAt))
		if err != nil {
			return fmt.Errorf("sqlite: put CA: %w", mapError(err, ""))
		}
		return nil
	})
}

func insertKey(ctx context.Context, tx *sql.Tx, k keystore.KeyRecord) error {
	if err := checkBackend(ctx, tx, k.BackendID); err != nil {
		return err
	}
	if k.Handle == nil {
		return fmt.Errorf("sqlite: key %s: %w: a new key must have a handle", k.ID, keystore.ErrInvalidRequest)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO keystore_keys
		(id, owner, backend, backend_id, public_key, handle, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Owner, k.Backend, k.BackendID, k.PublicKey, k.Handle, fmtTime(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: add key %s: %w", k.ID, mapError(err, ""))
	}
	return nil
}

const keyColumns = "id, owner, backend, backend_id, public_key, handle, created_at, destroyed_at"

type scanner interface{ Scan(...any) error }

func scanKey(row scanner) (keystore.KeyRecord, error) {
	var (
		k                  keystore.KeyRecord
		created, destroyed sql.NullString
		err                error
	)
	if err = row.Scan(&k.ID, &k.Owner, &k.Backend, &k.BackendID, &k.PublicKey, &k.Handle, &created, &destroyed); err != nil {
		return k, err
	}
	if k.CreatedAt, err = parseTime(created); err != nil {
		return k, err
	}
	k.DestroyedAt, err = parseTime(destroyed)
	return k, err
}

// Key implements keystore.Store.
func (s *KeystoreStore) Key(ctx context.Context, id string) (keystore.KeyRecord, error) {
	k, err := scanKey(s.key.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("key %s: %w", id, keystore.ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("sqlite: key %s: %w", id, err)
	}
	return k, nil
}

const sealColumns = `id, township_code, organization, name, state, key_id, certificate, serial,
	not_before, not_after, created_at, suspended_at, ended_at, revocation_reason, replaces, replaced_by, version`

func scanSeal(row scanner) (keystore.Seal, error) {
	var (
		s                            keystore.Seal
		state                        string
		serial, replaces, replacedBy sql.NullString
		notBefore, notAfter, created sql.NullString
		suspended, ended             sql.NullString
		reason                       int
		err                          error
	)
	err = row.Scan(&s.ID, &s.TownshipCode, &s.Organization, &s.Name, &state, &s.KeyID, &s.Certificate, &serial,
		&notBefore, &notAfter, &created, &suspended, &ended, &reason, &replaces, &replacedBy, &s.Version)
	if err != nil {
		return s, err
	}
	s.State = keystore.State(state)
	s.RevocationReason = keystore.RevocationReason(reason)
	s.Replaces, s.ReplacedBy = replaces.String, replacedBy.String
	if serial.Valid {
		n, ok := new(big.Int).SetString(serial.String, 16)
		if !ok {
			return s, fmt.Errorf("seal %s: bad serial %q", s.ID, serial.String)
		}
		s.Serial = n
	}
	for _, t := range []struct {
		dst *time.Time
		src sql.NullString
	}{{&s.NotBefore, notBefore}, {&s.NotAfter, notAfter}, {&s.CreatedAt, created}, {&s.SuspendedAt, suspended}, {&s.EndedAt, ended}} {
		if *t.dst, err = parseTime(t.src); err != nil {
			return s, fmt.Errorf("seal %s: %w", s.ID, err)
		}
	}
	return s, nil
}

// Seal implements keystore.Store.
func (s *KeystoreStore) Seal(ctx context.Context, id string) (keystore.Seal, error) {
	seal, err := scanSeal(s.seal.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return seal, fmt.Errorf("seal %s: %w", id, keystore.ErrNotFound)
	}
	if err != nil {
		return seal, fmt.Errorf("sqlite: seal %s: %w", id, err)
	}
	return seal, nil
}

// LiveSeal implements keystore.Store.
func (s *KeystoreStore) LiveSeal(ctx context.Context, township string) (keystore.Seal, error) {
	seal, err := scanSeal(s.liveSeal.QueryRowContext(ctx, township))
	if errors.Is(err, sql.ErrNoRows) {
		return seal, keystore.ErrNoSeal
	}
	if err != nil {
		return seal, fmt.Errorf("sqlite: live seal of %s: %w", township, err)
	}
	return seal, nil
}

// Seals implements keystore.Store.
func (s *KeystoreStore) Seals(ctx context.Context, f keystore.SealFilter) ([]keystore.Seal, error) {
	return querySeals(ctx, s.db.r, f)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func querySeals(ctx context.Context, q querier, f keystore.SealFilter) ([]keystore.Seal, error) {
	var (
		where []string
		args  []any
	)
	if f.TownshipCode != "" {
		where = append(where, "township_code = ?")
		args = append(args, f.TownshipCode)
	}
	if len(f.States) > 0 {
		where = append(where, "state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	query := "SELECT " + sealColumns + " FROM keystore_seals"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := q.QueryContext(ctx, query+" ORDER BY created_at, rowid", args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: seals: %w", err)
	}
	defer rows.Close()
	var out []keystore.Seal
	for rows.Next() {
		seal, err := scanSeal(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: seals: %w", err)
		}
		out = append(out, seal)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: seals: %w", err)
	}
	return out, nil
}

// Events implements keystore.Store.
func (s *KeystoreStore) Events(ctx context.Context, sealID string) ([]keystore.Event, error) {
	rows, err := s.db.r.QueryContext(ctx,
		"SELECT seq, seal_id, action, from_state, to_state, at, detail FROM keystore_events WHERE seal_id = ? ORDER BY seq", sealID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events of %s: %w", sealID, err)
	}
	defer rows.Close()
	var out []keystore.Event
	for rows.Next() {
		var (
			e        keystore.Event
			from, to string
			at       sql.NullString
		)
		if err := rows.Scan(&e.Seq, &e.SealID, &e.Action, &from, &to, &at, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: events of %s: %w", sealID, err)
		}
		e.From, e.To = keystore.State(from), keystore.State(to)
		if e.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("sqlite: events of %s: %w", sealID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: events of %s: %w", sealID, err)
	}
	return out, nil
}

// Apply implements keystore.Store.
func (s *KeystoreStore) Apply(ctx context.Context, c keystore.Change) error {
	return s.db.write(ctx, func(tx *sql.Tx) error {
		for _, u := range c.Update {
			if err := updateSeal(ctx, tx, u); err != nil {
				return err
			}
		}
		for _, id := range c.DestroyKeys {
			res, err := tx.ExecContext(ctx,
				"UPDATE keystore_keys SET handle = NULL, destroyed_at = ? WHERE id = ? AND handle IS NOT NULL",
				fmtTime(time.Now()), id)
			if err != nil {
				return fmt.Errorf("sqlite: destroy key %s: %w", id, mapError(err, ""))
			}
			if n, _ := res.RowsAffected(); n == 0 {
				var exists int
				tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM keystore_keys WHERE id = ?", id).Scan(&exists)
				if exists == 0 {
					return fmt.Errorf("key %s: %w", id, keystore.ErrNotFound)
				}
			}
		}
		for _, k := range c.Keys {
			if err := insertKey(ctx, tx, k); err != nil {
				return err
			}
		}
		for _, seal := range c.Insert {
			if err := insertSeal(ctx, tx, seal); err != nil {
				return err
			}
		}
		for _, e := range c.Events {
			_, err := tx.ExecContext(ctx, `INSERT INTO keystore_events (seal_id, action, from_state, to_state, at, detail)
				VALUES (?, ?, ?, ?, ?, ?)`, e.SealID, e.Action, string(e.From), string(e.To), fmtTime(e.At), e.Detail)
			if err != nil {
				return fmt.Errorf("sqlite: event for seal %s: %w", e.SealID, mapError(err, ""))
			}
		}
		return nil
	})
}

// townshipHolds fails with ErrLiveSealExists or ErrPendingSealExists if
// writing a seal of the given state would give its township a second one.
func townshipHolds(ctx context.Context, tx *sql.Tx, township, exceptID string, state keystore.State) error {
	var cond string
	var sentinel error
	switch {
	case state.Live():
		cond, sentinel = "state IN ('issued', 'active', 'suspended')", keystore.ErrLiveSealExists
	case state == keystore.StatePending:
		cond, sentinel = "state = 'pending'", keystore.ErrPendingSealExists
	default:
		return nil
	}
	var other string
	err := tx.QueryRowContext(ctx, "SELECT id FROM keystore_seals WHERE township_code = ? AND id <> ? AND "+cond,
		township, exceptID).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("sqlite: seals of %s: %w", township, err)
	}
	return fmt.Errorf("%w: township %s has seal %s", sentinel, township, other)
}

func insertSeal(ctx context.Context, tx *sql.Tx, s keystore.Seal) error {
	if !s.State.Valid() {
		return fmt.Errorf("sqlite: seal %s: %w: state %q", s.ID, keystore.ErrInvalidRequest, s.State)
	}
	if err := townshipHolds(ctx, tx, s.TownshipCode, s.ID, s.State); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO keystore_seals ("+sealColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
		s.ID, s.TownshipCode, s.Organization, s.Name, string(s.State), s.KeyID, s.Certificate, fmtSerial(s.Serial),
		fmtTime(s.NotBefore), fmtTime(s.NotAfter), fmtTime(s.CreatedAt), fmtTime(s.SuspendedAt), fmtTime(s.EndedAt),
		int(s.RevocationReason), nullString(s.Replaces), nullString(s.ReplacedBy))
	if err != nil {
		return fmt.Errorf("sqlite: add seal %s: %w", s.ID, mapError(err, s.State))
	}
	return nil
}

func updateSeal(ctx context.Context, tx *sql.Tx, s keystore.Seal) error {
	var (
		state   string
		version int64
	)
	err := tx.QueryRowContext(ctx, "SELECT state, version FROM keystore_seals WHERE id = ?", s.ID).Scan(&state, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("seal %s: %w", s.ID, keystore.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: seal %s: %w", s.ID, err)
	}
	if version != s.Version {
		return fmt.Errorf("%w: seal %s is at version %d, the change was made from version %d", keystore.ErrConflict, s.ID, version, s.Version)
	}
	from := keystore.State(state)
	if s.State != from && !keystore.ValidTransition(from, s.State) {
		return fmt.Errorf("%w: seal %s from %s to %s", keystore.ErrInvalidTransition, s.ID, from, s.State)
	}
	if s.State != from {
		if err := townshipHolds(ctx, tx, s.TownshipCode, s.ID, s.State); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE keystore_seals SET
		state = ?, certificate = ?, serial = ?, not_before = ?, not_after = ?, suspended_at = ?, ended_at = ?,
		revocation_reason = ?, replaced_by = ?, version = version + 1,
		township_code = ?, organization = ?, name = ?, key_id = ?, created_at = ?, replaces = ?
		WHERE id = ? AND version = ?`,
		string(s.State), s.Certificate, fmtSerial(s.Serial), fmtTime(s.NotBefore), fmtTime(s.NotAfter),
		fmtTime(s.SuspendedAt), fmtTime(s.EndedAt), int(s.RevocationReason), nullString(s.ReplacedBy),
		s.TownshipCode, s.Organization, s.Name, s.KeyID, fmtTime(s.CreatedAt), nullString(s.Replaces),
		s.ID, s.Version)
	if err != nil {
		return fmt.Errorf("sqlite: update seal %s: %w", s.ID, mapError(err, s.State))
	}
	return nil
}

// mapError turns SQLite constraint failures into the keystore's sentinels.
// The explicit checks before each write give the precise error; this is for
// the constraints and triggers behind them. state is the state of the seal
// being written, if any.
func mapError(err error, state keystore.State) error {
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_CONSTRAINT {
		return err
	}
	msg := se.Error()
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

// RewrapKeys implements keystore.Store.
func (s *KeystoreStore) RewrapKeys(ctx context.Context, from, to string, rewrap func(keystore.KeyRecord) ([]byte, error)) (int, error) {
	n := 0
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		if err := checkBackend(ctx, tx, from); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+keyColumns+" FROM keystore_keys WHERE handle IS NOT NULL ORDER BY id")
		if err != nil {
			return fmt.Errorf("sqlite: rewrap: %w", err)
		}
		var keys []keystore.KeyRecord
		for rows.Next() {
			k, err := scanKey(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: rewrap: %w", err)
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: rewrap: %w", err)
		}
		for _, k := range keys {
			h, err := rewrap(k)
			if err != nil {
				return err
			}
			if h == nil {
				return fmt.Errorf("sqlite: rewrap key %s: %w: empty handle", k.ID, keystore.ErrInvalidRequest)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE keystore_keys SET handle = ?, backend_id = ? WHERE id = ?", h, to, k.ID); err != nil {
				return fmt.Errorf("sqlite: rewrap key %s: %w", k.ID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE keystore_meta SET value = ? WHERE name = ?", to, backendIDKey); err != nil {
			return fmt.Errorf("sqlite: rewrap: %w", err)
		}
		n = len(keys)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// PublishCRL implements keystore.Store.
func (s *KeystoreStore) PublishCRL(ctx context.Context, build func(int64, []keystore.Seal) (keystore.CRLRecord, error)) (keystore.CRLRecord, error) {
	var rec keystore.CRLRecord
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var number int64
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(number), 0) + 1 FROM keystore_crls").Scan(&number); err != nil {
			return fmt.Errorf("sqlite: CRL number: %w", err)
		}
		listed, err := querySeals(ctx, tx, keystore.SealFilter{States: []keystore.State{keystore.StateSuspended, keystore.StateRevoked}})
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
		_, err = tx.ExecContext(ctx, "INSERT INTO keystore_crls (number, this_update, next_update, der) VALUES (?, ?, ?, ?)",
			number, fmtTime(rec.ThisUpdate), fmtTime(rec.NextUpdate), rec.DER)
		if err != nil {
			return fmt.Errorf("sqlite: store CRL %d: %w", number, err)
		}
		return nil
	})
	if err != nil {
		return keystore.CRLRecord{}, err
	}
	return rec, nil
}

// LatestCRL implements keystore.Store.
func (s *KeystoreStore) LatestCRL(ctx context.Context) (keystore.CRLRecord, error) {
	var (
		rec        keystore.CRLRecord
		this, next sql.NullString
	)
	err := s.db.r.QueryRowContext(ctx, "SELECT number, this_update, next_update, der FROM keystore_crls ORDER BY number DESC LIMIT 1").
		Scan(&rec.Number, &this, &next, &rec.DER)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, fmt.Errorf("no CRL published: %w", keystore.ErrNotFound)
	}
	if err != nil {
		return rec, fmt.Errorf("sqlite: latest CRL: %w", err)
	}
	if rec.ThisUpdate, err = parseTime(this); err != nil {
		return rec, fmt.Errorf("sqlite: latest CRL: %w", err)
	}
	if rec.NextUpdate, err = parseTime(next); err != nil {
		return rec, fmt.Errorf("sqlite: latest CRL: %w", err)
	}
	return rec, nil
}
