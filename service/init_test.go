package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/keystore"
)

// pgConfig is a configuration for a data directory of its own on dsn,
// made as an operator's flags make it, without the environment.
func pgConfig(t *testing.T, dsn string) *Config {
	t.Helper()
	for _, name := range []string{"ESEAL_DATA_DIR", "ESEAL_STORE", "ESEAL_POSTGRES_DSN", "ESEAL_KEK_FILE", "ESEAL_KEK_ENV"} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
	dir := t.TempDir()
	c, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	c.DataDir, c.Store, c.PostgresDSN, c.KEKFile = dir, "postgres", dsn, filepath.Join(dir, "kek")
	c.SQLitePath = filepath.Join(dir, "seal.db")
	return c
}

// TestInitOnPostgresThenJoin walks the operator's path of issue 20: init
// on PostgreSQL writes a configuration that names the database and
// publishes a CRL; a second replica without the KEK is told to copy it and
// to join, with a different KEK is told it is not the first replica's, and
// with a copy of it joins and opens the same CA; join on an empty database
// says to init first.
func TestInitOnPostgresThenJoin(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Shared(t).NewDatabase(t)

	a := pgConfig(t, dsn)
	if err := PrepareInit(ctx, a); err != nil {
		t.Fatal(err)
	}
	svcA, err := Open(ctx, a, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer svcA.Close()
	res, err := svcA.Init(ctx, "融安县电子印章CA (TEST)", "融安县政务服务监督管理办公室")
	if err != nil {
		t.Fatal(err)
	}
	if res.CRLNumber == "" {
		t.Error("init published no CRL")
	}
	if _, err := svcA.Keystore.CRL(ctx); err != nil {
		t.Errorf("no CRL after init: %v", err)
	}
	// The configuration file alone opens the same installation.
	written, err := LoadConfig(res.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	if written.Store != "postgres" || written.PostgresDSN != dsn || written.KEKFile != a.KEKFile {
		t.Fatalf("init wrote store %q, dsn %q, kek %q; want postgres, %q, %q", written.Store, written.PostgresDSN, written.KEKFile, dsn, a.KEKFile)
	}
	if fi, err := os.Stat(res.ConfigFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the configuration file, which holds the DSN: %v, %v", fi.Mode(), err)
	}
	caA, err := svcA.Keystore.CA(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// A second replica that runs init without the KEK makes none.
	b := pgConfig(t, dsn)
	err = PrepareInit(ctx, b)
	if !errors.Is(err, ErrReplicaNeedsKEK) || !strings.Contains(err.Error(), "sealsvc join") || !strings.Contains(err.Error(), b.KEKFile) {
		t.Fatalf("init of a second replica: %v; want ErrReplicaNeedsKEK naming join and %s", err, b.KEKFile)
	}
	if _, err := os.Stat(b.KEKFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("init of a second replica made a KEK: %v", err)
	}
	if _, err := Join(ctx, b, quiet); err == nil || !strings.Contains(err.Error(), "no KEK at "+b.KEKFile) {
		t.Fatalf("join without a KEK: %v", err)
	}
	// A KEK of its own is refused, saying whose it must be.
	if _, err := keystore.WriteKEKFile(b.KEKFile); err != nil {
		t.Fatal(err)
	}
	if _, err := Join(ctx, b, quiet); !errors.Is(err, keystore.ErrWrongKEK) || !strings.Contains(err.Error(), "first replica's KEK") {
		t.Fatalf("join with another KEK: %v", err)
	}
	// A copy of the first replica's KEK joins.
	kek, err := os.ReadFile(a.KEKFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.KEKFile, kek, 0o600); err != nil {
		t.Fatal(err)
	}
	jres, err := Join(ctx, b, quiet)
	if err != nil {
		t.Fatalf("join with the first replica's KEK: %v", err)
	}
	wb, err := LoadConfig(jres.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	svcB, err := Open(ctx, wb, quiet)
	if err != nil {
		t.Fatalf("the joined replica's configuration: %v", err)
	}
	defer svcB.Close()
	caB, err := svcB.Keystore.CA(ctx)
	if err != nil || caB.Certificate.SerialNumber.Cmp(caA.Certificate.SerialNumber) != 0 {
		t.Fatalf("the joined replica's CA: %v, %v", caB, err)
	}
	rootA, _ := os.ReadFile(res.RootPEM)
	rootB, _ := os.ReadFile(jres.RootPEM)
	if len(rootA) == 0 || string(rootA) != string(rootB) {
		t.Error("the replicas' root.pem differ")
	}

	// join on a database without a CA.
	e := pgConfig(t, pgtest.Shared(t).NewDatabase(t))
	if err := os.WriteFile(e.KEKFile, kek, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Join(ctx, e, quiet); !errors.Is(err, ErrJoinNeedsCA) {
		t.Fatalf("join on an empty database: %v", err)
	}
}

// TestInitConfigFromEnvironment: init through the ESEAL_* variables writes
// a configuration file that names the store and the DSN, so the service
// started from the file alone finds its database (before, postgres_dsn
// was only a comment in it).
func TestInitConfigFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	const dsn = "postgres://eseal:secret@db.internal:5432/eseal"
	t.Setenv("ESEAL_DATA_DIR", dir)
	t.Setenv("ESEAL_STORE", "postgres")
	t.Setenv("ESEAL_POSTGRES_DSN", dsn)
	t.Setenv("ESEAL_LOG_LEVEL", "warn")
	c, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sealsvc.yaml")
	if err := os.WriteFile(path, []byte(c.yaml()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ESEAL_DATA_DIR", "ESEAL_STORE", "ESEAL_POSTGRES_DSN", "ESEAL_LOG_LEVEL"} {
		os.Unsetenv(name)
	}
	back, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Store != "postgres" || back.PostgresDSN != dsn || back.DataDir != dir || back.LogLevel != "warn" {
		t.Fatalf("the file gives store %q, dsn %q, data %q, log level %q", back.Store, back.PostgresDSN, back.DataDir, back.LogLevel)
	}
	if err := back.Validate(); err != nil {
		t.Fatal(err)
	}
}
