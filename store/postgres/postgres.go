// Package postgres stores the sealing service's data in PostgreSQL, for
// deployments where several service replicas share one database behind a
// load balancer. It implements store.Store through store/sqlstore, so it
// runs the same queries as the embedded SQLite store and passes the same
// conformance suite.
//
// What it touches: the database named by its connection string. Its schema
// is built by numbered migrations recorded in schema_migrations; replicas
// that start together migrate one at a time under an advisory lock. The
// ledger stays one gap-free chain across replicas because each append locks
// the ledger table (EXCLUSIVE mode, which still lets readers read).
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/ronganxian/eseal/store/sqlstore"
)

// DB is an open PostgreSQL database.
type DB struct {
	db *sql.DB
	ks *KeystoreStore
}

// maxConns is how many connections one process holds at most: enough for
// the service's concurrent sealings and readers, and with two or three
// replicas well under PostgreSQL's default max_connections of 100.
const maxConns = 32

// Open connects to the database at dsn (a postgres:// URL or key=value
// string) and brings its schema up to date.
func Open(ctx context.Context, dsn string) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	// Connections are kept, not closed on return: database/sql keeps only
	// two idle by default, and under concurrency every other query then
	// paid for a new backend process and re-prepared its statements (a
	// fivefold slowdown at eight concurrent sealings).
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return &DB{db: db, ks: newKeystoreStore(db)}, nil
}

// Close closes the keystore's prepared statements and the connections.
func (d *DB) Close() error {
	d.ks.Close()
	return d.db.Close()
}

// Service returns the sealing service's store over this database. Closing
// it closes the database.
func (d *DB) Service() *sqlstore.Store { return sqlstore.New(backend{d.db}) }

type backend struct{ db *sql.DB }

func (b backend) Write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	// Rolling back after a commit does nothing; if fn panics, it frees the
	// connection (SQLite's only writer) instead of holding it forever.
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

func (b backend) Reader() *sql.DB { return b.db }

func (b backend) Writer() *sql.DB { return b.db }

// Rebind numbers the ? placeholders as $1, $2, ... The service's queries
// have no ? inside string literals.
func (backend) Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var sb strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(n))
			continue
		}
		sb.WriteRune(c)
	}
	return sb.String()
}

// LockLedger takes the ledger table in EXCLUSIVE mode until the transaction
// ends: appends from every replica queue here, reads go on.
func (backend) LockLedger(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "LOCK TABLE ledger IN EXCLUSIVE MODE")
	return err
}

func (backend) IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func (b backend) Close() error { return b.db.Close() }
