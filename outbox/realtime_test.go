package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/ronganxian/eseal/outbox"
)

// TestDeliveryInRealTime runs the two long cases at their real
// durations, with a county's settings rather than the scaled ones of
// TestDeliveryRecovers: the receiver is down for a whole minute, and a
// receiver takes 2 s over each event. Both run at once, so the package's
// tests take about a minute longer, not a minute and a half. In each, every
// event arrives, verifies and is in order, sealing returns before delivery, and the
// subscription is active and caught up at the end.
func TestDeliveryInRealTime(t *testing.T) {
	county := outbox.Config{Source: "/eseal/test-county", Lease: 30 * time.Second, Poll: time.Second,
		SendTimeout: 10 * time.Second, BackoffMin: time.Second, BackoffMax: 10 * time.Second, ParkAfter: 20}
	tests := []struct {
		name    string
		events  int
		trouble func(t *testing.T, r *receiver) (wait time.Duration, recover func())
		within  time.Duration // after recovery, for every event to arrive
	}{
		{"receiver down for a minute", 12, func(t *testing.T, r *receiver) (time.Duration, func()) {
			r.stop()
			return time.Minute, func() { r.up(t) }
		}, 30 * time.Second}, // the next try comes within BackoffMax
		{"receiver takes 2 s an event", 6, func(t *testing.T, r *receiver) (time.Duration, func()) {
			r.mu.Lock()
			r.delay = 2 * time.Second
			r.mu.Unlock()
			return 0, func() {}
		}, 6*2*time.Second + 20*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, county)
			r := newReceiver(t)
			create(t, e, outbox.NewSubscription{ID: "platform", Endpoint: r.url()})
			wait, recover := tt.trouble(t, r)
			e.run(t)
			e.seal(t, tt.events)
			if n := r.distinct(); n >= tt.events {
				t.Fatalf("the receiver had all %d events when sealing returned: sealing waited for delivery", n)
			}
			time.Sleep(wait)
			recover()
			waitFor(t, tt.within, "every event", func() bool { return r.distinct() >= tt.events })
			rep := r.verify(t, e.keys, tt.events)
			if rep.Events-rep.Duplicates != tt.events {
				t.Fatalf("report %+v", rep)
			}
			waitFor(t, 10*time.Second, "the cursor caught up", func() bool {
				sub, err := e.box.Get(context.Background(), "platform")
				return err == nil && sub.Cursor == uint64(tt.events)
			})
			sub, err := e.box.Get(context.Background(), "platform")
			if err != nil || sub.Failures != 0 || sub.State != outbox.Active {
				t.Fatalf("subscription after delivery: %+v, %v", sub, err)
			}
		})
	}
}
