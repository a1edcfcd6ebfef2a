package postgres

import (
	"context"
	"database/sql"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ronganxian/eseal/keystore"
)

// KeystoreStore is the keystore's Store in PostgreSQL, shared by every
// replica of the service.
//
// Each method is one transaction. Every write first takes one
// transaction-level advisory lock (keystoreLock), so keystore writes from all
// replicas run one at a time, as they do in SQLite under BEGIN IMMEDIATE,
// and each write's checks (the township's live seal, the seal's version,
// the recorded backend, the next CRL number) are exact: at READ COMMITTED
// every statement after the lock sees every write committed before it.
// Keystore writes are administrative (issuing, suspending, rotating seals,
// publishing CRLs, rotating the KEK), so serialising them costs nothing that
// matters; reads, and so signing, take no lock. Behind the checks, the
// schema's unique indexes and triggers refuse whatever would break the
// rules, even from a writer that skips the lock.
type KeystoreStore struct {
	db *sql.DB
}

var _ keystore.Store = (*KeystoreStore)(nil)

// Keystore returns the keystore's view of the database. It shares the
// database's connections; closing the database closes it.
func (d *DB) Keystore() *KeystoreStore { return &KeystoreStore{db: d.db} }

// keystoreLock is the advisory lock key under which keystore writes run.
const keystoreLock = 0x65_73_65_61_6c_6b // "eseal" "k"

// write runs fn in a transaction that holds the keystore lock, committing if
// fn returns nil. A failure at commit (a deferred constraint) is mapped like
// any other.
func (s *KeystoreStore) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", keystoreLock); err != nil {
		tx.Rollback()
		return fmt.Errorf("postgres: keystore lock: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("postgres: commit: %w", mapKeystoreError(err))
	}
	return nil
}

// ts is a time as stored: UTC, to the microsecond, and NULL when zero.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}

func fromNull(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
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
	// Most opens find the id recorded: read it without the lock.
	err := s.db.QueryRowContext(ctx, "SELECT value FROM keystore_meta WHERE name = $1", backendIDKey).Scan(&recorded)
	if err == nil {
		return recorded, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("postgres: claim backend: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT value FROM keystore_meta WHERE name = $1", backendIDKey).Scan(&recorded)
		if errors.Is(err, sql.ErrNoRows) {
			recorded = id
			_, err = tx.ExecContext(ctx, "INSERT INTO keystore_meta (name, value) VALUES ($1, $2)", backendIDKey, id)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("postgres: claim backend: %w", err)
	}
	return recorded, nil
}

// checkBackend fails with ErrWrongKEK unless id is the recorded backend id.
func checkBackend(ctx context.Context, tx *sql.Tx, id string) error {
	var recorded string
	err := tx.QueryRowContext(ctx, "SELECT value FROM keystore_meta WHERE name = $1", backendIDKey).Scan(&recorded)
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
		rec     keystore.CARecord
		keyID   sql.NullString
		chain   []byte
		created sql.NullTime
	)
	err := s.db.QueryRowContext(ctx, "SELECT key_id, certificate, chain, created_at FROM keystore_ca").
		Scan(&keyID, &rec.Certificate, &chain, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, keystore.ErrNoCA
	}
	if err != nil {
		return rec, fmt.Errorf("postgres: CA: %w", err)
	}
	rec.KeyID, rec.CreatedAt = keyID.String, fromNull(created)
	if rec.Chain, err = splitDER(chain); err != nil {
		return rec, fmt.Errorf("postgres: CA chain: %w", err)
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
	return s.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM keystore_ca").Scan(&n); err != nil {
			return fmt.Errorf("postgres: put CA: %w", err)
		}
		if n > 0 {
			return keystore.ErrCAExists
		}
		keyID := ""
		if key != nil {
			if err := insertKey(ctx, tx, *key); err != nil {
				return err
			}
			keyID = key.ID
		}
		chain := []byte{}
		for _, c := range ca.Chain {
			chain = append(chain, c...)
		}
		_, err := tx.ExecContext(ctx,
			"INSERT INTO keystore_ca (singleton, key_id, certificate, chain, created_at) VALUES (1, $1, $2, $3, $4)",
			nullString(keyID), ca.Certificate, chain, ts(ca.CreatedAt))
		if err != nil {
			return fmt.Errorf("postgres: put CA: %w", mapKeystoreError(err))
		}
		return nil
	})
}

