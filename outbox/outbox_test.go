package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ronganxian/eseal/outbox"
	"github.com/ronganxian/eseal/seal"
)

func create(t *testing.T, e *env, n outbox.NewSubscription) *outbox.Subscription {
	t.Helper()
	if n.FromSeq == 0 {
		n.FromSeq = 1
	}
	s, err := e.box.Create(context.Background(), n, "county-office")
	if err != nil {
		t.Fatalf("creating subscription %s: %v", n.ID, err)
	}
	return s
}

// TestDeliveryRecovers: whatever the receiver does for a while, every
// event arrives, verifies and is in order, and duplicates are only
// repeats of one event.
func TestDeliveryRecovers(t *testing.T) {
	tests := []struct {
		name    string
		trouble func(t *testing.T, r *receiver) (recover func())
	}{
		{"receiver down for a while", func(t *testing.T, r *receiver) func() {
			r.stop()
			return func() { r.up(t) }
		}},
		{"receiver answers 500 and then recovers", func(t *testing.T, r *receiver) func() {
			r.mu.Lock()
			r.fail = 7
			r.mu.Unlock()
			return func() {}
		}},
		{"receiver slow", func(t *testing.T, r *receiver) func() {
			r.mu.Lock()
			r.delay = 30 * time.Millisecond // 2 s in the field: the shape, not the wait
			r.mu.Unlock()
			return func() {}
		}},
	}
	for _, tt := range tests {
		for _, batch := range []int{0, 4} {
			t.Run(fmt.Sprintf("%s, batch %d", tt.name, batch), func(t *testing.T) {
				e := newEnv(t, fastConfig())
				r := newReceiver(t)
				e.seal(t, 3)
				create(t, e, outbox.NewSubscription{ID: "platform", Endpoint: r.url(), Batch: batch})
				recover := tt.trouble(t, r)
				e.run(t)
				e.seal(t, 12)
				time.Sleep(150 * time.Millisecond) // several retries' worth
				recover()
				waitFor(t, 20*time.Second, "every event", func() bool { return r.distinct() >= 15 })
				rep := r.verify(t, e.keys, 15)
				if rep.Events-rep.Duplicates != 15 {
					t.Fatalf("report %+v", rep)
				}
				// The cursor is recorded within a second (a quarter lease here).
				waitFor(t, 5*time.Second, "the cursor at 15", func() bool {
					sub, err := e.box.Get(context.Background(), "platform")
					return err == nil && sub.Cursor == 15
				})
				sub, err := e.box.Get(context.Background(), "platform")
				if err != nil || sub.Failures != 0 || sub.State != outbox.Active {
					t.Fatalf("subscription after delivery: %+v, %v", sub, err)
				}
				// A backlog goes out in requests of the batch size.
				r.mu.Lock()
				most := r.perRequest
				r.mu.Unlock()
				if want := max(batch, 1); most != want {
					t.Fatalf("at most %d events in a request, want %d", most, want)
				}
			})
		}
	}
}

// TestSlowReceiverDelaysNoOther: a receiver that takes long over each
// event holds up neither another subscription's deliveries nor sealing.
func TestSlowReceiverDelaysNoOther(t *testing.T) {
	e := newEnv(t, fastConfig())
	slow, fast := newReceiver(t), newReceiver(t)
	slow.delay = 300 * time.Millisecond
	create(t, e, outbox.NewSubscription{ID: "slow", Endpoint: slow.url()})
	create(t, e, outbox.NewSubscription{ID: "fast", Endpoint: fast.url()})
	e.run(t)
	e.seal(t, 10) // returns while the slow receiver has at most a few
	waitFor(t, 10*time.Second, "the fast receiver's events", func() bool { return fast.count() >= 10 })
	if n := slow.count(); n >= 10 {
		t.Fatalf("the slow receiver has all %d events already: the test shows nothing", n)
	}
	fast.verify(t, e.keys, 10)
	waitFor(t, 20*time.Second, "the slow receiver's events", func() bool { return slow.count() >= 10 })
	slow.verify(t, e.keys, 10)
}

// TestFilterAndAuth: a supervising department's subscription gets its
// domain only, with its bearer token; the token is stored sealed.
func TestFilterAndAuth(t *testing.T) {
	e := newEnv(t, fastConfig())
	r := newReceiver(t)
	r.token = "s3cret-token-of-民政局"
	sub := create(t, e, outbox.NewSubscription{ID: "minzheng", Endpoint: r.url(), Filter: seal.RecordFilter{Domains: []string{"民政"}},
		Auth: outbox.AuthBearer, Secret: []byte(r.token)})
	if len(sub.Credential) == 0 || containsBytes(sub.Credential, []byte("s3cret")) {
		t.Fatalf("the credential is stored as %q", sub.Credential)
	}
	e.run(t)
	e.seal(t, 10)
	waitFor(t, 10*time.Second, "the domain's 5 events", func() bool { return r.count() >= 5 })
	time.Sleep(100 * time.Millisecond)
	rep := r.verify(t, e.keys, 5)
	if rep.Duplicates != 0 {
		t.Fatalf("duplicates without any failure: %+v", rep)
	}
}

