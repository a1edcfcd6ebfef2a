package api

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ronganxian/eseal/internal/democatalog"
	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/keystore/sealkeys"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/sealimage"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/postgres"
	"github.com/ronganxian/eseal/store/sqlite"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is a running service with a catalog, seals and principals.
type env struct {
	t      testing.TB
	srv    *Server
	sealer *seal.Sealer
	st     store.Store
	ks     *keystore.Keystore
	ksDB   *sqlite.DB // the SQLite file: both stores with kind sqlite, neither with postgres
	conn   *grpc.ClientConn
	tokens map[string]string // principal id -> bearer token
	// stop begins the server's graceful shutdown; stopped is closed when
	// Serve has returned.
	stop    context.CancelFunc
	stopped chan struct{}
}

// storeKinds are the service stores the end-to-end tests run on.
var storeKinds = []string{"sqlite", "postgres"}

// openStores returns the service store and the keystore's store of kind,
// as service.Open does: both in the SQLite file, or both in PostgreSQL.
// "postgres-durable" is PostgreSQL with production durability (see
// pgtest.Durable); the test server trades it for speed.
func openStores(t testing.TB, kind string, ksDB *sqlite.DB) (store.Store, keystore.Store) {
	switch kind {
	case "sqlite":
		return ksDB.Service(), ksDB.Keystore()
	case "postgres", "postgres-durable":
		srv := pgtest.Shared(t)
		if kind == "postgres-durable" {
			srv = pgtest.Durable(t)
		}
		pg, err := postgres.Open(context.Background(), srv.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		return pg.Service(), pg.Keystore()
	}
	t.Fatalf("unknown store %s", kind)
	return nil, nil
}

func newEnv(t testing.TB, kind string, tweak func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	ksDB, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	st, ksStore := openStores(t, kind, ksDB)
	kek, err := keystore.WriteKEKFile(filepath.Join(t.TempDir(), "kek"))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keystore.Open(ctx, keystore.Config{Store: ksStore, Backend: keystore.NewSoftwareBackend(kek)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateCA(ctx, keystore.CAOptions{CommonName: "测试县电子印章CA (TEST)", Organization: "测试县政务服务监督管理办公室"}); err != nil {
		t.Fatal(err)
	}
	image := sealimage.Round(300)
	cfg := Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if tweak != nil {
		tweak(&cfg)
	}
	// The domain, as package service assembles it.
	ledger := seal.NewLedger(st, sealkeys.NewCheckpoints(ks))
	keys := sealkeys.NewSeals(ks, func(keystore.Seal) ([]byte, float64, error) { return image, 42, nil })
	sealer := &seal.Sealer{Policy: &seal.Policy{Registry: st, Keys: keys}, Ledger: ledger}
	srv, err := New(cfg, Deps{Sealer: sealer, Ledger: ledger, Store: st, Keystore: ks})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Serve(sctx); close(done) }()
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, sealer: sealer, st: st, ks: ks, ksDB: ksDB, conn: conn, tokens: map[string]string{}, stop: cancel, stopped: done}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		<-done
		ks.Close()
		if kind != "sqlite" {
			st.Close()
		}
		ksDB.Close()
	})

	// The county office, the catalog, two seals, and the principals.
	adminToken, hash := NewToken()
	admin := seal.Principal{ID: "admin", Role: seal.RoleAdmin}
	if err := st.CreatePrincipal(ctx, admin, store.CredentialToken, hash); err != nil {
		t.Fatal(err)
	}
	e.tokens["admin"] = adminToken
	reg := sealv1.NewRegistryServiceClient(conn)
	if _, err := reg.ImportCatalog(e.as("admin"), &sealv1.ImportCatalogRequest{TownshipsCsv: democatalog.Townships,
		ItemsCsv: democatalog.Items, ImplementationsCsv: democatalog.Implementations}); err != nil {
		t.Fatalf("ImportCatalog: %v", err)
	}
	adm := sealv1.NewSealAdminServiceClient(conn)
	for _, town := range []string{"450224100", "450224101", "450224200"} {
		if _, err := adm.IssueSeal(e.as("admin"), &sealv1.IssueSealRequest{TownshipCode: town}); err != nil {
			t.Fatalf("IssueSeal %s: %v", town, err)
		}
	}
	for _, p := range []*sealv1.Principal{
		{Id: "changan-approval", Role: "clerk", TownshipCode: "450224100", Windows: []string{"approval"}},
		{Id: "changan-service", Role: "clerk", TownshipCode: "450224100", Windows: []string{"service"}},
		{Id: "fushi-approval", Role: "clerk", TownshipCode: "450224101", Windows: []string{"approval", "service"}},
		{Id: "yayao-both", Role: "clerk", TownshipCode: "450224200", Windows: []string{"approval", "service"}},
		{Id: "sup-nongye", Role: "supervisor", Domains: []string{"农业农村"}},
		{Id: "sup-minzheng", Role: "supervisor", Domains: []string{"民政"}},
	} {
		resp, err := sealv1.NewPrincipalServiceClient(conn).CreatePrincipal(e.as("admin"), &sealv1.CreatePrincipalRequest{Principal: p})
		if err != nil {
			t.Fatalf("CreatePrincipal %s: %v", p.Id, err)
		}
		e.tokens[p.Id] = resp.Token
	}
	return e
}

// as returns a context that calls as the principal id.
func (e *env) as(id string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	e.t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+e.tokens[id])
}

func readDecision(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type restResponse struct {
	code int
	body []byte
}

// rest calls the REST gateway as the principal id ("" for nobody).
func (e *env) rest(t *testing.T, method, path, who string, body []byte) restResponse {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+e.srv.HTTPAddr()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[who])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return restResponse{resp.StatusCode, b}
}

func metadataCtx(ctx context.Context, authorization string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", authorization)
}

// tamperSQLite changes one ledger row behind the service's back, as someone
// holding the database file could: the append-only trigger is dropped first.
func tamperSQLite(path string, seq int) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec("DROP TRIGGER ledger_no_update"); err != nil {
		return err
	}
	_, err = db.Exec("UPDATE ledger SET case_no = case_no || '-forged' WHERE seq = ?", seq)
	return err
}
