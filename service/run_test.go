package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/keystore/sealkeys"
	"github.com/ronganxian/eseal/store/postgres"
	"github.com/ronganxian/eseal/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var changan = keystore.SealRequest{TownshipCode: "450224100", Organization: "融安县长安镇人民政府", Name: "融安县长安镇人民政府行政审批专用章"}

// testConfig is a configuration over a new data directory with its KEK.
func testConfig(t *testing.T, storeKind, dsn string) *Config {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("ESEAL_DATA_DIR", dir)
	t.Setenv("ESEAL_STORE", storeKind)
	t.Setenv("ESEAL_POSTGRES_DSN", dsn)
	c, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureKEK(c.KEKFile); err != nil {
		t.Fatal(err)
	}
	return c
}

func openService(t *testing.T, c *Config) *Service {
	t.Helper()
	svc, err := Open(context.Background(), c, quiet)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

// TestOpenKeystoreOnPostgres: with store postgres the keystore is in
// PostgreSQL, shared by a second replica, and no SQLite file is made.
func TestOpenKeystoreOnPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Shared(t).NewDatabase(t)
	c := testConfig(t, "postgres", dsn)
	first := openService(t, c)
	if err := first.EnsureCA(ctx, "融安县电子印章CA (TEST)", "融安县政务服务监督管理办公室"); err != nil {
		t.Fatal(err)
	}
	s, err := first.Keystore.Issue(ctx, changan)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if _, err := os.Stat(c.SQLitePath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("store postgres made the SQLite file %s (%v)", c.SQLitePath, err)
	}

	// The seal is in PostgreSQL, as the database itself shows.
	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if live, err := pg.Keystore().LiveSeal(ctx, changan.TownshipCode); err != nil || live.ID != s.ID {
		t.Fatalf("PostgreSQL's live seal = %s, %v; want %s", live.ID, err, s.ID)
	}

	// A second replica shares the keystore: it sees the seal, cannot issue
	// another, and activates it for both.
	second := openService(t, c)
	if _, err := second.Keystore.Issue(ctx, changan); !errors.Is(err, keystore.ErrLiveSealExists) {
		t.Fatalf("a second seal from the other replica: err = %v, want ErrLiveSealExists", err)
	}
	if _, err := second.Keystore.Activate(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Keystore.Signer(ctx, changan.TownshipCode); err != nil {
		t.Fatalf("Signer on the first replica after the second activated: %v", err)
	}
	// The servers sign checkpoints with the keystore's ledger key, which
	// the replicas share.
	_, a, err := sealkeys.NewCheckpoints(first.Keystore).CheckpointKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := sealkeys.NewCheckpoints(second.Keystore).CheckpointKey(ctx)
	if err != nil || a.SerialNumber.Cmp(b.SerialNumber) != 0 {
		t.Fatalf("the replicas' checkpoint keys differ (%v)", err)
	}
	if !keystore.IsLedgerCertificate(a) {
		t.Fatal("the checkpoint key is not the ledger-signing key")
	}
}

// TestOpenKeystoreOnSQLite: with store sqlite the keystore is in the SQLite
// file, as before.
func TestOpenKeystoreOnSQLite(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t, "sqlite", "")
	svc := openService(t, c)
	if err := svc.EnsureCA(ctx, "融安县电子印章CA (TEST)", "融安县政务服务监督管理办公室"); err != nil {
		t.Fatal(err)
	}
	s, err := svc.Keystore.Issue(ctx, changan)
	if err != nil {
		t.Fatal(err)
	}
	svc.Close()
	db, err := sqlite.Open(ctx, c.SQLitePath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if live, err := db.Keystore().LiveSeal(ctx, changan.TownshipCode); err != nil || live.ID != s.ID {
		t.Fatalf("the SQLite file's live seal = %s, %v; want %s", live.ID, err, s.ID)
	}
}

// TestOpenRefusesStrandedCA: a data directory whose SQLite file holds the
// county CA does not start with an empty PostgreSQL keystore.
func TestOpenRefusesStrandedCA(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t, "sqlite", "")
	svc := openService(t, c)
	if err := svc.EnsureCA(ctx, "融安县电子印章CA (TEST)", "融安县政务服务监督管理办公室"); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	before, err := os.ReadFile(c.SQLitePath)
	if err != nil {
		t.Fatal(err)
	}

	c.Store, c.PostgresDSN = "postgres", pgtest.Shared(t).NewDatabase(t)
	if _, err := Open(ctx, c, quiet); !errors.Is(err, ErrKeystoreInSQLite) {
		t.Fatalf("Open with the CA left in SQLite: err = %v, want ErrKeystoreInSQLite", err)
	}
	if after, _ := os.ReadFile(c.SQLitePath); string(after) != string(before) {
		t.Fatal("the check changed the SQLite file")
	}
	// Once PostgreSQL has its own CA, the old file is no obstacle.
	pgc := *c
	pgc.SQLitePath = filepath.Join(t.TempDir(), "none.db")
	svc = openService(t, &pgc)
	if err := svc.EnsureCA(ctx, "融安县电子印章CA (TEST)", "融安县政务服务监督管理办公室"); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	openService(t, c)
}