func containsBytes(b, sub []byte) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return true
		}
	}
	return false
}

// TestParkResumeReplay: past the retry limit a subscription is parked and
// delivers nothing; resumed, it delivers from its cursor; replayed, it
// delivers again from the record asked, which a receiver sees as
// duplicates by id.
func TestParkResumeReplay(t *testing.T) {
	cfg := fastConfig()
	cfg.ParkAfter = 3
	e := newEnv(t, cfg)
	r := newReceiver(t)
	r.fail = 1 << 30
	create(t, e, outbox.NewSubscription{ID: "platform", Endpoint: r.url()})
	e.run(t)
	e.seal(t, 4)
	ctx := context.Background()
	waitFor(t, 10*time.Second, "parking", func() bool {
		s, err := e.box.Get(ctx, "platform")
		return err == nil && s.State == outbox.Parked
	})
	s, _ := e.box.Get(ctx, "platform")
	if s.Failures != 3 || s.Cursor != 0 || s.LastError == "" {
		t.Fatalf("parked subscription: %+v", s)
	}
	r.mu.Lock()
	attempts := r.attempts
	r.fail = 0
	r.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	if r.count() != 0 || r.attempts != attempts {
		t.Fatalf("a parked subscription was delivered to: %d events, %d attempts (was %d)", r.count(), r.attempts, attempts)
	}
	if _, err := e.box.Resume(ctx, "platform", "county-office"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "delivery after resume", func() bool { return r.count() >= 4 })
	if _, err := e.box.Pause(ctx, "platform", "county-office"); err != nil {
		t.Fatal(err)
	}
	e.seal(t, 2)
	time.Sleep(100 * time.Millisecond)
	if n := r.count(); n != 4 {
		t.Fatalf("a paused subscription got %d events, want 4", n)
	}
	if _, err := e.box.Replay(ctx, "platform", 2, "county-office"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the replay", func() bool { return r.count() >= 4+5 })
	rep := r.verify(t, e.keys, 6)
	if rep.Duplicates != 3 {
		t.Fatalf("replay from 2 after 4 delivered: %d duplicates, want 3 (%+v)", rep.Duplicates, rep)
	}
}

func TestCreateRefuses(t *testing.T) {
	e := newEnv(t, fastConfig())
	tests := []struct {
		name string
		n    outbox.NewSubscription
	}{
		{"plain http off loopback", outbox.NewSubscription{ID: "a", Endpoint: "http://platform.gxzf.gov.cn/events"}},
		{"no scheme", outbox.NewSubscription{ID: "a", Endpoint: "platform.gxzf.gov.cn/events"}},
		{"bad id", outbox.NewSubscription{ID: "民政局", Endpoint: "https://x.example/e"}},
		{"bearer without token", outbox.NewSubscription{ID: "a", Endpoint: "https://x.example/e", Auth: outbox.AuthBearer}},
		{"secret without auth", outbox.NewSubscription{ID: "a", Endpoint: "https://x.example/e", Secret: []byte("t")}},
		{"mtls without certificate", outbox.NewSubscription{ID: "a", Endpoint: "https://x.example/e", Auth: outbox.AuthMTLS, Secret: []byte("k")}},
		{"mtls with a bad key", outbox.NewSubscription{ID: "a", Endpoint: "https://x.example/e", Auth: outbox.AuthMTLS,
			Secret: []byte("-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n"), ClientCert: []byte("x")}},
		{"unknown auth", outbox.NewSubscription{ID: "a", Endpoint: "https://x.example/e", Auth: "basic", Secret: []byte("t")}},
		{"server CA not PEM", outbox.NewSubscription{ID: "a", Endpoint: "https://x.example/e", ServerCA: []byte("x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.box.Create(context.Background(), tt.n, "county-office"); !errors.Is(err, outbox.ErrInvalid) {
				t.Fatalf("Create: %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := e.box.Create(context.Background(), outbox.NewSubscription{ID: "a", Endpoint: "https://x.example/e"}, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.box.Create(context.Background(), outbox.NewSubscription{ID: "a", Endpoint: "https://x.example/e"}, "c"); !errors.Is(err, outbox.ErrExists) {
		t.Fatalf("a second subscription a: %v, want ErrExists", err)
	}
}
