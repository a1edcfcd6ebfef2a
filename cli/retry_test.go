package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// flakySealer answers each Seal with the next of its errors, then seals
// (echoing the document), and records the request ids it was sent.
type flakySealer struct {
	sealv1.UnimplementedSealingServiceServer
	mu   sync.Mutex
	errs []error
	ids  []string
}

func (f *flakySealer) Seal(_ context.Context, r *sealv1.SealRequest) (*sealv1.SealResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, r.RequestId)
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	return &sealv1.SealResponse{Document: r.Document, Record: &sealv1.LedgerRecord{Seq: 7, ItemCode: r.ItemCode, CaseNo: r.CaseNo}}, nil
}

func startFlaky(t *testing.T, errs ...error) (*flakySealer, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flakySealer{errs: errs}
	s := grpc.NewServer()
	sealv1.RegisterSealingServiceServer(s, f)
	go s.Serve(l)
	t.Cleanup(s.Stop)
	return f, l.Addr().String()
}

// TestStampRetries: sealctl retries what the service says to try again,
// with the same request id, up to --retries; it does not retry a refusal
// or a document that is too large, which would fail the same way again.
func TestStampRetries(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "the database is unavailable; nothing was decided, try again with the same request id")
	budget := status.Error(codes.ResourceExhausted, "1048576 bytes would exceed max_bytes_in_flight (335544320 bytes for documents received) now; try again later or with a smaller document")
	tooLarge := status.Error(codes.ResourceExhausted, "document of 40000000 bytes exceeds the limit of 33554432 bytes")
	refused := status.Error(codes.PermissionDenied, "wrong window")
	for _, tc := range []struct {
		name    string
		errs    []error
		retries string
		code    int // sealctl's exit status
		calls   int
	}{
		{"a database restart", []error{unavailable, unavailable, unavailable}, "8", 0, 4},
		{"the bytes in flight full", []error{budget, unavailable}, "8", 0, 3},
		{"retries spent", []error{unavailable, unavailable, unavailable}, "2", 1, 3},
		{"retrying off", []error{unavailable}, "0", 1, 1},
		{"a document too large", []error{tooLarge}, "8", 1, 1},
		{"a refusal", []error{refused}, "8", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, addr := startFlaky(t, tc.errs...)
			dir := t.TempDir()
			tok := filepath.Join(dir, "token")
			if err := os.WriteFile(tok, []byte("esk_test\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out.pdf")
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := Main([]string{"--server", addr, "--token-file", tok, "--retries", tc.retries, "--retry-wait", "5ms",
				"--retry-max-wait", "20ms", "stamp", decision, "-o", out, "--item", "450224-XK-0002", "--case-no", "C1",
				"--doc-kind", "准予行政许可决定书"}, &stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit status %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if len(f.ids) != tc.calls {
				t.Fatalf("%d calls, want %d", len(f.ids), tc.calls)
			}
			for _, id := range f.ids {
				if id != f.ids[0] || !strings.HasPrefix(id, "sealctl-") {
					t.Fatalf("the retries changed the request id: %v", f.ids)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v with waits of at most 20 ms", d)
			}
			if _, err := os.Stat(out); (err == nil) != (tc.code == 0) {
				t.Errorf("output written: %v, want %v", err == nil, tc.code == 0)
			}
		})
	}
}

// TestBackoffGrowsWithJitterAndBound: each wait doubles up to the bound,
// and lies between half and all of its nominal value.
func TestBackoffGrowsWithJitterAndBound(t *testing.T) {
	p := retryPolicy{wait: 100 * time.Millisecond, maxWait: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}
	for n, w := range want {
		w *= time.Millisecond
		seen := map[time.Duration]bool{}
		for range 200 {
			d := p.backoff(n)
			if d < w/2 || d > w {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, w/2, w)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("backoff(%d) took only %d values in 200 draws: no jitter", n, len(seen))
		}
	}
}
