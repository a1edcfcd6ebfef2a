package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ronganxian/eseal/outbox"
	"github.com/ronganxian/eseal/seal"
)

// The subscriptions of the event push (outbox.Store). Each change is one
// conditional UPDATE: the row's lock in the database orders them, so that
// of two replicas reaching for one subscription's lease one gets it, and a
// replica that lost its lease (or whose subscription an operator reset:
// the generation moved) cannot move the cursor.

var _ outbox.Store = (*Store)(nil)

const subscriptionColumns = `id, endpoint, township_code, domains, auth_kind, credential, client_cert, server_ca, state,
	generation, cursor, failures, last_error, delivered, last_delivered_us, lease_owner, lease_until_us, created_us, created_by, batch`

func scanSubscription(row scanner) (*outbox.Subscription, error) {
	s := &outbox.Subscription{}
	var domains string
	var sent, lease, created int64
	if err := row.Scan(&s.ID, &s.Endpoint, &s.Filter.Township, &domains, &s.Auth, &s.Credential, &s.ClientCert,
		&s.ServerCA, &s.State, &s.Generation, &s.Cursor, &s.Failures, &s.LastError, &s.Delivered, &sent,
		&s.LeaseOwner, &lease, &created, &s.CreatedBy, &s.Batch); err != nil {
		return nil, err
	}
	var err error
	if s.Filter.Domains, err = decodeList[string](domains); err != nil {
		return nil, err
	}
	if sent != 0 {
		s.LastSent = time.UnixMicro(sent).UTC()
	}
	s.LeaseUntil, s.Created = time.UnixMicro(lease).UTC(), time.UnixMicro(created).UTC()
	return s, nil
}

