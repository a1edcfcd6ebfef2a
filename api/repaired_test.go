package api

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
)

// TestSealRepaired: a damaged document without signatures is repaired,
// then sealed, and Seal, SealStream and GetSealResult each say what was
// repaired, as the record's detail does; a sound document's responses say
// nothing.
func TestSealRepaired(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	doc := readDecision(t)
	all := regexp.MustCompile(`startxref\s+\d+`).FindAllIndex(doc, -1)
	if len(all) == 0 {
		t.Fatal("no startxref")
	}
	last := all[len(all)-1]
	damaged := append(append(bytes.Clone(doc[:last[0]]), "startxref\n100"...), doc[last[1]:]...)
	conn, clerk := e.caller("changan-approval")
	sealing := sealv1.NewSealingServiceClient(conn)

	sound, err := sealing.Seal(clerk, sealReq("sound", "450224-XK-0002", "CA-R0", permit, doc))
	if err != nil || sound.Repaired != "" || sound.Record.Detail != "" {
		t.Fatalf("a sound document: %v, repaired %q, detail %q", err, sound.GetRepaired(), sound.GetRecord().GetDetail())
	}
	resp, err := sealing.Seal(clerk, sealReq("damaged", "450224-XK-0002", "CA-R1", permit, damaged))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.Repaired, "rebuilt the file") || resp.Record.Detail != "repaired: "+resp.Repaired {
		t.Errorf("Seal: repaired %q, detail %q", resp.Repaired, resp.Record.Detail)
	}
	verifySealed(t, resp.Document, "450224-XK-0002", "CA-R1")
	got, err := sealing.GetSealResult(clerk, &sealv1.GetSealResultRequest{RequestId: "damaged", CaseNo: "CA-R1"})
	if err != nil || got.Repaired != resp.Repaired {
		t.Errorf("GetSealResult: %v, repaired %q", err, got.GetRepaired())
	}

	st, err := sealing.SealStream(clerk)
	if err != nil {
		t.Fatal(err)
	}
	st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Header{Header: sealReq("stream", "450224-XK-0002", "CA-R2", permit, nil)}})
	st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Chunk{Chunk: damaged}})
	st.CloseSend()
	first, err := st.Recv()
	if err != nil || !strings.HasPrefix(first.GetRepaired(), "rebuilt the file") || first.GetRecord().GetDetail() != "repaired: "+first.GetRepaired() {
		t.Fatalf("SealStream's first message: %v, %v", first, err)
	}
	var sealed []byte
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, m.GetChunk()...)
	}
	verifySealed(t, sealed, "450224-XK-0002", "CA-R2")
}
