package service

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ronganxian/eseal/internal/hostilepdf"
	"github.com/ronganxian/eseal/internal/testbin"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/grpc"
)

// BenchmarkServicePeakRSS runs sealsvc in a child process and sends it 32
// callers at once, each sealing (or, without credentials, verifying) one
// kind of document, and reports the child's peak resident memory (VmHWM)
// beside the same figure for decision.pdf, sealed the same way: the
// service's memory must not grow with what hostile documents ask for, nor
// with the number of callers. Every hostile document of package
// hostilepdf is sealed and verified. Run with -benchtime 1x: each
// iteration is one round of 32 calls; the peak is the whole run's.
//
//	go test -run '^$' -bench ServicePeakRSS -benchtime 1x ./service/
//
// Each row logs its calls' outcomes: a hostile document is refused
// (InvalidArgument naming the limit it passed), or turned away while
// others use the room (ResourceExhausted).
func BenchmarkServicePeakRSS(b *testing.B) {
	decision, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		b.Fatal(err)
	}
	type row struct {
		name   string
		doc    func() []byte
		verify bool
	}
	rows := []row{
		{"seal/decision", func() []byte { return decision }, false},
		{"seal/largest-document", func() []byte { return paddedPDF(b, 31<<20) }, false},
		{"verify/decision", func() []byte { return decision }, true},
		{"verify/largest-unary", func() []byte { return paddedPDF(b, 4<<20-64<<10) }, true},
	}
	for _, h := range hostilepdf.Files() {
		rows = append(rows, row{"seal/" + h.Name, h.Build, false}, row{"verify/" + h.Name, h.Build, true})
	}
	var base float64
	for _, r := range rows {
		b.Run(r.name, func(b *testing.B) {
			doc := r.doc()
			b.ResetTimer()
			hwm, outcomes := runPeakRSS(b, doc, r.verify, 32, b.N)
			b.StopTimer()
			b.Logf("outcomes: %v", outcomes)
			peak := float64(hwm) / (1 << 20)
			if r.name == "seal/decision" {
				base = peak
			}
			b.ReportMetric(peak, "peak-MiB")
			if base > 0 {
				b.ReportMetric(peak/base, "x-decision")
			}
		})
	}
}

// runPeakRSS starts a demo sealsvc, has callers of them send doc rounds
// times each, and returns the child's peak RSS in bytes and the calls'
// outcomes.
func runPeakRSS(t testing.TB, doc []byte, verify bool, callers, rounds int) (int64, map[string]int) {
	bin := testbin.Build(t, "sealsvc")
	dir := t.TempDir()
	c := startChild(t, bin, dir)
	defer c.cmd.Process.Kill()
	waitReady(t, c, dir)
	cc, ctx := dialAs(t, c.addr, filepath.Join(dir, "credentials", "450224100-approval.token"))
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for w := range callers {
		wg.Go(func() {
			for i := range rounds {
				err := call(ctx, cc, doc, verify, fmt.Sprintf("rss-%d-%d", w, i))
				mu.Lock()
				outcomes[outcome(err)]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return vmHWM(t, c.cmd.Process.Pid), outcomes
}

func call(ctx context.Context, cc *grpc.ClientConn, doc []byte, verify bool, id string) error {
	if verify {
		_, err := sealv1.NewVerificationServiceClient(cc).Verify(ctx, &sealv1.VerifyRequest{Document: doc})
		return err
	}
	req := &sealv1.SealRequest{RequestId: id, ItemCode: "450224-XK-0002", CaseNo: id, DocKind: "准予行政许可决定书"}
	client := sealv1.NewSealingServiceClient(cc)
	if len(doc) <= 3<<20 {
		req.Document = doc
		_, err := client.Seal(ctx, req)
		return err
	}
	req.DocumentBytes = int64(len(doc)) // as sealctl does
	st, err := client.SealStream(ctx, grpc.MaxCallRecvMsgSize(64<<20))
	if err != nil {
		return err
	}
	if err := st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Header{Header: req}}); err != nil {
		return err
	}
	for rest := doc; len(rest) > 0; {
		n := min(len(rest), 1<<20)
		if err := st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Chunk{Chunk: rest[:n]}}); err != nil {
			break // the error comes with Recv
		}
		rest = rest[n:]
	}
	st.CloseSend()
	for {
		if _, err := st.Recv(); err != nil {
			if err.Error() == "EOF" {
				return nil
			}
			return err
		}
	}
}

func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	s := err.Error()
	if i := strings.Index(s, "desc = "); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(strings.TrimPrefix(s, "rpc error:"))
}

// vmHWM reads a process's peak resident set size.
func vmHWM(b testing.TB, pid int) int64 {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// paddedPDF is a valid one-page PDF of about size bytes: an unreferenced
// stream of incompressible bytes fills it.
func paddedPDF(b *testing.B, size int) []byte {
	pad := make([]byte, size)
	for i := range pad {
		pad[i] = byte(i*2654435761>>13) | 0x80
	}
	content := "BT /F1 12 Tf 72 720 Td (padded) Tj ET"
	return buildPDF(b, []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(pad), pad),
	})
}

// buildPDF writes objects 1..n with a classic cross-reference table.
func buildPDF(b *testing.B, objs []string) []byte {
	var out bytes.Buffer
	out.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return out.Bytes()
}
