package sqlite_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSchemaLedgerKeys checks the ledger key table's rules with plain SQL:
// one current and one pending key, the key owned by the row, only
// pending -> current -> retired, nothing deleted.
func TestSchemaLedgerKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ks.db")
	openDB(t, path)
	raw := rawDB(t, path)
	add := func(id, owner, state string) error {
		if _, err := raw.Exec(`INSERT INTO keystore_keys (id, owner, backend, backend_id, public_key, handle, created_at)
			VALUES (?, ?, 'raw', 'raw', x'00', x'01', '2025-01-01T00:00:00.000000000Z')`, "key-"+id, owner); err != nil {
			t.Fatal(err)
		}
		var cert any
		if state != "pending" {
			cert = []byte{0x30, 0}
		}
		_, err := raw.Exec(`INSERT INTO keystore_ledger_keys (id, key_id, state, certificate, created_at)
			VALUES (?, ?, ?, ?, '2025-01-01T00:00:00.000000000Z')`, id, "key-"+id, state, cert)
		return err
	}
	if err := add("l1", "ledger:l1", "current"); err != nil {
		t.Fatal(err)
	}
	if err := add("l2", "ledger:l2", "current"); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("a second current ledger key: err = %v, want a UNIQUE violation", err)
	}
	if err := add("l3", "seal:x", "pending"); err == nil || !strings.Contains(err.Error(), "another owner") {
		t.Errorf("a ledger key with another owner's key: err = %v", err)
	}
	if err := add("l4", "ledger:l4", "pending"); err != nil {
		t.Fatal(err)
	}
	if err := add("l5", "ledger:l5", "pending"); err == nil {
		t.Error("a second pending ledger key was accepted")
	}
	for _, stmt := range []string{
		"UPDATE keystore_ledger_keys SET state = 'pending' WHERE id = 'l1'",
		"UPDATE keystore_ledger_keys SET state = 'retired', retired_at = 'x' WHERE id = 'l4'",
		"UPDATE keystore_ledger_keys SET certificate = x'3001' WHERE id = 'l1'",
		"UPDATE keystore_ledger_keys SET key_id = 'key-l4' WHERE id = 'l1'",
		"DELETE FROM keystore_ledger_keys WHERE id = 'l4'",
	} {
		if _, err := raw.Exec(stmt); err == nil {
			t.Errorf("%s: accepted", stmt)
		}
	}
	if _, err := raw.Exec("UPDATE keystore_ledger_keys SET state = 'retired', retired_at = 'x' WHERE id = 'l1'"); err != nil {
		t.Fatalf("retiring the current key: %v", err)
	}
	if _, err := raw.Exec("UPDATE keystore_ledger_keys SET state = 'current', certificate = x'3000' WHERE id = 'l4'"); err != nil {
		t.Fatalf("pending -> current: %v", err)
	}
	if _, err := raw.Exec("UPDATE keystore_ledger_keys SET state = 'current', retired_at = NULL WHERE id = 'l1'"); err == nil {
		t.Error("a retired ledger key was made current again")
	}
}
