package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ronganxian/eseal/internal/pgtest"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// TestReplicasSealConcurrently runs two service replicas on one PostgreSQL
// database, as behind a load balancer, seals through both at once, and
// checks that the ledger is one chain with no gap or duplicate and that
// both replicas' checkpoints verify.
func TestReplicasSealConcurrently(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := testConfig(t, "postgres", pgtest.Shared(t).NewDatabase(t))
	c.GRPCListen, c.HTTPListen, c.MetricsListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	first := openService(t, c)
	if err := first.PrepareDemo(ctx); err != nil {
		t.Fatal(err)
	}
	second := openService(t, c)
	var addrs []string
	var served sync.WaitGroup
	for _, svc := range []*Service{first, second} {
		srv, err := svc.NewServer()
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, srv.GRPCAddr())
		served.Go(func() { srv.Serve(ctx) })
	}
	defer served.Wait()
	defer cancel()

	token := func(id string) string {
		b, err := os.ReadFile(filepath.Join(c.DataDir, "credentials", id+".token"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	doc, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		t.Fatal(err)
	}
	const perWorker, workers = 6, 6
	var wg sync.WaitGroup
	errs := make(chan error, perWorker*workers)
	for w := range workers {
		wg.Go(func() {
			cc, err := grpc.NewClient(addrs[w%2], grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				errs <- err
				return
			}
			defer cc.Close()
			cctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token("450224100-approval"))
			for i := range perWorker {
				id := fmt.Sprintf("replica-%d-%d", w, i)
				_, err := sealv1.NewSealingServiceClient(cc).Seal(cctx, &sealv1.SealRequest{RequestId: id,
					ItemCode: "450224-XK-0002", CaseNo: id, DocKind: "准予行政许可决定书", Document: doc})
				if err != nil {
					errs <- fmt.Errorf("%s via replica %d: %w", id, w%2, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Each replica signs a checkpoint; either replica verifies the lot.
	for i, addr := range addrs {
		cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		actx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token("admin"))
		ledger := sealv1.NewLedgerServiceClient(cc)
		if _, err := ledger.CreateCheckpoint(actx, &sealv1.CreateCheckpointRequest{}); err != nil {
			t.Fatalf("checkpoint on replica %d: %v", i, err)
		}
		v, err := ledger.VerifyLedger(actx, &sealv1.VerifyLedgerRequest{})
		if err != nil || !v.Valid || v.RecordsChecked != perWorker*workers || v.CheckpointsMatched != uint64(i+1) {
			t.Fatalf("ledger seen from replica %d: %+v, %v", i, v, err)
		}
	}
}
