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
	// Tail is how many of the newest records the process keeps for its
	// workers (default 1000, at least MaxBatch): each record is read from
	// the store once, not once per subscription.
	Tail int
	// BatchBytes bounds the body of one batched-mode request (default
	// events.DefaultMaxEventBytes, 1 MiB, what events.Receiver takes by
	// default); a single event over it is still sent, alone.
	BatchBytes int
	// SaveEvery is the most deliveries a worker records at once (default
	// 1000). The cursor is recorded when a second (or a quarter of the
	// lease) has passed since it last was, or after SaveEvery deliveries
	// if that comes first; what was not recorded a receiver may get twice
	// after a crash. Each recording is a write transaction, and the store
	// has one writer, which sealing waits for: with ten subscriptions,
	// recording every 32 deliveries showed in sealing's latency.
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
	if c.Tail <= 0 {
		c.Tail = 1000
	}
	c.Tail = max(c.Tail, c.Batch, MaxBatch)
	if c.BatchBytes <= 0 {
		c.BatchBytes = events.DefaultMaxEventBytes
	}
	if c.SaveEvery <= 0 {
		c.SaveEvery = 1000
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
	tail    *tail

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
		m: newMetrics(), tail: newTail(st, cfg.Tail, wake), running: map[string]bool{}}
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
	w.prev, w.scanned = prev, sub.Cursor
	for ctx.Err() == nil {
		wake := o.wake() // before reading, so that no append is missed
		// A request's events are read at once.
		limit := max(o.cfg.Batch, sub.Batch)
		recs, scanned, more, tailWake, err := o.tail.records(ctx, sub.Filter, w.scanned, limit)
		if tailWake != nil {
			wake = tailWake // the tail's reader's: closed at the first append the tail may lack
		}
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("outbox: reading the ledger", "err", err)
			}
			return
		}
		var evs []outgoing
		if len(recs) > 0 {
			// The key once a poll: asking for it costs more than a
			// signature, and a new ledger key is taken up within a poll.
			if now := o.now(); w.key == nil || now.Sub(w.keyAt) >= o.cfg.Poll {
				if w.key, w.cert, err = o.keys.CheckpointKey(ctx); err != nil {
					log.Error("outbox: no ledger key to sign events with", "err", err)
					return // tried again at the next dispatch
				}
				w.keyAt = now
			}
			if evs, err = o.sign(sub, w, recs); err != nil {
				log.Error("outbox: signing events", "from", recs[0].Seq, "err", err)
				return
			}
		}
		for rest := evs; len(rest) > 0; {
			n, ok := o.send(ctx, log, sub, w, rest)
			if !ok {
				return
			}
			rest = rest[n:]
			if w.unsaved >= uint64(o.cfg.SaveEvery) || o.now().Sub(w.saved) >= o.saveAfter() {
				if !o.flush(ctx, log, sub, w) {
					return
				}
			}
		}
		w.scanned = scanned
		if more {
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

// outgoing is an event signed and encoded, ready to send.
type outgoing struct {
	seq  uint64
	id   string
	body []byte
}

// sign makes the events of recs for sub, each linked to the one before
// (the first to the last one sent), and signs them with one signature
// (events.SignTree): a delivery's CPU is mostly signatures, and sealing
// needs that CPU more.
func (o *Outbox) sign(sub *Subscription, w *worker, recs []*seal.Record) ([]outgoing, error) {
	evs := make([]*events.Event, len(recs))
	prev := w.prev
	for i, r := range recs {
		evs[i] = events.New(r, o.cfg.Source, sub.ID, prev)
		prev = r.Seq
	}
	if err := events.SignTree(evs, w.key, w.cert, o.now()); err != nil {
		return nil, err
	}
	out := make([]outgoing, len(evs))
	for i, ev := range evs {
		b, err := ev.Marshal()
		if err != nil {
			return nil, fmt.Errorf("encoding event %s: %w", ev.ID, err)
		}
		out[i] = outgoing{seq: recs[i].Seq, id: ev.ID, body: b}
	}
	return out, nil
}

// request lays out the next request of evs: the first event alone in
// structured mode, or in batched mode as many of evs as the subscription's
// batch size allows and BatchBytes holds (always at least one). It returns
// the body, its Content-Type, the event id for the Ce-Id header
// (structured mode only), and how many events the body carries.
func (o *Outbox) request(sub *Subscription, evs []outgoing) (body []byte, ctype, id string, n int) {
	if sub.Batch <= 1 {
		return evs[0].body, events.ContentType, evs[0].id, 1
	}
	size := 1 // the brackets, and a comma or bracket after each event
	for _, ev := range evs[:min(len(evs), sub.Batch)] {
		if n > 0 && size+len(ev.body)+1 > o.cfg.BatchBytes {
			break
		}
		size, n = size+len(ev.body)+1, n+1
	}
	body = make([]byte, 0, size)
	for _, ev := range evs[:n] {
		body = events.AppendBatch(body, ev.body)
	}
	return body, events.BatchContentType, "", n
}

// send delivers the next request of evs until the receiver takes it (it
// returns how many events it carried, and true), or the subscription is
// parked, its lease lost, or ctx ends (false).
func (o *Outbox) send(ctx context.Context, log *slog.Logger, sub *Subscription, w *worker, evs []outgoing) (int, bool) {
	body, ctype, id, n := o.request(sub, evs)
	first, last := evs[0].seq, evs[n-1].seq
	for {
		start := o.now()
		err := w.post(ctx, body, ctype, id, o.cfg.SendTimeout)
		o.m.sendSeconds.Observe(time.Since(start).Seconds())
		if err == nil { // acknowledged: counted even if ctx ended meanwhile
			o.m.delivered.WithLabelValues(sub.ID).Add(float64(n))
			sub.Cursor, sub.Failures, w.prev = last, 0, last
			w.unsaved += uint64(n)
			return n, true
		}
		if ctx.Err() != nil {
			return 0, false
		}
		if !o.flush(ctx, log, sub, w) {
			return 0, false
		}
		sub.Failures++
		o.m.failures.WithLabelValues(sub.ID).Inc()
		park := sub.Failures >= o.cfg.ParkAfter
		wait := o.backoff(sub.Failures)
		now := o.now()
		if ferr := o.st.Failed(ctx, sub.ID, o.cfg.Owner, sub.Generation, sub.Failures, err.Error(), park,
			now.Add(wait+o.cfg.Lease)); ferr != nil {
			return 0, false
		}
		if park {
			log.Error("outbox: subscription parked after failed deliveries; resume it when the receiver is fixed",
				"failures", sub.Failures, "seq", first, "events", n, "err", err)
			return 0, false
		}
		log.Warn("outbox: delivery failed, will retry", "seq", first, "events", n, "failures", sub.Failures,
			"retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, false
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
