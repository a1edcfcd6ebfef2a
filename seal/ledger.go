package seal

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// Result is how a sealing request ended.
type Result string

const (
	ResultSealed  Result = "sealed"
	ResultRefused Result = "refused"
)

// Record is one entry of the ledger: one sealing or one refusal. Records
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
	Detail     string // the refusal's message
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

// Seal sets the record's chain fields after prev (nil for the first record):
// its sequence number, PrevHash and Hash. The time is truncated to the
// microsecond so that the hash survives a round trip through any store.
func (r *Record) Seal(prev *Record) {
	r.Time = r.Time.UTC().Truncate(time.Microsecond)
	if prev == nil {
		r.Seq, r.PrevHash = 1, GenesisHash
	} else {
		r.Seq, r.PrevHash = prev.Seq+1, prev.Hash
	}
	r.Hash = r.ComputeHash()
}

// Checkpoint is a signed statement of the ledger's head: the county key
// vouches that record Seq had hash Head at Time. An attacker who rewrites
// the database can rebuild a consistent chain, but not the signatures of
// the checkpoints before the rewrite.
type Checkpoint struct {
	Seq       uint64
	Head      []byte
	Time      time.Time
	Signature []byte // SM2 with the default user ID, over Message()
	Cert      []byte // DER certificate of the signing key
}

const checkpointDomain = "eseal ledger checkpoint v1"

// Message is the byte string a checkpoint signs.
func (c *Checkpoint) Message() []byte {
	m := []byte(checkpointDomain)
	m = binary.BigEndian.AppendUint64(m, c.Seq)
	m = append(m, c.Head...)
	return binary.BigEndian.AppendUint64(m, uint64(c.Time.UTC().Truncate(time.Microsecond).UnixMicro()))
}

// SignCheckpoint signs the head record with key, an SM2 signer whose
// certificate is cert.
func SignCheckpoint(head *Record, at time.Time, key crypto.Signer, cert *smx509.Certificate) (*Checkpoint, error) {
	c := &Checkpoint{Seq: head.Seq, Head: head.Hash, Time: at.UTC().Truncate(time.Microsecond), Cert: cert.Raw}
	sig, err := key.Sign(rand.Reader, c.Message(), sm2.DefaultSM2SignerOpts)
	if err != nil {
		return nil, fmt.Errorf("signing ledger checkpoint: %w", err)
	}
	c.Signature = sig
	return c, nil
}

// ChainBreak says where and why a ledger fails verification.
type ChainBreak struct {
	Seq    uint64
	Reason string
}

func (b *ChainBreak) Error() string {
	return fmt.Sprintf("ledger breaks at record %d: %s", b.Seq, b.Reason)
}

// ErrUntrustedCheckpoint means a checkpoint's signer does not chain to the
// trusted roots.
var ErrUntrustedCheckpoint = errors.New("ledger checkpoint signed by an untrusted key")

// ChainVerifier checks records fed to it in sequence order, and checkpoints
// against them. It keeps only the hashes at checkpointed sequence numbers,
// so it can check a ledger of any length as a stream.
type ChainVerifier struct {
	prev        *Record
	checkpoints map[uint64][]*Checkpoint // several may vouch for one record
	Checked     uint64                   // records checked so far
	Anchored    uint64                   // checkpoints matched so far
}

// CheckpointTrust says whose checkpoints a verifier believes: a key
// certified under Roots whose certificate IsLedgerKey accepts. Both are
// needed: every township seal chains to the same county root, and a seal
// key must not be able to vouch for the ledger.
type CheckpointTrust struct {
	Roots       *smx509.CertPool
	IsLedgerKey func(*smx509.Certificate) bool
}

// ErrNoCheckpointTrust means a verifier was given roots without saying
// which certificates under them may sign checkpoints.
var ErrNoCheckpointTrust = errors.New("ledger: checkpoint trust needs both roots and a ledger-key test")

// NewChainVerifier returns a verifier for the given checkpoints, whose
// signatures it checks now. With a nil trust it checks only that each
// signature verifies under its own certificate, which proves nothing about
// who signed: for tests and self-checks of a store's round trip.
func NewChainVerifier(checkpoints []*Checkpoint, trust *CheckpointTrust) (*ChainVerifier, error) {
	if trust != nil && (trust.Roots == nil || trust.IsLedgerKey == nil) {
		return nil, ErrNoCheckpointTrust
	}
	v := &ChainVerifier{checkpoints: map[uint64][]*Checkpoint{}}
	for _, c := range checkpoints {
		cert, err := smx509.ParseCertificate(c.Cert)
		if err != nil {
			return nil, &ChainBreak{c.Seq, "checkpoint certificate: " + err.Error()}
		}
		pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
		if !ok || !sm2.IsSM2PublicKey(pub) {
			return nil, &ChainBreak{c.Seq, "checkpoint key is not SM2"}
		}
		if !sm2.VerifyASN1WithSM2(pub, nil, c.Message(), c.Signature) {
			return nil, &ChainBreak{c.Seq, "checkpoint signature does not verify"}
		}
		if trust != nil {
			if !trust.IsLedgerKey(cert) {
				return nil, fmt.Errorf("%w: checkpoint %d: %q is not a ledger-signing certificate", ErrUntrustedCheckpoint, c.Seq, cert.Subject.CommonName)
			}
			if _, err := cert.Verify(smx509.VerifyOptions{Roots: trust.Roots, CurrentTime: c.Time,
				KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}}); err != nil {
				return nil, fmt.Errorf("%w: checkpoint %d: %v", ErrUntrustedCheckpoint, c.Seq, err)
			}
		}
		v.checkpoints[c.Seq] = append(v.checkpoints[c.Seq], c)
	}
	return v, nil
}

// Add checks the next record. It returns a *ChainBreak at the first record
// that is out of sequence, whose PrevHash is not its predecessor's hash,
// whose own hash does not hold, or that disagrees with a checkpoint.
func (v *ChainVerifier) Add(r *Record) error {
	want := uint64(1)
	prevHash := GenesisHash
	if v.prev != nil {
		want, prevHash = v.prev.Seq+1, v.prev.Hash
	}
	switch {
	case r.Seq != want:
		return &ChainBreak{want, fmt.Sprintf("expected record %d, found %d (a record is missing or duplicated)", want, r.Seq)}
	case !bytes.Equal(r.PrevHash, prevHash):
		return &ChainBreak{r.Seq, "previous-hash does not match the record before it"}
	case !bytes.Equal(r.Hash, r.ComputeHash()):
		return &ChainBreak{r.Seq, "record hash does not match its contents (the row was changed)"}
	}
	for _, c := range v.checkpoints[r.Seq] {
		if !bytes.Equal(c.Head, r.Hash) {
			return &ChainBreak{r.Seq, "record differs from the signed checkpoint " + hex.EncodeToString(c.Head[:min(8, len(c.Head))])}
		}
		v.Anchored++
	}
	v.prev = r
	v.Checked++
	return nil
}

// Finish reports checkpoints beyond the last record: the ledger was cut
// short after a checkpoint vouched for more.
func (v *ChainVerifier) Finish() error {
	var last uint64
	if v.prev != nil {
		last = v.prev.Seq
	}
	for seq := range v.checkpoints {
		if seq > last {
			return &ChainBreak{last + 1, fmt.Sprintf("a checkpoint vouches for record %d, but the ledger ends at %d (records were removed)", seq, last)}
		}
	}
	return nil
}
