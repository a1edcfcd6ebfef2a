package service

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ronganxian/eseal/cli"
	"github.com/ronganxian/eseal/internal/pgtest"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// lockedBuffer is a log sink read while the service writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// pgService is one in-process replica on a PostgreSQL database.
type pgService struct {
	svc  *Service
	log  *lockedBuffer
	seal sealv1.SealingServiceClient
	hc   healthpb.HealthClient
	ctx  context.Context // the approval clerk of 长安镇
	http string
}

func startPGService(t *testing.T, dsn string) *pgService {
	t.Helper()
	c := testConfig(t, "postgres", dsn)
	c.GRPCListen, c.HTTPListen, c.MetricsListen = "127.0.0.1:0", "127.0.0.1:0", ""
	c.RequestTimeout = Duration(15 * time.Second)
	logs := &lockedBuffer{}
	svc, err := Open(context.Background(), c, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	if err := svc.PrepareDemo(ctx); err != nil {
		t.Fatal(err)
	}
	srv, err := svc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	cc, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	tok, err := os.ReadFile(filepath.Join(c.DataDir, "credentials", "450224100-approval.token"))
	if err != nil {
		t.Fatal(err)
	}
	return &pgService{svc: svc, log: logs, seal: sealv1.NewSealingServiceClient(cc), hc: healthpb.NewHealthClient(cc),
		ctx:  metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+strings.TrimSpace(string(tok))),
		http: srv.HTTPAddr()}
}

func (p *pgService) sealOnce(t *testing.T, id string, timeout time.Duration) error {
	t.Helper()
	doc, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	_, err = p.seal.Seal(ctx, &sealv1.SealRequest{RequestId: id, ItemCode: "450224-XK-0002", CaseNo: id,
		DocKind: "准予行政许可决定书", Document: doc})
	return err
}

