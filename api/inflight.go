package api

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ronganxian/eseal/pdf"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
)

// The documents in flight share a budget of bytes (max_bytes_in_flight)
// whatever the number of callers, in two parts that a call passes through
// in one direction, so that no call waits for one part while it holds
// what another call waits for in the same part:
//
//   - receiving: before any of a call's message is read (the transport's
//     tap), it takes room for the largest message the server reads, since
//     gRPC reads a whole message before a handler sees it. Past this part
//     a call is refused at once with ResourceExhausted: the transport
//     cannot wait there.
//   - working: once its document is read, the call takes what it will hold
//     for it (the document, the sealed output, the response), waiting in
//     order of arrival, and then gives its receiving room back. A stream
//     takes the whole of its working room when its header arrives, for the
//     size it declares (or the largest allowed), before it reads a chunk.
//     Calls holding working room wait for nothing but the CPU and the
//     ledger, so they finish and make room: no call waits while it holds
//     part of what another waits for.
//
// Every share is given back when the call ends, however it ends.

// budget is one part of the bytes in flight: a weighted semaphore whose
// waiters are served in order.
type budget struct {
	name  string
	sem   *weighted
	total int64
}

func newBudget(name string, total int64) *budget {
	return &budget{name: name, sem: newWeighted(total), total: total}
}

// exhausted is the refusal of n bytes that the budget cannot hold.
func (b *budget) exhausted(n int64, why string) error {
	return status.Errorf(codes.ResourceExhausted,
		"%d bytes would exceed max_bytes_in_flight (%d bytes for documents %s) %s; try again later or with a smaller document",
		n, b.total, b.name, why)
}

// share is the part of one budget that one call holds.
type share struct {
	b    *budget
	mu   sync.Mutex
	n    int64
	done bool
}

// reserve takes n bytes for a new share at once, or refuses.
func (b *budget) reserve(n int64) (*share, error) {
	if n > b.total || !b.sem.TryAcquire(n) {
		return nil, b.exhausted(n, "while other documents are in flight")
	}
	return &share{b: b, n: n}, nil
}

// resize makes the share n bytes: it gives back what it no longer needs at
// once, and waits in turn for more until ctx ends.
func (s *share) resize(ctx context.Context, n int64) error {
	s.mu.Lock()
	cur, done := s.n, s.done
	if !done && n <= cur {
		s.n = n
	}
	s.mu.Unlock()
	switch {
	case done:
		return status.Error(codes.Canceled, "the call has ended")
	case n <= cur:
		if n < cur {
			s.b.sem.Release(cur - n)
		}
		return nil
	case n > s.b.total:
		return s.b.exhausted(n, "for one document")
	}
	grow := n - cur
	if err := s.b.sem.Acquire(ctx, grow); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return s.b.exhausted(n, "within the wait allowed")
		}
		return status.FromContextError(err).Err()
	}
	return s.add(grow)
}

// add counts n bytes, taken from the budget, in the share; if the call
// has ended meanwhile, it gives them back.
func (s *share) add(n int64) error {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		s.b.sem.Release(n)
		return status.Error(codes.Canceled, "the call has ended")
	}
	s.n += n
	s.mu.Unlock()
	return nil
}

// grow takes n bytes more for the share at once, or refuses.
func (s *share) grow(n int64, why string) error {
	s.mu.Lock()
	cur := s.n
	s.mu.Unlock()
	if cur+n > s.b.total {
		return s.b.exhausted(cur+n, "for one document, however idle the service")
	}
	if !s.b.sem.takeNow(n) { // ahead of the calls that wait to start
		return s.b.exhausted(n, why)
	}
	return s.add(n)
}

// release gives the whole share back; later calls do nothing.
func (s *share) release() {
	s.mu.Lock()
	n := s.n
	s.n, s.done = 0, true
	s.mu.Unlock()
	if n > 0 {
		s.b.sem.Release(n)
	}
}

// inflight is the bytes-in-flight budget of one server.
type inflight struct {
	receiving, working *budget
	maxMessage         int64 // the largest message gRPC reads
	first              map[string]bool
	timeout            time.Duration
}

