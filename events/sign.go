package events

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// eventDomain separates event signatures from checkpoints' and any other
// use of the ledger key, and this form of the message (v2 added signedat)
// from the one before.
const eventDomain = "eseal ledger event v2"

// Message is the byte string an event's signature covers: its identifying
// attributes, when it was signed, and the record's chain hash,
// length-prefixed. The chain hash covers every field of the record in data,
// so the signature covers them. An event signed in a tree (SignTree) is a
// leaf over its Message, and the signature covers the tree's root.
func (e *Event) Message() []byte { return e.encode(true) }

// sameContent reports whether e and o say the same thing of the same
// record: everything the signature covers but when each was signed, which
// differs between two deliveries of one event (at least once).
func (e *Event) sameContent(o *Event) bool { return bytes.Equal(e.encode(false), o.encode(false)) }

func (e *Event) encode(withSignedAt bool) []byte {
	fields := []string{eventDomain, e.ID, e.Source, e.Type, e.Subject, e.Subscription, e.PrevSeq}
	if withSignedAt {
		fields = append(fields, e.SignedAt.UTC().Format(time.RFC3339Nano))
	}
	var b []byte
	for _, s := range append(fields, e.ChainHash) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// Sign signs the event now with key, the ledger key whose certificate is
// cert: SignAt at the current time.
func (e *Event) Sign(key crypto.Signer, cert *smx509.Certificate) error {
	return e.SignAt(key, cert, time.Now())
}

// SignAt signs the event with key, the ledger key whose certificate is
// cert, saying it was signed at (kept to the millisecond, in UTC).
func (e *Event) SignAt(key crypto.Signer, cert *smx509.Certificate, at time.Time) error {
	e.SignedAt = at.UTC().Truncate(time.Millisecond)
	sig, err := key.Sign(rand.Reader, e.Message(), sm2.DefaultSM2SignerOpts)
	if err != nil {
		return fmt.Errorf("signing event %s: %w", e.ID, err)
	}
	e.Signature, e.SignerCert = b64(sig), b64(cert.Raw)
	return nil
}