// exec runs one statement in a write transaction and returns the rows it
// changed.
func (s *Store) exec(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := s.b.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.b.Rebind(q), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// CreateSubscription implements outbox.Store.
func (s *Store) CreateSubscription(ctx context.Context, sub *outbox.Subscription) error {
	_, err := s.exec(ctx, `INSERT INTO subscriptions (`+subscriptionColumns+`) VALUES (`+placeholders(20)+`)`,
		sub.ID, sub.Endpoint, sub.Filter.Township, encodeList(sub.Filter.Domains), string(sub.Auth), sub.Credential,
		sub.ClientCert, sub.ServerCA, string(sub.State), sub.Generation, sub.Cursor, 0, "", 0, 0, "", 0,
		sub.Created.UnixMicro(), sub.CreatedBy, sub.Batch)
	if s.b.IsUniqueViolation(err) {
		return fmt.Errorf("subscription %s: %w", sub.ID, outbox.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("creating subscription %s: %w", sub.ID, err)
	}
	return nil
}

// Subscription implements outbox.Store.
func (s *Store) Subscription(ctx context.Context, id string) (*outbox.Subscription, error) {
	row := s.b.Reader().QueryRowContext(ctx, s.b.Rebind(`SELECT `+subscriptionColumns+` FROM subscriptions WHERE id = ?`), id)
	sub, err := scanSubscription(row)
	if err != nil {
		return nil, notFound(err, "subscription "+id)
	}
	return sub, nil
}

// Subscriptions implements outbox.Store.
func (s *Store) Subscriptions(ctx context.Context) ([]*outbox.Subscription, error) {
	rows, err := s.b.Reader().QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("subscriptions: %w", err)
	}
	out, err := scanRows(rows, scanSubscription)
	if err != nil {
		return nil, fmt.Errorf("subscriptions: %w", err)
	}
	return out, nil
}

// SetSubscriptionState implements outbox.Store.
func (s *Store) SetSubscriptionState(ctx context.Context, id string, state outbox.State, cursor *uint64) (*outbox.Subscription, error) {
	q := `UPDATE subscriptions SET state = ?, generation = generation + 1, failures = 0, last_error = ''`
	args := []any{string(state)}
	if cursor != nil {
		q += `, cursor = ?`
		args = append(args, *cursor)
	}
	n, err := s.exec(ctx, q+` WHERE id = ?`, append(args, id)...)
	if err != nil {
		return nil, fmt.Errorf("subscription %s: %w", id, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("subscription %s: %w", id, outbox.ErrNotFound)
	}
	return s.Subscription(ctx, id)
}

// AcquireLease implements outbox.Store.
func (s *Store) AcquireLease(ctx context.Context, id, owner string, now, until time.Time) (*outbox.Subscription, bool, error) {
	n, err := s.exec(ctx, `UPDATE subscriptions SET lease_owner = ?, lease_until_us = ?
		WHERE id = ? AND state = 'active' AND (lease_owner = '' OR lease_owner = ? OR lease_until_us < ?)`,
		owner, until.UnixMicro(), id, owner, now.UnixMicro())
	if err != nil {
		return nil, false, fmt.Errorf("subscription %s: taking the lease: %w", id, err)
	}
	sub, err := s.Subscription(ctx, id)
	if err != nil {
		return nil, false, err
	}
	return sub, n == 1 && sub.LeaseOwner == owner, nil
}

// Delivered implements outbox.Store.
func (s *Store) Delivered(ctx context.Context, id, owner string, gen, seq, count uint64, now, until time.Time) error {
	n, err := s.exec(ctx, `UPDATE subscriptions SET cursor = ?, failures = 0, last_error = '', delivered = delivered + ?,
		last_delivered_us = ?, lease_until_us = ? WHERE id = ? AND lease_owner = ? AND generation = ?`,
		seq, count, now.UnixMicro(), until.UnixMicro(), id, owner, gen)
	if err != nil {
		return fmt.Errorf("subscription %s: recording delivery of %d: %w", id, seq, err)
	}
	if n == 0 {
		return fmt.Errorf("subscription %s: %w", id, outbox.ErrLeaseLost)
	}
	return nil
}

// Failed implements outbox.Store.
func (s *Store) Failed(ctx context.Context, id, owner string, gen uint64, failures int, lastErr string, park bool, until time.Time) error {
	q := `UPDATE subscriptions SET failures = ?, last_error = ?, lease_until_us = ?`
	if park {
		q += `, state = 'parked', lease_owner = ''`
	}
	n, err := s.exec(ctx, q+` WHERE id = ? AND lease_owner = ? AND generation = ?`,
		failures, lastErr, until.UnixMicro(), id, owner, gen)
	if err != nil {
		return fmt.Errorf("subscription %s: recording a failure: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("subscription %s: %w", id, outbox.ErrLeaseLost)
	}
	return nil
}

// SetSubscriptionCredential implements outbox.Store.
func (s *Store) SetSubscriptionCredential(ctx context.Context, id string, sealed []byte) error {
	n, err := s.exec(ctx, `UPDATE subscriptions SET credential = ? WHERE id = ?`, sealed, id)
	if err != nil {
		return fmt.Errorf("subscription %s: storing its credential: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("subscription %s: %w", id, outbox.ErrNotFound)
	}
	return nil
}

// ReleaseLease implements outbox.Store.
func (s *Store) ReleaseLease(ctx context.Context, id, owner string) error {
	_, err := s.exec(ctx, `UPDATE subscriptions SET lease_owner = '', lease_until_us = 0 WHERE id = ? AND lease_owner = ?`, id, owner)
	if err != nil {
		return fmt.Errorf("subscription %s: releasing the lease: %w", id, err)
	}
	return nil
}

// PrevMatching implements outbox.Store.
func (s *Store) PrevMatching(ctx context.Context, f seal.RecordFilter, seq uint64) (uint64, error) {
	q := `SELECT COALESCE(MAX(seq), 0) FROM ledger WHERE seq < ?`
	args := []any{seq}
	if f.Township != "" {
		q += ` AND township_code = ?`
		args = append(args, f.Township)
	}
	if len(f.Domains) > 0 {
		q += ` AND domain IN (` + placeholders(len(f.Domains)) + `, '` + seal.AllDomains + `')` // a seal's lifecycle concerns every domain
		for _, d := range f.Domains {
			args = append(args, d)
		}
	}
	var prev uint64
	if err := s.b.Reader().QueryRowContext(ctx, s.b.Rebind(q), args...).Scan(&prev); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("ledger: the record before %d: %w", seq, err)
	}
	return prev, nil
}
