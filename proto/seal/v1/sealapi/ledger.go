package sealapi

import (
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Record is the message of a ledger record.
func Record(r *seal.Record) *sealv1.LedgerRecord {
	return &sealv1.LedgerRecord{
		Seq: r.Seq, Time: timestamppb.New(r.Time), RequestId: r.RequestID, TownshipCode: r.Township,
		SealId: r.SealID, CertSerial: r.CertSerial, ItemCode: r.Item, Domain: r.Domain, CaseNo: r.CaseNo,
		Principal: r.Principal, Window: string(r.Window), DocKind: r.DocKind, InputSm3: r.InputSM3,
		OutputSm3: r.OutputSM3, Result: string(r.Result), Rule: string(r.Rule), Detail: r.Detail,
		PrevHash: r.PrevHash, Hash: r.Hash,
	}
}

// RecordFrom is the inverse of Record, for clients that verify a ledger
// they fetched: the record's hash holds again after the round trip.
func RecordFrom(p *sealv1.LedgerRecord) *seal.Record {
	return &seal.Record{
		Seq: p.Seq, Time: p.Time.AsTime(), RequestID: p.RequestId, Township: p.TownshipCode, SealID: p.SealId,
		CertSerial: p.CertSerial, Item: p.ItemCode, Domain: p.Domain, CaseNo: p.CaseNo, Principal: p.Principal,
		Window: seal.Window(p.Window), DocKind: p.DocKind, InputSM3: nilIfEmpty(p.InputSm3),
		OutputSM3: nilIfEmpty(p.OutputSm3), Result: seal.Result(p.Result), Rule: seal.Rule(p.Rule),
		Detail: p.Detail, PrevHash: p.PrevHash, Hash: p.Hash,
	}
}

// nilIfEmpty undoes protobuf's loss of the difference between nil and
// empty bytes, which the record's hash does not make either.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// Checkpoint is the message of a signed ledger checkpoint.
func Checkpoint(c *seal.Checkpoint) *sealv1.Checkpoint {
	return &sealv1.Checkpoint{Seq: c.Seq, Head: c.Head, Time: timestamppb.New(c.Time), Signature: c.Signature, Certificate: c.Cert}
}

// CheckpointFrom is the inverse of Checkpoint.
func CheckpointFrom(p *sealv1.Checkpoint) *seal.Checkpoint {
	return &seal.Checkpoint{Seq: p.Seq, Head: p.Head, Time: p.Time.AsTime(), Signature: p.Signature, Cert: p.Certificate}
}
