package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/store/sqlite"
)

// rawDB opens the file with database/sql directly, bypassing the package, as
// a careless script or an attacker with the file would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func rawSeal(t *testing.T, raw *sql.DB, id, township, state string) error {
	t.Helper()
	if _, err := raw.Exec(`INSERT INTO keystore_keys (id, owner, backend, backend_id, public_key, handle, created_at)
		VALUES (?, ?, 'raw', 'raw', x'00', x'01', '2025-01-01T00:00:00.000000000Z')`, "key-"+id, "seal:"+id); err != nil {
		t.Fatal(err)
	}
	var cert, serial, suspended, ended, replacedBy any
	if state != "pending" && state != "revoked" {
		cert, serial = []byte{0x30, 0}, id
	}
	if state == "suspended" {
		suspended = "2025-01-01T00:00:00.000000000Z"
	}
	if state == "rotated" || state == "revoked" {
		ended = "2025-01-01T00:00:00.000000000Z"
	}
	if state == "rotated" {
		replacedBy = id
	}
	_, err := raw.Exec(`INSERT INTO keystore_seals (id, township_code, organization, name, state, key_id, certificate, serial,
		created_at, suspended_at, ended_at, replaced_by, version)
		VALUES (?, ?, 'o', 'n', ?, ?, ?, ?, '2025-01-01T00:00:00.000000000Z', ?, ?, ?, 1)`,
		id, township, state, "key-"+id, cert, serial, suspended, ended, replacedBy)
	return err
}

// TestSchemaOneLiveSeal writes seals with plain SQL: the database itself
// refuses a second live or pending seal for a township.
func TestSchemaOneLiveSeal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ks.db")
	openDB(t, path)
	raw := rawDB(t, path)
	if err := rawSeal(t, raw, "a", "450224100", "active"); err != nil {
		t.Fatal(err)
	}
	for i, state := range []string{"issued", "active", "suspended"} {
		err := rawSeal(t, raw, fmt.Sprint("b", i), "450224100", state)
		if err == nil || !strings.Contains(err.Error(), "UNIQUE") {
			t.Errorf("a second live seal (%s) by plain SQL: err = %v, want a UNIQUE violation", state, err)
		}
	}
	for _, id := range []string{"c", "d"} {
		if err := rawSeal(t, raw, id, "450224100", "revoked"); err != nil {
			t.Errorf("a revoked seal beside the live one: %v", err)
		}
	}
	if err := rawSeal(t, raw, "p1", "450224100", "pending"); err != nil {
		t.Fatal(err)
	}
	if err := rawSeal(t, raw, "p2", "450224100", "pending"); err == nil {
		t.Error("a second pending seal by plain SQL was accepted")
	}
	if _, err := raw.Exec("UPDATE keystore_seals SET state = 'issued', certificate = x'3000', serial = 'p1' WHERE id = 'p1'"); err == nil {
		t.Error("pending -> issued beside a live seal by plain SQL was accepted")
	}
}

// TestSchemaTransitionsMatchCode checks the trigger's list of state changes
// against keystore.ValidTransition, one plain-SQL UPDATE per pair.
func TestSchemaTransitionsMatchCode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ks.db")
	openDB(t, path)
	raw := rawDB(t, path)
	states := []keystore.State{"pending", "issued", "active", "suspended", "rotated", "revoked"}
	i := 0
	for _, from := range states {
		for _, to := range states {
			if from == to {
				continue
			}
			i++
			id := fmt.Sprint("s", i)
			if err := rawSeal(t, raw, id, fmt.Sprintf("4502243%02d", i), string(from)); err != nil {
				t.Fatal(err)
			}
			// Set every column a state may require, so that only the
			// transition rule can refuse.
			_, err := raw.Exec(`UPDATE keystore_seals SET state = ?,
				certificate = COALESCE(certificate, x'3000'), serial = COALESCE(serial, id),
				suspended_at = '2025-01-02T00:00:00.000000000Z',
				ended_at = CASE WHEN ? IN ('rotated', 'revoked') THEN '2025-01-02T00:00:00.000000000Z' END,
				replaced_by = id WHERE id = ?`, string(to), string(to), id)
			allowed := err == nil
			if allowed != keystore.ValidTransition(from, to) {
				t.Errorf("%s -> %s: database allows %v (err %v), keystore.ValidTransition says %v",
					from, to, allowed, err, keystore.ValidTransition(from, to))
			}
		}
	}
}

