package service

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/internal/testbin"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	_ "modernc.org/sqlite"
)

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// child is a sealsvc process.
type child struct {
	cmd  *exec.Cmd
	addr string
	log  *bytes.Buffer
}

func startChild(t testing.TB, bin, dir string) *child {
	t.Helper()
	c := &child{addr: freeAddr(t), log: &bytes.Buffer{}}
	c.cmd = exec.Command(bin, "serve", "--demo", "--data", dir, "--listen", c.addr, "--http", freeAddr(t))
	c.cmd.Env = append(os.Environ(), "ESEAL_METRICS_LISTEN=127.0.0.1:0") // not the default port, which others may hold
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

func dialAs(t testing.TB, addr, tokenFile string) (*grpc.ClientConn, context.Context) {
	t.Helper()
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc, metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+strings.TrimSpace(string(tok)))
}

// waitReady waits until the child answers as the admin.
func waitReady(t testing.TB, c *child, dir string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(dir, "credentials", "admin.token")); err == nil {
			cc, ctx := dialAs(t, c.addr, filepath.Join(dir, "credentials", "admin.token"))
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			_, err := sealv1.NewPrincipalServiceClient(cc).WhoAmI(ctx, &sealv1.WhoAmIRequest{})
			cancel()
			if err == nil {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("sealsvc did not become ready:\n%s", c.log)
}

// received is what a client got back: proof of a sealing it may rely on.
type received struct {
	requestID, caseNo string
	seq               uint64
	hash, outSM3      []byte
}

// TestCrashDuringConcurrentSealing kills the service with SIGKILL while
// eight clients seal, restarts it, and checks that the ledger chain holds,
// that every document a client received has its record and can be fetched
// again, and that the database is whole.
func TestCrashDuringConcurrentSealing(t *testing.T) {
	bin := testbin.Build(t, "sealsvc")
	dir := t.TempDir()
	doc, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		c := startChild(t, bin, dir)
		waitReady(t, c, dir)
		cc, ctx := dialAs(t, c.addr, filepath.Join(dir, "credentials", "450224100-approval.token"))
		client := sealv1.NewSealingServiceClient(cc)
		var mu sync.Mutex
		var got []received
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("crash-%d-%d-%d", round, w, i)
					req := &sealv1.SealRequest{RequestId: id, ItemCode: "450224-XK-0002", CaseNo: id,
						DocKind: "准予行政许可决定书", Document: doc}
					resp, err := client.Seal(ctx, req)
					if err != nil {
						continue // the service is being killed
					}
					sum := sm3.Sum(resp.Document)
					if !bytes.Equal(sum[:], resp.Record.OutputSm3) {
						t.Errorf("%s: the record's output digest is not the document's", id)
					}
					mu.Lock()
					got = append(got, received{id, id, resp.Record.Seq, resp.Record.Hash, resp.Record.OutputSm3})
					mu.Unlock()
				}
			})
		}
		// Let some sealings complete, then kill mid-stream.
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			n := len(got)
			mu.Unlock()
			if n >= 20+round*7 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		c.cmd.Process.Signal(syscall.SIGKILL)
		c.cmd.Wait()
		close(stop)
		wg.Wait()
		if len(got) < 20 {
			t.Fatalf("round %d: only %d sealings before the kill:\n%s", round, len(got), c.log)
		}

		// No half-written state: SQLite's own check passes on the file as
		// the kill left it, and no temporary files remain.
		db, err := sql.Open("sqlite", filepath.Join(dir, "seal.db"))
		if err != nil {
			t.Fatal(err)
		}
		var check string
		if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("integrity_check: %q, %v", check, err)
		}
		db.Close()
		leftovers, _ := filepath.Glob(filepath.Join(dir, "*", ".*.tmp-*"))
		if len(leftovers) > 0 {
			t.Errorf("temporary files left: %v", leftovers)
		}

		// Restart and check every received sealing.
		c2 := startChild(t, bin, dir)
		waitReady(t, c2, dir)
		acc, actx := dialAs(t, c2.addr, filepath.Join(dir, "credentials", "admin.token"))
		ledger := sealv1.NewLedgerServiceClient(acc)
		v, err := ledger.VerifyLedger(actx, &sealv1.VerifyLedgerRequest{})
		if err != nil || !v.Valid {
			t.Fatalf("round %d: ledger after the crash: %+v, %v", round, v, err)
		}
		ccc, cctx := dialAs(t, c2.addr, filepath.Join(dir, "credentials", "450224100-approval.token"))
		for _, r := range got {
			rec, err := ledger.GetRecord(actx, &sealv1.GetRecordRequest{Seq: r.seq})
			if err != nil || !bytes.Equal(rec.Hash, r.hash) || rec.RequestId != r.requestID {
				t.Fatalf("round %d: record %d of %s after the crash: %v, %v", round, r.seq, r.requestID, rec, err)
			}
			res, err := sealv1.NewSealingServiceClient(ccc).GetSealResult(cctx, &sealv1.GetSealResultRequest{RequestId: r.requestID, CaseNo: r.caseNo})
			if err != nil {
				t.Fatalf("round %d: result of %s after the crash: %v", round, r.requestID, err)
			}
			if sum := sm3.Sum(res.Document); !bytes.Equal(sum[:], r.outSM3) {
				t.Fatalf("round %d: %s comes back different after the crash", round, r.requestID)
			}
		}
		t.Logf("round %d: %d sealings received before SIGKILL, all recorded; chain of %d records intact", round, len(got), v.RecordsChecked)
		c2.cmd.Process.Signal(syscall.SIGTERM)
		c2.cmd.Wait()
	}
}
