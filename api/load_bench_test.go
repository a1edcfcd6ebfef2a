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

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
)

// BenchmarkService drives the service over loopback gRPC with the one-page
// decision at concurrency 1, 8 and 32, on each store, and reports seals per
// second, p50 and p99 latency and errors. Its peer in the same run,
// BenchmarkService/inprocess, calls the same Sealer directly: the ratio is
// the cost of the service (gRPC, authentication, logging). Each also
// reports the process's CPU time per seal.
func BenchmarkService(b *testing.B) {
	doc := readDecision(b)
	var run atomic.Int64
	// SQLite as configured (synchronous=FULL), and PostgreSQL with fsync
	// and synchronous commit on: figures without durability mislead.
	for _, kind := range []string{"sqlite", "postgres-durable"} {
		b.Run(kind, func(b *testing.B) {
			e := newEnv(b, kind, nil)
			client := sealv1.NewSealingServiceClient(e.conn)
			ctx := e.as("changan-approval")
			for _, conc := range []int{1, 8, 32} {
				b.Run(fmt.Sprintf("c%d", conc), func(b *testing.B) {
					r := run.Add(1)
					lat := make([]time.Duration, b.N)
					var next atomic.Int64
					var errs atomic.Int64
					var wg sync.WaitGroup
					b.ResetTimer()
					cpu0 := processCPU(b)
					start := time.Now()
					for range conc {
						wg.Go(func() {
							for {
								i := next.Add(1) - 1
								if i >= int64(b.N) {
									return
								}
								t0 := time.Now()
								_, err := client.Seal(ctx, &sealv1.SealRequest{RequestId: fmt.Sprintf("load-%d-%d", r, i),
									ItemCode: "450224-XK-0002", CaseNo: fmt.Sprintf("L-%d-%d", r, i), DocKind: permit, Document: doc})
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
					b.StopTimer()
					slices.Sort(lat)
					b.ReportMetric(float64(b.N)/elapsed.Seconds(), "seals/s")
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
					b.ReportMetric(float64(errs.Load()), "errors")
					b.ReportMetric(cpu.Seconds()*1000/float64(b.N), "cpu-ms/seal")
					if errs.Load() > 0 {
						b.Errorf("%d of %d sealings failed", errs.Load(), b.N)
					}
				})
			}
		})
	}
	b.Run("inprocess", func(b *testing.B) {
		e := newEnv(b, "sqlite", nil)
		who := &seal.Principal{ID: "changan-approval", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowApproval}}
		r := run.Add(1)
		b.ResetTimer()
		cpu0 := processCPU(b)
		for i := 0; i < b.N; i++ {
			_, err := e.sealer.Seal(context.Background(), who, seal.Input{
				Request:   seal.Request{Item: "450224-XK-0002", CaseNo: fmt.Sprintf("P-%d-%d", r, i), DocKind: permit},
				RequestID: fmt.Sprintf("inproc-%d-%d", r, i), Document: doc})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric((processCPU(b)-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/seal")
	})
}

// processCPU is the CPU time (user and system) this process has used. On
// a shared machine, CPU per seal moves far less between runs than seals
// per second. It counts the load generator too, which runs in the same
// process, but not a PostgreSQL server.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
