package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ronganxian/eseal/archive"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/verify"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// purger is the store's retention purge (sqlstore's retention.go).
type purger interface {
	PurgeDocuments(ctx context.Context, before time.Time, limit int) (int, error)
}

// sealFor seals the decision for a clerk and returns the record's sequence
// number.
func sealFor(t *testing.T, e *env, who, id, caseNo string) uint64 {
	t.Helper()
	resp, err := sealv1.NewSealingServiceClient(e.conn).Seal(e.as(who), &sealv1.SealRequest{RequestId: id,
		ItemCode: "450224-XK-0002", CaseNo: caseNo, DocKind: permit, Document: readDecision(t)})
	if err != nil {
		t.Fatalf("sealing %s for %s: %v", id, who, err)
	}
	return resp.Record.Seq
}

// export calls ExportArchive and returns the ZIP.
func export(e *env, who string, req *sealv1.ExportArchiveRequest) ([]byte, error) {
	stream, err := sealv1.NewArchiveServiceClient(e.conn).ExportArchive(e.as(who), req)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for {
		c, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return b.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		b.Write(c.Data)
	}
}

// verifyPackage checks a package with the county root from the keystore.
func verifyPackage(t *testing.T, e *env, pkg []byte) *archive.Report {
	t.Helper()
	pem, err := e.ks.TrustBundle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	roots, err := verify.ParseCertificates(pem)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := archive.Verify(context.Background(), bytes.NewReader(pkg), int64(len(pkg)), archive.VerifyOptions{Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid() {
		var bad []string
		for _, c := range rep.Checks {
			if !c.OK {
				bad = append(bad, c.Name+": "+c.Detail)
			}
		}
		t.Fatalf("the exported package does not verify:\n%s", strings.Join(bad, "\n"))
	}
	return rep
}

// TestArchive: who may fetch which sealed document and export which
// package, over gRPC and REST, on SQLite and PostgreSQL; packages verify
// with the county root; a document deleted under retention is told apart.
func TestArchive(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) { testArchive(t, kind) })
	}
}

