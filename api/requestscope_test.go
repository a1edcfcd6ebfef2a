package api

import (
	"bytes"
	"strings"
	"testing"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestRequestIDsAreScopedToTheTownship: a request id is the caller's
// township's. Another township using the same id seals its own request,
// learns nothing of the first, and cannot fetch its result.
func TestRequestIDsAreScopedToTheTownship(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	doc := readDecision(t)
	sealing := sealv1.NewSealingServiceClient(e.conn)
	const item = "450224-XK-0002"
	first, err := sealing.Seal(e.as("changan-approval"), sealReq("shared-1", item, "长安-SECRET-CASE-42", permit, doc))
	if err != nil {
		t.Fatal(err)
	}
	second, err := sealing.Seal(e.as("fushi-approval"), sealReq("shared-1", item, "浮石-2026-0001", permit, doc))
	if err != nil {
		t.Fatalf("another township's request with the same id: %v", err)
	}
	if second.Record.Seq == first.Record.Seq || second.Record.TownshipCode != "450224101" || bytes.Equal(second.Document, first.Document) {
		t.Fatalf("the second township got the first's result: %+v", second.Record)
	}
	// Each township's retry returns its own result.
	again, err := sealing.Seal(e.as("fushi-approval"), sealReq("shared-1", item, "浮石-2026-0001", permit, doc))
	if err != nil || again.Record.Seq != second.Record.Seq {
		t.Fatalf("the retry: %+v, %v", again, err)
	}
	// Neither can fetch the other's result: the answer is the one a
	// request id never used gets.
	_, err = sealing.GetSealResult(e.as("fushi-approval"), &sealv1.GetSealResultRequest{RequestId: "shared-1", CaseNo: "长安-SECRET-CASE-42"})
	_, unknown := sealing.GetSealResult(e.as("fushi-approval"), &sealv1.GetSealResultRequest{RequestId: "never-1", CaseNo: "长安-SECRET-CASE-42"})
	if status.Code(err) != codes.NotFound ||
		strings.ReplaceAll(status.Convert(err).Message(), "shared-1", "never-1") != status.Convert(unknown).Message() {
		t.Fatalf("another township's result: %v; a request never made: %v", err, unknown)
	}
	got, err := sealing.GetSealResult(e.as("changan-approval"), &sealv1.GetSealResultRequest{RequestId: "shared-1", CaseNo: "长安-SECRET-CASE-42"})
	if err != nil || got.Record.Seq != first.Record.Seq {
		t.Fatalf("the township's own result: %+v, %v", got, err)
	}
}
