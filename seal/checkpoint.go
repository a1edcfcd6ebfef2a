package seal

import (
	"crypto"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

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

// LedgerKeyPolicyOID is the certificate policy that marks a
// ledger-signing certificate. The keystore issues ledger certificates with
// it (keystore.LedgerKeyPolicyOID is the same arc; keystore/sealkeys tests
// that the two agree), and a verifier believes checkpoints only from a
// certificate that carries it: every township seal chains to the same
// county root, and no seal may vouch for the ledger.
const LedgerKeyPolicyOID = "2.25.314570461040026313166235592539012247630"

var ledgerKeyPolicy = func() smx509.OID {
	oid, err := smx509.ParseOID(LedgerKeyPolicyOID)
	if err != nil {
		panic("seal: bad built-in OID " + LedgerKeyPolicyOID + ": " + err.Error())
	}
	return oid
}()

// IsLedgerCertificate reports whether cert is marked as a ledger-signing
// certificate: it carries LedgerKeyPolicyOID, allows digitalSignature and
// is not a CA. It does not check the chain; CheckpointTrust's roots do.
func IsLedgerCertificate(cert *smx509.Certificate) bool {
	if cert.IsCA || cert.KeyUsage&smx509.KeyUsageDigitalSignature == 0 {
		return false
	}
	for _, p := range cert.Policies {
		if p.Equal(ledgerKeyPolicy) {
			return true
		}
	}
	return false
}
