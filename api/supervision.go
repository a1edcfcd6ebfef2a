package api

import (
	"context"
	"errors"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/seal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// supervisionServer takes the supervising departments' results back
// (事中事后监管结果) and tells a case's story; the rules are
// seal.Supervision's.
type supervisionServer struct {
	sealv1.UnimplementedSupervisionServiceServer
	sup *seal.Supervision
}

// supervisionStatus maps the supervision's input errors to
// InvalidArgument, the rest as every server does.
func supervisionStatus(err error) error {
	if errors.Is(err, seal.ErrBadSupervision) {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return toStatus(err)
}

func (s *supervisionServer) RecordResult(ctx context.Context, req *sealv1.RecordResultRequest) (*sealv1.RecordResultResponse, error) {
	var attach []byte
	if len(req.AttachmentSm3) > 0 {
		attach = req.AttachmentSm3
	}
	rec, err := s.sup.Record(ctx, PrincipalFrom(ctx), seal.SupervisionInput{
		Township: req.TownshipCode, CaseNo: req.CaseNo, Kind: req.Kind, Outcome: req.Outcome, Date: req.Date,
		Note: req.Note, AttachmentSM3: attach, RequestID: req.RequestId,
	})
	if err != nil {
		return nil, supervisionStatus(err)
	}
	return &sealv1.RecordResultResponse{Record: sealapi.Record(rec), Result: supervisionResult(rec)}, nil
}

func (s *supervisionServer) GetCase(ctx context.Context, req *sealv1.GetCaseRequest) (*sealv1.Case, error) {
	recs, err := s.sup.Case(ctx, PrincipalFrom(ctx), req.TownshipCode, req.CaseNo)
	if err != nil {
		return nil, supervisionStatus(err)
	}
	out := &sealv1.Case{TownshipCode: req.TownshipCode, CaseNo: req.CaseNo, Truncated: len(recs) >= seal.MaxCaseRecords}
	for _, r := range recs {
		e := &sealv1.CaseEntry{Record: sealapi.Record(r)}
		switch r.Result {
		case seal.ResultSupervised:
			e.Supervision = supervisionResult(r)
		case seal.ResultSealed:
			if t, ok := seal.ParseTimeliness(r.Detail); ok {
				e.Timeliness = caseTimeliness(t)
			}
		}
		out.Entries = append(out.Entries, e)
	}
	return out, nil
}

// supervisionResult reads a supervision record's note; nil when it does
// not parse (a record the ledger holds but this program cannot read).
func supervisionResult(r *seal.Record) *sealv1.SupervisionResult {
	n, err := seal.ParseSupervisionNote(r.Detail)
	if err != nil {
		return nil
	}
	return &sealv1.SupervisionResult{Kind: string(n.Kind), KindZh: n.Kind.Chinese(), Outcome: string(n.Outcome),
		OutcomeZh: n.Outcome.Chinese(), Date: n.Date.String(), Note: n.Note, AttachmentSm3: r.InputSM3, Principal: r.Principal}
}

func caseTimeliness(t seal.Timeliness) *sealv1.CaseTimeliness {
	st, days := t.Status()
	out := &sealv1.CaseTimeliness{Status: st, Days: int32(days), DaysUsed: int32(t.Used), LimitDays: int32(t.LimitDays),
		Accepted: timestamppb.New(t.Accepted), UnknownReason: t.Unknown}
	if t.Unknown == "" {
		out.Deadline = t.Deadline.String()
	}
	return out
}
