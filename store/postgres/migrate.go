package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists every migration in order; a released one never changes.
var migrations = []migration{
	{1, "service: catalog, principals, ledger, results, checkpoints", serviceSchemaV1},
	{2, "keystore: keys, CA, seals, events, CRLs", keystoreSchemaV1},
	{3, "keystore: ledger-signing keys", keystoreLedgerSchemaV1},
	{4, "service: sealed documents stored uncompressed", serviceSchemaV2},
	{5, "service: results may refer to documents kept elsewhere", serviceSchemaV3},
	{6, "service: credentials expire", serviceSchemaV4},
	{7, "service: request ids are scoped to the township", serviceSchemaV5},
	{8, "service: sealed records by seal and time, for the fence", serviceSchemaV6},
	{9, "service: sealed documents written before the ledger append", serviceSchemaV7},
	{10, "keystore: the TSA's keys and serial counter", keystoreTSASchemaV1},
	{11, "events: subscriptions and their delivery cursors", eventsSchemaV1},
	{12, "keystore: seal-maker keys and the seals' national seal data (SESeal)", keystoreSealMakerSchemaV1},
	{13, "service: the ledger holds supervision results and seal lifecycle records", serviceSchemaV8},
	{14, "service: sealed documents may be deleted under the retention policy", serviceSchemaV9},
	{15, "service: sealed records by their input's SM3, for the public lookup", serviceSchemaLookup},
	{16, "events: a subscription's batch size, the most events one request carries", eventsSchemaBatch},
}

// migrationLock is the advisory lock key under which replicas migrate.
const migrationLock = 0x65_73_65_61_6c // "eseal"

// ErrSchemaTooNew means the database was migrated by a newer program.
var ErrSchemaTooNew = errors.New("postgres: database schema is newer than this program")

// migrate applies the migrations the database lacks, in one transaction
// under an advisory lock, and checks that those applied are ours.
func migrate(ctx context.Context, db *sql.DB) error { return migrateList(ctx, db, migrations) }

// migrateList is migrate with the migrations ms, a prefix of migrations
// (tests build an older database with one).
func migrateList(ctx context.Context, db *sql.DB, ms []migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	for _, m := range ms {
		var name string
		err := tx.QueryRowContext(ctx, "SELECT name FROM schema_migrations WHERE version = $1", m.version).Scan(&name)
		switch {
		case err == nil:
			if name != m.name {
				return fmt.Errorf("postgres: migration %d is %q in the database, %q here", m.version, name, m.name)
			}
			continue
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("postgres: migration %d: %w", m.version, err)
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("postgres: migration %d (%s): %w", m.version, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return fmt.Errorf("postgres: migration %d: %w", m.version, err)
		}
	}
	var newest int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&newest); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if latest := ms[len(ms)-1].version; newest > latest {
		return fmt.Errorf("%w: it has migration %d, this program knows up to %d", ErrSchemaTooNew, newest, latest)
	}
	return tx.Commit()
}
