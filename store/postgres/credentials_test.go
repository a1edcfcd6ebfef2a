package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/store"
)

// TestMigrationGivesTokensAnExpiry: a database made before credentials
// expired keeps its tokens working after the upgrade, until a year (the
// default token_ttl) after the migration; its certificates get no expiry.
func TestMigrationGivesTokensAnExpiry(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Shared(t).NewDatabase(t)
	old, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	before := migrationsBefore(t, serviceSchemaV4)
	if err := migrateList(ctx, old, before); err != nil {
		t.Fatal(err)
	}
	tok, cert := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO principals (id, name, role, township_code, windows, domains, disabled, created_us)
			VALUES ('clerk-1', '', 'clerk', '450224100', '["approval"]', '[]', 0, 0)`, nil},
		{`INSERT INTO credentials (kind, hash, lookup, principal_id, created_us) VALUES ('token', $1, $2, 'clerk-1', 0)`, []any{tok, tok[:8]}},
		{`INSERT INTO credentials (kind, hash, lookup, principal_id, created_us) VALUES ('cert', $1, $2, 'clerk-1', 0)`, []any{cert, cert[:8]}},
	} {
		if _, err := old.ExecContext(ctx, st.q, st.args...); err != nil {
			t.Fatalf("%s: %v", st.q, err)
		}
	}
	old.Close()

	migrated := time.Now()
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	st := db.Service()
	defer st.Close()
	const year = 8760 * time.Hour
	for _, tc := range []struct {
		name string
		kind string
		hash []byte
		at   time.Time
		want bool
	}{
		{"the old token now", store.CredentialToken, tok, time.Now(), true},
		{"the old token just under a year on", store.CredentialToken, tok, migrated.Add(year - 2*time.Second), true},
		{"the old token a year on", store.CredentialToken, tok, time.Now().Add(year), false},
		{"the old certificate ten years on", store.CredentialCert, cert, time.Now().Add(10 * year), true},
	} {
		_, err := st.PrincipalByCredential(ctx, tc.kind, tc.hash, tc.at)
		if got := err == nil; got != tc.want {
			t.Errorf("%s: valid %v (%v), want %v", tc.name, got, err, tc.want)
		}
	}
}
