package service

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/events"
	"github.com/ronganxian/eseal/internal/testbin"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
)

// eventSink is a receiver that keeps every event it acknowledges, slow
// enough (delay a request) that a kill lands mid-delivery. It is an
// events.Receiver, so it takes both structured and batched mode.
type eventSink struct {
	mu    sync.Mutex
	lines bytes.Buffer
	ids   map[string]bool
	url   string
	// batches counts the batched-mode requests.
	batches int
}

func newEventSink(t *testing.T, delay time.Duration) *eventSink {
	s := &eventSink{ids: map[string]bool{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.url = "http://" + l.Addr().String() + "/events"
	rc := &events.Receiver{Store: func(e *events.Event, line []byte) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.lines.Write(line)
		s.ids[e.ID] = true
		return nil
	}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/cloudevents-batch+json") {
			s.mu.Lock()
			s.batches++
			s.mu.Unlock()
		}
		rc.ServeHTTP(w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *eventSink) distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// TestEventsSurviveKill: the service is killed (SIGKILL) while it
// delivers events to a slow receiver and restarted; the receiver ends up
// with every record's event, verified with the county root, in order, the
// only duplicates those in flight at the kill.
func TestEventsSurviveKill(t *testing.T) {
	bin := testbin.Build(t, "sealsvc")
	for _, batch := range []uint32{0, 5} {
		t.Run(fmt.Sprintf("batch %d", batch), func(t *testing.T) {
			dir := t.TempDir()
			doc, err := os.ReadFile("../testdata/pdfs/decision.pdf")
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv("ESEAL_EVENT_POLL", "50ms")
			t.Setenv("ESEAL_EVENT_LEASE", "1s")
			t.Setenv("ESEAL_EVENT_BACKOFF_MIN", "20ms")
			t.Setenv("ESEAL_EVENT_BACKOFF_MAX", "200ms")
			sink := newEventSink(t, 40*time.Millisecond)
			c := startChild(t, bin, dir)
			waitReady(t, c, dir)
			acc, actx := dialAs(t, c.addr, filepath.Join(dir, "credentials", "admin.token"))
			if _, err := sealv1.NewSubscriptionServiceClient(acc).CreateSubscription(actx, &sealv1.CreateSubscriptionRequest{
				Id: "platform", Endpoint: sink.url, FromSeq: 1, Batch: batch}); err != nil {
				t.Fatal(err)
			}
			cc, ctx := dialAs(t, c.addr, filepath.Join(dir, "credentials", "450224100-approval.token"))
			const n = 30
			for i := range n {
				id := fmt.Sprintf("event-%d", i)
				if _, err := sealv1.NewSealingServiceClient(cc).Seal(ctx, &sealv1.SealRequest{RequestId: id, ItemCode: "450224-XK-0002",
					CaseNo: id, DocKind: "准予行政许可决定书", Document: doc}); err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(30 * time.Second)
			for sink.distinct() < 5 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			c.cmd.Process.Signal(syscall.SIGKILL)
			c.cmd.Wait()
			before := sink.distinct()
			if before >= n {
				t.Fatalf("all %d events were delivered before the kill: the test shows nothing", before)
			}
			c2 := startChild(t, bin, dir)
			defer func() { c2.cmd.Process.Signal(syscall.SIGTERM); c2.cmd.Wait() }()
			waitReady(t, c2, dir)
			deadline = time.Now().Add(60 * time.Second)
			for sink.distinct() < n && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			pem, err := os.ReadFile(filepath.Join(dir, "trust", "root.pem"))
			if err != nil {
				t.Fatal(err)
			}
			roots := smx509.NewCertPool()
			roots.AppendCertsFromPEM(pem)
			sink.mu.Lock()
			data := bytes.Clone(sink.lines.Bytes())
			sink.mu.Unlock()
			rep, err := events.NewVerifier(roots).VerifyStream(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("the received events do not verify: %v", err)
			}
			if rep.Distinct != n || rep.Reordered != 0 || rep.Duplicates > 32 {
				t.Fatalf("after the kill and restart the receiver holds %+v, want %d events in order, at most the unrecorded deliveries (under a second's worth) twice\n%s", rep, n, c2.log)
			}
			sink.mu.Lock()
			batches := sink.batches
			sink.mu.Unlock()
			if (batch > 1) != (batches > 0) {
				t.Fatalf("batch size %d, and %d batched-mode requests", batch, batches)
			}
			t.Logf("%d events before SIGKILL, %d after the restart, %d batched requests; %+v", before, n, batches, rep)
		})
	}
}
