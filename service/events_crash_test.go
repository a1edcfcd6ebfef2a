package service

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
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
// enough that a kill lands mid-delivery.
type eventSink struct {
	mu    sync.Mutex
	lines bytes.Buffer
	ids   map[string]bool
	url   string
}

func newEventSink(t *testing.T, delay time.Duration) *eventSink {
	s := &eventSink{ids: map[string]bool{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.url = "http://" + l.Addr().String() + "/events"
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		time.Sleep(delay)
		e, perr := events.Parse(body)
		if err != nil || perr != nil {
			http.Error(w, "not an event", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.lines.Write(body)
		s.lines.WriteByte('\n')
		s.ids[e.ID] = true
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
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
		Id: "platform", Endpoint: sink.url, FromSeq: 1}); err != nil {
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
	t.Logf("%d events before SIGKILL, %d after the restart; %+v", before, n, rep)
}
