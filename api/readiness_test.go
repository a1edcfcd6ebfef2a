package api

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// TestReadinessFollowsTheDatabase: /readyz and gRPC health say the replica
// is not ready while its readiness check fails, and ready again once it
// passes, each within a few check intervals; /healthz (liveness) stays ok
// throughout.
func TestReadinessFollowsTheDatabase(t *testing.T) {
	var mu sync.Mutex
	var dbErr error
	e := newEnv(t, "sqlite", func(c *Config) {
		c.ReadyEvery, c.ReadyTimeout = 20*time.Millisecond, 20*time.Millisecond
		c.ReadyCheck = func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			return dbErr
		}
	})
	get := func(path string) int {
		resp, err := http.Get("http://" + e.srv.HTTPAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	health := func() healthpb.HealthCheckResponse_ServingStatus {
		var st healthpb.HealthCheckResponse_ServingStatus
		for i, name := range []string{"", "seal.v1.SealingService", "seal.v1.LedgerService"} {
			h, err := healthpb.NewHealthClient(e.conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: name})
			if err != nil {
				t.Fatalf("health of %q: %v", name, err)
			}
			if i > 0 && h.Status != st {
				return healthpb.HealthCheckResponse_UNKNOWN // not yet all alike
			}
			st = h.Status
		}
		return st
	}
	waitFor := func(what string, readyz int, hs healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for {
			r, h := get("/readyz"), health()
			if r == readyz && h == hs {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: /readyz %d, gRPC health %v; want %d, %v", what, r, h, readyz, hs)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("at start", http.StatusOK, healthpb.HealthCheckResponse_SERVING)
	mu.Lock()
	dbErr = fmt.Errorf("%w: test: the database is gone", store.ErrUnavailable)
	mu.Unlock()
	waitFor("database lost", http.StatusServiceUnavailable, healthpb.HealthCheckResponse_NOT_SERVING)
	if code := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz (liveness) answered %d while the database was lost", code)
	}
	mu.Lock()
	dbErr = nil
	mu.Unlock()
	waitFor("database back", http.StatusOK, healthpb.HealthCheckResponse_SERVING)
}

// TestDatabaseFaultsAreUnavailable: an error that says the database could
// not be reached becomes Unavailable, which clients retry, and not Internal;
// an error the database answered with stays Internal.
func TestDatabaseFaultsAreUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want codes.Code
	}{
		{"admin shutdown 57P01", &pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"}, codes.Unavailable},
		{"starting up 57P03", fmt.Errorf("read: %w", &pgconn.PgError{Code: "57P03"}), codes.Unavailable},
		{"connection failure 08006", &pgconn.PgError{Code: "08006"}, codes.Unavailable},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, codes.Unavailable},
		{"unexpected EOF", fmt.Errorf("ledger append: %w", io.ErrUnexpectedEOF), codes.Unavailable},
		{"bad connection", driver.ErrBadConn, codes.Unavailable},
		{"classified by the store", store.Unavailable("op", syscall.ECONNRESET), codes.Unavailable},
		{"a unique violation", &pgconn.PgError{Code: "23505"}, codes.Internal},
		{"a plain failure", errors.New("something else"), codes.Internal},
		{"the caller's deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := toStatus(tc.err)
			if status.Code(got) != tc.want {
				t.Fatalf("toStatus(%v) = %v, want %v", tc.err, got, tc.want)
			}
			if tc.want == codes.Unavailable && strings.Contains(status.Convert(got).Message(), "57P") {
				t.Errorf("the caller is told the database's detail: %q", status.Convert(got).Message())
			}
		})
	}
}

// TestDatabaseFaultIsLoggedWithItsCause: a call that fails because the
// database is gone is logged at WARN naming the database's error, once,
// and a call that succeeds is logged at DEBUG only.
func TestDatabaseFaultIsLoggedWithItsCause(t *testing.T) {
	var buf syncBuffer
	ic := &interceptors{log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), m: newMetrics(),
		dbFaultLog: newRateLog(2, time.Minute)}
	cause := &pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"}
	for range 4 {
		ic.finish(context.Background(), "/seal.v1.SealingService/Seal", time.Now(), nil, toStatus(fmt.Errorf("ledger append: %w", cause)))
	}
	ic.finish(context.Background(), "/seal.v1.SealingService/Seal", time.Now(), nil, nil)
	ic.finish(context.Background(), "/seal.v1.SealingService/Seal", time.Now(), nil, toStatus(seal.Refuse(seal.RuleWrongWindow, "no")))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 2 database lines (rate limit 2) and 1 refusal line, got %d:\n%s", len(lines), buf.String())
	}
	for _, l := range lines[:2] {
		if !strings.Contains(l, "level=WARN") || !strings.Contains(l, "code=Unavailable") || !strings.Contains(l, "57P01") {
			t.Errorf("database fault line lacks WARN, the code or the cause: %s", l)
		}
	}
	if !strings.Contains(lines[2], "level=INFO") || !strings.Contains(lines[2], "wrong_window") && !strings.Contains(lines[2], "PermissionDenied") {
		t.Errorf("a refusal is no longer logged at INFO: %s", lines[2])
	}
}
