package events

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/seal"
)

// Errors of verification, for errors.Is.
var (
	// ErrMalformed: the event is not one of ours in form.
	ErrMalformed = errors.New("events: malformed event")
	// ErrForged: the event's record, hash or signature do not hold, or its
	// signer is not a ledger key under the trusted root.
	ErrForged = errors.New("events: event does not verify")
	// ErrGap: events are missing between two a receiver holds.
	ErrGap = errors.New("events: events are missing")
	// ErrConflict: two events with one id and subscription differ.
	ErrConflict = errors.New("events: two different events with one id")
)

// Verifier checks events against the county root.
type Verifier struct {
	roots *smx509.CertPool
	mu    sync.Mutex
	certs map[string]*signer      // signer certificates already checked, by base64
	trees map[[sm3.Size]byte]bool // tree signatures verified (seen)
}

// signer is a ledger certificate found under the roots, with the period in
// which its whole chain is valid.
type signer struct {
	pub                 *ecdsa.PublicKey
	notBefore, notAfter time.Time
}

// signingSkew is how far before its record an event may say it was
// signed: replicas' clocks differ a little, and a record is stamped by the
// replica that appended it, the event by the one that delivers it.
const signingSkew = 5 * time.Minute

// NewVerifier returns a verifier that believes ledger certificates (see
// seal.IsLedgerCertificate) issued under roots.
func NewVerifier(roots *smx509.CertPool) *Verifier {
	return &Verifier{roots: roots, certs: map[string]*signer{}, trees: map[[sm3.Size]byte]bool{}}
}

// Verify checks one event: its record hashes to its chain hash, its id,
// type and time are the record's, and its signature is by a ledger key
// under the root, whose certificate chain is valid when the event says it
// was signed (signedat), which is not before the record.
func (v *Verifier) Verify(e *Event) error {
	r, err := e.CheckedRecord()
	if err != nil {
		return err
	}
	if e.SignedAt.Before(r.Time.Add(-signingSkew)) {
		return fmt.Errorf("%w: event %d says it was signed at %s, before its record (%s)", ErrForged, r.Seq,
			e.SignedAt.Format(time.RFC3339), r.Time.Format(time.RFC3339))
	}
	pub, err := v.signer(e)
	if err != nil {
		return err
	}
	msg, err := e.signedMessage()
	if err != nil {
		return err
	}
	if v.seen(msg, e) {
		return nil
	}
	sig, err := base64.StdEncoding.DecodeString(e.Signature)
	if err != nil || !sm2.VerifyASN1WithSM2(pub, nil, msg, sig) {
		return fmt.Errorf("%w: event %d: the signature does not verify", ErrForged, r.Seq)
	}
	v.remember(msg, e)
	return nil
}

// seen reports whether the signature over msg by e's signer was verified
// already: the events of one tree share their signature, and each would
// otherwise verify it again. Only tree signatures are kept (a single
// event's is never seen twice but as a duplicate), at most maxSeen of them.
func (v *Verifier) seen(msg []byte, e *Event) bool {
	if e.TreeSize == "" {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.trees[treeKey(msg, e)]
}

func (v *Verifier) remember(msg []byte, e *Event) {
	if e.TreeSize == "" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.trees) >= maxSeen {
		clear(v.trees)
	}
	v.trees[treeKey(msg, e)] = true
}

// treeKey names a tree signature: its message, signature and signer.
func treeKey(msg []byte, e *Event) [sm3.Size]byte {
	h := sm3.New()
	for _, b := range [][]byte{msg, []byte(e.Signature), []byte(e.SignerCert)} {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
		h.Write(b)
	}
	return [sm3.Size]byte(h.Sum(nil))
}

// maxSeen bounds the tree signatures a Verifier keeps as verified.
const maxSeen = 256

// CheckedRecord returns the record the event carries once it is known to
// be carried faithfully: the event's id, type and time are the record's,
// the record hashes to its hash and that hash is the chainhash, the record
// is of a kind events exist for, and the event says when it was signed.
// The signature is not checked: Verify does that, and so do verifiers
// that know the signer otherwise (an archive package's manifest).
func (e *Event) CheckedRecord() (*seal.Record, error) {
	seq, err := e.Seq()
	if err != nil {
		return nil, err
	}
	if _, err := e.Prev(); err != nil {
		return nil, err
	}
	r, err := e.Data.Record()
	if err != nil {
		return nil, err
	}
	switch {
	case r.Seq != seq:
		return nil, fmt.Errorf("%w: event %d carries record %d", ErrForged, seq, r.Seq)
	case !bytes.Equal(r.ComputeHash(), r.Hash):
		return nil, fmt.Errorf("%w: event %d: the record does not hash to its hash (it was changed)", ErrForged, seq)
	case hex.EncodeToString(r.Hash) != e.ChainHash:
		return nil, fmt.Errorf("%w: event %d: chainhash is not the record's hash", ErrForged, seq)
	case TypeOf(r) == "":
		return nil, fmt.Errorf("%w: event %d: a record of unknown kind %q", ErrForged, seq, r.Result)
	case e.Type != TypeOf(r):
		return nil, fmt.Errorf("%w: event %d: type %q for a %s record", ErrForged, seq, e.Type, r.Result)
	case !e.Time.Equal(r.Time):
		return nil, fmt.Errorf("%w: event %d: time is not the record's", ErrForged, seq)
	case e.SignedAt.IsZero():
		return nil, fmt.Errorf("%w: event %d has no signedat", ErrMalformed, seq)
	}
	return r, nil
}

