package api

import (
	"context"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/seal"
)

// ledgerServer implements LedgerService over seal.Ledger, which decides
// who reads what.
type ledgerServer struct {
	sealv1.UnimplementedLedgerServiceServer
	ledger *seal.Ledger
}

func recordFilter(f *sealv1.RecordFilter) seal.RecordFilter {
	if f == nil {
		return seal.RecordFilter{}
	}
	return seal.RecordFilter{Township: f.TownshipCode, Domains: f.Domains}
}

func (s *ledgerServer) ListRecords(ctx context.Context, req *sealv1.ListRecordsRequest) (*sealv1.ListRecordsResponse, error) {
	recs, next, err := s.ledger.Records(ctx, PrincipalFrom(ctx), recordFilter(req.Filter), req.AfterSeq, int(req.Limit))
	if err != nil {
		return nil, toStatus(err)
	}
	out := &sealv1.ListRecordsResponse{NextAfterSeq: next}
	for _, r := range recs {
		out.Records = append(out.Records, sealapi.Record(r))
	}
	return out, nil
}

func (s *ledgerServer) GetRecord(ctx context.Context, req *sealv1.GetRecordRequest) (*sealv1.LedgerRecord, error) {
	r, err := s.ledger.Record(ctx, PrincipalFrom(ctx), req.Seq)
	if err != nil {
		return nil, toStatus(err)
	}
	return sealapi.Record(r), nil
}

// WatchRecords sends the matching records after req.AfterSeq, then each new
// one as it is appended, until the client goes away.
func (s *ledgerServer) WatchRecords(req *sealv1.WatchRecordsRequest, stream sealv1.LedgerService_WatchRecordsServer) error {
	ctx := stream.Context()
	err := s.ledger.Watch(ctx, PrincipalFrom(ctx), recordFilter(req.Filter), req.AfterSeq,
		func(r *seal.Record) error { return stream.Send(sealapi.Record(r)) })
	return toStatus(err)
}

func (s *ledgerServer) ListCheckpoints(ctx context.Context, _ *sealv1.ListCheckpointsRequest) (*sealv1.ListCheckpointsResponse, error) {
	cps, err := s.ledger.Checkpoints(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &sealv1.ListCheckpointsResponse{}
	for _, c := range cps {
		out.Checkpoints = append(out.Checkpoints, sealapi.Checkpoint(c))
	}
	return out, nil
}

func (s *ledgerServer) CreateCheckpoint(ctx context.Context, _ *sealv1.CreateCheckpointRequest) (*sealv1.Checkpoint, error) {
	c, err := s.ledger.Checkpoint(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return sealapi.Checkpoint(c), nil
}

// VerifyLedger checks the whole chain and its checkpoints, which must be
// signed by keys that chain to the county root.
func (s *ledgerServer) VerifyLedger(ctx context.Context, _ *sealv1.VerifyLedgerRequest) (*sealv1.VerifyLedgerResponse, error) {
	rep, err := s.ledger.Verify(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &sealv1.VerifyLedgerResponse{Valid: rep.Valid, RecordsChecked: rep.RecordsChecked, CheckpointsMatched: rep.CheckpointsMatched}
	if rep.Break != nil {
		out.BreakSeq, out.BreakReason = rep.Break.Seq, rep.Break.Reason
	}
	return out, nil
}
