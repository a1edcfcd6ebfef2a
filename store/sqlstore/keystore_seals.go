package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ronganxian/eseal/keystore"
)

// scanSeal reads a row of ksSealColumns.
func (k *Keystore) scanSeal(row scanner) (keystore.Seal, error) {
	var (
		s                            keystore.Seal
		state                        string
		serial, replaces, replacedBy sql.NullString
		reason                       int
	)
	err := row.Scan(&s.ID, &s.TownshipCode, &s.Organization, &s.Name, &state, &s.KeyID, &s.Certificate, &serial,
		k.scanTime(&s.NotBefore), k.scanTime(&s.NotAfter), k.scanTime(&s.CreatedAt), k.scanTime(&s.SuspendedAt),
		k.scanTime(&s.EndedAt), &reason, &replaces, &replacedBy, &s.Version)
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
	return s, nil
}

// Seal implements keystore.Store.
func (k *Keystore) Seal(ctx context.Context, id string) (keystore.Seal, error) {
	seal, err := k.scanSeal(k.reads.row(ctx, k.q.seal, id))
	if errors.Is(err, sql.ErrNoRows) {
		return seal, fmt.Errorf("seal %s: %w", id, keystore.ErrNotFound)
	}
	if err != nil {
		return seal, fmt.Errorf("keystore store: seal %s: %w", id, err)
	}
	return seal, nil
}

// LiveSeal implements keystore.Store. It is on the signing path.
func (k *Keystore) LiveSeal(ctx context.Context, township string) (keystore.Seal, error) {
	seal, err := k.scanSeal(k.reads.row(ctx, k.q.liveSeal, township))
	if errors.Is(err, sql.ErrNoRows) {
		return seal, keystore.ErrNoSeal
	}
	if err != nil {
		return seal, fmt.Errorf("keystore store: live seal of %s: %w", township, err)
	}
	return seal, nil
}

