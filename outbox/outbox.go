package outbox

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/ronganxian/eseal/events"
	"github.com/ronganxian/eseal/seal"
)

// Config tunes delivery. Zero fields take the defaults.
type Config struct {
	// Source is the events' source attribute: the county service.
	Source string
	// Owner names this process in leases (default: random).
	Owner string
	// Lease is how long a lease lasts unrenewed (default 30 s): how soon
	// another replica takes over from one that died.
	Lease time.Duration
	// Poll is how often the dispatcher looks for subscriptions, and idle
	// workers for records other replicas appended (default 1 s).
	Poll time.Duration
	// SendTimeout bounds one HTTP delivery (default 10 s).
	SendTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait after a failure (default
	// 1 s and 5 min): min·2^(failures-1), capped, with equal jitter.
	BackoffMin, BackoffMax time.Duration
	// ParkAfter is how many failures in a row park a subscription
	// (default 20: with the default backoff, over an hour).
	ParkAfter int
	// MaxWorkers bounds the subscriptions delivered at once (default 64).
	MaxWorkers int
	// Batch is how many records a worker reads at a time (default 100).
	Batch int
	// SaveEvery is how many deliveries a worker records at once (default
	// 32), and so how many a receiver may get twice after a crash: one
	// database write per event would cost more than the sealing it
	// reports. The cursor is also recorded when a second (or a quarter
	// of the lease) has passed since it last was.
	SaveEvery int
	Log       *slog.Logger
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Lease, 30*time.Second)
	def(&c.Poll, time.Second)
	def(&c.SendTimeout, 10*time.Second)
	def(&c.BackoffMin, time.Second)
	def(&c.BackoffMax, 5*time.Minute)
	if c.ParkAfter <= 0 {
		c.ParkAfter = 20
	}
	if c.MaxWorkers <= 0 {
		c.MaxWorkers = 64
	}
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.SaveEvery <= 0 {
		c.SaveEvery = 32
	}
	if c.Owner == "" {
		b := make([]byte, 8)
		crand.Read(b)
		c.Owner = "outbox-" + hex.EncodeToString(b)
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Source == "" {
		c.Source = "/eseal/county"
	}
}

// Secrets seals and opens receivers' credentials with the KEK
// (keystore.SoftwareBackend, through the service).
type Secrets interface {
	SealSecret(owner string, plaintext []byte) ([]byte, error)
	OpenSecret(owner string, sealed []byte) ([]byte, error)
}

// Outbox delivers events to the subscriptions in its store.
type Outbox struct {
	cfg     Config
	st      Store
	keys    seal.CheckpointKeys
	secrets Secrets
	wake    func() <-chan struct{}
	now     func() time.Time
	m       *metrics

	mu      sync.Mutex
	running map[string]bool
}

// New returns an outbox over st, signing with the ledger key keys gives.
// wake returns a channel closed at the next ledger append in this process
// (seal.Ledger.Appended); nil polls only.
func New(cfg Config, st Store, keys seal.CheckpointKeys, secrets Secrets, wake func() <-chan struct{}) *Outbox {
	cfg.defaults()
	if wake == nil {
		wake = func() <-chan struct{} { return nil }
	}
	return &Outbox{cfg: cfg, st: st, keys: keys, secrets: secrets, wake: wake, now: time.Now,
		m: newMetrics(), running: map[string]bool{}}
}

// Collectors are the outbox's metrics, for the service's registry.
func (o *Outbox) Collectors() []prometheus.Collector { return o.m.all() }

// Run starts a worker for each active subscription that has none here,
// every Poll, until ctx ends; then it waits for the workers to stop.
func (o *Outbox) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(o.cfg.Poll)
	defer t.Stop()
	for {
		subs, err := o.st.Subscriptions(ctx)
		if err != nil && ctx.Err() == nil {
			o.cfg.Log.Warn("outbox: listing subscriptions", "err", err)
		}
		o.m.observe(subs)
		for _, s := range subs {
			if s.State != Active || !o.claim(s.ID) {
				continue
			}
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				defer o.release(id)
				o.deliver(ctx, id)
			}(s.ID)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// claim marks id as delivered by a goroutine of this process, if none is
// and fewer than MaxWorkers are.
func (o *Outbox) claim(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.running[id] || len(o.running) >= o.cfg.MaxWorkers {
		return false
	}
	o.running[id] = true
	return true
}

func (o *Outbox) release(id string) {
	o.mu.Lock()
	delete(o.running, id)
	o.mu.Unlock()
}

// deliver sends subscription id's events while this process holds its
// lease, until ctx ends, the lease is lost, or the subscription is paused
// or parked.
func (o *Outbox) deliver(ctx context.Context, id string) {
	log := o.cfg.Log.With("subscription", id)
	sub, ok, err := o.st.AcquireLease(ctx, id, o.cfg.Owner, o.now(), o.now().Add(o.cfg.Lease))
	if err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			log.Warn("outbox: taking the lease", "err", err)
		}
		return
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		o.st.ReleaseLease(rctx, id, o.cfg.Owner)
	}()
	w, err := o.newWorker(sub)
	if err != nil {
		log.Error("outbox: subscription unusable, parked", "err", err)
		o.st.Failed(ctx, id, o.cfg.Owner, sub.Generation, sub.Failures+1, err.Error(), true, o.now())
		return
	}
	defer w.close()
	w.saved = o.now()
	defer func() { // what was delivered is recorded, even as the process stops
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		o.flush(fctx, log, sub, w)
	}()
	prev, err := o.st.PrevMatching(ctx, sub.Filter, sub.Cursor+1)
	if err != nil {
		log.Warn("outbox: reading the ledger", "err", err)
		return
	}
	w.prev = prev
	for ctx.Err() == nil {
		wake := o.wake() // before reading, so that no append is missed
		recs, err := o.st.Records(ctx, sub.Filter, sub.Cursor, o.cfg.Batch)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("outbox: reading the ledger", "err", err)
			}
			return
		}
		if len(recs) > 0 { // the key once a batch: asking for it costs more than a signature
			if w.key, w.cert, err = o.keys.CheckpointKey(ctx); err != nil {
				log.Error("outbox: no ledger key to sign events with", "err", err)
				return // tried again at the next dispatch
			}
		}
		for _, r := range recs {
			if !o.send(ctx, log, sub, w, r) {
				return
			}
			if w.unsaved >= uint64(o.cfg.SaveEvery) || o.now().Sub(w.saved) >= o.saveAfter() {
				if !o.flush(ctx, log, sub, w) {
					return
				}
			}
		}
		if len(recs) == o.cfg.Batch {
			continue
		}
		if o.now().Sub(w.saved) >= o.saveAfter() && !o.flush(ctx, log, sub, w) {
			return
		}
		if !o.idle(ctx, wake) {
			return
		}
		// Once a poll, see whether an operator changed the row, and renew
		// the lease before a quarter of it is gone.
		if now := o.now(); now.Sub(w.checked) >= o.cfg.Poll {
			w.checked = now
			cur, err := o.st.Subscription(ctx, id)
			if err != nil || cur.Generation != sub.Generation || cur.State != Active || cur.LeaseOwner != o.cfg.Owner {
				return // the dispatcher starts it again as it now is
			}
			if now.Sub(w.saved) >= o.cfg.Lease/4 {
				// Recording deliveries renews the lease; renewing it
				// alone would restart the clock of unrecorded
				// deliveries, and they would never be recorded.
				if w.unsaved > 0 {
					if !o.flush(ctx, log, sub, w) {
						return
					}
				} else {
					if _, ok, err := o.st.AcquireLease(ctx, id, o.cfg.Owner, now, now.Add(o.cfg.Lease)); err != nil || !ok {
						return
					}
					w.saved = now
				}
			}
		}
	}
}

