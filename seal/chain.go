package seal

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

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
