package api

import (
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/seal"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// sealTimestamp is what a Seal response says of the seal's time-stamp
// token, from its record: when the TSA stamped it, or why there is no
// token (both empty when the service does not timestamp).
func sealTimestamp(r *seal.Record) (*timestamppb.Timestamp, string) {
	at, missing := r.Timestamp()
	if at.IsZero() {
		return nil, missing
	}
	return timestamppb.New(at), ""
}

// sealResponse is the response to Seal and GetSealResult.
func sealResponse(out *seal.Output) *sealv1.SealResponse {
	at, missing := sealTimestamp(out.Record)
	return &sealv1.SealResponse{Document: out.Document, Record: sealapi.Record(out.Record), Repaired: out.Record.Repaired(),
		TimestampedAt: at, TimestampMissing: missing, Placement: out.Placement}
}
