package api

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/ronganxian/eseal/archive"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/keystore/sealkeys"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/sqlstore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ArchivePath is where the HTTP listener serves archive packages as ZIP
// files (GET, the ExportArchive request's fields as query parameters):
// the ZIP streamed as it is built, rather than grpc-gateway's JSON chunks.
const ArchivePath = "/v1/archive.zip"

// archiveChunk is the most one ArchiveChunk carries.
const archiveChunk = 256 << 10

// DefaultArchiveMaxBytes is Config.ArchiveMaxBytes when it is not set.
const DefaultArchiveMaxBytes = archive.DefaultBudget

// DefaultArchiveConcurrency is Config.ArchiveConcurrency when it is not set.
const DefaultArchiveConcurrency = 2

// archiveStore is what the archive reads from the store beyond
// store.Store: sqlstore's retention.go.
type archiveStore interface {
	Document(ctx context.Context, seq uint64) (*seal.Record, []byte, error)
	ArchiveRecords(ctx context.Context, f sqlstore.ArchiveFilter, afterSeq uint64, limit int) ([]*seal.Record, error)
}

// archiveServer implements ArchiveService: a supervisor fetches the sealed
// documents of its domains, and anyone who may read records exports them
// as an archive package.
type archiveServer struct {
	sealv1.UnimplementedArchiveServiceServer
	ledger *seal.Ledger
	st     store.Store
	docs   archiveStore // nil: the store keeps no documents this way
	ks     *keystore.Keystore
	source string // the events' source attribute
	budget int64
	slots  chan struct{} // exports running
}

// mayRead reports whether who may read record r: the county office every
// record, a supervisor its domains', a clerk its township's.
func mayRead(who *seal.Principal, r *seal.Record) bool {
	switch who.Role {
	case seal.RoleAdmin:
		return true
	case seal.RoleSupervisor:
		return who.Supervises(r.Domain)
	case seal.RoleClerk:
		return who.Township == r.Township
	}
	return false
}

// GetDocument returns a sealing's document to whoever may read its record.
// A deleted document is told apart (FailedPrecondition) only to them.
func (s *archiveServer) GetDocument(ctx context.Context, req *sealv1.GetDocumentRequest) (*sealv1.SealedDocument, error) {
	if s.docs == nil {
		return nil, status.Error(codes.Unimplemented, "this store does not serve sealed documents by record")
	}
	who := PrincipalFrom(ctx)
	rec, doc, err := s.docs.Document(ctx, req.Seq)
	deleted := errors.Is(err, seal.ErrDocumentDeleted) && rec != nil
	if err != nil && !deleted {
		return nil, toStatus(err)
	}
	if who == nil || !mayRead(who, rec) {
		return nil, status.Errorf(codes.PermissionDenied, "%s may not read ledger record %d (township %s, domain %s)",
			principalID(who), req.Seq, rec.Township, rec.Domain)
	}
	if deleted {
		return nil, status.Errorf(codes.FailedPrecondition, "ledger record %d: %v; the record keeps the document's SM3 %x",
			req.Seq, seal.ErrDocumentDeleted, rec.OutputSM3)
	}
	return &sealv1.SealedDocument{Record: sealapi.Record(rec), Pdf: doc}, nil
}

func principalID(p *seal.Principal) string {
	if p == nil {
		return "an anonymous caller"
	}
	return p.ID
}

// ExportArchive builds the package and streams it as it is built.
func (s *archiveServer) ExportArchive(req *sealv1.ExportArchiveRequest, stream sealv1.ArchiveService_ExportArchiveServer) error {
	ctx := stream.Context()
	if s.docs == nil {
		return status.Error(codes.Unimplemented, "this store does not serve sealed documents by record")
	}
	who := PrincipalFrom(ctx)
	scoped, err := seal.Scope(who, seal.RecordFilter{Township: req.TownshipCode, Domains: req.Domains})
	if err != nil {
		return toStatus(err)
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
	f := archive.Filter{Township: scoped.Township, CaseNo: req.CaseNo, Domains: scoped.Domains}
	if req.From != nil {
		f.From = req.From.AsTime()
	}
	if req.To != nil {
		f.To = req.To.AsTime()
	}
	key, cert, err := sealkeys.NewCheckpoints(s.ks).CheckpointKey(ctx)
	if err != nil {
		return toStatus(err)
	}
	w := bufio.NewWriterSize(chunkSender{stream}, archiveChunk)
	_, err = archive.Build(ctx, w, archiveSource{s}, archive.Options{Filter: f, Source: s.source, By: who.ID,
		Role: string(who.Role), Key: key, Cert: cert, Budget: s.budget})
	if err == nil {
		err = w.Flush()
	}
	return archiveStatus(err)
}

// archiveStatus maps Build's errors to gRPC codes.
func archiveStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, archive.ErrTooLarge):
		return status.Errorf(codes.ResourceExhausted, "%v; export a shorter period or one case", err)
	case errors.Is(err, archive.ErrInvalidFilter):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, archive.ErrNoRecords):
		return status.Error(codes.NotFound, err.Error())
	}
	return toStatus(err)
}

// chunkSender sends what is written as ArchiveChunks.
type chunkSender struct {
	stream sealv1.ArchiveService_ExportArchiveServer
}

