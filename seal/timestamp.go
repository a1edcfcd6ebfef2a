package seal

import (
	"context"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/seal/cms"
)

// Every sealing is timestamped when the Sealer has a Timestamping: after
// the SM2 signature is made, a time-stamping authority (the county's, in
// process, or another by URL) gives a token over the signature value, and
// the token goes into the SignerInfo as id-aa-signatureTimeStampToken. The
// token proves that the seal existed at its time, which a key thief cannot
// backdate, so a revocation for key compromise leaves earlier documents
// valid (see package verify).
//
// The record's Detail says how it went, in a note before a repair's (see
// joinNotes): "timestamped: <genTime>" or "not timestamped: <why>". Detail is hashed into the record like every field, so the note
// is as tamper-evident as the rest, and the hash format is unchanged.

// Timestamper gives a time-stamp token over digest, made with hashAlg
// (*tsa.Authority in process, *tsa.Client over HTTP).
type Timestamper interface {
	Timestamp(ctx context.Context, hashAlg asn1.ObjectIdentifier, digest []byte) ([]byte, error)
}

// Timestamping configures the sealer's timestamps.
type Timestamping struct {
	TSA Timestamper
	// Reserve is the largest token expected, in bytes; the signature's
	// placeholder in the PDF grows by what it takes to hold one. A larger
	// token counts as a failure of the TSA. Zero asks a TSA that bounds its
	// own tokens (MaxTokenSize, as *tsa.Authority does).
	Reserve int
	// SHA256 asks for SHA-256 imprints instead of SM3, for an external TSA
	// that knows no SM3.
	SHA256 bool
	// SealWithout seals without a token when the TSA fails
	// (tsa_unreachable: seal_without); otherwise the sealing is refused
	// with RuleTimestampUnavailable (refuse).
	SealWithout bool
}

// RuleTimestampUnavailable refuses a sealing because no time-stamp token
// could be had and the configuration refuses to seal without one.
const RuleTimestampUnavailable Rule = "timestamp_unavailable"

// The notes of a sealing's Detail about its timestamp.
const (
	timestampedPrefix    = "timestamped: "
	notTimestampedPrefix = "not timestamped: "
)

var (
	oidSM3    = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

// errTimestamp marks the failure of the TSA, as the stamp callback returns
// it through pdf.Seal.
type errTimestamp struct{ err error }

func (e *errTimestamp) Error() string { return "time-stamping: " + e.err.Error() }
func (e *errTimestamp) Unwrap() error { return e.err }

// stampingSigner is the pdf.Signer of a timestamped sealing: the seal's
// cms.Signer, whose signature gets a token before it is written.
type stampingSigner struct {
	*cms.Signer
	ctx context.Context
	ts  *Timestamping

	genTime time.Time // of the token, when there is one
	failed  error     // why there is none
}

func (w *stampingSigner) Size(t time.Time) int {
	return w.Signer.Size(t) + cms.TimeStampTokenSize(w.reserve())
}

// defaultReserve is the reserve when neither the configuration nor the TSA
// names one (the TSA has no key yet, say): an RSA-4096 token with three
// certificates fits.
const defaultReserve = 8192

// reserve returns the largest token expected.
func (w *stampingSigner) reserve() int {
	if w.ts.Reserve > 0 {
		return w.ts.Reserve
	}
	if b, ok := w.ts.TSA.(interface {
		MaxTokenSize(context.Context) (int, error)
	}); ok {
		if n, err := b.MaxTokenSize(w.ctx); err == nil {
			return n
		}
	}
	return defaultReserve
}

func (w *stampingSigner) SignDigest(digest []byte, t time.Time) ([]byte, error) {
	return w.Signer.SignDigestWithTimeStamp(digest, t, w.stamp)
}

func (w *stampingSigner) stamp(sig []byte) ([]byte, error) {
	alg, sum := oidSM3, sm3.Sum(sig)
	if w.ts.SHA256 {
		alg, sum = oidSHA256, sha256.Sum256(sig)
	}
	token, err := w.ts.TSA.Timestamp(w.ctx, alg, sum[:])
	if max := w.reserve(); err == nil && len(token) > max {
		err = fmt.Errorf("the token is %d bytes, more than the %d reserved (tsa_token_reserve)", len(token), max)
	}
	if err == nil {
		// The TSA is ours in process, or a tsa.Client that verified the
		// token: read its time without checking it again.
		var info *cms.TSTInfo
		if info, err = cms.TokenTSTInfo(token); err == nil {
			w.genTime = info.GenTime
		}
	}
	if err != nil {
		w.failed = err
		if w.ts.SealWithout {
			return nil, nil
		}
		return nil, &errTimestamp{err}
	}
	return token, nil
}

// note is the Detail line of the sealing's timestamp.
func (w *stampingSigner) note() string {
	if w.failed != nil {
		return notTimestampedPrefix + w.failed.Error()
	}
	return timestampedPrefix + w.genTime.UTC().Format(time.RFC3339Nano)
}

// timestampRefusal turns a TSA failure under refuse into its refusal.
func timestampRefusal(err error) *Refusal {
	var e *errTimestamp
	if !errors.As(err, &e) {
		return nil
	}
	return refuse(RuleTimestampUnavailable, "no time-stamp token could be had (%v), and this service seals only with one (tsa_unreachable: refuse)", e.err)
}

// noteSep separates the notes of a sealing's Detail: the timestamp's
// first, then a repair's (a line break would show escaped in every
// terminal that prints a record).
const noteSep = "; "

// notePrefixes start the notes a sealing's Detail may hold.
var notePrefixes = []string{timestampedPrefix, notTimestampedPrefix, repairedPrefix}

// joinNotes joins a sealing's Detail notes, leaving out the empty ones.
func joinNotes(notes ...string) string {
	var kept []string
	for _, n := range notes {
		if n != "" {
			kept = append(kept, n)
		}
	}
	return clip(strings.Join(kept, noteSep), maxDetailLen)
}

// detailNote returns the text of the Detail note that starts with prefix:
// up to the next note, or the end.
func (r *Record) detailNote(prefix string) (string, bool) {
	d := r.Detail
	start := -1
	if strings.HasPrefix(d, prefix) {
		start = len(prefix)
	} else if i := strings.Index(d, noteSep+prefix); i >= 0 {
		start = i + len(noteSep) + len(prefix)
	}
	if start < 0 {
		return "", false
	}
	rest := d[start:]
	end := len(rest)
	for _, p := range notePrefixes {
		if i := strings.Index(rest, noteSep+p); i >= 0 && i < end {
			end = i
		}
	}
	return rest[:end], true
}

// Timestamp says what the record of a sealing says of its timestamp: the
// token's time when it has one, or why it has none. Both are empty for a
// refusal and for a sealing made without timestamps configured.
func (r *Record) Timestamp() (genTime time.Time, missing string) {
	if r.Result != ResultSealed {
		return time.Time{}, ""
	}
	if note, ok := r.detailNote(timestampedPrefix); ok {
		t, err := time.Parse(time.RFC3339Nano, note)
		if err == nil {
			return t, ""
		}
	}
	note, _ := r.detailNote(notTimestampedPrefix)
	return time.Time{}, note
}
