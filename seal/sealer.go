package seal

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/seal/ses"
	"github.com/ronganxian/eseal/workday"
)

// ErrDuplicateRequest is what a SealerLedger returns, with the earlier
// record, when a request id was sealed before.
var ErrDuplicateRequest = errors.New("request id already sealed")

// ErrRequestConflict means a request id was used before for another case,
// township or principal: a client bug, not a retry.
var ErrRequestConflict = errors.New("request id was used for a different request")

// SealerLedger is what the Sealer needs of the ledger (store.Ledger).
type SealerLedger interface {
	// Append chains and durably stores r, with document when sealed; for a
	// request id sealed before it returns the earlier record and
	// ErrDuplicateRequest. A sealing whose seal was suspended or revoked
	// before it could commit is stored as a refusal (see Fenced), and
	// Append returns that record and the *Refusal.
	Append(ctx context.Context, r *Record, document []byte) (*Record, error)
	// Result returns the sealed record and document of a township's
	// request id, or ErrNotFound.
	Result(ctx context.Context, township, requestID string) (*Record, []byte, error)
}

// Sealer seals documents. Every sealing in the service goes through Seal,
// which asks the Policy first and records the decision in the ledger, so no
// path can use a seal without the rules or without a record.
type Sealer struct {
	Policy  *Policy
	Ledger  SealerLedger
	Profile cms.Profile
	// SES seals with a GB/T 38540 SES_Signature in place of the CMS
	// (ses.PDFSigner): the "ses" profile. It needs the seal's SESeal.
	SES bool
	Now func() time.Time // nil: time.Now
	// Limits bound the memory and work one document may cost to seal;
	// zero fields are pdf's defaults.
	Limits pdf.Limits
	// Zone is the zone the signing time (/M) is written in, the county's,
	// so that a reader of the raw PDF sees local time with its offset;
	// nil writes it as the clock gives it. The instant is the same.
	Zone *time.Location
	// Timestamping, when set, has every sealing timestamped (see
	// timestamp.go); nil seals without tokens.
	Timestamping *Timestamping
	// LTV, when set, adds long-term validation data to every sealed
	// document (ltv.go).
	LTV LTVSource
	// Calendar counts items' time limits in working days (timeliness.go),
	// for requests that give their acceptance time; nil notes them
	// unknown.
	Calendar *workday.Calendar
	// QR, when set, has the sealings of the items it names draw the
	// verification QR code beside the seal (verifyqr.go); nil draws none.
	QR *VerifyQR
}

// Input is one sealing request with its document.
type Input struct {
	Request
	// RequestID makes the request idempotent; required.
	RequestID string
	Document  []byte
	// Placements say where the seal goes; empty means pdf.Default.
	Placements []pdf.Placement
	// Reason is the signature's /Reason; empty means the item's name.
	Reason string
}

// Output is a sealed document and its ledger record.
type Output struct {
	Record   *Record
	Document []byte
	// Replayed is true when the request id was sealed before and this is
	// that earlier result.
	Replayed bool
	// Placement says where the seal went and why (pdf.Placed.Why), for
	// the clerk; empty for a replayed result, whose document shows it.
	Placement string
}

