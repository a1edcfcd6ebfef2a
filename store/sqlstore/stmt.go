package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// stmtCache keeps prepared statements by query text on the pool they run
// on. Parsing SQL is a large part of a small query's cost (a third of a
// ledger append in SQLite), so every constant query is prepared once. Only
// constant queries go through it, so the cache is bounded by the program's
// query texts.
type stmtCache struct {
	db     *sql.DB
	rebind func(string) string
	mu     sync.Mutex
	m      map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB, rebind func(string) string) *stmtCache {
	return &stmtCache{db: db, rebind: rebind, m: map[string]*sql.Stmt{}}
}

// get returns q's statement, preparing it on first use. The lock is not
// held while preparing: preparing waits for a connection of the pool, and
// on a pool of one (SQLite's writer) that connection may be held by a
// transaction whose goroutine is about to ask the cache for one of its
// statements; holding the lock across the wait would deadlock the two.
// Two goroutines may prepare q at once; one statement is kept, and the
// other closed, also outside the lock.
func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[q]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, c.rebind(q))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	kept, ok := c.m[q]
	if !ok {
		c.m[q] = st
	}
	c.mu.Unlock()
	if ok {
		// Closed outside the lock: closing waits for every connection the
		// statement was prepared on, one of which may be held by a
		// transaction that needs the lock to go on (txStmt).
		st.Close()
		return kept, nil
	}
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// scanner is a row to scan: *sql.Row, or errRow.
type scanner interface{ Scan(...any) error }

// errRow is a row whose query could not even be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// row runs the constant query q on the cache's pool.
func (c *stmtCache) row(ctx context.Context, q string, args ...any) scanner {
	st, err := c.get(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// rows runs the constant query q on the cache's pool.
func (c *stmtCache) rows(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := c.get(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// prepare prepares every query in qs, so that a transaction that holds
// the pool's only connection can use them (see txStmt).
func (c *stmtCache) prepare(ctx context.Context, qs []string) error {
	for _, q := range qs {
		if _, err := c.get(ctx, q); err != nil {
			return fmt.Errorf("preparing %.40q: %w", q, err)
		}
	}
	return nil
}

// scanRows scans each row of rows with scan, and closes rows.
func scanRows[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// txStmt returns q, prepared already (see prepare), for use in tx. Only
// prepared queries are used in transactions; anything else is a
// programming error.
func (c *stmtCache) txStmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[q]
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("sqlstore: statement not prepared for transactions: %.60q", q)
	}
	return tx.StmtContext(ctx, st), nil
}

// txRow runs a prepared query in tx.
func (c *stmtCache) txRow(ctx context.Context, tx *sql.Tx, q string, args ...any) scanner {
	st, err := c.txStmt(ctx, tx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// txRows runs a prepared query in tx.
func (c *stmtCache) txRows(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	st, err := c.txStmt(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// txExec runs a prepared statement in tx.
func (c *stmtCache) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st, err := c.txStmt(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// queryRow runs a constant read query.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) scanner {
	return s.reads.row(ctx, q, args...)
}

// query runs a constant read query.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.reads.rows(ctx, q, args...)
}

// write runs fn in a write transaction, after preparing the statements
// that write transactions use (once; a failure is retried next time).
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := s.writes.prepare(ctx, writeQueries); err != nil {
		return err
	}
	return s.b.Write(ctx, fn)
}

// txQueryRow runs a constant query in a write transaction.
func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) scanner {
	return s.writes.txRow(ctx, tx, q, args...)
}

// txExec runs a constant statement in a write transaction.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	return s.writes.txExec(ctx, tx, q, args...)
}
