package postgres

import (
	"context"
	"crypto/ecdsa"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/keystore/storetest"
)

// openKeystoreDB opens a fresh database twice, as two replicas would.
func openKeystoreDB(t *testing.T) (dsn string, a, b *DB) {
	t.Helper()
	dsn = pgtest.Shared(t).NewDatabase(t)
	for _, p := range []**DB{&a, &b} {
		db, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		*p = db
	}
	return dsn, a, b
}

// TestKeystoreStore runs the keystore.Store conformance suite on
// PostgreSQL, with two handles (two connection pools) on one database
// standing for two replicas.
func TestKeystoreStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (keystore.Store, keystore.Store) {
		_, a, b := openKeystoreDB(t)
		return a.Keystore(), b.Keystore()
	})
}

// replica is one service replica's keystore over its own connections.
type replica struct {
	db *DB
	ks *keystore.Keystore
}

// openReplicas opens n keystores with one KEK over one database; the first
// creates the county CA.
func openReplicas(t *testing.T, n int) []replica {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.Shared(t).NewDatabase(t)
	kek, err := keystore.WriteKEKFile(filepath.Join(t.TempDir(), "kek"))
	if err != nil {
		t.Fatal(err)
	}
	var out []replica
	for i := 0; i < n; i++ {
		db, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		ks, err := keystore.Open(ctx, keystore.Config{Store: db.Keystore(), Backend: keystore.NewSoftwareBackend(kek),
			SealValidity: 365 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ks.Close() })
		out = append(out, replica{db, ks})
	}
	if _, err := out[0].ks.CreateCA(ctx, keystore.CAOptions{CommonName: "融安县电子印章CA (TEST)", Organization: "融安县政务服务监督管理办公室"}); err != nil {
		t.Fatal(err)
	}
	return out
}

var changan = keystore.SealRequest{TownshipCode: "450224100", Organization: "融安县长安镇人民政府", Name: "融安县长安镇人民政府行政审批专用章"}

// race runs fn n times at once, spread over the replicas, and returns the
// errors in order.
func race[T any](rs []replica, n int, fn func(*keystore.Keystore) (T, error)) ([]T, []error) {
	var wg sync.WaitGroup
	vals, errs := make([]T, n), make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			vals[i], errs[i] = fn(rs[i%len(rs)].ks)
		}()
	}
	close(start)
	wg.Wait()
	return vals, errs
}

// TestConcurrentIssuance issues a seal for one township from two replicas
// at once, many times over: exactly one seal is made, every other call is
// refused with ErrLiveSealExists, and the keystore checks clean. Then both
// replicas publish CRLs at once: the numbers never repeat.
func TestConcurrentIssuance(t *testing.T) {
	ctx := context.Background()
	rs := openReplicas(t, 2)
	const n = 12
	seals, errs := race(rs, n, func(ks *keystore.Keystore) (keystore.Seal, error) { return ks.Issue(ctx, changan) })
	var won []keystore.Seal
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, seals[i])
		case !errors.Is(err, keystore.ErrLiveSealExists):
			t.Errorf("issue %d: err = %v, want ErrLiveSealExists", i, err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d concurrent issues succeeded, want 1", len(won))
	}
	for _, r := range rs {
		all, err := r.ks.Seals(ctx, changan.TownshipCode)
		if err != nil || len(all) != 1 || all[0].ID != won[0].ID {
			t.Fatalf("the township has %d seals (%v), want only %s", len(all), err, won[0].ID)
		}
	}
	// The losers' keys were never stored: the one seal's key is the only key
	// besides the CA's.
	var keys int
	if err := rs[0].db.db.QueryRow("SELECT COUNT(*) FROM keystore_keys").Scan(&keys); err != nil || keys != 2 {
		t.Fatalf("%d keys stored (%v), want 2 (the CA's and the seal's)", keys, err)
	}
	// The winner's seal signs on the other replica.
	other := rs[1]
	if _, err := rs[0].ks.Activate(ctx, won[0].ID); err != nil {
		t.Fatal(err)
	}
	signer, err := other.ks.Signer(ctx, changan.TownshipCode)
	if err != nil {
		t.Fatalf("Signer on the other replica: %v", err)
	}
	msg := []byte("长安镇")
	sig, err := signer.Sign(nil, msg, sm2.DefaultSM2SignerOpts)
	if err != nil || !sm2.VerifyASN1WithSM2(signer.Public().(*ecdsa.PublicKey), nil, msg, sig) {
		t.Fatalf("signing on the other replica: %v", err)
	}
	if _, err := rs[1].ks.Suspend(ctx, won[0].ID); err != nil {
		t.Fatal(err)
	}

	crls, errs := race(rs, 8, func(ks *keystore.Keystore) (keystore.CRLRecord, error) { return ks.PublishCRL(ctx) })
	seen := map[int64]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("PublishCRL %d: %v", i, err)
		}
		if seen[crls[i].Number] {
			t.Fatalf("CRL number %d published twice", crls[i].Number)
		}
		seen[crls[i].Number] = true
	}
	latest, err := rs[0].ks.CRL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	list, err := smx509.ParseRevocationList(latest.DER)
	if err != nil {
		t.Fatal(err)
	}
	if latest.Number != 8 || list.Number.Cmp(big.NewInt(8)) != 0 || len(list.RevokedCertificateEntries) != 1 {
		t.Fatalf("latest CRL is number %d (%v inside) with %d entries, want 8 listing the suspended seal",
			latest.Number, list.Number, len(list.RevokedCertificateEntries))
	}
	for _, r := range rs {
		if err := r.ks.Check(ctx); err != nil {
			t.Fatalf("Check: %v", err)
		}
	}
}