// newInflight splits total bytes into the two parts: half for working, and
// at least one largest sealing; the rest for receiving, and at least one
// largest message. maxMessage is the largest message the server reads,
// maxDoc the largest document (streamed). With the defaults (320 MiB, 4
// MiB messages, 32 MiB documents) 39 calls may be received at once, and
// 160 MiB hold the documents being sealed or verified with what reading
// them holds: the largest sealings run one at a time, ordinary ones by
// the dozen. A document whose reading needs more than the working part
// (a 32 MiB document that decodes to more than 63 MiB, say) is refused.
func newInflight(total, maxMessage, maxDoc int64, timeout time.Duration) *inflight {
	working := max(total/2, sealingCost(maxDoc))
	receiving := max(total-working, maxMessage)
	return &inflight{
		receiving:  newBudget("being received", receiving),
		working:    newBudget("being sealed or verified", working),
		maxMessage: maxMessage,
		timeout:    timeout,
		first: map[string]bool{
			"/seal.v1.SealingService/Seal":        true,
			"/seal.v1.SealingService/SealStream":  true,
			"/seal.v1.VerificationService/Verify": true,
		},
	}
}

// callShares are what one document call holds.
type callShares struct {
	in   *inflight
	recv *share
	mu   sync.Mutex
	work *share
}

type sharesKey struct{}

// tap admits a call that carries a document before any of it is read: it
// takes receiving room for the largest message, and a deadline for the
// whole call, reading its document included.
func (f *inflight) tap(ctx context.Context, info *tap.Info) (context.Context, error) {
	if !f.first[info.FullMethodName] {
		return ctx, nil
	}
	recv, err := f.receiving.reserve(f.maxMessage)
	if err != nil {
		return nil, err
	}
	cs := &callShares{in: f, recv: recv}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, sharesKey{}, cs), f.timeout)
	// The transport cancels the stream's context when the stream ends, for
	// whatever reason: that gives every share back.
	context.AfterFunc(ctx, func() { cs.release(); cancel() })
	return ctx, nil
}

func (cs *callShares) release() {
	cs.recv.release()
	cs.mu.Lock()
	w := cs.work
	cs.mu.Unlock()
	if w != nil {
		w.release()
	}
}

// working makes the call's working room n bytes, waiting in turn (at most
// wait, if positive, and never past the call's deadline). With done, the
// call has read all it will read: its receiving room is given back.
func working(ctx context.Context, n int64, wait time.Duration, done bool) error {
	cs, _ := ctx.Value(sharesKey{}).(*callShares)
	if cs == nil {
		return nil // not admitted by the tap: a test calling a handler directly
	}
	cs.mu.Lock()
	if cs.work == nil {
		cs.work = &share{b: cs.in.working}
	}
	w := cs.work
	cs.mu.Unlock()
	if wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	if err := w.resize(ctx, n); err != nil {
		return err
	}
	if done {
		cs.recv.release()
	}
	return nil
}

// Take charges the memory that reading the call's document holds (the
// pdf.Meter of its context) to its working room, at once or not at all:
// a reading cannot wait for room while it holds what it has read, since
// every reading might wait so for the others. Refused, the call ends with
// ResourceExhausted, and the caller may try again.
func (cs *callShares) Take(n int64) error {
	cs.mu.Lock()
	if cs.work == nil {
		cs.work = &share{b: cs.in.working}
	}
	w := cs.work
	cs.mu.Unlock()
	return w.grow(n, "to read this document while others are read")
}

// metered returns ctx with the call's shares as the pdf.Meter of its
// sealing or verification; ctx as it is for a call the tap did not admit
// (a test calling a handler directly).
func metered(ctx context.Context) context.Context {
	if cs, ok := ctx.Value(sharesKey{}).(*callShares); ok {
		return pdf.WithMeter(ctx, cs)
	}
	return ctx
}

// meterRefusal returns the status of a reading that the call's budget
// refused (a *pdf.MeterError in err), and false for any other error.
func meterRefusal(err error) (error, bool) {
	var me *pdf.MeterError
	if errors.As(err, &me) {
		return me.Err, true
	}
	return nil, false
}

// sealingCost is what sealing a document of n bytes holds besides what
// reading it holds (which the call's Meter takes as it grows): the
// document, the sealed output (the document and the new revision), and
// the response gRPC marshals from it.
func sealingCost(n int64) int64 { return 3*n + 1<<20 }

// verifyingCost is what verifying a document of n bytes holds besides
// what reading it holds (which the call's Meter takes as it grows): the
// document and its report.
func verifyingCost(n int64) int64 { return n + 1<<20 }