// readiness reports what /readyz and gRPC health say, one after the
// other: they may differ for a moment when the answer changes between the
// two reads.
func (p *pgService) readiness(t *testing.T) (readyz, health bool) {
	t.Helper()
	resp, err := http.Get("http://" + p.http + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	h, err := p.hc.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode == http.StatusOK, h.Status == healthpb.HealthCheckResponse_SERVING
}

// waitReadiness waits until /readyz and gRPC health both say want, and
// returns how long it took.
func (p *pgService) waitReadiness(t *testing.T, want bool, bound time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var r, g bool
	for !time.Now().After(start.Add(bound)) {
		if r, g = p.readiness(t); r == want && g == want {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("readiness did not become %v within %v (/readyz %v, gRPC health %v); log:\n%s", want, bound, r, g, p.log)
	return 0
}

// TestReadinessWhenPostgresFreezes freezes the replica's PostgreSQL with
// SIGSTOP (defect 5 of issue 20): readiness (/readyz and gRPC health) turns
// false within the check's bound, a sealing returns by its deadline instead
// of hanging, /healthz still answers, and once the database is thawed,
// readiness and sealing come back.
func TestReadinessWhenPostgresFreezes(t *testing.T) {
	pg, err := pgtest.StartThrowaway()
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	p := startPGService(t, pg.NewDatabase(t))
	if err := p.sealOnce(t, "freeze-before", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	p.waitReadiness(t, true, 3*time.Second)
	if err := pg.Freeze(); err != nil {
		t.Fatal(err)
	}
	thawed := false
	defer func() {
		if !thawed {
			pg.Thaw()
		}
	}()
	// Checked every second with a deadline of one: false within about 2 s.
	took := p.waitReadiness(t, false, 4*time.Second)
	t.Logf("not ready %v after the freeze", took.Round(time.Millisecond))
	start := time.Now()
	err = p.sealOnce(t, "freeze-during", 2*time.Second)
	if err == nil {
		t.Fatal("a sealing succeeded with the database frozen")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("a sealing with a 2 s deadline returned after %v with the database frozen", d)
	}
	if c := status.Code(err); c != codes.DeadlineExceeded && c != codes.Unavailable {
		t.Errorf("sealing with the database frozen: %v, want DeadlineExceeded or Unavailable", err)
	}
	resp, err := http.Get("http://" + p.http + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz (liveness) with the database frozen: %v, %v", resp, err)
	}
	if err := pg.Thaw(); err != nil {
		t.Fatal(err)
	}
	thawed = true
	p.waitReadiness(t, true, 5*time.Second)
	if err := p.sealOnce(t, "freeze-after", 10*time.Second); err != nil {
		t.Fatalf("sealing after the thaw: %v", err)
	}
}

// TestPostgresRestartIsUnavailable restarts PostgreSQL under a replica
// while six callers seal (defect 4 of issue 20): the calls in flight and
// those made while it is down fail with Unavailable, which clients retry,
// never Internal; the replica's log names the database's fault; readiness
// turns false; and after the restart sealing goes on.
func TestPostgresRestartIsUnavailable(t *testing.T) {
	pg, err := pgtest.StartThrowaway()
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	p := startPGService(t, pg.NewDatabase(t))
	if err := p.sealOnce(t, "restart-before", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[codes.Code]int{}
	var bad []error
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				err := p.sealOnce(t, fmt.Sprintf("restart-%d-%d", w, i), 5*time.Second)
				mu.Lock()
				seen[status.Code(err)]++
				if err != nil && status.Code(err) != codes.Unavailable {
					bad = append(bad, err)
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	time.Sleep(time.Second) // sealings in flight
	restarted := make(chan error, 1)
	go func() { restarted <- pg.Restart(4 * time.Second) }()
	waited := false
	defer func() {
		if !waited {
			<-restarted // before pg.Stop
		}
	}()
	p.waitReadiness(t, false, 4*time.Second) // checked every second, with a deadline of one
	waited = true
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	p.waitReadiness(t, true, 5*time.Second)
	time.Sleep(500 * time.Millisecond) // sealings after the restart
	close(stop)
	wg.Wait()
	t.Logf("codes seen across the restart: %v", seen)
	for _, err := range bad {
		t.Errorf("a sealing across the restart failed with %v, want Unavailable", err)
	}
	if seen[codes.Unavailable] == 0 || seen[codes.OK] == 0 {
		t.Errorf("want sealings that succeeded and sealings that were Unavailable: %v", seen)
	}
	log := p.log.String()
	if !strings.Contains(log, "level=WARN") || !strings.Contains(log, "code=Unavailable") || !strings.Contains(log, "database=") {
		t.Errorf("no WARN line names the database's fault:\n%s", log)
	}
	if err := p.sealOnce(t, "restart-after", 10*time.Second); err != nil {
		t.Fatalf("sealing after the restart: %v", err)
	}
}

// TestBatchRidesThroughPostgresRestart: `sealctl batch` over a folder seals
// every file although PostgreSQL restarts in the middle (down for 2 s):
// the calls that meet the restart are Unavailable, and sealctl retries
// them with the same request id (issue 20, defect 4).
func TestBatchRidesThroughPostgresRestart(t *testing.T) {
	pg, err := pgtest.StartThrowaway()
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	p := startPGService(t, pg.NewDatabase(t))
	if err := p.sealOnce(t, "warm-up", 30*time.Second); err != nil { // the first sealing starts what sealing needs
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		t.Fatal(err)
	}
	in, out := t.TempDir(), t.TempDir()
	const files = 150
	for i := range files {
		if err := os.WriteFile(filepath.Join(in, fmt.Sprintf("长安-2026-%04d.pdf", i)), doc, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	token := filepath.Join(p.svc.Config.DataDir, "credentials", "450224100-approval.token")
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Main([]string{"--server", p.svc.Server.GRPCAddr(), "--token-file", token, "--retry-wait", "100ms", "--retry-max-wait", "1s",
			"batch", in, "--out-dir", out, "--item", "450224-XK-0002", "--doc-kind", "准予行政许可决定书"}, &stdout, &stderr)
	}()
	// Restart once some files are sealed, while the rest wait.
	deadline := time.Now().Add(30 * time.Second)
	for {
		sealed, _ := filepath.Glob(filepath.Join(out, "*.pdf"))
		if len(sealed) >= 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the batch sealed %d files in 30 s:\n%s%s", len(sealed), stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := pg.Restart(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	code := <-done
	sealed, _ := filepath.Glob(filepath.Join(out, "*.pdf"))
	if code != 0 || len(sealed) != files {
		t.Fatalf("batch across a PostgreSQL restart: exit %d, %d of %d sealed\n%s", code, len(sealed), files, stdout.String())
	}
	if !strings.Contains(p.log.String(), "code=Unavailable") {
		t.Error("no call met the restart: the test restarted PostgreSQL too late")
	}
}
