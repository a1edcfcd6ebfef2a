package outbox_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/outbox"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestTwoReplicasOnPostgres: two replicas share one database, seal at
// once, and both run the outbox (one subscription structured, one batched). Each subscription is delivered by one
// replica at a time (the receiver never sees two of its requests at
// once), and when that replica stops the other takes over: every event
// arrives, verifies, in order, and the only duplicates are the few that
// were in flight at the handover.
func TestTwoReplicasOnPostgres(t *testing.T) {
	dsn := pgtest.Shared(t).NewDatabase(t)
	kek, err := keystore.WriteKEKFile(filepath.Join(t.TempDir(), "kek"))
	if err != nil {
		t.Fatal(err)
	}
	k := newKeys(t)
	type replica struct {
		ledger *seal.Ledger
		box    *outbox.Outbox
		stop   context.CancelFunc
		done   chan struct{}
	}
	cfg := fastConfig()
	cfg.Lease = 400 * time.Millisecond
	var reps []*replica
	for i := range 2 {
		db, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		st := db.Service()
		t.Cleanup(func() { st.Close() })
		c := cfg
		c.Owner = "replica-" + itoa(i)
		r := &replica{ledger: seal.NewLedger(st, k), done: make(chan struct{})}
		r.box = outbox.New(c, st, k, secrets{keystore.NewSoftwareBackend(kek)}, r.ledger.Appended)
		ctx, cancel := context.WithCancel(context.Background())
		r.stop = cancel
		go func() { r.box.Run(ctx); close(r.done) }()
		t.Cleanup(func() { cancel(); <-r.done })
		reps = append(reps, r)
	}
	platform, market := newReceiver(t), newReceiver(t)
	platform.delay, market.delay = 5*time.Millisecond, 5*time.Millisecond
	for _, n := range []outbox.NewSubscription{
		{ID: "platform", Endpoint: platform.url(), FromSeq: 1},
		{ID: "market", Endpoint: market.url(), Filter: seal.RecordFilter{Domains: []string{"市场监管"}}, FromSeq: 1, Batch: 4},
	} {
		if _, err := reps[0].box.Create(context.Background(), n, "county-office"); err != nil {
			t.Fatal(err)
		}
	}
	// Both replicas seal at once, 30 each.
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	for _, r := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 30 {
				mu.Lock()
				i := n
				n++
				mu.Unlock()
				rec := testRecord(i)
				if _, err := r.ledger.Append(context.Background(), rec, []byte("%PDF")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Stop whichever replica delivers now: the other must take over.
	waitFor(t, 10*time.Second, "deliveries under way", func() bool { return platform.count() >= 10 })
	sub, err := reps[0].box.Get(context.Background(), "platform")
	if err != nil {
		t.Fatal(err)
	}
	stopped := sub.LeaseOwner
	if stopped == "" {
		t.Fatal("no replica holds the platform's lease while it delivers")
	}
	for _, r := range reps {
		if "replica-"+itoa(indexOf(reps, r)) == stopped {
			r.stop()
			<-r.done
		}
	}
	waitFor(t, 20*time.Second, "every event at both receivers", func() bool {
		return platform.distinct() >= 60 && market.distinct() >= 30
	})
	prep := platform.verify(t, k, 60)
	mrep := market.verify(t, k, 30)
	market.mu.Lock()
	perRequest := market.perRequest
	market.mu.Unlock()
	if perRequest < 1 || perRequest > 4 {
		t.Errorf("market (batch 4): at most %d events in a request", perRequest)
	}
	for name, r := range map[string]*receiver{"platform": platform, "market": market} {
		r.mu.Lock()
		most := r.maxInflight
		r.mu.Unlock()
		if most != 1 {
			t.Errorf("%s: at most %d requests of one subscription at once, want 1: two replicas delivered it together", name, most)
		}
	}
	waitFor(t, 5*time.Second, "the platform's cursor at 60", func() bool {
		sub, err := reps[0].box.Get(context.Background(), "platform")
		return err == nil && sub.Cursor == 60
	})
	if sub, err := reps[0].box.Get(context.Background(), "platform"); err != nil || sub.LeaseOwner == stopped {
		t.Errorf("after the handover the platform's subscription is %+v (%v); %s stopped", sub, err, stopped)
	}
	// A handover repeats what was in flight: a request or two, of one
	// event (platform) or up to four (market).
	if prep.Duplicates > 2 || mrep.Duplicates > 2*4 {
		t.Errorf("duplicates beyond a handover's: platform %d, market %d", prep.Duplicates, mrep.Duplicates)
	}
	t.Logf("platform: %+v; market: %+v", prep, mrep)
}

func indexOf[T comparable](xs []T, x T) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}
