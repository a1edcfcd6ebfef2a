package events

import (
	"crypto"
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// eventDomain separates event signatures from checkpoints' and any other
// use of the ledger key.
const eventDomain = "eseal ledger event v1"

// Message is the byte string an event's signature covers: its identifying
// attributes and the record's chain hash, length-prefixed. The chain hash
// covers every field of the record in data, so the signature covers them.
func (e *Event) Message() []byte {
	var b []byte
	for _, s := range []string{eventDomain, e.ID, e.Source, e.Type, e.Subject, e.Subscription, e.PrevSeq, e.ChainHash} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// Sign signs the event with key, the ledger key whose certificate is cert.
func (e *Event) Sign(key crypto.Signer, cert *smx509.Certificate) error {
	sig, err := key.Sign(rand.Reader, e.Message(), sm2.DefaultSM2SignerOpts)
	if err != nil {
		return fmt.Errorf("signing event %s: %w", e.ID, err)
	}
	e.Signature, e.SignerCert = b64(sig), b64(cert.Raw)
	return nil
}