// TestSchemaAppendOnly checks what the database never lets change.
func TestSchemaAppendOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ks.db")
	openDB(t, path)
	raw := rawDB(t, path)
	if err := rawSeal(t, raw, "a", "450224100", "active"); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO keystore_events (seal_id, action, from_state, to_state, at, detail)
		VALUES ('a', 'issue', '', 'active', '2025', '')`); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO keystore_crls (number, this_update, next_update, der) VALUES (1, 'a', 'b', x'00')`); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"DELETE FROM keystore_seals WHERE id = 'a'",
		"DELETE FROM keystore_keys WHERE id = 'key-a'",
		"UPDATE keystore_events SET detail = 'x'",
		"DELETE FROM keystore_events",
		"UPDATE keystore_crls SET der = x'01'",
		"DELETE FROM keystore_crls",
		"UPDATE keystore_keys SET public_key = x'02' WHERE id = 'key-a'",
		"UPDATE keystore_seals SET name = 'other' WHERE id = 'a'",
	} {
		if _, err := raw.Exec(stmt); err == nil {
			t.Errorf("%s: accepted", stmt)
		}
	}
	if _, err := raw.Exec("UPDATE keystore_keys SET handle = NULL, destroyed_at = 'x' WHERE id = 'key-a'"); err != nil {
		t.Fatalf("destroying a key: %v", err)
	}
	if _, err := raw.Exec("UPDATE keystore_keys SET handle = x'01', destroyed_at = NULL WHERE id = 'key-a'"); err == nil {
		t.Error("a destroyed key's handle was restored")
	}
}

func TestOpenSettings(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ks.db")
	db := openDB(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %04o, want 0600", fi.Mode().Perm())
	}
	raw := rawDB(t, path)
	var mode string
	if err := raw.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
	var rows int
	raw.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&rows)
	if rows != v {
		t.Errorf("%d migrations recorded, newest %d", rows, v)
	}
	// Opening again applies nothing and keeps the data.
	if _, err := db.Keystore().ClaimBackend(ctx, "kek-1"); err != nil {
		t.Fatal(err)
	}
	again := openDB(t, path)
	if v2, _ := again.SchemaVersion(ctx); v2 != v {
		t.Errorf("schema version %d after reopening, was %d", v2, v)
	}
	if got, _ := again.Keystore().ClaimBackend(ctx, "kek-2"); got != "kek-1" {
		t.Errorf("reopening lost data: backend %q", got)
	}

	for _, bad := range []string{"", "file:x.db", filepath.Join(t.TempDir(), "a?b.db"), ":memory:"} {
		if _, err := sqlite.Open(ctx, bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestMigrationGuards(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ks.db")
	db := openDB(t, path)
	latest, _ := db.SchemaVersion(ctx)
	db.Close()
	raw := rawDB(t, path)
	if _, err := raw.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 'x')", latest+1); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(ctx, path); !errors.Is(err, sqlite.ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
	raw.Exec("DELETE FROM schema_migrations WHERE version = ?", latest+1)
	if _, err := raw.Exec("UPDATE schema_migrations SET name = 'something else' WHERE version = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(ctx, path); !errors.Is(err, sqlite.ErrSchemaMismatch) {
		t.Fatalf("Open with a different migration 1: err = %v, want ErrSchemaMismatch", err)
	}
}