// Seals implements keystore.Store.
func (k *Keystore) Seals(ctx context.Context, f keystore.SealFilter) ([]keystore.Seal, error) {
	return k.querySeals(ctx, k.b.Reader(), f)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// querySeals returns the seals that match f, oldest first. Its query
// depends on f, so it is not prepared.
func (k *Keystore) querySeals(ctx context.Context, q querier, f keystore.SealFilter) ([]keystore.Seal, error) {
	var (
		where []string
		args  []any
	)
	if f.TownshipCode != "" {
		where = append(where, "township_code = ?")
		args = append(args, f.TownshipCode)
	}
	if len(f.States) > 0 {
		where = append(where, "state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	query := "SELECT " + ksSealColumns + " FROM keystore_seals"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := q.QueryContext(ctx, k.b.Rebind(query+k.q.sealsOrder), args...)
	if err != nil {
		return nil, fmt.Errorf("keystore store: seals: %w", err)
	}
	out, err := scanRows(rows, k.scanSeal)
	if err != nil {
		return nil, fmt.Errorf("keystore store: seals: %w", err)
	}
	return out, nil
}

// Events implements keystore.Store.
func (k *Keystore) Events(ctx context.Context, sealID string) ([]keystore.Event, error) {
	rows, err := k.reads.rows(ctx, k.q.events, sealID)
	if err != nil {
		return nil, fmt.Errorf("keystore store: events of %s: %w", sealID, err)
	}
	defer rows.Close()
	var out []keystore.Event
	for rows.Next() {
		var (
			e        keystore.Event
			from, to string
		)
		if err := rows.Scan(&e.Seq, &e.SealID, &e.Action, &from, &to, k.scanTime(&e.At), &e.Detail); err != nil {
			return nil, fmt.Errorf("keystore store: events of %s: %w", sealID, err)
		}
		e.From, e.To = keystore.State(from), keystore.State(to)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keystore store: events of %s: %w", sealID, err)
	}
	return out, nil
}

// Apply implements keystore.Store.
func (k *Keystore) Apply(ctx context.Context, c keystore.Change) error {
	if err := k.writes.prepare(ctx, fenceSealQueries); err != nil {
		return fmt.Errorf("keystore store: %w", err)
	}
	return k.write(ctx, func(tx *sql.Tx) error {
		for _, u := range c.Update {
			if err := k.updateSeal(ctx, tx, u); err != nil {
				return err
			}
		}
		for _, id := range c.DestroyKeys {
			if err := k.destroyKey(ctx, tx, id, time.Now()); err != nil {
				return err
			}
		}
		for _, r := range c.Keys {
			if err := k.insertKey(ctx, tx, r); err != nil {
				return err
			}
		}
		for _, seal := range c.Insert {
			if err := k.insertSeal(ctx, tx, seal); err != nil {
				return err
			}
		}
		for _, e := range c.Events {
			_, err := k.writes.txExec(ctx, tx, k.q.insertEvent,
				e.SealID, e.Action, string(e.From), string(e.To), k.encodeTime(e.At), e.Detail)
			if err != nil {
				return fmt.Errorf("keystore store: event for seal %s: %w", e.SealID, k.b.KeystoreError(err, ""))
			}
		}
		return nil
	})
}

// townshipHolds fails with ErrLiveSealExists or ErrPendingSealExists if
// writing a seal of the given state would give its township a second one.
func (k *Keystore) townshipHolds(ctx context.Context, tx *sql.Tx, township, exceptID string, state keystore.State) error {
	var (
		q        string
		sentinel error
	)
	switch {
	case state.Live():
		q, sentinel = k.q.otherLive, keystore.ErrLiveSealExists
	case state == keystore.StatePending:
		q, sentinel = k.q.otherPending, keystore.ErrPendingSealExists
	default:
		return nil
	}
	var other string
	err := k.writes.txRow(ctx, tx, q, township, exceptID).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("keystore store: seals of %s: %w", township, err)
	}
	return fmt.Errorf("%w: township %s has seal %s", sentinel, township, other)
}

// insertSeal adds a new seal at version 1.
func (k *Keystore) insertSeal(ctx context.Context, tx *sql.Tx, s keystore.Seal) error {
	if !s.State.Valid() {
		return fmt.Errorf("keystore store: seal %s: %w: state %q", s.ID, keystore.ErrInvalidRequest, s.State)
	}
	if err := k.townshipHolds(ctx, tx, s.TownshipCode, s.ID, s.State); err != nil {
		return err
	}
	_, err := k.writes.txExec(ctx, tx, k.q.insertSeal,
		s.ID, s.TownshipCode, s.Organization, s.Name, string(s.State), s.KeyID, s.Certificate, fmtSerial(s.Serial),
		k.encodeTime(s.NotBefore), k.encodeTime(s.NotAfter), k.encodeTime(s.CreatedAt),
		k.encodeTime(s.SuspendedAt), k.encodeTime(s.EndedAt),
		int(s.RevocationReason), nullString(s.Replaces), nullString(s.ReplacedBy))
	if err != nil {
		return fmt.Errorf("keystore store: add seal %s: %w", s.ID, k.b.KeystoreError(err, s.State))
	}
	return nil
}

// updateSeal writes s over the stored seal if s.Version is the stored
// version. The row is locked (ForUpdate) while it is checked, so the check
// holds even against a writer that skips the keystore lock, and the UPDATE
// repeats the version condition.
func (k *Keystore) updateSeal(ctx context.Context, tx *sql.Tx, s keystore.Seal) error {
	var (
		state   string
		version int64
	)
	err := k.writes.txRow(ctx, tx, k.q.sealVersion, s.ID).Scan(&state, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("seal %s: %w", s.ID, keystore.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("keystore store: seal %s: %w", s.ID, err)
	}
	if version != s.Version {
		return fmt.Errorf("%w: seal %s is at version %d, the change was made from version %d", keystore.ErrConflict, s.ID, version, s.Version)
	}
	from := keystore.State(state)
	if s.State != from && !keystore.ValidTransition(from, s.State) {
		return fmt.Errorf("%w: seal %s from %s to %s", keystore.ErrInvalidTransition, s.ID, from, s.State)
	}
	if s.State != from {
		if err := k.townshipHolds(ctx, tx, s.TownshipCode, s.ID, s.State); err != nil {
			return err
		}
		if err := k.fenceSeal(ctx, tx, &s); err != nil {
			return err
		}
	}
	res, err := k.writes.txExec(ctx, tx, k.q.updateSeal,
		string(s.State), s.Certificate, fmtSerial(s.Serial), k.encodeTime(s.NotBefore), k.encodeTime(s.NotAfter),
		k.encodeTime(s.SuspendedAt), k.encodeTime(s.EndedAt), int(s.RevocationReason), nullString(s.ReplacedBy),
		s.TownshipCode, s.Organization, s.Name, s.KeyID, k.encodeTime(s.CreatedAt), nullString(s.Replaces),
		s.ID, s.Version)
	if err != nil {
		return fmt.Errorf("keystore store: update seal %s: %w", s.ID, k.b.KeystoreError(err, s.State))
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%w: seal %s changed while it was updated", keystore.ErrConflict, s.ID)
	}
	return nil
}
