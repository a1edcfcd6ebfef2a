package seal

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// Result is the kind of a ledger record: how a sealing request ended, or
// which other event the record is.
type Result string

const (
	ResultSealed  Result = "sealed"
	ResultRefused Result = "refused"
	// ResultSupervised is a supervising department's result against a
	// case (事中事后监管结果); its Detail is a SupervisionNote.
	ResultSupervised Result = "supervised"
	// ResultLifecycle is a change to a seal: its issue, suspension,
	// resumption, rotation or revocation; its Detail is a LifecycleNote.
	ResultLifecycle Result = "lifecycle"
)

// Record is one entry of the ledger: one sealing, one refusal, one
// supervision result or one seal lifecycle change. Records
// form a chain: each holds the SM3 hash of the one before it, and its own
// hash covers every field, so a change to any row, or a row removed or
// inserted, shows at the first record whose hash no longer holds.
type Record struct {
	Seq        uint64    // 1, 2, 3, ... without gaps
	Time       time.Time // kept to the microsecond, as PostgreSQL stores it
	RequestID  string    // the client's idempotency key
	Township   string
	SealID     string
	CertSerial string // hex
	Item       string
	Domain     string // the item's supervising domain, for routing to supervisors
	CaseNo     string
	Principal  string
	Window     Window
	DocKind    string
	InputSM3   []byte // of the document as received
	OutputSM3  []byte // of the sealed document; nil when refused
	Result     Result
	Rule       Rule   // the refusing rule; empty when sealed
	Detail     string // the refusal's message; for a sealing, empty or a note such as a repair (Repaired)
	PrevHash   []byte // Hash of record Seq-1; 32 zero bytes for Seq 1
	Hash       []byte // SM3 over the canonical encoding of every other field
}

// GenesisHash is the PrevHash of the first record.
var GenesisHash = make([]byte, sm3.Size)

// ledgerDomain separates record hashes from any other SM3 use.
const ledgerDomain = "eseal ledger record v1"

// ComputeHash returns the hash the record must carry: SM3 over a
// length-prefixed encoding of every field but Hash, in a fixed order.
func (r *Record) ComputeHash() []byte {
	var b bytes.Buffer
	field := func(p []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		b.Write(n[:])
		b.Write(p)
	}
	str := func(s string) { field([]byte(s)) }
	u64 := func(v uint64) { field(binary.BigEndian.AppendUint64(nil, v)) }
	str(ledgerDomain)
	u64(r.Seq)
	u64(uint64(r.Time.UnixMicro()))
	for _, s := range []string{r.RequestID, r.Township, r.SealID, r.CertSerial, r.Item, r.Domain,
		r.CaseNo, r.Principal, string(r.Window), r.DocKind} {
		str(s)
	}
	field(r.InputSM3)
	field(r.OutputSM3)
	for _, s := range []string{string(r.Result), string(r.Rule), r.Detail} {
		str(s)
	}
	field(r.PrevHash)
	sum := sm3.Sum(b.Bytes())
	return sum[:]
}

// Link links the record into the chain after prev (nil for the first
// record): it sets its sequence number, PrevHash and Hash. The time is
// truncated to the microsecond so that the hash survives a round trip
// through any store.
func (r *Record) Link(prev *Record) {
	r.Time = r.Time.UTC().Truncate(time.Microsecond)
	if prev == nil {
		r.Seq, r.PrevHash = 1, GenesisHash
	} else {
		r.Seq, r.PrevHash = prev.Seq+1, prev.Hash
	}
	r.Hash = r.ComputeHash()
}
