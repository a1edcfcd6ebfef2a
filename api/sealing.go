package api

import (
	"bytes"
	"context"
	"errors"
	"io"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/seal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// streamChunk is the size of the document chunks SealStream sends back.
const streamChunk = 1 << 20

// sealingServer implements SealingService over a seal.Sealer.
type sealingServer struct {
	sealv1.UnimplementedSealingServiceServer
	sealer *seal.Sealer
	maxDoc int64
	// maxUnary bounds a document sent in one message; larger ones stream.
	maxUnary int64
	m        *metrics
	// slots admits sealings first come, first served: a buffered channel
	// wakes blocked senders in order. Letting every request race for the
	// CPUs and the store's writer makes the slowest requests very slow;
	// queueing them keeps p99 close to the mean.
	slots chan struct{}
}

// input is the Sealer's input for req. A placement that cannot be read is
// refused by the Sealer, which records it like any other refusal.
func (s *sealingServer) input(ctx context.Context, req *sealv1.SealRequest, doc []byte) (seal.Input, error) {
	in := seal.Input{
		Request:   seal.Request{Township: req.TownshipCode, Item: req.ItemCode, CaseNo: req.CaseNo, DocKind: req.DocKind},
		RequestID: req.RequestId, Document: doc, Reason: req.Reason,
	}
	if req.AcceptedAt != nil {
		in.Accepted = req.AcceptedAt.AsTime()
	}
	placements, err := placementsFromProto(req.Placement)
	if err != nil {
		return in, toStatus(s.sealer.Refuse(ctx, PrincipalFrom(ctx), in, seal.Refuse(seal.RulePlacement, "%v", err)))
	}
	in.Placements = placements
	return in, nil
}

// itemLabeled lists the rules that refuse only after the policy found the
// item registered: only then is the item code a metric label, so that no
// caller can make labels of its own.
var itemLabeled = map[seal.Rule]bool{
	seal.RuleItemInactive: true, seal.RuleDispatchedItem: true, seal.RuleWrongWindow: true,
	seal.RuleItemNotImplemented: true, seal.RuleDocumentKind: true, seal.RuleNoSeal: true,
	seal.RuleSealSuspended: true, seal.RuleSealRevoked: true, seal.RuleCertificateInvalid: true,
	seal.RuleBadDocument: true,
}

// seal runs the Sealer, once a slot is free, and counts its decision.
func (s *sealingServer) seal(ctx context.Context, in seal.Input) (*seal.Output, error) {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	out, err := s.sealer.Seal(metered(ctx), PrincipalFrom(ctx), in)
	if st, ok := meterRefusal(err); ok {
		return nil, st // the service was busy: nothing was decided, nor recorded
	}
	township := "-" // the caller's own township, never one named in the request
	if p := PrincipalFrom(ctx); p != nil && p.Township != "" {
		township = p.Township
	}
	switch r, refused := seal.AsRefusal(err); {
	case err == nil:
		s.m.decisions.WithLabelValues(township, in.Item, string(seal.ResultSealed), "").Inc()
		s.m.ledgerSeq.Set(float64(out.Record.Seq))
	case refused:
		item := "-"
		if itemLabeled[r.Rule] {
			item = in.Item
		}
		s.m.decisions.WithLabelValues(township, item, string(seal.ResultRefused), string(r.Rule)).Inc()
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return out, nil
}

func (s *sealingServer) tooLarge(n int64) error {
	return status.Errorf(codes.ResourceExhausted, "document of %d bytes exceeds the limit of %d bytes", n, s.maxDoc)
}

// Seal implements SealingService.Seal.
func (s *sealingServer) Seal(ctx context.Context, req *sealv1.SealRequest) (*sealv1.SealResponse, error) {
	if n := int64(len(req.Document)); n > s.maxUnary {
		return nil, status.Errorf(codes.ResourceExhausted, "document of %d bytes exceeds the limit of %d bytes for one message; send it with SealStream", n, s.maxUnary)
	}
	if err := working(ctx, sealingCost(int64(len(req.Document))), 0, true); err != nil {
		return nil, err
	}
	in, err := s.input(ctx, req, req.Document)
	if err != nil {
		return nil, err
	}
	out, err := s.seal(ctx, in)
	if err != nil {
		return nil, err
	}
	return sealResponse(out), nil
}

// SealStream implements SealingService.SealStream.
func (s *sealingServer) SealStream(stream sealv1.SealingService_SealStreamServer) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return status.Error(codes.InvalidArgument, "no header")
	}
	req := first.GetHeader()
	if req == nil {
		return status.Error(codes.InvalidArgument, "the first message must be the header")
	}
	if len(req.Document) > 0 {
		return status.Error(codes.InvalidArgument, "the header carries no document; send it in chunks")
	}
	// The whole sealing's working room is taken before any chunk is read,
	// in order of arrival until the deadline, so that no stream holds part
	// of it while it waits for more (two streams half way through would
	// wait for each other). A stream that does not say its size reserves
	// the largest allowed. The receiving room taken when the stream opened
	// holds the next chunk.
	size := s.maxDoc
	if n := req.DocumentBytes; n > 0 {
		if n > s.maxDoc {
			return s.tooLarge(n)
		}
		size = n
	}
	if err := working(ctx, sealingCost(size), 0, false); err != nil {
		return err
	}
	var doc bytes.Buffer
	doc.Grow(int(min(size, 1<<20)))
	if req.DocumentBytes > 0 {
		doc.Grow(int(size)) // exactly, not by doubling
	}
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		chunk := m.GetChunk()
		if m.GetHeader() != nil {
			return status.Error(codes.InvalidArgument, "a second header")
		}
		if n := int64(doc.Len() + len(chunk)); n > size {
			// Refuse as soon as the limit is passed, not after reading it all.
			if req.DocumentBytes > 0 {
				return status.Errorf(codes.InvalidArgument, "the chunks carry more than the %d bytes the header declared", size)
			}
			return s.tooLarge(n)
		}
		doc.Write(chunk)
	}
	// All is read: give back what the document did not use, and the
	// receiving room.
	if err := working(ctx, sealingCost(int64(doc.Len())), 0, true); err != nil {
		return err
	}
	in, err := s.input(ctx, req, doc.Bytes())
	if err != nil {
		return err
	}
	out, err := s.seal(ctx, in)
	if err != nil {
		return err
	}
	at, missing := sealTimestamp(out.Record)
	if err := stream.Send(&sealv1.SealStreamResponse{Part: &sealv1.SealStreamResponse_Record{Record: sealapi.Record(out.Record)},
		Repaired: out.Record.Repaired(), TimestampedAt: at, TimestampMissing: missing, Placement: out.Placement}); err != nil {
		return err
	}
	for b := out.Document; len(b) > 0; {
		n := min(len(b), streamChunk)
		if err := stream.Send(&sealv1.SealStreamResponse{Part: &sealv1.SealStreamResponse_Chunk{Chunk: b[:n]}}); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// GetSealResult implements SealingService.GetSealResult; the Sealer
// decides who may have a result again.
func (s *sealingServer) GetSealResult(ctx context.Context, req *sealv1.GetSealResultRequest) (*sealv1.SealResponse, error) {
	out, err := s.sealer.Result(ctx, PrincipalFrom(ctx), req.RequestId, req.CaseNo)
	if err != nil {
		return nil, toStatus(err)
	}
	return sealResponse(out), nil
}