// saveAfter is how long acknowledged deliveries may go unrecorded: a
// second, or a quarter of the lease if that is less.
func (o *Outbox) saveAfter() time.Duration { return min(time.Second, o.cfg.Lease/4) }

// flush records the deliveries not yet recorded: the cursor moves to the
// last event acknowledged, and the lease is renewed. It reports false when
// the lease was lost (or the write failed): the worker must stop.
func (o *Outbox) flush(ctx context.Context, log *slog.Logger, sub *Subscription, w *worker) bool {
	if w.unsaved == 0 {
		return true
	}
	now := o.now()
	if err := o.st.Delivered(ctx, sub.ID, o.cfg.Owner, sub.Generation, sub.Cursor, w.unsaved, now, now.Add(o.cfg.Lease)); err != nil {
		if !errors.Is(err, ErrLeaseLost) {
			log.Warn("outbox: recording deliveries", "cursor", sub.Cursor, "err", err)
		}
		return false // sent again by whoever delivers next: at least once
	}
	w.unsaved, w.saved = 0, now
	return true
}

// idle waits for an append, a poll tick or the end of ctx (false).
func (o *Outbox) idle(ctx context.Context, wake <-chan struct{}) bool {
	t := time.NewTimer(o.cfg.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
		// Let the appends of the next few moments gather: one read for
		// them all, not one per append and subscription.
		g := time.NewTimer(wakeGather)
		defer g.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-g.C:
		}
	case <-t.C:
	}
	return true
}