func (c chunkSender) Write(p []byte) (int, error) {
	for off := 0; off < len(p); off += archiveChunk {
		if err := c.stream.Send(&sealv1.ArchiveChunk{Data: p[off:min(len(p), off+archiveChunk)]}); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

// archiveSource is archive.Source over the service's ledger, store and
// keystore.
type archiveSource struct{ s *archiveServer }

func (a archiveSource) Head(ctx context.Context) (uint64, error) {
	r, err := a.s.st.Head(ctx)
	if err != nil {
		return 0, err
	}
	return r.Seq, nil
}

func (a archiveSource) Records(ctx context.Context, f archive.Filter, after uint64, limit int) ([]*seal.Record, error) {
	return a.s.docs.ArchiveRecords(ctx, sqlstore.ArchiveFilter{Township: f.Township, CaseNo: f.CaseNo, Domains: f.Domains,
		From: f.From, To: f.To}, after, limit)
}

func (a archiveSource) Document(ctx context.Context, seq uint64) ([]byte, error) {
	_, doc, err := a.s.docs.Document(ctx, seq)
	return doc, err
}

// Checkpoint returns the first checkpoint at or after seq. When there is
// none, the export signs one of the head: whoever may export may have one
// made, because a checkpoint says only how long the ledger is and what its
// head hash is, which every ledger reader may list (ListCheckpoints), and
// it costs one signature.
func (a archiveSource) Checkpoint(ctx context.Context, seq uint64) (*seal.Checkpoint, error) {
	cps, err := a.s.ledger.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cps {
		if c.Seq >= seq {
			return c, nil
		}
	}
	return a.s.ledger.Checkpoint(ctx)
}

func (a archiveSource) TrustBundle(ctx context.Context) ([]byte, error) {
	return a.s.ks.TrustBundle(ctx)
}

func (a archiveSource) CRL(ctx context.Context) ([]byte, error) {
	crl, err := a.s.ks.CRL(ctx)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return crl.DER, nil
}

// serveArchive serves GET ArchivePath: it calls ExportArchive through the
// in-memory connection, with the caller's credentials as the gateway
// passes them, so the same authentication and access rules hold, and
// streams the ZIP. Once the first bytes are sent, a failure can no longer
// change the status: the connection is cut, so the client holds a ZIP
// without its central directory, which no reader opens.
func (s *Server) serveArchive(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := &sealv1.ExportArchiveRequest{TownshipCode: q.Get("township_code"), CaseNo: q.Get("case_no"), Domains: q["domains"]}
	for name, dst := range map[string]**timestamppb.Timestamp{"from": &req.From, "to": &req.To} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeStatus(w, status.Errorf(codes.InvalidArgument, "%s: %v (RFC 3339, e.g. 2026-01-01T00:00:00+08:00)", name, err))
				return
			}
			*dst = timestamppb.New(t)
		}
	}
	ctx, cancel := context.WithCancel(callerContext(r))
	defer cancel()
	stream, err := sealv1.NewArchiveServiceClient(s.conn).ExportArchive(ctx, req)
	if err != nil {
		writeStatus(w, err)
		return
	}
	first, err := stream.Recv()
	if err != nil {
		writeStatus(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="archive.zip"`)
	if _, err := w.Write(first.Data); err != nil {
		return
	}
	for {
		c, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			s.log.Warn("archive export failed after it began; cutting the response", "err", err)
			panic(http.ErrAbortHandler)
		}
		if _, err := w.Write(c.Data); err != nil {
			return
		}
	}
}

// callerContext carries r's credentials to a call through the in-memory
// connection as the gateway passes them: the Authorization header, and a
// verified client certificate as its hash.
func callerContext(r *http.Request) context.Context {
	md := metadata.MD{}
	if a := r.Header.Get("Authorization"); a != "" {
		md.Set("authorization", a)
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		h := sm3.Sum(r.TLS.VerifiedChains[0][0].Raw)
		md.Set(gatewayCertHeader, hex.EncodeToString(h[:]))
	}
	return metadata.NewOutgoingContext(r.Context(), md)
}

// DocumentPathPattern is where the HTTP listener serves a sealing's
// document as the PDF itself (GET), for a supervising department's
// browser or script: GetDocument over REST answers JSON, with the PDF in
// base64.
const DocumentPathPattern = "/v1/ledger/records/{seq}/document.pdf"

// serveDocument serves GET DocumentPathPattern: it calls GetDocument
// through the in-memory connection with the caller's credentials, so the
// same access rules hold, and writes the PDF.
func (s *Server) serveDocument(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		writeStatus(w, status.Errorf(codes.InvalidArgument, "record %q: a ledger sequence number, from 1", r.PathValue("seq")))
		return
	}
	d, err := sealv1.NewArchiveServiceClient(s.conn).GetDocument(callerContext(r), &sealv1.GetDocumentRequest{Seq: seq})
	if err != nil {
		writeStatus(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%d.pdf"`, seq))
	w.Header().Set("X-Output-Sm3", hex.EncodeToString(d.Record.GetOutputSm3()))
	w.Write(d.Pdf)
}

// writeStatus writes a gRPC status as grpc-gateway would: the HTTP status
// of its code and the status as JSON.
func writeStatus(w http.ResponseWriter, err error) {
	st := status.Convert(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(runtime.HTTPStatusFromCode(st.Code()))
	json.NewEncoder(w).Encode(map[string]any{"code": int(st.Code()), "message": st.Message()})
}