func insertKey(ctx context.Context, tx *sql.Tx, k keystore.KeyRecord) error {
	if err := checkBackend(ctx, tx, k.BackendID); err != nil {
		return err
	}
	if k.Handle == nil {
		return fmt.Errorf("postgres: key %s: %w: a new key must have a handle", k.ID, keystore.ErrInvalidRequest)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO keystore_keys
		(id, owner, backend, backend_id, public_key, handle, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.Owner, k.Backend, k.BackendID, k.PublicKey, k.Handle, ts(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("postgres: add key %s: %w", k.ID, mapKeystoreError(err))
	}
	return nil
}

const keyColumns = "id, owner, backend, backend_id, public_key, handle, created_at, destroyed_at"

type scanner interface{ Scan(...any) error }

func scanKey(row scanner) (keystore.KeyRecord, error) {
	var (
		k                  keystore.KeyRecord
		created, destroyed sql.NullTime
	)
	if err := row.Scan(&k.ID, &k.Owner, &k.Backend, &k.BackendID, &k.PublicKey, &k.Handle, &created, &destroyed); err != nil {
		return k, err
	}
	k.CreatedAt, k.DestroyedAt = fromNull(created), fromNull(destroyed)
	return k, nil
}

// Key implements keystore.Store.
func (s *KeystoreStore) Key(ctx context.Context, id string) (keystore.KeyRecord, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, "SELECT "+keyColumns+" FROM keystore_keys WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("key %s: %w", id, keystore.ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("postgres: key %s: %w", id, err)
	}
	return k, nil
}

const sealColumns = `id, township_code, organization, name, state, key_id, certificate, serial,
	not_before, not_after, created_at, suspended_at, ended_at, revocation_reason, replaces, replaced_by, version`

func scanSeal(row scanner) (keystore.Seal, error) {
	var (
		s                                       keystore.Seal
		state                                   string
		serial, replaces, replacedBy            sql.NullString
		notBefore, notAfter, created, susp, end sql.NullTime
		reason                                  int
	)
	err := row.Scan(&s.ID, &s.TownshipCode, &s.Organization, &s.Name, &state, &s.KeyID, &s.Certificate, &serial,
		&notBefore, &notAfter, &created, &susp, &end, &reason, &replaces, &replacedBy, &s.Version)
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
	s.NotBefore, s.NotAfter, s.CreatedAt = fromNull(notBefore), fromNull(notAfter), fromNull(created)
	s.SuspendedAt, s.EndedAt = fromNull(susp), fromNull(end)
	return s, nil
}

// Seal implements keystore.Store.
func (s *KeystoreStore) Seal(ctx context.Context, id string) (keystore.Seal, error) {
	seal, err := scanSeal(s.db.QueryRowContext(ctx, "SELECT "+sealColumns+" FROM keystore_seals WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return seal, fmt.Errorf("seal %s: %w", id, keystore.ErrNotFound)
	}
	if err != nil {
		return seal, fmt.Errorf("postgres: seal %s: %w", id, err)
	}
	return seal, nil
}

// LiveSeal implements keystore.Store.
func (s *KeystoreStore) LiveSeal(ctx context.Context, township string) (keystore.Seal, error) {
	seal, err := scanSeal(s.db.QueryRowContext(ctx, "SELECT "+sealColumns+
		" FROM keystore_seals WHERE township_code = $1 AND state IN ('issued', 'active', 'suspended')", township))
	if errors.Is(err, sql.ErrNoRows) {
		return seal, keystore.ErrNoSeal
	}
	if err != nil {
		return seal, fmt.Errorf("postgres: live seal of %s: %w", township, err)
	}
	return seal, nil
}

// Seals implements keystore.Store.
func (s *KeystoreStore) Seals(ctx context.Context, f keystore.SealFilter) ([]keystore.Seal, error) {
	return querySeals(ctx, s.db, f)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// querySeals returns the seals that match f, oldest first.
func querySeals(ctx context.Context, q querier, f keystore.SealFilter) ([]keystore.Seal, error) {
	var (
		where []string
		args  []any
	)
	if f.TownshipCode != "" {
		args = append(args, f.TownshipCode)
		where = append(where, "township_code = $"+strconv.Itoa(len(args)))
	}
	if len(f.States) > 0 {
		var ps []string
		for _, st := range f.States {
			args = append(args, string(st))
			ps = append(ps, "$"+strconv.Itoa(len(args)))
		}
		where = append(where, "state IN ("+strings.Join(ps, ", ")+")")
	}
	query := "SELECT " + sealColumns + " FROM keystore_seals"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := q.QueryContext(ctx, query+" ORDER BY created_at, pos", args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: seals: %w", err)
	}
	defer rows.Close()
	var out []keystore.Seal
	for rows.Next() {
		seal, err := scanSeal(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: seals: %w", err)
		}
		out = append(out, seal)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: seals: %w", err)
	}
	return out, nil
}

// Events implements keystore.Store.
func (s *KeystoreStore) Events(ctx context.Context, sealID string) ([]keystore.Event, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT seq, seal_id, action, from_state, to_state, at, detail FROM keystore_events WHERE seal_id = $1 ORDER BY seq", sealID)
	if err != nil {
		return nil, fmt.Errorf("postgres: events of %s: %w", sealID, err)
	}
	defer rows.Close()
	var out []keystore.Event
	for rows.Next() {
		var (
			e        keystore.Event
			from, to string
			at       sql.NullTime
		)
		if err := rows.Scan(&e.Seq, &e.SealID, &e.Action, &from, &to, &at, &e.Detail); err != nil {
			return nil, fmt.Errorf("postgres: events of %s: %w", sealID, err)
		}
		e.From, e.To, e.At = keystore.State(from), keystore.State(to), fromNull(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: events of %s: %w", sealID, err)
	}
	return out, nil
}

// Apply implements keystore.Store.
func (s *KeystoreStore) Apply(ctx context.Context, c keystore.Change) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, u := range c.Update {
			if err := updateSeal(ctx, tx, u); err != nil {
				return err
			}
		}
		for _, id := range c.DestroyKeys {
			if err := destroyKey(ctx, tx, id, time.Now()); err != nil {
				return err
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
				VALUES ($1, $2, $3, $4, $5, $6)`, e.SealID, e.Action, string(e.From), string(e.To), ts(e.At), e.Detail)
			if err != nil {
				return fmt.Errorf("postgres: event for seal %s: %w", e.SealID, mapKeystoreError(err))
			}
		}
		return nil
	})
}

// destroyKey erases a key's handle; a key destroyed already stays as it is.
func destroyKey(ctx context.Context, tx *sql.Tx, id string, at time.Time) error {
	var handle []byte
	err := tx.QueryRowContext(ctx, "SELECT handle FROM keystore_keys WHERE id = $1", id).Scan(&handle)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("key %s: %w", id, keystore.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: key %s: %w", id, err)
	}
	if handle == nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE keystore_keys SET handle = NULL, destroyed_at = $1 WHERE id = $2", ts(at), id); err != nil {
		return fmt.Errorf("postgres: destroy key %s: %w", id, mapKeystoreError(err))
	}
	return nil
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
	err := tx.QueryRowContext(ctx, "SELECT id FROM keystore_seals WHERE township_code = $1 AND id <> $2 AND "+cond,
		township, exceptID).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("postgres: seals of %s: %w", township, err)
	}
	return fmt.Errorf("%w: township %s has seal %s", sentinel, township, other)
}

func insertSeal(ctx context.Context, tx *sql.Tx, s keystore.Seal) error {
	if !s.State.Valid() {
		return fmt.Errorf("postgres: seal %s: %w: state %q", s.ID, keystore.ErrInvalidRequest, s.State)
	}
	if err := townshipHolds(ctx, tx, s.TownshipCode, s.ID, s.State); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO keystore_seals ("+sealColumns+
		") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1)",
		s.ID, s.TownshipCode, s.Organization, s.Name, string(s.State), s.KeyID, s.Certificate, fmtSerial(s.Serial),
		ts(s.NotBefore), ts(s.NotAfter), ts(s.CreatedAt), ts(s.SuspendedAt), ts(s.EndedAt),
		int(s.RevocationReason), nullString(s.Replaces), nullString(s.ReplacedBy))
	if err != nil {
		return fmt.Errorf("postgres: add seal %s: %w", s.ID, mapKeystoreError(err))
	}
	return nil
}

// updateSeal writes s over the stored seal if s.Version is the stored
// version. The row is locked (FOR UPDATE) while it is checked, so the check
// holds even against a writer that skips the keystore lock, and the UPDATE
// repeats the version condition.
func updateSeal(ctx context.Context, tx *sql.Tx, s keystore.Seal) error {
	var (
		state   string
		version int64
	)
	err := tx.QueryRowContext(ctx, "SELECT state, version FROM keystore_seals WHERE id = $1 FOR UPDATE", s.ID).Scan(&state, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("seal %s: %w", s.ID, keystore.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: seal %s: %w", s.ID, err)
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
	res, err := tx.ExecContext(ctx, `UPDATE keystore_seals SET
		state = $1, certificate = $2, serial = $3, not_before = $4, not_after = $5, suspended_at = $6, ended_at = $7,
		revocation_reason = $8, replaced_by = $9, version = version + 1,
		township_code = $10, organization = $11, name = $12, key_id = $13, created_at = $14, replaces = $15
		WHERE id = $16 AND version = $17`,
		string(s.State), s.Certificate, fmtSerial(s.Serial), ts(s.NotBefore), ts(s.NotAfter),
		ts(s.SuspendedAt), ts(s.EndedAt), int(s.RevocationReason), nullString(s.ReplacedBy),
		s.TownshipCode, s.Organization, s.Name, s.KeyID, ts(s.CreatedAt), nullString(s.Replaces),
		s.ID, s.Version)
	if err != nil {
		return fmt.Errorf("postgres: update seal %s: %w", s.ID, mapKeystoreError(err))
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%w: seal %s changed while it was updated", keystore.ErrConflict, s.ID)
	}
	return nil
}

// The SQLSTATEs the schema's trigger functions raise.
const (
	codeInvalidTransition = "ES001"
	codeImmutable         = "ES002"
)

// mapKeystoreError turns PostgreSQL's refusals into the keystore's
// sentinels, by SQLSTATE and constraint name. The explicit checks before
// each write give the precise error; this is for the constraints and
// triggers behind them.
func mapKeystoreError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case codeInvalidTransition:
		return fmt.Errorf("%w: %s", keystore.ErrInvalidTransition, pe.Message)
	case codeImmutable:
		return fmt.Errorf("%w: %s", keystore.ErrInvalidRequest, pe.Message)
	case "23505": // unique_violation
		switch pe.ConstraintName {
		case "keystore_seals_one_live":
			return fmt.Errorf("%w: %s", keystore.ErrLiveSealExists, pe.Message)
		case "keystore_seals_one_pending":
			return fmt.Errorf("%w: %s", keystore.ErrPendingSealExists, pe.Message)
		case "keystore_ledger_keys_one_current", "keystore_ledger_keys_one_pending":
			return fmt.Errorf("%w: %s", keystore.ErrLedgerKeyExists, pe.Message)
		}
		return fmt.Errorf("%w: %s (%s)", keystore.ErrConflict, pe.Message, pe.ConstraintName)
	case "23503": // foreign_key_violation
		return fmt.Errorf("%w: %s (%s)", keystore.ErrNotFound, pe.Message, pe.ConstraintName)
	case "23514", "23502": // check_violation, not_null_violation
		return fmt.Errorf("%w: %s (%s)", keystore.ErrInvalidRequest, pe.Message, pe.ConstraintName)
	}
	return err
}

// RewrapKeys implements keystore.Store.
func (s *KeystoreStore) RewrapKeys(ctx context.Context, from, to string, rewrap func(keystore.KeyRecord) ([]byte, error)) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := checkBackend(ctx, tx, from); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+keyColumns+" FROM keystore_keys WHERE handle IS NOT NULL ORDER BY id")
		if err != nil {
			return fmt.Errorf("postgres: rewrap: %w", err)
		}
		var keys []keystore.KeyRecord
		for rows.Next() {
			k, err := scanKey(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("postgres: rewrap: %w", err)
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: rewrap: %w", err)
		}
		for _, k := range keys {
			h, err := rewrap(k)
			if err != nil {
				return err
			}
			if h == nil {
				return fmt.Errorf("postgres: rewrap key %s: %w: empty handle", k.ID, keystore.ErrInvalidRequest)
			}
			res, err := tx.ExecContext(ctx, "UPDATE keystore_keys SET handle = $1, backend_id = $2 WHERE id = $3 AND handle IS NOT NULL", h, to, k.ID)
			if err != nil {
				return fmt.Errorf("postgres: rewrap key %s: %w", k.ID, mapKeystoreError(err))
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return fmt.Errorf("%w: key %s was destroyed while it was rewrapped", keystore.ErrConflict, k.ID)
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE keystore_meta SET value = $1 WHERE name = $2", to, backendIDKey); err != nil {
			return fmt.Errorf("postgres: rewrap: %w", err)
		}
		n = len(keys)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// PublishCRL implements keystore.Store. The keystore lock makes the number
// the next one, and the listed seals those committed before it.
func (s *KeystoreStore) PublishCRL(ctx context.Context, build func(int64, []keystore.Seal) (keystore.CRLRecord, error)) (keystore.CRLRecord, error) {
	var rec keystore.CRLRecord
	err := s.write(ctx, func(tx *sql.Tx) error {
		var number int64
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(number), 0) + 1 FROM keystore_crls").Scan(&number); err != nil {
			return fmt.Errorf("postgres: CRL number: %w", err)
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
		_, err = tx.ExecContext(ctx, "INSERT INTO keystore_crls (number, this_update, next_update, der) VALUES ($1, $2, $3, $4)",
			number, ts(rec.ThisUpdate), ts(rec.NextUpdate), rec.DER)
		if err != nil {
			return fmt.Errorf("postgres: store CRL %d: %w", number, mapKeystoreError(err))
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
		this, next sql.NullTime
	)
	err := s.db.QueryRowContext(ctx, "SELECT number, this_update, next_update, der FROM keystore_crls ORDER BY number DESC LIMIT 1").
		Scan(&rec.Number, &this, &next, &rec.DER)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, fmt.Errorf("no CRL published: %w", keystore.ErrNotFound)
	}
	if err != nil {
		return rec, fmt.Errorf("postgres: latest CRL: %w", err)
	}
	rec.ThisUpdate, rec.NextUpdate = fromNull(this), fromNull(next)
	return rec, nil
}
