package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// retryPolicy is how sealctl rides through a failure that says "try
// again": a database restart (Unavailable), a replica that went away
// behind the load balancer (Unavailable), or the service's bytes in flight
// being full (ResourceExhausted naming max_bytes_in_flight). A retry sends
// the same request with the same request id, so the service seals it at
// most once and a retry of a sealing that did commit returns its result.
type retryPolicy struct {
	retries  int           // --retries: attempts after the first
	wait     time.Duration // --retry-wait: the first backoff
	maxWait  time.Duration // --retry-max-wait: no backoff is longer
	sleep    func(context.Context, time.Duration) error
	jitter   func(time.Duration) time.Duration
	notified func(attempt int, wait time.Duration, err error)
}

func (p *retryPolicy) flags(f *pflag.FlagSet) {
	f.IntVar(&p.retries, "retries", 8, "retries of a call the service says to try again (Unavailable, or its bytes in flight full), with the same request id; 0 turns retrying off")
	f.DurationVar(&p.wait, "retry-wait", 250*time.Millisecond, "the first wait before a retry; each later wait doubles, with jitter")
	f.DurationVar(&p.maxWait, "retry-max-wait", 5*time.Second, "the longest wait between retries")
}

// retryable reports whether err says that the same call may succeed later.
// A document too large is ResourceExhausted too, but never fits later: only
// the shared budget's refusal, which names max_bytes_in_flight, is retried.
func retryable(err error) bool {
	st, ok := status.FromError(err)
	if !ok {
		return false
	}
	switch st.Code() {
	case codes.Unavailable:
		return true
	case codes.ResourceExhausted:
		return strings.Contains(st.Message(), "max_bytes_in_flight")
	}
	return false
}

// backoff is the wait before retry n (0-based): wait·2ⁿ, at most maxWait,
// with "equal jitter" (between half and all of it), so that the clients
// of a batch do not all come back at the same instant.
func (p *retryPolicy) backoff(n int) time.Duration {
	d := p.wait
	for range n {
		if d >= p.maxWait {
			break
		}
		d *= 2
	}
	d = min(d, p.maxWait)
	if p.jitter != nil {
		return p.jitter(d)
	}
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// do calls fn until it succeeds, fails with an error that is not
// retryable, the retries are spent, or ctx ends. It returns fn's last
// error.
func (p *retryPolicy) do(ctx context.Context, fn func() error) error {
	sleep := p.sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	for n := 0; ; n++ {
		err := fn()
		if err == nil || !retryable(err) || n >= p.retries {
			return err
		}
		w := p.backoff(n)
		if p.notified != nil {
			p.notified(n+1, w, err)
		}
		if serr := sleep(ctx, w); serr != nil {
			return fmt.Errorf("%w (and %v before retry %d)", err, serr, n+1)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