// Seal applies the rules to in, and if they allow it, seals the document
// and records it. A refusal is recorded too, and returned as a *Refusal.
// The sealed document is returned only once its record is durable.
func (s *Sealer) Seal(ctx context.Context, who *Principal, in Input) (*Output, error) {
	rec := newRecord(who, in)
	if !validText(in.RequestID, maxRequestIDLen) {
		return nil, s.refused(ctx, rec, in.Document,
			refuse(RuleBadRequest, "request id must be 1 to %d bytes of printable text", maxRequestIDLen))
	}
	if in.Reason != "" && !validText(in.Reason, maxReasonLen) {
		return nil, s.refused(ctx, rec, in.Document,
			refuse(RuleBadRequest, "reason must be at most %d bytes of printable text", maxReasonLen))
	}
	if out, err := s.replay(ctx, who, in); out != nil || err != nil {
		if r, ok := AsRefusal(err); ok {
			return nil, s.refused(ctx, rec, in.Document, r)
		}
		return out, err
	}
	d, err := s.Policy.Check(ctx, who, in.Request)
	if err != nil {
		return nil, s.refused(ctx, rec, in.Document, err)
	}
	rec.Township, rec.Window, rec.Domain = d.Township.Code, d.Item.Window, d.Item.Domain
	if r := s.checkAccepted(in.Accepted); r != nil {
		return nil, s.refused(ctx, rec, in.Document, r)
	}
	rec.DocKind = d.DocKind // the item's only kind, when the request named none
	key := d.Key
	rec.SealID = key.ID
	rec.CertSerial = hex.EncodeToString(key.Chain[0].SerialNumber.Bytes())
	signer, err := cms.NewSigner(key.Signer, key.Chain, s.Profile)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", key.ID, err)
	}
	reason := in.Reason
	if reason == "" {
		reason = d.Item.Name
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var buf bytes.Buffer
	buf.Grow(len(in.Document) + 64<<10)
	signedAt := now()
	var pdfSigner pdf.Signer = signer
	var stamping *stampingSigner
	if s.Timestamping != nil {
		stamping = &stampingSigner{Signer: signer, ctx: ctx, ts: s.Timestamping}
		pdfSigner = stamping
	}
	if s.SES {
		if pdfSigner, err = s.sesSigner(key, stamping); err != nil {
			return nil, err
		}
	}
	var qr *pdf.QRCode
	if s.QR.For(d.Item.Code) && key.Image != nil {
		sum := sm3.Sum(in.Document) // the record's InputSM3: the code finds the record by it
		if qr, err = s.QR.Symbol(sum[:]); err != nil {
			return nil, err
		}
	}
	res, err := pdf.Seal(ctx, &buf, bytes.NewReader(in.Document), int64(len(in.Document)), pdf.Request{
		Signer: pdfSigner, Time: s.inZone(signedAt), SealName: key.Name, Reason: reason, Location: d.Township.Government(),
		ItemCode: d.Item.Code, ItemName: d.Item.Name, CaseNumber: in.CaseNo,
		Image: key.Image, Placements: in.Placements, Limits: s.Limits,
		Repair: true, // a damaged unsigned document is repaired, and the record says so
		QR:     qr,
	})
	if err != nil {
		if r := documentRefusal(err); r != nil {
			return nil, s.refused(ctx, rec, in.Document, r)
		}
		if r := timestampRefusal(err); r != nil {
			return nil, s.refused(ctx, rec, in.Document, r)
		}
		if r := s.sealRefusal(ctx, d, key.ID); r != nil {
			// The signer refused because the seal changed under it (挂失
			// through this or another replica): a refusal by its rule.
			return nil, s.refused(ctx, rec, in.Document, r)
		}
		return nil, fmt.Errorf("sealing: %w", err)
	}
	// The record's time is never before the signing time the document
	// claims: a suspension's revocation time comes after the latest record
	// of its seal (keystore), and so after every signing time it let
	// through, whatever the replicas' clocks say.
	rec.Time, rec.Result = later(now(), signedAt), ResultSealed
	rec.InputSM3, rec.OutputSM3 = res.SourceDigest, res.OutputDigest
	sealed := buf.Bytes()
	if s.LTV != nil {
		if sealed, rec.OutputSM3, err = s.addLTV(ctx, sealed, key.Chain); err != nil {
			return nil, err
		}
	}
	rec.Detail = repairedDetail(res.Repaired)
	if stamping != nil {
		rec.Detail = joinNotes(stamping.note(), rec.Detail)
	}
	rec.Detail = joinNotes(s.timeliness(d.Item, in.Accepted, rec.Time), rec.Detail)
	stored, err := s.Ledger.Append(ctx, rec, sealed)
	if r, ok := AsRefusal(err); ok {
		// The fence: the seal was suspended or revoked before the record
		// could commit. The ledger holds the refusal; the signed document
		// is dropped here, never returned.
		return nil, r
	}
	if errors.Is(err, ErrDuplicateRequest) {
		// Another replica sealed the same request first: return its result
		// and let ours go, unrecorded and unreturned.
		return s.replay(ctx, who, in)
	}
	if err != nil {
		return nil, fmt.Errorf("recording the sealing: %w", err)
	}
	// A verification QR code left out says why where the seal went.
	return &Output{Record: stored, Document: sealed, Placement: joinNotes(placement(res.Seals), res.QRNote)}, nil
}

