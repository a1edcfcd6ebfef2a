package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ronganxian/eseal/store/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Service returns the sealing service's store (store.Store) over this
// database. Closing it closes the database.
func (db *DB) Service() *sqlstore.Store { return sqlstore.New(serviceBackend{db}) }

// serviceBackend is SQLite's dialect for sqlstore.
type serviceBackend struct{ db *DB }

func (b serviceBackend) Write(ctx context.Context, fn func(*sql.Tx) error) error {
	return b.db.write(ctx, fn)
}

func (b serviceBackend) Reader() *sql.DB { return b.db.r }

// WriteDocuments and ReadDocument keep sealed documents in the log beside
// the database (sqlstore.DocumentLog).
func (b serviceBackend) WriteDocuments(docs [][]byte) ([][]byte, error) { return b.db.docs.write(docs) }

func (b serviceBackend) ReadDocument(ref []byte) ([]byte, error) { return b.db.docs.read(ref) }

func (b serviceBackend) Writer() *sql.DB { return b.db.w }

// Rebind keeps ?, which is SQLite's placeholder.
func (serviceBackend) Rebind(q string) string { return q }

// LockLedger has nothing to do: every write transaction begins IMMEDIATE,
// which already excludes every other writer, in this process and others.
func (serviceBackend) LockLedger(context.Context, *sql.Tx) error { return nil }

func (serviceBackend) IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code()
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func (b serviceBackend) Close() error { return b.db.Close() }
