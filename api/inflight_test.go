package api

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ronganxian/eseal/internal/hostilepdf"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestBudgetShares(t *testing.T) {
	b := newBudget("test", 100)
	a, err := b.reserve(60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.reserve(50); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("a share past the budget: %v, want ResourceExhausted", err)
	}
	if _, err := b.reserve(101); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("a share larger than the budget: %v", err)
	}
	// Shrinking gives back at once.
	if err := a.resize(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	c, err := b.reserve(90)
	if err != nil {
		t.Fatalf("after a shrink: %v", err)
	}
	// Growing waits in turn, until the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := a.resize(ctx, 20); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("growing past the budget until the deadline: %v", err)
	}
	grown := make(chan error, 1)
	go func() { grown <- a.resize(context.Background(), 60) }()
	select {
	case err := <-grown:
		t.Fatalf("grew while the budget was held: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	c.release()
	if err := <-grown; err != nil {
		t.Fatalf("growing once the budget was free: %v", err)
	}
	if err := a.resize(context.Background(), 101); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("growing past the whole budget: %v", err)
	}
	a.release()
	a.release() // twice: nothing more is given back
	if !b.sem.TryAcquire(100) {
		t.Fatal("the budget is not whole again after every share was released")
	}
}

// TestBytesInFlightAreBounded: documents in flight never hold more than
// the budget, whatever the number of callers: past it, a caller is refused
// with ResourceExhausted naming the limit, the others seal, and every share
// is given back.
func TestBytesInFlightAreBounded(t *testing.T) {
	const maxDoc = 4 << 20
	e := newEnv(t, "sqlite", func(c *Config) {
		c.MaxDocumentBytes = maxDoc
		c.MaxUnaryDocumentBytes = maxDoc
		c.MaxBytesInFlight = 2 * sealingCost(maxDoc) // two largest sealings
	})
	doc := readDecision(t)
	big := append(append([]byte{}, doc...), make([]byte, maxDoc-len(doc)-1024)...) // a valid PDF with junk after %%EOF
	sealing := sealv1.NewSealingServiceClient(e.conn)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codesSeen := map[codes.Code]int{}
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := sealing.Seal(e.as("changan-approval"), sealReq(fmtID("big", i), "450224-XK-0002", fmtID("B", i), permit, big))
			mu.Lock()
			codesSeen[status.Code(err)]++
			mu.Unlock()
			if status.Code(err) == codes.ResourceExhausted && !strings.Contains(status.Convert(err).Message(), "max_bytes_in_flight") {
				t.Errorf("the refusal does not name the limit: %v", err)
			}
		}()
	}
	wg.Wait()
	// The padding after %%EOF makes the file one the engine refuses to seal
	// (InvalidArgument): what matters here is who was admitted at all.
	admitted := codesSeen[codes.OK] + codesSeen[codes.InvalidArgument]
	if admitted == 0 || codesSeen[codes.ResourceExhausted] == 0 || admitted+codesSeen[codes.ResourceExhausted] != 12 {
		t.Fatalf("outcomes %v; want some admitted and some refused as ResourceExhausted, nothing else", codesSeen)
	}
	waitBudgetWhole(t, e.srv.inflight.receiving)
	waitBudgetWhole(t, e.srv.inflight.working)
}

// TestSealStreamHasADeadline: a stream left open is ended at the request
// timeout, and its share of the budget is given back.
func TestSealStreamHasADeadline(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *Config) { c.RequestTimeout = 300 * time.Millisecond })
	st, err := sealv1.NewSealingServiceClient(e.conn).SealStream(e.as("changan-approval"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Header{Header: sealReq("open-1", "450224-XK-0002", "O-1", permit, nil)}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Chunk{Chunk: []byte("%PDF-1.7\n")}}); err != nil {
		t.Fatal(err)
	}
	// Never close the send side: the server must end the call itself.
	done := make(chan error, 1)
	go func() { _, err := st.Recv(); done <- err }()
	select {
	case err := <-done:
		if c := status.Code(err); c != codes.DeadlineExceeded && c != codes.ResourceExhausted && c != codes.Canceled {
			t.Fatalf("an open stream ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an open stream was not ended at the request timeout")
	}
	waitBudgetWhole(t, e.srv.inflight.receiving)
	waitBudgetWhole(t, e.srv.inflight.working)
}

// waitBudgetWhole waits until every share of b is back.
func waitBudgetWhole(t *testing.T, b *budget) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !b.sem.TryAcquire(b.total) {
		if time.Now().After(deadline) {
			t.Fatal("a share of the bytes in flight was never given back")
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.sem.Release(b.total)
}

func fmtID(prefix string, i int) string { return fmt.Sprintf("%s-%d", prefix, i) }

// TestReadingIsCharged: what reading a document holds is taken from the
// bytes in flight as it grows. With the working room all taken but what
// an ordinary document needs (as if other calls held it), a hostile
// document's sealing and its verification are refused with
// ResourceExhausted naming the limit, nothing is recorded, an ordinary
// document still seals, and every share is given back.
func TestReadingIsCharged(t *testing.T) {
	const maxDoc = 4 << 20
	e := newEnv(t, "sqlite", func(c *Config) {
		c.MaxDocumentBytes = maxDoc
		c.MaxUnaryDocumentBytes = maxDoc
	})
	bomb, _ := hostilepdf.Named("repeated-content-8") // 8 × 60 MiB of content
	objstms := hostilepdf.ObjStms(16, 12<<20)         // 16 pages in 12 MiB object streams
	decision := readDecision(t)
	left := max(sealingCost(int64(len(bomb))), verifyingCost(int64(len(objstms))), sealingCost(int64(len(decision)))) + 4<<20
	w := e.srv.inflight.working
	held := w.total - left
	if !w.sem.TryAcquire(held) {
		t.Fatal("the working room is not free")
	}
	records := func() int {
		rs, err := e.st.Records(context.Background(), store.RecordFilter{}, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	before := records()
	sealing := sealv1.NewSealingServiceClient(e.conn)
	_, err := sealing.Seal(e.as("changan-approval"), sealReq("bomb-1", "450224-XK-0002", "BOMB-1", permit, bomb))
	checkBusy(t, "sealing", err)
	_, err = sealv1.NewVerificationServiceClient(e.conn).Verify(context.Background(), &sealv1.VerifyRequest{Document: objstms})
	checkBusy(t, "verifying", err)
	if n := records(); n != before {
		t.Errorf("the ledger grew by %d records for calls the service had no room for", n-before)
	}
	if _, err := sealing.Seal(e.as("changan-approval"), sealReq("ok-1", "450224-XK-0002", "OK-1", permit, decision)); err != nil {
		t.Fatalf("an ordinary document: %v", err)
	}
	w.sem.Release(held)
	waitBudgetWhole(t, e.srv.inflight.receiving)
	waitBudgetWhole(t, w)
}

func checkBusy(t *testing.T, what string, err error) {
	t.Helper()
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(status.Convert(err).Message(), "max_bytes_in_flight") {
		t.Errorf("%s a document that decodes past the room: got %v, want ResourceExhausted naming max_bytes_in_flight", what, err)
	}
}