// TestConcurrentLedgerKey asks two replicas for the ledger key at once, many
// times over: one key is made, and every caller gets it.
func TestConcurrentLedgerKey(t *testing.T) {
	ctx := context.Background()
	rs := openReplicas(t, 2)
	type got struct{ serial string }
	vals, errs := race(rs, 10, func(ks *keystore.Keystore) (got, error) {
		_, cert, err := ks.LedgerSigner(ctx)
		if err != nil {
			return got{}, err
		}
		return got{cert.SerialNumber.Text(16)}, nil
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("LedgerSigner %d: %v", i, err)
		}
		if vals[i] != vals[0] {
			t.Fatalf("callers got ledger certificates %s and %s", vals[0].serial, vals[i].serial)
		}
	}
	recs, err := rs[0].db.Keystore().LedgerKeys(ctx)
	if err != nil || len(recs) != 1 || recs[0].State != keystore.LedgerKeyCurrent {
		t.Fatalf("ledger keys = %+v, %v; want one current", recs, err)
	}
	var keys int
	if err := rs[0].db.db.QueryRow("SELECT COUNT(*) FROM keystore_keys WHERE owner LIKE 'ledger:%'").Scan(&keys); err != nil || keys != 1 {
		t.Fatalf("%d ledger keys' keys stored (%v), want 1", keys, err)
	}
}

// rawSeal writes a seal with plain SQL, as a script or an attacker with
// database access would, bypassing the package.
func rawSeal(t *testing.T, raw *sql.DB, id, township, state string) error {
	t.Helper()
	if _, err := raw.Exec(`INSERT INTO keystore_keys (id, owner, backend, backend_id, public_key, handle, created_at)
		VALUES ($1, $2, 'raw', 'raw', '\x00', '\x01', now())`, "key-"+id, "seal:"+id); err != nil {
		t.Fatal(err)
	}
	var cert, serial, suspended, ended, replacedBy any
	if state != "pending" && state != "revoked" {
		cert, serial = []byte{0x30, 0}, id
	}
	if state == "suspended" {
		suspended = time.Now()
	}
	if state == "rotated" || state == "revoked" {
		ended = time.Now()
	}
	if state == "rotated" {
		replacedBy = id
	}
	_, err := raw.Exec(`INSERT INTO keystore_seals (id, township_code, organization, name, state, key_id, certificate, serial,
		created_at, suspended_at, ended_at, replaced_by, version)
		VALUES ($1, $2, 'o', 'n', $3, $4, $5, $6, now(), $7, $8, $9, 1)`,
		id, township, state, "key-"+id, cert, serial, suspended, ended, replacedBy)
	return err
}

func rawDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := pgtest.Shared(t).NewDatabase(t)
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.db
}