// sealRefusal reads the township's seal again after a sealing failed for a
// reason that is not the document's, and returns the refusal of its state
// now (suspended, revoked, …), or nil when the seal that was to sign is
// still usable and the failure is the service's. A seal rotated meanwhile
// is usable under its new key: that failure is the service's too, and a
// retry seals.
func (s *Sealer) sealRefusal(ctx context.Context, d *Decision, sealID string) *Refusal {
	k, err := s.Policy.Keys.Current(ctx, d.Township.Code)
	if err != nil || k.ID != sealID {
		return nil
	}
	now := time.Now()
	if s.Policy.Now != nil {
		now = s.Policy.Now()
	}
	return k.refusal(d.Township.Name, now)
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// Result returns again the sealed result of a request id. A principal gets
// only results it sealed itself, and only with the matching case number;
// to anyone else the request id does not exist (ErrNotFound), so that a
// stranger learns nothing about it.
func (s *Sealer) Result(ctx context.Context, who *Principal, requestID, caseNo string) (*Output, error) {
	none := fmt.Errorf("%w: no result for request %s and case %s", ErrNotFound, requestID, caseNo)
	if who == nil {
		return nil, none
	}
	rec, doc, err := s.Ledger.Result(ctx, who.Township, requestID)
	deleted := errors.Is(err, ErrDocumentDeleted) && rec != nil
	if errors.Is(err, ErrNotFound) {
		return nil, none // the same answer whether or not the id was used
	} else if err != nil && !deleted {
		return nil, err
	}
	if rec.Principal != who.ID || rec.CaseNo != caseNo {
		return nil, none
	}
	if deleted { // told only to whoever may have it
		return nil, fmt.Errorf("request %s (ledger record %d): %w", requestID, rec.Seq, ErrDocumentDeleted)
	}
	return &Output{Record: rec, Document: doc, Replayed: true}, nil
}

// replay returns the earlier result of in.RequestID in the caller's
// township, if there is one. Request ids are scoped to the township: one
// used in another township is another request, and nothing of it shows
// here. A request id that the caller used before for another case or item,
// or that a colleague used, is refused (RuleRequestConflict) without
// saying what it was used for.
func (s *Sealer) replay(ctx context.Context, who *Principal, in Input) (*Output, error) {
	if who == nil || who.Township == "" {
		return nil, nil // not a clerk: the policy refuses it
	}
	rec, doc, err := s.Ledger.Result(ctx, who.Township, in.RequestID)
	deleted := errors.Is(err, ErrDocumentDeleted) && rec != nil
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil && !deleted {
		return nil, fmt.Errorf("looking up request %s: %w", in.RequestID, err)
	}
	if rec.Principal != who.ID || rec.CaseNo != in.CaseNo || rec.Item != in.Item {
		return nil, refuse(RuleRequestConflict, "request id %s was already used for a different request; use a new request id", in.RequestID)
	}
	if deleted {
		return nil, fmt.Errorf("request %s was sealed (ledger record %d): %w", in.RequestID, rec.Seq, ErrDocumentDeleted)
	}
	return &Output{Record: rec, Document: doc, Replayed: true}, nil
}

// Refuse records a refusal that the transport decided before it could
// build the request (a placement it cannot read, say), as Seal records its
// own, and returns it.
func (s *Sealer) Refuse(ctx context.Context, who *Principal, in Input, r *Refusal) error {
	return s.refused(ctx, newRecord(who, in), in.Document, r)
}

// newRecord starts the record of a request: who asked, and what they asked
// for, each text bounded and checked (recordable), so that no request makes
// a record that grows with what the caller sent. The township is the
// caller's own: a request that names another township is recorded under
// the caller's, with the township it named in the refusal's message.
func newRecord(who *Principal, in Input) *Record {
	rec := &Record{
		RequestID: recordable(in.RequestID, maxRequestIDLen),
		CaseNo:    recordable(in.CaseNo, maxCaseNoLen),
		DocKind:   recordable(in.DocKind, maxDocKindLen),
		Item:      recordable(in.Item, maxCodeLen),
	}
	if who != nil {
		rec.Principal, rec.Township = who.ID, who.Township
		if len(who.Windows) > 0 {
			rec.Window = who.Windows[0]
		}
	}
	return rec
}

// refused records a refusal and returns it.
func (s *Sealer) refused(ctx context.Context, rec *Record, doc []byte, err error) error {
	r, ok := AsRefusal(err)
	if !ok {
		return err
	}
	sum := sm3.Sum(doc)
	rec.InputSM3 = sum[:]
	rec.Result, rec.Rule, rec.Detail = ResultRefused, r.Rule, clip(r.Message, maxDetailLen)
	if rec.Domain == "" && rec.Item != "" {
		// The item's supervising department must see the refusal, whichever
		// rule refused it (不得挪作他用): name the domain of a registered item.
		if it, err := s.Policy.Registry.Item(ctx, rec.Item); err == nil {
			rec.Domain = it.Domain
		}
	}
	rec.Time = time.Now()
	if s.Now != nil {
		rec.Time = s.Now()
	}
	if _, err := s.Ledger.Append(ctx, rec, nil); err != nil {
		// The refusal stands; failing to record it is the service's fault
		// and must not pass silently.
		return fmt.Errorf("recording refusal (%s): %w", r.Rule, err)
	}
	return r
}

// documentRefusal turns a PDF error that the caller can fix into a refusal;
// other errors (a signer that failed, say) are the service's and stay errors.
func documentRefusal(err error) *Refusal {
	for _, e := range []error{pdf.ErrNotPDF, pdf.ErrTruncated, pdf.ErrDamaged, pdf.ErrEncrypted, pdf.ErrCertifiedNoChanges,
		pdf.ErrCertifiedNoAnnotations, pdf.ErrTooLarge, pdf.ErrUnsupported} {
		if errors.Is(err, e) {
			return refuse(RuleBadDocument, "%v", err)
		}
	}
	for _, e := range []error{pdf.ErrPageOutOfRange, pdf.ErrKeywordNotFound, pdf.ErrSealOffPage, pdf.ErrBadRequest, pdf.ErrFieldExists} {
		if errors.Is(err, e) {
			return refuse(RulePlacement, "%v", err)
		}
	}
	return nil
}

// inZone is t in the Sealer's Zone, if it has one.
func (s *Sealer) inZone(t time.Time) time.Time {
	if s.Zone == nil {
		return t
	}
	return t.In(s.Zone)
}

// sesSigner is the "ses" profile's signer for key: an SES_Signature with
// the seal's SESeal, stamped like the CMS when stamping is set.
func (s *Sealer) sesSigner(key *Key, stamping *stampingSigner) (pdf.Signer, error) {
	if key.Image == nil || key.Image.SESeal() == nil {
		return nil, fmt.Errorf("seal %s: the ses profile needs the seal's SESeal, and it has none (import one: sealctl seals import)", key.ID)
	}
	ps := &ses.PDFSigner{Seal: key.Image.SESeal(), Key: key.Signer, Cert: key.Chain[0], PropertyInfo: "PDF"}
	if stamping != nil {
		ps.Stamp, ps.TokenReserve = stamping.stamp, cms.TimeStampTokenSize(stamping.reserve())
	}
	return ps, nil
}
