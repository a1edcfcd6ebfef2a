package outbox_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/events"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/outbox"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store/sqlite"
	"github.com/ronganxian/eseal/store/sqlstore"
)

// keys is a county root with a ledger key under it (seal.CheckpointKeys).
type keys struct {
	roots *smx509.CertPool
	key   crypto.Signer
	cert  *smx509.Certificate
}

func newKeys(t testing.TB) *keys {
	t.Helper()
	ch := testpki.MustChain(testpki.Options{})
	key, cert, err := ch.IssueLedgerLeaf(seal.LedgerKeyPolicyOID)
	if err != nil {
		t.Fatal(err)
	}
	roots := smx509.NewCertPool()
	roots.AddCert(ch.Root())
	return &keys{roots: roots, key: key, cert: cert}
}

func (k *keys) CheckpointKey(context.Context) (crypto.Signer, *smx509.Certificate, error) {
	return k.key, k.cert, nil
}

func (k *keys) CheckpointTrust(context.Context) (*seal.CheckpointTrust, error) {
	return &seal.CheckpointTrust{Roots: k.roots, IsLedgerKey: seal.IsLedgerCertificate}, nil
}

// secrets seals with a real KEK, as the service does.
type secrets struct{ b *keystore.SoftwareBackend }

func (s secrets) SealSecret(owner string, pt []byte) ([]byte, error) {
	return s.b.SealSecret(keystore.KeyRef{ID: owner, Owner: owner}, pt)
}

func (s secrets) OpenSecret(owner string, sealed []byte) ([]byte, error) {
	return s.b.OpenSecret(keystore.KeyRef{ID: owner, Owner: owner}, sealed)
}

// env is a ledger in SQLite and an outbox over it, with fast timings.
type env struct {
	st     *sqlstore.Store
	ledger *seal.Ledger
	keys   *keys
	box    *outbox.Outbox
	cfg    outbox.Config
	n      int
}

func fastConfig() outbox.Config {
	return outbox.Config{Source: "/eseal/test-county", Lease: 2 * time.Second, Poll: 20 * time.Millisecond,
		SendTimeout: 2 * time.Second, BackoffMin: 10 * time.Millisecond, BackoffMax: 80 * time.Millisecond, ParkAfter: 1000}
}

func newEnv(t testing.TB, cfg outbox.Config) *env {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	kek, err := keystore.WriteKEKFile(filepath.Join(t.TempDir(), "kek"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: db.Service(), keys: newKeys(t), cfg: cfg}
	e.ledger = seal.NewLedger(e.st, e.keys)
	e.box = outbox.New(cfg, e.st, e.keys, secrets{keystore.NewSoftwareBackend(kek)}, e.ledger.Appended)
	return e
}

// seal appends n records, in domains alternating 市场监管 and 民政, every
// third a refusal.
func (e *env) seal(t testing.TB, n int) {
	t.Helper()
	for range n {
		i := e.n
		e.n++
		doc := []byte("%PDF-1.7 sealed " + itoa(i))
		r := testRecord(i)
		if r.Result == seal.ResultRefused {
			doc = nil
		}
		if _, err := e.ledger.Append(context.Background(), r, doc); err != nil {
			t.Fatal(err)
		}
	}
}

// testRecord is the i'th test sealing: domains alternate 市场监管 and
// 民政, and every third is a refusal.
func testRecord(i int) *seal.Record {
	in := sm3.Sum([]byte{byte(i), byte(i >> 8)})
	r := &seal.Record{Time: time.Now(), RequestID: "req-" + itoa(i), Township: "450224101", SealID: "seal-1",
		CertSerial: "0a", Item: "ITEM-1", Domain: []string{"市场监管", "民政"}[i%2], CaseNo: "CASE-" + itoa(i),
		Principal: "clerk-1", Window: seal.WindowApproval, DocKind: "许可证", InputSM3: in[:], Result: seal.ResultSealed,
		OutputSM3: in[:]}
	if i%3 == 2 {
		r.Result, r.Rule, r.Detail, r.OutputSM3 = seal.ResultRefused, "wrong_window", "窗口不符", nil
	}
	return r
}

func itoa(i int) string { return strconv.Itoa(i) }

// run starts the outbox until the test ends.
func (e *env) run(t testing.TB) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.box.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return cancel
}