func testArchive(t *testing.T, kind string) {
	e := newEnv(t, kind, nil)
	start := time.Now().Add(-time.Minute)
	changan1 := sealFor(t, e, "changan-approval", "ar-1", "AR-CASE-1")
	changan2 := sealFor(t, e, "changan-approval", "ar-2", "AR-CASE-2")
	fushi := sealFor(t, e, "fushi-approval", "ar-3", "AR-CASE-3")
	// A refusal: the service window may not seal a licensing item.
	_, err := sealv1.NewSealingServiceClient(e.conn).Seal(e.as("changan-service"), &sealv1.SealRequest{RequestId: "ar-4",
		ItemCode: "450224-XK-0002", CaseNo: "AR-CASE-1", DocKind: permit, Document: readDecision(t)})
	if status.Code(err) == codes.OK {
		t.Fatal("the service window sealed a licensing item")
	}
	refusal := fushi + 1
	// A supervision result on a case: a record of the case, in the packages.
	if _, err := sealv1.NewSupervisionServiceClient(e.conn).RecordResult(e.as("sup-nongye"), &sealv1.RecordResultRequest{
		TownshipCode: "450224100", CaseNo: "AR-CASE-1", Kind: "onsite", Outcome: "pass",
		Date: time.Now().Format(time.DateOnly)}); err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(time.Minute)

	docs := sealv1.NewArchiveServiceClient(e.conn)
	for _, c := range []struct {
		who  string
		seq  uint64
		want codes.Code
	}{
		{"admin", changan1, codes.OK},
		{"sup-nongye", changan1, codes.OK},
		{"sup-nongye", fushi, codes.OK},
		{"sup-minzheng", changan1, codes.PermissionDenied},
		{"changan-approval", changan2, codes.OK},
		{"changan-service", changan2, codes.OK}, // the township's clerks, whichever window
		{"fushi-approval", changan1, codes.PermissionDenied},
		{"admin", refusal, codes.NotFound},
		{"admin", 9999, codes.NotFound},
	} {
		d, err := docs.GetDocument(e.as(c.who), &sealv1.GetDocumentRequest{Seq: c.seq})
		if status.Code(err) != c.want {
			t.Errorf("GetDocument(%d) as %s: %v, want %v", c.seq, c.who, err, c.want)
			continue
		}
		if err == nil && (d.Record.Seq != c.seq || len(d.Pdf) == 0 || !bytes.HasPrefix(d.Pdf, []byte("%PDF"))) {
			t.Errorf("GetDocument(%d) as %s: record %d, %d bytes", c.seq, c.who, d.Record.Seq, len(d.Pdf))
		}
	}
	if r := e.rest(t, "GET", fmt.Sprintf("/v1/ledger/records/%d/document", changan1), "sup-nongye", nil); r.code != http.StatusOK ||
		!bytes.Contains(r.body, []byte(`"pdf"`)) {
		t.Errorf("REST GetDocument: %d %.200s", r.code, r.body)
	}
	// The PDF itself, for a browser or a script.
	want, err := docs.GetDocument(e.as("admin"), &sealv1.GetDocumentRequest{Seq: changan1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, who, seq string
		code           int
	}{
		{"its domain's supervisor", "sup-nongye", fmt.Sprint(changan1), http.StatusOK},
		{"the township's clerk", "changan-approval", fmt.Sprint(changan1), http.StatusOK},
		{"another domain's supervisor", "sup-minzheng", fmt.Sprint(changan1), http.StatusForbidden},
		{"another township's clerk", "fushi-approval", fmt.Sprint(changan1), http.StatusForbidden},
		{"no credential", "", fmt.Sprint(changan1), http.StatusUnauthorized},
		{"no such record", "admin", "99999", http.StatusNotFound},
		{"not a number", "admin", "x", http.StatusBadRequest},
		{"record 0", "admin", "0", http.StatusBadRequest},
	} {
		r := e.rest(t, "GET", "/v1/ledger/records/"+c.seq+"/document.pdf", c.who, nil)
		if r.code != c.code {
			t.Errorf("GET document.pdf, %s: %d %.200s, want %d", c.name, r.code, r.body, c.code)
			continue
		}
		if r.code == http.StatusOK && (!bytes.Equal(r.body, want.Pdf) || r.header.Get("Content-Type") != "application/pdf" ||
			r.header.Get("X-Output-Sm3") != hex.EncodeToString(want.Record.OutputSm3)) {
			t.Errorf("GET document.pdf, %s: %d bytes of %s, output SM3 %q; want the sealed PDF", c.name, len(r.body),
				r.header.Get("Content-Type"), r.header.Get("X-Output-Sm3"))
		}
	}

	period := func(town string, domains ...string) *sealv1.ExportArchiveRequest {
		return &sealv1.ExportArchiveRequest{TownshipCode: town, From: timestamppb.New(start), To: timestamppb.New(end), Domains: domains}
	}
	for _, c := range []struct {
		name    string
		who     string
		req     *sealv1.ExportArchiveRequest
		want    codes.Code
		records int
	}{
		{"county office, a township's period", "admin", period("450224100"), codes.OK, 4},
		{"supervisor, its domain", "sup-nongye", period("450224100"), codes.OK, 4},
		{"supervisor, a case", "sup-nongye", &sealv1.ExportArchiveRequest{TownshipCode: "450224101", CaseNo: "AR-CASE-3"}, codes.OK, 1},
		{"clerk, its township's case", "changan-approval", &sealv1.ExportArchiveRequest{CaseNo: "AR-CASE-1"}, codes.OK, 3},
		{"supervisor, another domain", "sup-minzheng", period("450224100", "农业农村"), codes.PermissionDenied, 0},
		{"supervisor, its domain has none", "sup-minzheng", period("450224100"), codes.NotFound, 0},
		{"clerk, another township", "fushi-approval", period("450224100"), codes.PermissionDenied, 0},
		{"no township", "admin", &sealv1.ExportArchiveRequest{CaseNo: "AR-CASE-1"}, codes.InvalidArgument, 0},
		{"no case and no period", "admin", &sealv1.ExportArchiveRequest{TownshipCode: "450224100"}, codes.InvalidArgument, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			pkg, err := export(e, c.who, c.req)
			if status.Code(err) != c.want {
				t.Fatalf("ExportArchive as %s: %v, want %v", c.who, err, c.want)
			}
			if err != nil {
				return
			}
			if rep := verifyPackage(t, e, pkg); rep.Records != c.records || rep.Manifest.ExportedBy != c.who {
				t.Errorf("%d records exported by %q, want %d by %s", rep.Records, rep.Manifest.ExportedBy, c.records, c.who)
			}
		})
	}

	// REST: the ZIP itself, streamed.
	q := url.Values{"township_code": {"450224100"}, "from": {start.Format(time.RFC3339)}, "to": {end.Format(time.RFC3339)}}
	for _, c := range []struct {
		who  string
		code int
	}{{"sup-nongye", http.StatusOK}, {"", http.StatusUnauthorized}, {"fushi-approval", http.StatusForbidden}} {
		r := e.rest(t, "GET", archivePathQ(q), c.who, nil)
		if r.code != c.code {
			t.Errorf("GET %s as %q: %d %.200s, want %d", ArchivePath, c.who, r.code, r.body, c.code)
			continue
		}
		if r.code == http.StatusOK {
			if rep := verifyPackage(t, e, r.body); rep.Records != 4 {
				t.Errorf("REST package: %d records, want 4", rep.Records)
			}
		}
	}
	if r := e.rest(t, "GET", archivePathQ(url.Values{"township_code": {"450224100"}, "from": {"yesterday"}}), "admin", nil); r.code != http.StatusBadRequest {
		t.Errorf("from=yesterday: %d %s", r.code, r.body)
	}

	// Retention: the documents are deleted, the records stay.
	n, err := e.st.(purger).PurgeDocuments(context.Background(), time.Now().Add(time.Hour), 0)
	if err != nil || n != 3 {
		t.Fatalf("PurgeDocuments = %d, %v; want 3", n, err)
	}
	if _, err := docs.GetDocument(e.as("sup-nongye"), &sealv1.GetDocumentRequest{Seq: changan1}); status.Code(err) != codes.FailedPrecondition ||
		!strings.Contains(err.Error(), "retention") {
		t.Errorf("GetDocument of a deleted document: %v, want FailedPrecondition", err)
	}
	if _, err := docs.GetDocument(e.as("sup-minzheng"), &sealv1.GetDocumentRequest{Seq: changan1}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("GetDocument of a deleted document by another domain: %v, want PermissionDenied", err)
	}
	sealing := sealv1.NewSealingServiceClient(e.conn)
	_, err = sealing.GetSealResult(e.as("changan-approval"), &sealv1.GetSealResultRequest{RequestId: "ar-1", CaseNo: "AR-CASE-1"})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "retention") {
		t.Errorf("GetSealResult of a deleted document: %v, want FailedPrecondition", err)
	}
	_, err = sealing.GetSealResult(e.as("changan-service"), &sealv1.GetSealResultRequest{RequestId: "ar-1", CaseNo: "AR-CASE-1"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("GetSealResult of a colleague's deleted document: %v, want NotFound (the same as an unused id)", err)
	}
	_, err = sealing.Seal(e.as("changan-approval"), &sealv1.SealRequest{RequestId: "ar-1", ItemCode: "450224-XK-0002",
		CaseNo: "AR-CASE-1", DocKind: permit, Document: readDecision(t)})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("sealing a request id again whose document was deleted: %v, want FailedPrecondition", err)
	}
	pkg, err := export(e, "admin", period("450224100"))
	if err != nil {
		t.Fatal(err)
	}
	if rep := verifyPackage(t, e, pkg); rep.Records != 4 || rep.Deleted != 2 || rep.Documents != 0 {
		t.Errorf("package after the purge: %d records, %d deleted, %d documents; want 4, 2, 0", rep.Records, rep.Deleted, rep.Documents)
	}
}