// TestKeystoreSchemaOneLiveSeal writes seals with plain SQL: the database
// itself refuses a second live or pending seal for a township.
func TestKeystoreSchemaOneLiveSeal(t *testing.T) {
	raw := rawDB(t)
	if err := rawSeal(t, raw, "a", "450224100", "active"); err != nil {
		t.Fatal(err)
	}
	for i, state := range []string{"issued", "active", "suspended"} {
		err := rawSeal(t, raw, fmt.Sprint("b", i), "450224100", state)
		if !errors.Is(mapKeystoreError(err), keystore.ErrLiveSealExists) {
			t.Errorf("a second live seal (%s) by plain SQL: err = %v, want the one-live index", state, err)
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
	if err := rawSeal(t, raw, "p2", "450224100", "pending"); !errors.Is(mapKeystoreError(err), keystore.ErrPendingSealExists) {
		t.Errorf("a second pending seal by plain SQL: err = %v", err)
	}
	if _, err := raw.Exec(`UPDATE keystore_seals SET state = 'issued', certificate = '\x3000', serial = 'p1' WHERE id = 'p1'`); err == nil {
		t.Error("pending -> issued beside a live seal by plain SQL was accepted")
	}
}

// TestKeystoreSchemaTransitionsMatchCode checks the trigger's list of state
// changes against keystore.ValidTransition, one plain-SQL UPDATE per pair.
func TestKeystoreSchemaTransitionsMatchCode(t *testing.T) {
	raw := rawDB(t)
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
			_, err := raw.Exec(`UPDATE keystore_seals SET state = $1,
				certificate = COALESCE(certificate, '\x3000'), serial = COALESCE(serial, id),
				suspended_at = now(),
				ended_at = CASE WHEN $1 IN ('rotated', 'revoked') THEN now() END,
				replaced_by = id WHERE id = $2`, string(to), id)
			allowed := err == nil
			if allowed != keystore.ValidTransition(from, to) {
				t.Errorf("%s -> %s: database allows %v (err %v), keystore.ValidTransition says %v",
					from, to, allowed, err, keystore.ValidTransition(from, to))
			}
			if !allowed && !errors.Is(mapKeystoreError(err), keystore.ErrInvalidTransition) {
				t.Errorf("%s -> %s: err = %v, want the transition trigger's", from, to, err)
			}
		}
	}
}

// TestKeystoreSchemaAppendOnly checks what the database never lets change.
func TestKeystoreSchemaAppendOnly(t *testing.T) {
	raw := rawDB(t)
	if err := rawSeal(t, raw, "a", "450224100", "active"); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`INSERT INTO keystore_events (seal_id, action, from_state, to_state, at, detail) VALUES ('a', 'issue', '', 'active', now(), '')`,
		`INSERT INTO keystore_crls (number, this_update, next_update, der) VALUES (1, now(), now(), '\x00')`,
		`INSERT INTO keystore_ca (singleton, certificate, chain, created_at) VALUES (1, '\x00', '', now())`,
	} {
		if _, err := raw.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	for _, stmt := range []string{
		"DELETE FROM keystore_seals WHERE id = 'a'",
		"DELETE FROM keystore_keys WHERE id = 'key-a'",
		"UPDATE keystore_events SET detail = 'x'",
		"DELETE FROM keystore_events",
		"UPDATE keystore_crls SET der = '\\x01'",
		"DELETE FROM keystore_crls",
		"UPDATE keystore_ca SET certificate = '\\x01'",
		"DELETE FROM keystore_ca",
		"TRUNCATE keystore_crls",
		"UPDATE keystore_keys SET public_key = '\\x02' WHERE id = 'key-a'",
		"UPDATE keystore_seals SET name = 'other' WHERE id = 'a'",
	} {
		if _, err := raw.Exec(stmt); err == nil {
			t.Errorf("%s: accepted", stmt)
		}
	}
	if _, err := raw.Exec("UPDATE keystore_keys SET handle = NULL, destroyed_at = now() WHERE id = 'key-a'"); err != nil {
		t.Fatalf("destroying a key: %v", err)
	}
	if _, err := raw.Exec("UPDATE keystore_keys SET handle = '\\x01', destroyed_at = NULL WHERE id = 'key-a'"); err == nil {
		t.Error("a destroyed key's handle was restored")
	}
}