// receiver is an HTTP receiver that keeps what it acknowledges as JSONL,
// and can be down, failing or slow.
type receiver struct {
	mu       sync.Mutex
	lines    bytes.Buffer
	got      int
	fail     int           // answer 500 to this many more requests
	delay    time.Duration // before answering
	token    string        // required bearer token, if set
	attempts int
	// requests acknowledged, and the most events one of them carried.
	requests, perRequest int
	// inflight and maxInflight count requests being answered at once.
	inflight, maxInflight int
	srv                   *http.Server
	addr                  string
}

func newReceiver(t testing.TB) *receiver {
	t.Helper()
	r := &receiver{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = l.Addr().String()
	r.start(t, l)
	t.Cleanup(r.stop)
	return r
}

func (r *receiver) url() string { return "http://" + r.addr + "/events" }

func (r *receiver) start(t testing.TB, l net.Listener) {
	r.mu.Lock()
	r.srv = &http.Server{Handler: r}
	srv := r.srv
	r.mu.Unlock()
	go srv.Serve(l)
}

// down stops listening: connections are refused.
func (r *receiver) stop() {
	r.mu.Lock()
	srv := r.srv
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// up listens again on the same address.
func (r *receiver) up(t testing.TB) {
	var l net.Listener
	var err error
	for range 50 {
		if l, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("receiver back up on %s: %v", r.addr, err)
	}
	r.start(t, l)
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	r.mu.Lock()
	r.attempts++
	r.inflight++
	r.maxInflight = max(r.maxInflight, r.inflight)
	delay, fail := r.delay, r.fail > 0
	if fail {
		r.fail--
	}
	r.mu.Unlock()
	time.Sleep(delay)
	defer func() {
		r.mu.Lock()
		r.inflight--
		r.mu.Unlock()
	}()
	// Each event of the request, as one line.
	var lines [][]byte
	switch req.Header.Get("Content-Type") {
	case events.ContentType:
		lines = [][]byte{body}
	case events.BatchContentType:
		_, raws, perr := events.ParseBatch(body)
		if perr != nil {
			http.Error(w, perr.Error(), http.StatusBadRequest)
			return
		}
		for _, raw := range raws {
			var line bytes.Buffer
			json.Compact(&line, raw)
			lines = append(lines, line.Bytes())
		}
	default:
		err = errors.New("not a CloudEvent")
	}
	switch {
	case err != nil:
		http.Error(w, "not a CloudEvent", http.StatusUnsupportedMediaType)
		return
	case r.token != "" && req.Header.Get("Authorization") != "Bearer "+r.token:
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	case fail:
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
		return
	}
	r.mu.Lock()
	for _, l := range lines {
		r.lines.Write(l)
		r.lines.WriteByte('\n')
	}
	r.got += len(lines)
	r.requests++
	r.perRequest = max(r.perRequest, len(lines))
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// distinct counts the distinct events held (by id).
func (r *receiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := map[string]bool{}
	for _, l := range bytes.Split(r.lines.Bytes(), []byte("\n")) {
		if e, err := events.Parse(l); err == nil {
			ids[e.ID] = true
		}
	}
	return len(ids)
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got
}

// verify checks what the receiver holds with the county root: every
// event signed, none missing, in order; and that it holds want distinct
// events. It returns the report.
func (r *receiver) verify(t testing.TB, k *keys, want int) *events.StreamReport {
	t.Helper()
	r.mu.Lock()
	data := bytes.Clone(r.lines.Bytes())
	r.mu.Unlock()
	rep, err := events.NewVerifier(k.roots).VerifyStream(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the receiver's events do not verify: %v", err)
	}
	if rep.Distinct != want || rep.Reordered != 0 {
		t.Fatalf("the receiver holds %d distinct events (%d reordered), want %d in order; report %+v", rep.Distinct, rep.Reordered, want, rep)
	}
	return rep
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
