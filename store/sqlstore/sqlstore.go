// Package sqlstore implements store.Store over database/sql, once, for every
// SQL database the service runs on. A Backend supplies what differs between
// them: how a write transaction begins, placeholders, how appends to the
// ledger are serialised across processes, and how a unique violation looks.
//
// It touches only the database its Backend opens. The schema it expects is
// created by the backend's migrations (store/sqlite, store/postgres).
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ronganxian/eseal/store"
)

// Backend is one database's dialect and connections.
type Backend interface {
	// Write runs fn in a read-write transaction and commits when fn returns
	// nil. The transaction's isolation must make LockLedger effective.
	Write(ctx context.Context, fn func(*sql.Tx) error) error
	// Reader returns the pool for reads.
	Reader() *sql.DB
	// Writer returns the pool Write's transactions come from, on which
	// statements for them are prepared.
	Writer() *sql.DB
	// Rebind turns a query written with ? placeholders into the dialect's.
	Rebind(query string) string
	// LockLedger makes the calling transaction the only one that appends to
	// the ledger until it ends, in every process sharing the database.
	LockLedger(ctx context.Context, tx *sql.Tx) error
	// IsUniqueViolation reports whether err is a unique-constraint failure.
	IsUniqueViolation(err error) bool
	Close() error
}

// DocumentLog is what a Backend implements when it keeps sealed documents
// outside its tables; the results table then holds a reference to each.
type DocumentLog interface {
	// WriteDocuments stores docs durably, before the transaction that
	// refers to them begins, and returns a reference to each.
	WriteDocuments(docs [][]byte) ([][]byte, error)
	// ReadDocument returns the document a reference names, or an error if
	// what is stored is not that document.
	ReadDocument(ref []byte) ([]byte, error)
}

// Store is store.Store over a Backend.
type Store struct {
	b             Backend
	docs          DocumentLog // nil: documents are stored in the results table
	reads, writes *stmtCache
	appends       groupCommit
}

var _ store.Store = (*Store)(nil)

// New returns a Store over b.
func New(b Backend) *Store {
	s := &Store{b: b, reads: newStmtCache(b.Reader(), b.Rebind), writes: newStmtCache(b.Writer(), b.Rebind)}
	s.docs, _ = b.(DocumentLog)
	return s
}

// Close closes the prepared statements and the backend.
func (s *Store) Close() error {
	s.reads.close()
	s.writes.close()
	return s.b.Close()
}

func encodeList[T ~string](xs []T) string {
	if xs == nil {
		xs = []T{}
	}
	b, _ := json.Marshal(xs)
	return string(b)
}

func decodeList[T ~string](s string) ([]T, error) {
	var xs []T
	if err := json.Unmarshal([]byte(s), &xs); err != nil {
		return nil, fmt.Errorf("stored list %q: %w", s, err)
	}
	if len(xs) == 0 {
		return nil, nil
	}
	return xs, nil
}

// notFound maps sql.ErrNoRows to store.ErrNotFound, naming what was sought.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
