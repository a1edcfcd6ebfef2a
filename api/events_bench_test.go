package api

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ronganxian/eseal/keystore/sealkeys"
	"github.com/ronganxian/eseal/outbox"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
)

// BenchmarkSealingWithSubscriptions seals the one-page decision over
// loopback gRPC on SQLite with no subscription, and, in the same run, with
// ten, each a local receiver that answers at once, in a process of its own
// (bench_receivers_test.go) as receivers are in a county: three rounds of each,
// alternating (the ten are paused and resumed), so that what drifts
// during a run (the ledger's size, the machine's other work) falls on both
// alike. Each half seals b.N documents one after another (c1: one window
// as fast as it can), b.N started every 10 ms (paced: a county's windows
// at about a tenth of what the machine can seal, where delivery has time
// between sealings and must not add latency), and b.N at concurrency 32
// (c32: saturation, where delivery competes for the same two cores).
//
// It reports the median over rounds of each latency, with none and with
// ten, and their ratios (1: the outbox adds nothing); the c32 rates and
// their ratio, and p99 at c32; how fast the outbox delivered: events per
// second from the first c32 sealing until every receiver had every event,
// and drain-ms, how long after the last c32 sealing returned its events
// were all delivered (small: the outbox keeps up); and the service
// process's CPU time per sealing at c32, with none, and with ten until the
// last event was delivered, and their ratio: what delivery costs the
// service, whatever else the machine runs. The receivers' process still
// takes its share of the two cores, so latencies and rates include it.
//
// The outbox runs with the service's defaults. The subscriptions take one
// event a request (structured, what every CloudEvents receiver takes), or
// up to 100 (batched); or they are never resumed (control), so that both
// halves measure the same thing and the ratios show the noise.
func BenchmarkSealingWithSubscriptions(b *testing.B) {
	for _, mode := range []struct {
		name  string
		batch int
	}{{"structured", 0}, {"batched", 100}, {"control", -1}} {
		b.Run(mode.name, func(b *testing.B) { benchSealingWithSubscriptions(b, mode.batch) })
	}
}

