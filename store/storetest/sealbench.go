package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ronganxian/eseal/seal"
)

// BenchSealing seals the one-page decision through the Sealers of one or
// two replicas of one database, with callers concurrent callers spread
// evenly over them, and reports seals/s, p50-ms and p99-ms. It is the
// domain's sealing with its fence, store and database, without gRPC:
// what the database and the ledger lock cost, beside each other, in one
// run.
//
// It also reports the CPU time per seal of this process (cpu-ms/seal) and,
// when serverCPU is not nil, of the database server (db-cpu-ms/seal). On a
// machine shared with other work, seals per second and latency follow the
// load; the CPU each seal costs does not, and it bounds what the cores can
// seal.
func BenchSealing(b *testing.B, open ReplicaOpener, replicas, callers int, serverCPU func() time.Duration) {
	e := newFenceEnv(b, open)
	sealers := []*seal.Sealer{e.a.sealer, e.b.sealer}[:replicas]
	ctx := context.Background()
	// Warm each replica: the seal's key is decrypted and the statements
	// prepared once per process.
	for i, s := range sealers {
		if _, err := s.Seal(ctx, e.clerk, e.input(fmt.Sprintf("warm-%d", i), e.doc)); err != nil {
			b.Fatal(err)
		}
	}
	run := benchRuns.Add(1)
	lat := make([]time.Duration, b.N)
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0, db0 := processCPU(b), time.Duration(0)
	if serverCPU != nil {
		db0 = serverCPU()
	}
	start := time.Now()
	for c := range callers {
		s := sealers[c%len(sealers)]
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				_, err := s.Seal(ctx, e.clerk, e.input(fmt.Sprintf("bench-%d-%d", run, i), e.doc))
				lat[i] = time.Since(t0)
				if err != nil {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU(b) - cpu0
	if serverCPU != nil {
		b.ReportMetric(float64((serverCPU()-db0).Microseconds())/1000/float64(b.N), "db-cpu-ms/seal")
	}
	b.StopTimer()
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/seal")
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "seals/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	if n := errs.Load(); n > 0 {
		b.Fatalf("%d of %d sealings failed", n, b.N)
	}
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRuns numbers the runs, so that each run's request ids are new.
var benchRuns atomic.Int64
