package api

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// syncBuffer is a log sink that tests can read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestUnauthenticatedAttemptsAreCountedNotRecorded: calls without valid
// credentials do not reach the ledger, which only authenticated callers
// may fill; they are counted in metrics, and logged at a bounded rate.
func TestUnauthenticatedAttemptsAreCountedNotRecorded(t *testing.T) {
	var logs syncBuffer
	e := newEnv(t, "sqlite", func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	before, err := e.st.Records(context.Background(), store.RecordFilter{}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	sealing := sealv1.NewSealingServiceClient(e.conn)
	const attempts = 60
	for i := range attempts {
		ctx := metadataCtx(e.as("admin"), "Bearer esk_forged"+strings.Repeat("x", i))
		_, err := sealing.Seal(ctx, sealReq(fmtID("u", i), "450224-XK-0002", "U-1", permit, []byte("%PDF")))
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if got := testutil.ToFloat64(e.srv.metrics.unauthenticated.WithLabelValues("/seal.v1.SealingService/Seal")); got != attempts {
		t.Errorf("eseal_unauthenticated_total = %v, want %d", got, attempts)
	}
	lines := strings.Count(logs.String(), "code=Unauthenticated")
	if lines == 0 || lines > 20 {
		t.Errorf("%d log lines for %d unauthenticated attempts; want between 1 and 20", lines, attempts)
	}
	after, err := e.st.Records(context.Background(), store.RecordFilter{}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("unauthenticated attempts were recorded: %d records, %d before", len(after), len(before))
	}
}