func benchSealingWithSubscriptions(b *testing.B, batch int) {
	doc := readDecision(b)
	e := newEnv(b, "sqlite", nil)
	st, ok := e.st.(outbox.Store)
	if !ok {
		b.Fatal("the store keeps no subscriptions")
	}
	box := outbox.New(outbox.Config{}, st, sealkeys.NewCheckpoints(e.ks), nil, e.sealer.Ledger.(*seal.Ledger).Appended)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { box.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	client := sealv1.NewSealingServiceClient(e.conn)
	cctx := e.as("changan-approval")
	var run atomic.Int64
	// sealOne seals document i of run r and returns how long it took,
	// counting a failure in errs.
	sealOne := func(r, i int64, errs *atomic.Int64) time.Duration {
		t0 := time.Now()
		_, err := client.Seal(cctx, &sealv1.SealRequest{RequestId: fmt.Sprintf("ev-%d-%d", r, i),
			ItemCode: "450224-XK-0002", CaseNo: fmt.Sprintf("EV-%d-%d", r, i), DocKind: permit, Document: doc})
		if err != nil {
			errs.Add(1)
		}
		return time.Since(t0)
	}
	sealN := func(n, conc int) (rate float64, p50, p99 time.Duration) {
		r := run.Add(1)
		lat := make([]time.Duration, n)
		var next, errs atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range conc {
			wg.Go(func() {
				for {
					i := next.Add(1) - 1
					if i >= int64(n) {
						return
					}
					lat[i] = sealOne(r, i, &errs)
				}
			})
		}
		wg.Wait()
		if errs.Load() > 0 {
			b.Fatalf("%d of %d sealings failed", errs.Load(), n)
		}
		slices.Sort(lat)
		return float64(n) / time.Since(start).Seconds(), lat[len(lat)/2], lat[len(lat)*99/100]
	}
	// sealPaced starts a sealing every interval, whether the last has
	// returned or not (an open loop: a slow sealing cannot hide the ones
	// that would have waited behind it), and returns the median and 90th
	// percentile latency.
	sealPaced := func(n int, every time.Duration) (p50, p90 time.Duration) {
		r := run.Add(1)
		lat := make([]time.Duration, n)
		var errs atomic.Int64
		var wg sync.WaitGroup
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := range n {
			<-tick.C
			wg.Go(func() { lat[i] = sealOne(r, int64(i), &errs) })
		}
		wg.Wait()
		if errs.Load() > 0 {
			b.Fatalf("%d of %d sealings failed", errs.Load(), n)
		}
		slices.Sort(lat)
		return lat[len(lat)/2], lat[len(lat)*9/10]
	}
	const subs, conc, pace, rounds = 10, 32, 10 * time.Millisecond, 3
	rcv := startBenchReceivers(b, subs)
	ids := make([]string, subs)
	for i := range subs {
		ids[i] = fmt.Sprintf("sub-%d", i)
		if _, err := box.Create(context.Background(), outbox.NewSubscription{ID: ids[i], Endpoint: rcv.urls[i], Batch: max(batch, 0)}, "bench"); err != nil {
			b.Fatal(err)
		}
		if _, err := box.Pause(context.Background(), ids[i], "bench"); err != nil {
			b.Fatal(err)
		}
	}
	control := batch < 0
	sealed := 0 // sealings so far: each subscription delivers all of them
	waitFor := func() {
		if control {
			return
		}
		start, want := time.Now(), int64(subs*sealed)
		for got := rcv.received(b); got < want; got = rcv.received(b) {
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("the outbox delivered %d of %d events in 5 minutes", got, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// half measures one half of a round, adding its samples to h.
	type half struct {
		c1, paced    []time.Duration
		seconds      float64 // at c32, sealing
		cpu, elapsed time.Duration
		p99          []time.Duration
		drain        []time.Duration // from the last c32 sealing's return to its last event's arrival
	}
	measure := func(h *half, active bool) {
		_, c1, _ := sealN(b.N, 1)
		p50, p90 := sealPaced(b.N, pace)
		h.c1, h.paced = append(h.c1, c1), append(h.paced, p50, p90)
		sealed += 2 * b.N
		if active {
			waitFor() // the c1 and paced events, before c32 is timed
		}
		start, cpu := time.Now(), cpuTime(b)
		rate, _, p99 := sealN(b.N, conc)
		sealed += b.N
		h.seconds += float64(b.N) / rate
		if active {
			sealedAt := time.Now()
			waitFor() // delivery's CPU counts
			h.drain = append(h.drain, time.Since(sealedAt))
		}
		h.cpu += cpuTime(b) - cpu
		h.elapsed += time.Since(start)
		h.p99 = append(h.p99, p99)
	}
	setAll := func(resume bool) {
		if control {
			return // the ten stay paused: both halves measure the same
		}
		for _, id := range ids {
			var err error
			if resume {
				_, err = box.Resume(context.Background(), id, "bench")
			} else {
				_, err = box.Pause(context.Background(), id, "bench")
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	// Rounds alternate the two halves, so that what drifts during a run
	// (the ledger's size, the machine's other work) falls on both alike.
	var none, ten half
	b.ResetTimer()
	for range rounds {
		measure(&none, false)
		// Every worker runs, and has delivered what came while it was
		// paused, before the half is timed: one more sealing, and every
		// event at every receiver.
		b.StopTimer()
		setAll(true)
		sealN(1, 1)
		sealed++
		waitFor()
		b.StartTimer()
		measure(&ten, true)
		b.StopTimer()
		setAll(false)
		b.StartTimer()
	}
	b.StopTimer()
	median := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pacedP50 := func(h half) time.Duration { // the even entries are p50s
		var p []time.Duration
		for i := 0; i < len(h.paced); i += 2 {
			p = append(p, h.paced[i])
		}
		return median(p)
	}
	pacedP90 := func(h half) time.Duration {
		var p []time.Duration
		for i := 1; i < len(h.paced); i += 2 {
			p = append(p, h.paced[i])
		}
		return median(p)
	}
	n := float64(rounds * b.N)
	b.ReportMetric(ms(median(none.c1)), "c1-p50-ms-0subs")
	b.ReportMetric(ms(median(ten.c1)), "c1-p50-ms-10subs")
	b.ReportMetric(float64(median(ten.c1))/float64(median(none.c1)), "c1-latency-10/0")
	b.ReportMetric(ms(pacedP50(none)), "paced-p50-ms-0subs")
	b.ReportMetric(ms(pacedP50(ten)), "paced-p50-ms-10subs")
	b.ReportMetric(float64(pacedP50(ten))/float64(pacedP50(none)), "paced-p50-10/0")
	b.ReportMetric(float64(pacedP90(ten))/float64(pacedP90(none)), "paced-p90-10/0")
	b.ReportMetric(n/none.seconds, "seals/s-0subs")
	b.ReportMetric(n/ten.seconds, "seals/s-10subs")
	b.ReportMetric(none.seconds/ten.seconds, "ratio-10/0")
	b.ReportMetric(ms(median(none.p99)), "p99-ms-0subs")
	b.ReportMetric(ms(median(ten.p99)), "p99-ms-10subs")
	b.ReportMetric(subs*n/ten.elapsed.Seconds(), "events/s")
	b.ReportMetric(ms(median(ten.drain)), "drain-ms")
	b.ReportMetric(ms(none.cpu)/n, "cpu-ms/seal-0subs")
	b.ReportMetric(ms(ten.cpu)/n, "cpu-ms/seal-10subs")
	b.ReportMetric(float64(ten.cpu)/float64(none.cpu), "cpu-10/0")
}

// cpuTime is the CPU time the process has used, user and system: what
// sealing and delivery cost whatever else the machine runs, which a
// shared machine's rates and latencies do not show.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