// signer returns the public key of the event's certificate once it is
// known to be a ledger certificate under the roots, valid (with its whole
// chain) at the event's signedat. A certificate's chain is built once;
// each event's time is checked against the chain's period.
func (v *Verifier) signer(e *Event) (*ecdsa.PublicKey, error) {
	v.mu.Lock()
	known, ok := v.certs[e.SignerCert]
	v.mu.Unlock()
	if !ok {
		var err error
		if known, err = v.checkSigner(e); err != nil {
			return nil, err
		}
		v.mu.Lock()
		v.certs[e.SignerCert] = known
		v.mu.Unlock()
	}
	if e.SignedAt.Before(known.notBefore) || e.SignedAt.After(known.notAfter) {
		return nil, fmt.Errorf("%w: event %s: signed at %s, outside its certificate chain's validity (%s to %s)", ErrForged, e.ID,
			e.SignedAt.Format(time.RFC3339), known.notBefore.Format(time.RFC3339), known.notAfter.Format(time.RFC3339))
	}
	return known.pub, nil
}

// checkSigner parses the event's certificate and finds its chain to the
// roots at the event's signedat.
func (v *Verifier) checkSigner(e *Event) (*signer, error) {
	der, err := base64.StdEncoding.DecodeString(e.SignerCert)
	if err != nil {
		return nil, fmt.Errorf("%w: event %s: signercert is not base64", ErrMalformed, e.ID)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: event %s: signercert: %v", ErrMalformed, e.ID, err)
	}
	if !seal.IsLedgerCertificate(cert) {
		return nil, fmt.Errorf("%w: event %s: %q is not a ledger-signing certificate", ErrForged, e.ID, cert.Subject.CommonName)
	}
	chains, err := cert.Verify(smx509.VerifyOptions{Roots: v.roots, CurrentTime: e.SignedAt,
		KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}})
	if err != nil {
		return nil, fmt.Errorf("%w: event %s: signer not under the county root at %s: %v", ErrForged, e.ID,
			e.SignedAt.Format(time.RFC3339), err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(pub) {
		return nil, fmt.Errorf("%w: event %s: signer key is not SM2", ErrForged, e.ID)
	}
	s := &signer{pub: pub, notBefore: cert.NotBefore, notAfter: cert.NotAfter}
	for _, c := range chains[0] {
		if c.NotBefore.After(s.notBefore) {
			s.notBefore = c.NotBefore
		}
		if c.NotAfter.Before(s.notAfter) {
			s.notAfter = c.NotAfter
		}
	}
	return s, nil
}

// StreamReport sums up a file of events.
type StreamReport struct {
	Events        int            // lines read
	Distinct      int            // distinct events (by subscription and id)
	Duplicates    int            // repeated deliveries of an event, the same but for signedat, signature and tree proof
	Subscriptions map[string]int // distinct events per subscription
	// Reordered counts events that arrived after a later one of their
	// subscription; ordered delivery keeps it zero (a duplicate of an
	// event already held does not count).
	Reordered int
}

// VerifyStream reads events, one JSON document a line (JSONL), as a
// receiver stored them, and checks each (Verify) and the streams they
// form: per subscription, sorted by id, each event's prevseq must be the
// id of the one before it, and an event that follows its predecessor
// directly in the ledger must carry its chain hash as prevHash. The first
// event of a subscription in the file is the start: what came before it
// is not asked for. It stops at the first failure.
func (v *Verifier) VerifyStream(r io.Reader) (*StreamReport, error) {
	rep := &StreamReport{Subscriptions: map[string]int{}}
	subs := map[string]map[uint64]*Event{}
	last := map[string]uint64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		rep.Events++
		e, err := Parse(line)
		if err != nil {
			return rep, fmt.Errorf("line %d: %w", n, err)
		}
		if err := v.Verify(e); err != nil {
			return rep, fmt.Errorf("line %d: %w", n, err)
		}
		seq, _ := e.Seq()
		m := subs[e.Subscription]
		if m == nil {
			m = map[uint64]*Event{}
			subs[e.Subscription] = m
		}
		if h, dup := m[seq]; dup {
			if !h.sameContent(e) { // signed again on redelivery: only signedat and the signature differ
				return rep, fmt.Errorf("line %d: %w: event %d of subscription %s", n, ErrConflict, seq, e.Subscription)
			}
			rep.Duplicates++
			continue
		}
		if seq < last[e.Subscription] {
			rep.Reordered++
		}
		last[e.Subscription] = max(last[e.Subscription], seq)
		m[seq] = e
	}
	if err := sc.Err(); err != nil {
		return rep, fmt.Errorf("reading events: %w", err)
	}
	for sub, m := range subs {
		rep.Subscriptions[sub] = len(m)
		rep.Distinct += len(m)
		if err := linked(sub, m); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// linked checks that a subscription's events, by sequence, each name the
// one before as prevseq, and chain by hash where they are adjacent.
func linked(sub string, m map[uint64]*Event) error {
	seqs := slices.Sorted(maps.Keys(m))
	for i := 1; i < len(seqs); i++ {
		prev, cur := m[seqs[i-1]], m[seqs[i]]
		p, _ := cur.Prev()
		if p != seqs[i-1] {
			if p > seqs[i-1] {
				return fmt.Errorf("%w: subscription %s: between events %d and %d, event %d (and any before it) was not received",
					ErrGap, sub, seqs[i-1], seqs[i], p)
			}
			return fmt.Errorf("%w: subscription %s: event %d names %d as the one before it, but %d was received",
				ErrForged, sub, seqs[i], p, seqs[i-1])
		}
		if seqs[i] == seqs[i-1]+1 && cur.Data.PrevHash != prev.ChainHash {
			return fmt.Errorf("%w: subscription %s: event %d does not chain to event %d", ErrForged, sub, seqs[i], seqs[i-1])
		}
	}
	return nil
}