// wakeGather is how long a woken worker waits for more appends before it
// reads the ledger.
const wakeGather = 50 * time.Millisecond

// send delivers one record until the receiver takes it (true), or the
// subscription is parked, its lease lost, or ctx ends (false).
func (o *Outbox) send(ctx context.Context, log *slog.Logger, sub *Subscription, w *worker, r *seal.Record) bool {
	ev := events.New(r, o.cfg.Source, sub.ID, w.prev)
	if err := ev.Sign(w.key, w.cert); err != nil {
		log.Error("outbox: signing an event", "seq", r.Seq, "err", err)
		return false // tried again at the next dispatch
	}
	body, err := ev.Marshal()
	if err != nil {
		log.Error("outbox: encoding event", "seq", r.Seq, "err", err)
		return false
	}
	for {
		start := o.now()
		err := w.post(ctx, body, ev.ID, o.cfg.SendTimeout)
		o.m.sendSeconds.Observe(time.Since(start).Seconds())
		if err == nil { // acknowledged: counted even if ctx ended meanwhile
			o.m.delivered.WithLabelValues(sub.ID).Inc()
			sub.Cursor, sub.Failures, w.prev = r.Seq, 0, r.Seq
			w.unsaved++
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if !o.flush(ctx, log, sub, w) {
			return false
		}
		sub.Failures++
		o.m.failures.WithLabelValues(sub.ID).Inc()
		park := sub.Failures >= o.cfg.ParkAfter
		wait := o.backoff(sub.Failures)
		now := o.now()
		if ferr := o.st.Failed(ctx, sub.ID, o.cfg.Owner, sub.Generation, sub.Failures, err.Error(), park,
			now.Add(wait+o.cfg.Lease)); ferr != nil {
			return false
		}
		if park {
			log.Error("outbox: subscription parked after failed deliveries; resume it when the receiver is fixed",
				"failures", sub.Failures, "seq", r.Seq, "err", err)
			return false
		}
		log.Warn("outbox: delivery failed, will retry", "seq", r.Seq, "failures", sub.Failures, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// backoff is the wait after n failures in a row: d = BackoffMin·2^(n-1),
// capped at BackoffMax, with equal jitter (d/2 and a random part up to
// d/2), so that receivers that come back are not hit by every replica's
// retries at once, and the wait still grows.
func (o *Outbox) backoff(n int) time.Duration {
	d := o.cfg.BackoffMin
	for i := 1; i < n && d < o.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, o.cfg.BackoffMax)
	return d/2 + rand.N(d/2+1)
}

// errStatus is a receiver's answer other than 2xx.
type errStatus struct{ code int }

func (e errStatus) Error() string { return fmt.Sprintf("the receiver answered HTTP %d", e.code) }
