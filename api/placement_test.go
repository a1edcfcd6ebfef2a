package api

import (
	"errors"
	"io"
	"testing"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
)

// TestSealPlacement: Seal and SealStream say where the seal went and why;
// GetSealResult, which returns a result again, leaves it to the document.
func TestSealPlacement(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	doc := readDecision(t)
	conn, clerk := e.caller("changan-approval")
	sealing := sealv1.NewSealingServiceClient(conn)
	const want = "centred on the 署名 and 成文日期 (青山镇人民政府(印章) / 2024年5月20日), shifted down 8 mm to clear the body text"

	resp, err := sealing.Seal(clerk, sealReq("p-1", "450224-XK-0002", "CA-P1", permit, doc))
	if err != nil || resp.Placement != want {
		t.Fatalf("Seal: %v, placement %q, want %q", err, resp.GetPlacement(), want)
	}
	got, err := sealing.GetSealResult(clerk, &sealv1.GetSealResultRequest{RequestId: "p-1", CaseNo: "CA-P1"})
	if err != nil || got.Placement != "" {
		t.Errorf("GetSealResult: %v, placement %q", err, got.GetPlacement())
	}

	st, err := sealing.SealStream(clerk)
	if err != nil {
		t.Fatal(err)
	}
	st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Header{Header: sealReq("p-2", "450224-XK-0002", "CA-P2", permit, nil)}})
	st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Chunk{Chunk: doc}})
	st.CloseSend()
	first, err := st.Recv()
	if err != nil || first.GetPlacement() != want {
		t.Fatalf("SealStream's first message: placement %q, %v", first.GetPlacement(), err)
	}
	for {
		if _, err := st.Recv(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
}
