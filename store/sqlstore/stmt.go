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

func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, c.rebind(q))
	if err != nil {
		return nil, err
	}
	c.m[q] = st
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

// queryRow runs a constant read query.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) scanner {
	st, err := s.reads.get(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a constant read query.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.reads.get(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// write runs fn in a write transaction, after preparing the statements
// that write transactions use (once; a failure is retried next time).
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	for _, q := range writeQueries {
		if _, err := s.writes.get(ctx, q); err != nil {
			return fmt.Errorf("preparing %.40q: %w", q, err)
		}
	}
	return s.b.Write(ctx, fn)
}

// txStmt returns q, prepared, for use in tx. Only writeQueries are
// prepared for transactions; anything else is a programming error.
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	s.writes.mu.Lock()
	st, ok := s.writes.m[q]
	s.writes.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("sqlstore: statement not in writeQueries: %.60q", q)
	}
	return tx.StmtContext(ctx, st), nil
}

// txQueryRow runs a constant query in a write transaction.
func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) scanner {
	st, err := s.txStmt(ctx, tx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// txExec runs a constant statement in a write transaction.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st, err := s.txStmt(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}
