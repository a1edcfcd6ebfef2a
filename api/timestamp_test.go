package api

import (
	"context"
	"encoding/asn1"
	"errors"
	"io"
	"testing"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/tsa"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type unreachableTSA struct{}

func (unreachableTSA) Timestamp(context.Context, asn1.ObjectIdentifier, []byte) ([]byte, error) {
	return nil, errors.New("connection refused")
}

// TestSealTimestamped: with the county TSA (the keystore's TSA key), Seal,
// GetSealResult and SealStream say when the seal was stamped; with the TSA
// unreachable, refuse is Unavailable with the rule timestamp_unavailable,
// and seal_without says why there is no token.
func TestSealTimestamped(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	key := e.ks.TSAKey()
	auth, err := tsa.New(key, key, tsa.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.sealer.Timestamping = &seal.Timestamping{TSA: auth}
	doc := readDecision(t)
	conn, clerk := e.caller("changan-approval")
	sealing := sealv1.NewSealingServiceClient(conn)

	resp, err := sealing.Seal(clerk, sealReq("ts-1", "450224-XK-0002", "CA-T1", permit, doc))
	if err != nil {
		t.Fatal(err)
	}
	if resp.TimestampedAt == nil || resp.TimestampMissing != "" {
		t.Fatalf("Seal: timestamped_at %v, missing %q, detail %q", resp.TimestampedAt, resp.TimestampMissing, resp.Record.Detail)
	}
	verifySealed(t, resp.Document, "450224-XK-0002", "CA-T1")
	got, err := sealing.GetSealResult(clerk, &sealv1.GetSealResultRequest{RequestId: "ts-1", CaseNo: "CA-T1"})
	if err != nil || !got.TimestampedAt.AsTime().Equal(resp.TimestampedAt.AsTime()) {
		t.Errorf("GetSealResult: %v, timestamped_at %v", err, got.GetTimestampedAt())
	}
	st, err := sealing.SealStream(clerk)
	if err != nil {
		t.Fatal(err)
	}
	st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Header{Header: sealReq("ts-2", "450224-XK-0002", "CA-T2", permit, nil)}})
	st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Chunk{Chunk: doc}})
	st.CloseSend()
	first, err := st.Recv()
	if err != nil || first.GetTimestampedAt() == nil {
		t.Fatalf("SealStream's first message: %v, %v", first, err)
	}
	for {
		if _, err := st.Recv(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}

	e.sealer.Timestamping = &seal.Timestamping{TSA: unreachableTSA{}, Reserve: 8192}
	_, err = sealing.Seal(clerk, sealReq("ts-3", "450224-XK-0002", "CA-T3", permit, doc))
	if status.Code(err) != codes.Unavailable {
		t.Errorf("TSA down under refuse: %v, want Unavailable", err)
	}
	e.sealer.Timestamping.SealWithout = true
	resp, err = sealing.Seal(clerk, sealReq("ts-4", "450224-XK-0002", "CA-T4", permit, doc))
	if err != nil || resp.TimestampedAt != nil || resp.TimestampMissing != "connection refused" {
		t.Errorf("TSA down under seal_without: %v, timestamped_at %v, missing %q", err, resp.GetTimestampedAt(), resp.GetTimestampMissing())
	}
}
