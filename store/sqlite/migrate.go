package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// A migration is one numbered step of the schema. Migrations are never
// edited once released: a change to the schema is a new migration.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists every migration in order. Each package part adds its own
// (the keystore's are in keystore_schema.go).
var migrations = []migration{
	{1, "keystore: keys, CA, seals, events, CRLs", keystoreSchemaV1},
	{2, "service: catalog, principals, ledger, results, checkpoints", serviceSchemaV1},
	{3, "keystore: ledger-signing keys", keystoreLedgerSchemaV1},
	{4, "service: sealed documents in the log beside the database", serviceSchemaV2},
	{5, "service: credentials expire", serviceSchemaV3},
	{6, "service: request ids are scoped to the township", serviceSchemaV4},
	{7, "service: sealed records by seal and time, for the fence", serviceSchemaV5},
	{8, "keystore: the TSA's keys and serial counter", keystoreTSASchemaV1},
	{9, "events: subscriptions and their delivery cursors", eventsSchemaV1},
	{10, "keystore: seal-maker keys and the seals' national seal data (SESeal)", keystoreSealMakerSchemaV1},
	{11, "service: the ledger holds supervision results and seal lifecycle records", serviceSchemaV6},
	{12, "service: sealed records by their input's SM3, for the public lookup", serviceSchemaLookup},
	{13, "events: a subscription's batch size, the most events one request carries", eventsSchemaBatch},
}

// ErrSchemaTooNew means the database was migrated by a newer program.
var ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this program")

// ErrSchemaMismatch means an applied migration is not the one this program
// has under that number.
var ErrSchemaMismatch = errors.New("sqlite: database schema does not match this program")

// migrate applies the migrations the database lacks, each in its own
// transaction, and checks that those applied are ours.
func migrate(ctx context.Context, w *sql.DB) error { return migrateList(ctx, w, migrations) }

// migrateList is migrate with the migrations ms, a prefix of migrations
// (tests build an older database with one).
func migrateList(ctx context.Context, w *sql.DB, ms []migration) error {
	_, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	) STRICT`)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for _, m := range ms {
		if err := applyMigration(ctx, w, m); err != nil {
			return err
		}
	}
	var newest int
	if err := w.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&newest); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if latest := ms[len(ms)-1].version; newest > latest {
		return fmt.Errorf("%w: it has migration %d, this program knows up to %d", ErrSchemaTooNew, newest, latest)
	}
	return nil
}

func applyMigration(ctx context.Context, w *sql.DB, m migration) error {
	tx, err := w.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one process migrates at a time
	if err != nil {
		return fmt.Errorf("sqlite: migration %d: %w", m.version, err)
	}
	defer tx.Rollback()
	var name string
	err = tx.QueryRowContext(ctx, "SELECT name FROM schema_migrations WHERE version = ?", m.version).Scan(&name)
	switch {
	case err == nil:
		if name != m.name {
			return fmt.Errorf("%w: migration %d is %q in the database, %q here", ErrSchemaMismatch, m.version, name, m.name)
		}
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: migration %d: %w", m.version, err)
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("sqlite: migration %d (%s): %w", m.version, m.name, err)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, time.Now().UTC().Format(time.RFC3339))
	if err != nil {
		return fmt.Errorf("sqlite: migration %d: %w", m.version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migration %d: commit: %w", m.version, err)
	}
	return nil
}