func archivePathQ(q url.Values) string { return ArchivePath + "?" + q.Encode() }

// TestArchiveBudget: a package past archive_max_bytes is refused with
// ResourceExhausted (429 over REST), and nothing that looks like a ZIP is
// returned.
func TestArchiveBudget(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *Config) { c.ArchiveMaxBytes = 64 << 10 })
	for i := range 3 {
		sealFor(t, e, "changan-approval", fmt.Sprintf("big-%d", i), "BIG-1")
	}
	if _, err := export(e, "admin", &sealv1.ExportArchiveRequest{TownshipCode: "450224100", CaseNo: "BIG-1"}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("export past the budget: %v, want ResourceExhausted", err)
	}
	r := e.rest(t, "GET", archivePathQ(url.Values{"township_code": {"450224100"}, "case_no": {"BIG-1"}}), "admin", nil)
	if r.code == http.StatusOK {
		t.Errorf("REST export past the budget: 200 with %d bytes", len(r.body))
	}
}

// blockingStream is an ExportArchive stream whose client does not read:
// Send blocks until release is closed.
type blockingStream struct {
	grpc.ServerStream
	ctx     context.Context
	sending chan struct{} // closed at the first Send
	once    sync.Once
	release chan struct{}
}

func (b *blockingStream) Context() context.Context { return b.ctx }

func (b *blockingStream) Send(*sealv1.ArchiveChunk) error {
	b.once.Do(func() { close(b.sending) })
	select {
	case <-b.release:
		return nil
	case <-b.ctx.Done():
		return b.ctx.Err()
	}
}

// TestArchiveConcurrency: with one export at a time, a second export
// waits while the first is being sent (to a client that does not read),
// until its deadline; once the first is done, the next one runs.
func TestArchiveConcurrency(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	for i := range 2 {
		sealFor(t, e, "changan-approval", fmt.Sprintf("cc-%d", i), "CC-1")
	}
	srv := &archiveServer{ledger: e.sealer.Ledger.(*seal.Ledger), st: e.st, docs: e.st.(archiveStore), ks: e.ks, source: "/eseal/county",
		budget: DefaultArchiveMaxBytes, slots: make(chan struct{}, 1)}
	ctx := context.WithValue(context.Background(), principalKey{}, &seal.Principal{ID: "admin", Role: seal.RoleAdmin})
	req := &sealv1.ExportArchiveRequest{TownshipCode: "450224100", CaseNo: "CC-1"}
	first := &blockingStream{ctx: ctx, sending: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- srv.ExportArchive(req, first) }()
	<-first.sending
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	second := &blockingStream{ctx: short, sending: make(chan struct{}), release: make(chan struct{})}
	close(second.release)
	if err := srv.ExportArchive(req, second); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("a second export while the first holds the only slot: %v, want DeadlineExceeded", err)
	}
	close(first.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	third := &blockingStream{ctx: ctx, sending: make(chan struct{}), release: make(chan struct{})}
	close(third.release)
	if err := srv.ExportArchive(req, third); err != nil {
		t.Fatalf("an export after the first finished: %v", err)
	}
}
