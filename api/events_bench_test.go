package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
// loopback gRPC on SQLite, first with no subscription, then, in the same
// run, with ten, each a local receiver that answers at once. Each half
// seals b.N documents one at a time (c1: a window's pace, with CPU to
// spare, where delivery must not add latency) and then b.N at concurrency
// 32 (c32: saturation, where delivery competes for the same two cores).
// It reports median latency at c1 with none and with ten and their ratio
// (1: the outbox adds nothing), the c32 rates and their ratio, p99 at c32,
// and how fast the outbox delivered: events per second from the first
// c32 sealing of the second half until every receiver had every event;
// and the process's CPU time per sealing at c32, with none, and with ten
// until the last event was delivered (the receivers' share included), and
// their ratio: what delivery costs, whatever else the machine runs.
//
// The outbox runs with the service's defaults. The subscriptions take one
// event a request (structured, what every
// CloudEvents receiver takes), or up to 100 (batched).
func BenchmarkSealingWithSubscriptions(b *testing.B) {
	for _, mode := range []struct {
		name  string
		batch int
	}{{"structured", 0}, {"batched", 100}} {
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
					t0 := time.Now()
					_, err := client.Seal(cctx, &sealv1.SealRequest{RequestId: fmt.Sprintf("ev-%d-%d", r, i),
						ItemCode: "450224-XK-0002", CaseNo: fmt.Sprintf("EV-%d-%d", r, i), DocKind: permit, Document: doc})
					lat[i] = time.Since(t0)
					if err != nil {
						errs.Add(1)
					}
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
	const subs, conc = 10, 32
	b.ResetTimer()
	_, c1p500, _ := sealN(b.N, 1)
	cpu0 := cpuTime(b)
	rate0, _, p990 := sealN(b.N, conc)
	cpu0 = cpuTime(b) - cpu0
	var received atomic.Int64
	for i := range subs {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			received.Add(int64(bytes.Count(body, []byte(`"specversion"`)))) // the events it carries
			w.WriteHeader(http.StatusNoContent)
		}))
		defer srv.Close()
		if _, err := box.Create(context.Background(), outbox.NewSubscription{ID: fmt.Sprintf("sub-%d", i), Endpoint: srv.URL,
			Batch: batch}, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	waitFor := func(want int64) {
		start := time.Now()
		for received.Load() < want {
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("the outbox delivered %d of %d events in 5 minutes", received.Load(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Every subscription's worker is running before the half is timed: one
	// sealing, and its event at every receiver.
	b.StopTimer()
	sealN(1, 1)
	waitFor(subs)
	b.StartTimer()
	_, c1p5010, _ := sealN(b.N, 1)
	waitFor(int64(subs * (1 + b.N))) // the c1 half's events, before the c32 half is timed
	start, cpu10 := time.Now(), cpuTime(b)
	rate10, _, p9910 := sealN(b.N, conc)
	waitFor(int64(subs * (1 + 2*b.N)))
	delivery, cpu10 := time.Since(start), cpuTime(b)-cpu10
	b.StopTimer()
	b.ReportMetric(float64(c1p500.Microseconds())/1000, "c1-p50-ms-0subs")
	b.ReportMetric(float64(c1p5010.Microseconds())/1000, "c1-p50-ms-10subs")
	b.ReportMetric(float64(c1p5010)/float64(c1p500), "c1-latency-10/0")
	b.ReportMetric(rate0, "seals/s-0subs")
	b.ReportMetric(rate10, "seals/s-10subs")
	b.ReportMetric(rate10/rate0, "ratio-10/0")
	b.ReportMetric(float64(p990.Microseconds())/1000, "p99-ms-0subs")
	b.ReportMetric(float64(p9910.Microseconds())/1000, "p99-ms-10subs")
	b.ReportMetric(float64(subs*b.N)/delivery.Seconds(), "events/s")
	b.ReportMetric(float64(cpu0.Microseconds())/1000/float64(b.N), "cpu-ms/seal-0subs")
	b.ReportMetric(float64(cpu10.Microseconds())/1000/float64(b.N), "cpu-ms/seal-10subs")
	b.ReportMetric(float64(cpu10)/float64(cpu0), "cpu-10/0")
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
