package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/internal/democatalog"
	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/keystore/sealkeys"
	"github.com/ronganxian/eseal/pdf"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/sealimage"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/postgres"
	"github.com/ronganxian/eseal/store/sqlite"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

func TestMain(m *testing.M) {
	if n, err := strconv.Atoi(os.Getenv(benchReceiversEnv)); err == nil {
		os.Exit(serveBenchReceivers(n)) // bench_receivers_test.go
	}
	pgtest.Main(m)
}

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
	// over is how clients reach the server. With TLS, pki issued the
	// server's certificate; with mTLS, certs holds each principal's client
	// certificate, and conns and clients the connections that present them.
	over    transport
	pki     *testPKI
	certs   map[string]tls.Certificate
	conns   map[string]*grpc.ClientConn
	clients map[string]*http.Client
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

// newEnv is newEnvOver on loopback without TLS.
func newEnv(t testing.TB, kind string, tweak func(*Config)) *env {
	t.Helper()
	return newEnvOver(t, kind, plaintext, tweak)
}

// newEnvOver starts a service on the store kind whose clients reach it
// over the transport.
func newEnvOver(t testing.TB, kind string, over transport, tweak func(*Config)) *env {
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
	var pki *testPKI
	if over != plaintext {
		pki = newTestPKI(t)
		cfg.TLSCertFile, cfg.TLSKeyFile = pki.files.cert, pki.files.key
		if over == overMTLS {
			cfg.ClientCAFile = pki.files.ca
		}
	}
	if tweak != nil {
		tweak(&cfg)
	}
	// The domain, as package service assembles it.
	ledger := seal.NewLedger(st, sealkeys.NewCheckpoints(ks))
	img, err := pdf.NewSealImage(image, 42)
	if err != nil {
		t.Fatal(err)
	}
	keys := sealkeys.NewSeals(ks, func(context.Context, keystore.Seal) (*pdf.SealImage, error) { return img, nil })
	sealer := &seal.Sealer{Policy: &seal.Policy{Registry: st, Keys: keys}, Ledger: ledger}
	srv, err := New(cfg, Deps{Sealer: sealer, Ledger: ledger, Store: st, Keystore: ks})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Serve(sctx); close(done) }()
	e := &env{t: t, srv: srv, sealer: sealer, st: st, ks: ks, ksDB: ksDB, tokens: map[string]string{}, stop: cancel, stopped: done,
		over: over, pki: pki, certs: map[string]tls.Certificate{}, conns: map[string]*grpc.ClientConn{}, clients: map[string]*http.Client{}}
	e.conn = e.dial(nil)
	t.Cleanup(func() {
		for _, c := range e.conns {
			c.Close()
		}
		for _, c := range e.clients {
			c.CloseIdleConnections()
		}
		e.conn.Close()
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
	if err := st.CreatePrincipal(ctx, admin, store.Credential{Kind: store.CredentialToken, Hash: hash, Expires: time.Now().Add(10 * 8760 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e.tokens["admin"] = adminToken
	conn := e.conn
	reg := sealv1.NewRegistryServiceClient(conn)
	if _, err := reg.ImportCatalog(e.as("admin"), &sealv1.ImportCatalogRequest{TownshipsCsv: democatalog.Townships,
		ItemsCsv: democatalog.Items, ImplementationsCsv: democatalog.Implementations}); err != nil {
		t.Fatalf("ImportCatalog: %v", err)
	}
	// The seals are issued through the keystore, as IssueSeal does, but
	// not through the API, so that the ledger starts empty: the tests
	// count its records, and IssueSeal's lifecycle record is
	// TestSealLifecycleRecords' concern.
	for _, town := range []string{"450224100", "450224101", "450224200"} {
		tw, err := st.Township(ctx, town)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ks.IssueActive(ctx, keystore.SealRequest{TownshipCode: tw.Code, Organization: tw.Government(), Name: tw.SealName}); err != nil {
			t.Fatalf("issuing the seal of %s: %v", town, err)
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
	// With mTLS, every principal also holds a client certificate, bound to
	// it by the certificate's SM3 hash.
	if over == overMTLS {
		for id := range e.tokens {
			cert := pki.issue(t, id, x509.ExtKeyUsageClientAuth)
			h := sm3.Sum(cert.Certificate[0])
			if err := st.AddCredential(ctx, id, store.Credential{Kind: store.CredentialCert, Hash: h[:]}); err != nil {
				t.Fatalf("AddCredential %s: %v", id, err)
			}
			e.certs[id] = cert
		}
	}
	return e
}

// dial connects to the gRPC listener over e's transport, presenting cert
// if it is not nil.
func (e *env) dial(cert *tls.Certificate) *grpc.ClientConn {
	e.t.Helper()
	creds := insecure.NewCredentials()
	if e.pki != nil {
		creds = credentials.NewTLS(e.pki.clientConfig(cert))
	}
	conn, err := grpc.NewClient(e.srv.GRPCAddr(), grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		e.t.Fatal(err)
	}
	return conn
}

// caller returns the connection and context that call as the principal
// id over e's transport: with mTLS a connection that presents id's client
// certificate and no token, otherwise e.conn and id's bearer token.
func (e *env) caller(id string) (*grpc.ClientConn, context.Context) {
	if e.over != overMTLS {
		return e.conn, e.as(id)
	}
	conn, ok := e.conns[id]
	if !ok {
		cert, ok := e.certs[id]
		if !ok {
			e.t.Fatalf("no client certificate for %s", id)
		}
		conn = e.dial(&cert)
		e.conns[id] = conn
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	e.t.Cleanup(cancel)
	return conn, ctx
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
	code   int
	body   []byte
	header http.Header
}

// rest calls the REST gateway as the principal id ("" for nobody), over
// e's transport: with mTLS presenting id's client certificate instead of
// its token.
func (e *env) rest(t *testing.T, method, path, who string, body []byte) restResponse {
	t.Helper()
	return e.restWith(t, method, path, who, body, nil)
}

// restWith is rest with extra request headers.
func (e *env) restWith(t *testing.T, method, path, who string, body []byte, header http.Header) restResponse {
	t.Helper()
	scheme := "http"
	if e.pki != nil {
		scheme = "https"
	}
	req, err := http.NewRequest(method, scheme+"://"+e.srv.HTTPAddr()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	if who != "" && e.over != overMTLS {
		req.Header.Set("Authorization", "Bearer "+e.tokens[who])
	}
	resp, err := e.httpClient(who).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return restResponse{resp.StatusCode, b, resp.Header}
}

// httpClient returns the HTTP client of the principal who over e's
// transport.
func (e *env) httpClient(who string) *http.Client {
	if e.pki == nil {
		return http.DefaultClient
	}
	if e.over != overMTLS {
		who = ""
	}
	c, ok := e.clients[who]
	if !ok {
		var cert *tls.Certificate
		if crt, ok := e.certs[who]; ok {
			cert = &crt
		}
		c = &http.Client{Transport: &http.Transport{TLSClientConfig: e.pki.clientConfig(cert), ForceAttemptHTTP2: true}}
		e.clients[who] = c
	}
	return c
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
