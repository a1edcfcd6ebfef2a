package sealapi

import (
	"bytes"
	"testing"
	"time"

	"github.com/ronganxian/eseal/seal"
)

// TestRecordRoundTrip: a record that travelled through the API still
// carries a hash that holds, whether it was a sealing or a refusal (whose
// OutputSM3 is nil, which protobuf sends as empty).
func TestRecordRoundTrip(t *testing.T) {
	sealed := &seal.Record{Time: time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.UTC), RequestID: "r-1",
		Township: "450224100", SealID: "seal-1", CertSerial: "0a", Item: "450224-XK-0002", Domain: "农业农村",
		CaseNo: "长安-2026-0001", Principal: "clerk", Window: seal.WindowApproval, DocKind: "准予行政许可决定书",
		InputSM3: bytes.Repeat([]byte{1}, 32), OutputSM3: bytes.Repeat([]byte{2}, 32), Result: seal.ResultSealed}
	sealed.Link(nil)
	refused := &seal.Record{Time: sealed.Time.Add(time.Second), RequestID: "r-2", Township: "450224100",
		Item: "450224-XK-9999", CaseNo: "2", Principal: "clerk", InputSM3: bytes.Repeat([]byte{3}, 32),
		Result: seal.ResultRefused, Rule: seal.RuleUnknownItem, Detail: "item is not registered"}
	refused.Link(sealed)
	for _, r := range []*seal.Record{sealed, refused} {
		back := RecordFrom(Record(r))
		if !bytes.Equal(back.ComputeHash(), r.Hash) || !bytes.Equal(back.Hash, r.Hash) {
			t.Errorf("record %d: the hash does not hold after the round trip: %+v", r.Seq, back)
		}
	}
	v, err := seal.NewChainVerifier(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*seal.Record{sealed, refused} {
		if err := v.Add(RecordFrom(Record(r))); err != nil {
			t.Fatalf("the chain breaks after the round trip: %v", err)
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	c := &seal.Checkpoint{Seq: 7, Head: bytes.Repeat([]byte{9}, 32), Time: time.Date(2026, 12, 3, 10, 0, 0, 5000, time.UTC),
		Signature: []byte{1, 2, 3}, Cert: []byte{4, 5}}
	back := CheckpointFrom(Checkpoint(c))
	if !bytes.Equal(back.Message(), c.Message()) || !bytes.Equal(back.Signature, c.Signature) || !bytes.Equal(back.Cert, c.Cert) {
		t.Fatalf("checkpoint changed in the round trip: %+v", back)
	}
}
