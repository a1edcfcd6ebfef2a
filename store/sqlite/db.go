// Package sqlite stores the service's data in one SQLite file, through the
// pure-Go driver modernc.org/sqlite, so that a deployment needs no database
// server. It implements keystore.Store (DB.Keystore, in keystore*.go) and
// the service's store.Store (DB.Service, in service*.go), each with its own
// tables and migrations.
//
// What it touches: the database file it is given, the -wal and -shm files
// SQLite keeps beside it, and the -documents log of sealed documents
// (documents.go). The files it creates have mode 0600.
//
// How it stays consistent:
//   - the schema is built by numbered migrations, recorded in the table
//     schema_migrations, each in its own transaction;
//   - the journal is a write-ahead log (WAL) with synchronous=FULL, so a
//     committed transaction survives a crash or power loss and an
//     interrupted one leaves no trace; the log is copied back into the
//     file by a background checkpoint, not inside commits (checkpoint.go);
//   - every write is one transaction begun with BEGIN IMMEDIATE on a single
//     writer connection, so writers in this process queue up and writers in
//     other processes wait (busy_timeout) instead of failing half-way;
//     readers use their own connections and do not block the writer;
//   - constraints, unique indexes and triggers repeat the keystore's rules
//     (one live seal per township, valid state changes, append-only events),
//     so that no code path can break them.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeoutMillis is how long a writer waits for another process's write
// transaction before it fails.
const busyTimeoutMillis = 10000

// DB is an open SQLite database. It is safe for concurrent use.
type DB struct {
	path string
	w    *sql.DB // the single writer connection; transactions BEGIN IMMEDIATE
	r    *sql.DB // read-only connections
	ks   *KeystoreStore
	cp   *checkpointer
	docs *documentLog // sealed documents (documents.go)
}

// Open opens (creating if needed) the database at path and brings its schema
// up to date. It fails if the file's schema is newer than this program.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open %q: want a plain file path", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	f.Close()

	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeoutMillis)
	w, err := sql.Open("sqlite", path+"?"+common+fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", backstopCheckpointPages)+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=secure_delete(1)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	db := &DB{path: path, w: w}
	if err := db.checkWAL(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	db.r = r
	if db.cp, err = startCheckpointer(path, common); err != nil {
		db.Close()
		return nil, err
	}
	if db.docs, err = openDocumentLog(path + "-documents"); err != nil {
		db.Close()
		return nil, err
	}
	if db.ks, err = newKeystoreStore(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) checkWAL(ctx context.Context) error {
	var mode string
	if err := db.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", db.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: open %s: journal mode is %q, not WAL", db.path, mode)
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error {
	var errs []error
	if db.cp != nil {
		errs = append(errs, db.cp.close())
	}
	if db.docs != nil {
		errs = append(errs, db.docs.close())
	}
	if db.ks != nil {
		errs = append(errs, db.ks.close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close())
	return errors.Join(errs...)
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// SchemaVersion returns the number of the newest applied migration.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return v, nil
}

// write runs fn in a write transaction (BEGIN IMMEDIATE), committing if fn
// returns nil and rolling back otherwise.
func (db *DB) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	// Rolling back after a commit does nothing; if fn panics, it frees the
	// connection (SQLite's only writer) instead of holding it forever.
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	db.cp.committed()
	return nil
}