// TestKeystoreSchemaLedgerKeys checks the ledger key table's rules with
// plain SQL: one current and one pending key, the key owned by the row, only
// pending -> current -> retired.
func TestKeystoreSchemaLedgerKeys(t *testing.T) {
	raw := rawDB(t)
	add := func(id, owner, state string) error {
		if _, err := raw.Exec(`INSERT INTO keystore_keys (id, owner, backend, backend_id, public_key, handle, created_at)
			VALUES ($1, $2, 'raw', 'raw', '\x00', '\x01', now())`, "key-"+id, owner); err != nil {
			t.Fatal(err)
		}
		var cert any
		if state != "pending" {
			cert = []byte{0x30, 0}
		}
		_, err := raw.Exec(`INSERT INTO keystore_ledger_keys (id, key_id, state, certificate, created_at) VALUES ($1, $2, $3, $4, now())`,
			id, "key-"+id, state, cert)
		return err
	}
	if err := add("l1", "ledger:l1", "current"); err != nil {
		t.Fatal(err)
	}
	if err := add("l2", "ledger:l2", "current"); !errors.Is(mapKeystoreError(err), keystore.ErrLedgerKeyExists) {
		t.Errorf("a second current ledger key: err = %v", err)
	}
	if err := add("l3", "seal:x", "pending"); !errors.Is(mapKeystoreError(err), keystore.ErrInvalidTransition) {
		t.Errorf("a ledger key with another owner's key: err = %v", err)
	}
	if err := add("l4", "ledger:l4", "pending"); err != nil {
		t.Fatal(err)
	}
	if err := add("l5", "ledger:l5", "pending"); !errors.Is(mapKeystoreError(err), keystore.ErrLedgerKeyExists) {
		t.Errorf("a second pending ledger key: err = %v", err)
	}
	for _, stmt := range []string{
		"UPDATE keystore_ledger_keys SET state = 'pending' WHERE id = 'l1'",
		"UPDATE keystore_ledger_keys SET state = 'retired', retired_at = now() WHERE id = 'l4'",
		"UPDATE keystore_ledger_keys SET certificate = '\\x3001' WHERE id = 'l1'",
		"UPDATE keystore_ledger_keys SET key_id = 'key-l4' WHERE id = 'l1'",
		"DELETE FROM keystore_ledger_keys WHERE id = 'l4'",
	} {
		if _, err := raw.Exec(stmt); err == nil {
			t.Errorf("%s: accepted", stmt)
		}
	}
	if _, err := raw.Exec("UPDATE keystore_ledger_keys SET state = 'retired', retired_at = now() WHERE id = 'l1'"); err != nil {
		t.Fatalf("retiring the current key: %v", err)
	}
	if _, err := raw.Exec("UPDATE keystore_ledger_keys SET state = 'current', certificate = '\\x3000' WHERE id = 'l4'"); err != nil {
		t.Fatalf("pending -> current: %v", err)
	}
	if _, err := raw.Exec("UPDATE keystore_ledger_keys SET state = 'current', retired_at = NULL WHERE id = 'l1'"); err == nil {
		t.Error("a retired ledger key was made current again")
	}
}

// TestKeystoreMigrations checks that the keystore's migrations are recorded
// and that opening again applies nothing and keeps the data.
func TestKeystoreMigrations(t *testing.T) {
	ctx := context.Background()
	dsn, a, _ := openKeystoreDB(t)
	if _, err := a.Keystore().ClaimBackend(ctx, "kek-1"); err != nil {
		t.Fatal(err)
	}
	var names []string
	rows, err := a.db.Query("SELECT name FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	if len(names) != len(migrations) {
		t.Fatalf("%d migrations recorded, %d known: %v", len(names), len(migrations), names)
	}
	for i, m := range migrations {
		if names[i] != m.name {
			t.Errorf("migration %d is %q in the database, %q here", m.version, names[i], m.name)
		}
	}
	again, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got, _ := again.Keystore().ClaimBackend(ctx, "kek-2"); got != "kek-1" {
		t.Errorf("reopening lost data: backend %q", got)
	}
}
