package service

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/internal/testbin"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// replica is one sealsvc process on the chaos test's database.
type replica struct {
	name, bin, dir, grpc, http string
	env                        []string
	demo                       bool
	cmd                        *exec.Cmd
	log                        *lockedBuffer
}

func (r *replica) start(t *testing.T) {
	t.Helper()
	args := []string{"serve", "--data", r.dir, "--listen", r.grpc, "--http", r.http}
	if r.demo {
		args = append(args, "--demo")
	}
	r.cmd = exec.Command(r.bin, args...)
	r.cmd.Env = r.env
	r.log = &lockedBuffer{}
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, "http://"+r.http+"/readyz", r.log)
}

func (r *replica) kill() {
	r.cmd.Process.Signal(syscall.SIGKILL)
	r.cmd.Wait()
}

// TestChaosTwoReplicas is issue 20's chaos test: two replicas on one
// throwaway PostgreSQL, four callers sealing decision.pdf through both
// (a caller that fails retries the same request id on the other replica,
// as a client behind a load balancer does), while replica B is killed
// with SIGKILL and restarted, PostgreSQL is restarted, and PostgreSQL is
// frozen for three seconds. Then every sealing a caller was given must be
// in the ledger under its sequence number and hash, once, and come back
// from GetSealResult with the same digest; no call may have failed with
// Internal; and both replicas must verify the whole chain.
func TestChaosTwoReplicas(t *testing.T) {
	bin := testbin.Build(t, "sealsvc")
	pg, err := pgtest.StartThrowaway()
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	dsn := pg.NewDatabase(t)
	env := append(cleanEnv(""), "ESEAL_STORE=postgres", "ESEAL_POSTGRES_DSN="+dsn, "ESEAL_METRICS_LISTEN=off",
		"ESEAL_REQUEST_TIMEOUT=5s")
	a := &replica{name: "A", bin: bin, dir: t.TempDir(), grpc: freeAddr(t), http: freeAddr(t), env: env, demo: true}
	b := &replica{name: "B", bin: bin, dir: t.TempDir(), grpc: freeAddr(t), http: freeAddr(t), env: env}
	a.start(t)
	defer a.kill()
	kek, err := os.ReadFile(filepath.Join(a.dir, "kek"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "kek"), kek, 0o600); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	defer func() { b.kill() }()

	doc, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		t.Fatal(err)
	}
	clerk := filepath.Join(a.dir, "credentials", "450224100-approval.token")
	var clients [2]sealv1.SealingServiceClient
	var cctx context.Context
	for i, r := range []*replica{a, b} {
		cc, ctx := dialAs(t, r.grpc, clerk)
		clients[i], cctx = sealv1.NewSealingServiceClient(cc), ctx

	}
	var mu sync.Mutex
	var got []received
	seen := map[codes.Code]int{}
	var failures []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("chaos-%d-%d", w, i)
				req := &sealv1.SealRequest{RequestId: id, ItemCode: "450224-XK-0002", CaseNo: id, DocKind: "准予行政许可决定书", Document: doc}
				// Retry the same request id, alternating replicas, for
				// up to 20 s: longer than any fault below lasts.
				giveUp := time.Now().Add(20 * time.Second)
				for attempt := 0; ; attempt++ {
					ctx, cancel := context.WithTimeout(cctx, 4*time.Second)
					resp, err := clients[(w+attempt)%2].Seal(ctx, req)
					cancel()
					code := status.Code(err)
					mu.Lock()
					seen[code]++
					if err == nil {
						sum := sm3.Sum(resp.Document)
						if !bytes.Equal(sum[:], resp.Record.OutputSm3) || resp.Record.RequestId != id {
							failures = append(failures, id+": the response's record is not its document's")
						}
						got = append(got, received{id, id, resp.Record.Seq, resp.Record.Hash, resp.Record.OutputSm3})
					}
					switch code {
					case codes.OK, codes.Unavailable, codes.DeadlineExceeded:
					default:
						failures = append(failures, fmt.Sprintf("%s attempt %d: %v", id, attempt, err))
					}
					mu.Unlock()
					if err == nil || code != codes.Unavailable && code != codes.DeadlineExceeded || time.Now().After(giveUp) {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
	sealed := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	waitMore := func(what string, n int) {
		t.Helper()
		start, deadline := sealed(), time.Now().Add(20*time.Second)
		for sealed() < start+n {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("%s: only %d sealings in 20 s; failures %.5q; A's log:\n%s\nB's log:\n%s", what, sealed()-start, failures, a.log, b.log)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitMore("at the start", 20)
	b.kill()
	t.Logf("killed B after %d sealings", sealed())
	waitMore("with B killed", 10)
	b.start(t)
	waitMore("with B back", 10)
	if err := pg.Restart(time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted PostgreSQL after %d sealings", sealed())
	waitMore("after the PostgreSQL restart", 10)
	if err := pg.Freeze(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if err := pg.Thaw(); err != nil {
		t.Fatal(err)
	}
	t.Logf("froze PostgreSQL for 3 s, %d sealings so far", sealed())
	waitMore("after the freeze", 10)
	close(stop)
	wg.Wait()
	t.Logf("%d sealings received; attempts by code: %v", len(got), seen)
	for _, f := range failures {
		t.Error(f)
	}

	// Every response is in the ledger, once, and retrievable; both
	// replicas verify the chain.
	admin := filepath.Join(a.dir, "credentials", "admin.token")
	for _, r := range []*replica{a, b} {
		acc, actx := dialAs(t, r.grpc, admin)
		ledger := sealv1.NewLedgerServiceClient(acc)
		v, err := ledger.VerifyLedger(actx, &sealv1.VerifyLedgerRequest{})
		if err != nil || !v.Valid {
			t.Fatalf("replica %s: VerifyLedger: %+v, %v", r.name, v, err)
		}
		t.Logf("replica %s verifies %d records", r.name, v.RecordsChecked)
	}
	acc, actx := dialAs(t, a.grpc, admin)
	ledger := sealv1.NewLedgerServiceClient(acc)
	bySeq := map[uint64]*sealv1.LedgerRecord{}
	sealedIDs := map[string]int{}
	var last uint64
	for after := uint64(0); ; {
		resp, err := ledger.ListRecords(actx, &sealv1.ListRecordsRequest{AfterSeq: after, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.Records {
			if r.Seq != last+1 {
				t.Fatalf("the ledger skips from %d to %d", last, r.Seq)
			}
			last = r.Seq
			bySeq[r.Seq] = r
			if r.Result == "sealed" {
				sealedIDs[r.RequestId]++
			}
		}
		if resp.NextAfterSeq == 0 || len(resp.Records) == 0 {
			break
		}
		after = resp.NextAfterSeq
	}
	for id, n := range sealedIDs {
		if n > 1 {
			t.Errorf("request %s was sealed %d times", id, n)
		}
	}
	ccc, cctx2 := dialAs(t, b.grpc, clerk)
	results := sealv1.NewSealingServiceClient(ccc)
	for _, r := range got {
		rec := bySeq[r.seq]
		if rec == nil || !bytes.Equal(rec.Hash, r.hash) || rec.RequestId != r.requestID || !bytes.Equal(rec.OutputSm3, r.outSM3) {
			t.Fatalf("%s: the ledger's record %d is %v", r.requestID, r.seq, rec)
		}
		res, err := results.GetSealResult(cctx2, &sealv1.GetSealResultRequest{RequestId: r.requestID, CaseNo: r.caseNo})
		if err != nil {
			t.Fatalf("%s: GetSealResult: %v", r.requestID, err)
		}
		if sum := sm3.Sum(res.Document); !bytes.Equal(sum[:], r.outSM3) {
			t.Fatalf("%s: GetSealResult returns another document", r.requestID)
		}
	}
	if seen[codes.Unavailable]+seen[codes.DeadlineExceeded] == 0 {
		t.Error("no call met a fault: the test faulted nothing")
	}
}
