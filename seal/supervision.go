package seal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/workday"
)

// Supervision results (事中事后监管结果): a county department that supervises
// an item's domain records what it found about a case after (or while) the
// township decided it: an on-site inspection, a spot check, a
// rectification. The result is a ledger record (ResultSupervised), so it is
// chained, checkpointed and pushed as an event like a sealing, and the
// township sees it in the case's story (Supervision.Case).

// SupervisionKind is what the department did. The list is closed, so that
// reports can count by kind and a receiver can rely on the codes.
type SupervisionKind string

const (
	KindOnSite        SupervisionKind = "onsite"        // 现场核查
	KindSpotCheck     SupervisionKind = "spot_check"    // 抽查
	KindRectification SupervisionKind = "rectification" // 整改
	KindReview        SupervisionKind = "review"        // 复查
	KindComplaint     SupervisionKind = "complaint"     // 投诉核查
)

// SupervisionOutcome is what the department found. Closed, like the kinds.
type SupervisionOutcome string

const (
	OutcomePass       SupervisionOutcome = "pass"       // 合格
	OutcomeFail       SupervisionOutcome = "fail"       // 不合格
	OutcomeRectify    SupervisionOutcome = "rectify"    // 限期整改
	OutcomeRectified  SupervisionOutcome = "rectified"  // 已整改
	OutcomeNoFindings SupervisionOutcome = "no_finding" // 未发现问题
)

// names gives each code its Chinese and English names, in the order lists
// print them.
type names struct{ code, zh, en string }

var supervisionKinds = []names{
	{string(KindOnSite), "现场核查", "on-site inspection"},
	{string(KindSpotCheck), "抽查", "spot check"},
	{string(KindRectification), "整改", "rectification"},
	{string(KindReview), "复查", "follow-up review"},
	{string(KindComplaint), "投诉核查", "complaint investigation"},
}

var supervisionOutcomes = []names{
	{string(OutcomePass), "合格", "passed"},
	{string(OutcomeFail), "不合格", "failed"},
	{string(OutcomeRectify), "限期整改", "to be rectified by a deadline"},
	{string(OutcomeRectified), "已整改", "rectified"},
	{string(OutcomeNoFindings), "未发现问题", "no findings"},
}

func lookup(list []names, s string) (names, bool) {
	for _, n := range list {
		if s == n.code || s == n.zh {
			return n, true
		}
	}
	return names{}, false
}

// ParseSupervisionKind reads a kind by its code or its Chinese name.
func ParseSupervisionKind(s string) (SupervisionKind, error) {
	n, ok := lookup(supervisionKinds, s)
	if !ok {
		return "", fmt.Errorf("%w: kind %s is not one of %s", ErrBadSupervision, quoted(s, maxCodeLen), listNames(supervisionKinds))
	}
	return SupervisionKind(n.code), nil
}

// ParseSupervisionOutcome reads an outcome by its code or its Chinese name.
func ParseSupervisionOutcome(s string) (SupervisionOutcome, error) {
	n, ok := lookup(supervisionOutcomes, s)
	if !ok {
		return "", fmt.Errorf("%w: outcome %s is not one of %s", ErrBadSupervision, quoted(s, maxCodeLen), listNames(supervisionOutcomes))
	}
	return SupervisionOutcome(n.code), nil
}

func listNames(list []names) string {
	var b strings.Builder
	for i, n := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%s)", n.zh, n.code)
	}
	return b.String()
}

// Chinese returns the kind's Chinese name (the code if it is unknown).
func (k SupervisionKind) Chinese() string { return nameOf(supervisionKinds, string(k), true) }

// English returns the kind's English name.
func (k SupervisionKind) English() string { return nameOf(supervisionKinds, string(k), false) }

// Chinese returns the outcome's Chinese name (the code if it is unknown).
func (o SupervisionOutcome) Chinese() string { return nameOf(supervisionOutcomes, string(o), true) }

// English returns the outcome's English name.
func (o SupervisionOutcome) English() string { return nameOf(supervisionOutcomes, string(o), false) }

func nameOf(list []names, code string, zh bool) string {
	n, ok := lookup(list, code)
	switch {
	case !ok:
		return code
	case zh:
		return n.zh
	}
	return n.en
}

// MaxSupervisionNoteLen bounds a result's note, in bytes (some 330 Chinese
// characters). The note is a summary that travels in every event and
// every listing of the case; the full report is the attached document,
// which the ledger names by its SM3 and does not hold.
const MaxSupervisionNoteLen = 1000

// ErrBadSupervision: a supervision result's fields are missing or wrong.
var ErrBadSupervision = errors.New("bad supervision result")

// SupervisionNote is a result's content, as the record's Detail carries it.
type SupervisionNote struct {
	Kind    SupervisionKind
	Outcome SupervisionOutcome
	Date    workday.Date // the day of the check, in the county's zone
	Note    string       // may be empty
}

const supervisionPrefix = "监管结果"

// String is the note as the record's Detail carries it, parsed back by
// ParseSupervisionNote:
//
//	监管结果 kind=onsite outcome=rectify date=2026-12-03 note="消防通道堵塞，限十日内整改"
//
// The note is quoted (strconv.Quote), so that it may hold spaces and
// quotes and always ends the Detail.
func (n SupervisionNote) String() string {
	return fmt.Sprintf("%s kind=%s outcome=%s date=%s note=%s", supervisionPrefix, n.Kind, n.Outcome, n.Date,
		strconv.Quote(n.Note))
}

// ParseSupervisionNote reads a supervision record's Detail. It fails with
// ErrBadSupervision when the Detail is not a SupervisionNote with a known
// kind and outcome and a valid date.
func ParseSupervisionNote(detail string) (SupervisionNote, error) {
	var n SupervisionNote
	rest, ok := strings.CutPrefix(detail, supervisionPrefix+" ")
	if !ok {
		return n, fmt.Errorf("%w: the detail does not start with %q", ErrBadSupervision, supervisionPrefix)
	}
	f := map[string]string{}
	for _, m := range timelinessFields.FindAllStringSubmatch(rest, -1) {
		if _, dup := f[m[1]]; dup {
			return n, fmt.Errorf("%w: field %s twice", ErrBadSupervision, m[1])
		}
		f[m[1]] = m[2]
	}
	var err error
	if n.Kind, err = ParseSupervisionKind(f["kind"]); err != nil {
		return n, err
	}
	if n.Outcome, err = ParseSupervisionOutcome(f["outcome"]); err != nil {
		return n, err
	}
	if n.Date, err = workday.ParseDate(f["date"]); err != nil {
		return n, fmt.Errorf("%w: %v", ErrBadSupervision, err)
	}
	q, ok := f["note"]
	if !ok {
		return n, fmt.Errorf("%w: no note field", ErrBadSupervision)
	}
	if n.Note, err = strconv.Unquote(q); err != nil {
		return n, fmt.Errorf("%w: the note is not quoted", ErrBadSupervision)
	}
	if n.String() != detail {
		return n, fmt.Errorf("%w: the detail is not in the canonical form", ErrBadSupervision)
	}
	return n, nil
}

// SupervisionInput is one result a department records.
type SupervisionInput struct {
	Township string // the case's township: case numbers are per township
	CaseNo   string
	Kind     string // code or Chinese name
	Outcome  string // code or Chinese name
	Date     string // YYYY-MM-DD, the day of the check, not after today
	Note     string
	// AttachmentSM3 is the SM3 of an attached document (the inspection
	// report), 32 bytes, or nil. The document itself is not sent.
	AttachmentSM3 []byte
	// RequestID, when set, makes the call idempotent: the same department
	// recording the same request id for the same case gets the record it
	// made the first time.
	RequestID string
}

// CaseStore reads the records of one case (store/sqlstore/ledger_case.go).
type CaseStore interface {
	// CaseRecords returns up to limit records of case caseNo of township,
	// after afterSeq, in sequence order: sealings, refusals, supervision
	// results, whichever kind.
	CaseRecords(ctx context.Context, township, caseNo string, afterSeq uint64, limit int) ([]*Record, error)
}

// MaxCaseRecords bounds the story of one case that Case returns. A case
// has a few records; one with more was tried again and again (refusals),
// and the rest are in the ledger's listing.
const MaxCaseRecords = MaxPage

// Supervision records supervision results and tells a case's story.
type Supervision struct {
	Ledger *Ledger
	Cases  CaseStore
	Zone   *time.Location   // the county's, for "not after today"; nil is UTC
	Now    func() time.Time // nil: time.Now
}

func (s *Supervision) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Supervision) zone() *time.Location {
	if s.Zone != nil {
		return s.Zone
	}
	return time.UTC
}

// check validates in against today and returns its note.
func (s *Supervision) check(in *SupervisionInput) (SupervisionNote, error) {
	var n SupervisionNote
	if !isDivisionCode(in.Township) {
		return n, fmt.Errorf("%w: township %s is not a division code", ErrBadSupervision, quoted(in.Township, maxCodeLen))
	}
	if !validText(in.CaseNo, maxCaseNoLen) {
		return n, fmt.Errorf("%w: case number %s is empty, too long or not plain text", ErrBadSupervision, quoted(in.CaseNo, maxCaseNoLen))
	}
	if in.RequestID != "" && !validText(in.RequestID, maxRequestIDLen) {
		return n, fmt.Errorf("%w: request id is too long or not plain text", ErrBadSupervision)
	}
	var err error
	if n.Kind, err = ParseSupervisionKind(in.Kind); err != nil {
		return n, err
	}
	if n.Outcome, err = ParseSupervisionOutcome(in.Outcome); err != nil {
		return n, err
	}
	if n.Date, err = workday.ParseDate(in.Date); err != nil {
		return n, fmt.Errorf("%w: %v", ErrBadSupervision, err)
	}
	if today := workday.DateOf(s.now(), s.zone()); n.Date.After(today) {
		return n, fmt.Errorf("%w: the date of the check %s is after today (%s)", ErrBadSupervision, n.Date, today)
	}
	if in.Note != "" && !validText(in.Note, MaxSupervisionNoteLen) {
		return n, fmt.Errorf("%w: the note is longer than %d bytes or holds control or format characters",
			ErrBadSupervision, MaxSupervisionNoteLen)
	}
	n.Note = in.Note
	if in.AttachmentSM3 != nil && len(in.AttachmentSM3) != sm3.Size {
		return n, fmt.Errorf("%w: the attachment's SM3 is %d bytes, not %d", ErrBadSupervision, len(in.AttachmentSM3), sm3.Size)
	}
	return n, nil
}

// Record records a supervision result against a case. Only a supervisor
// may record, and only against a case that was sealed (a case that was
// only ever refused was never decided), in a domain it supervises. The
// record takes the township, item, domain and case number of the case's
// latest sealing in that domain, so that it reaches the same subscribers
// as the sealing did.
//
// Errors: ErrBadSupervision (the input), ErrPermission (not a supervisor,
// or not of the case's domain), ErrNotFound (no sealing of that case in
// that township), ErrRequestConflict (the request id was used for another
// result). A refused attempt is not a ledger record: see the README
// (监管结果) for why.
func (s *Supervision) Record(ctx context.Context, who *Principal, in SupervisionInput) (*Record, error) {
	if who == nil || who.Role != RoleSupervisor {
		return nil, fmt.Errorf("%w: only a supervising department records supervision results", ErrPermission)
	}
	note, err := s.check(&in)
	if err != nil {
		return nil, err
	}
	recs, err := s.caseRecords(ctx, in.Township, in.CaseNo)
	if err != nil {
		return nil, err
	}
	var sealing *Record
	sealed := false
	for _, r := range recs {
		if r.Result != ResultSealed {
			continue
		}
		sealed = true
		if who.Supervises(r.Domain) {
			sealing = r
		}
	}
	switch {
	case !sealed:
		return nil, fmt.Errorf("case %s of township %s: no sealing: %w", in.CaseNo, in.Township, ErrNotFound)
	case sealing == nil:
		return nil, fmt.Errorf("%w: supervisor %s does not supervise the domain of case %s", ErrPermission, who.ID, in.CaseNo)
	}
	rec := &Record{
		Time: s.now(), RequestID: in.RequestID, Township: sealing.Township, Item: sealing.Item, Domain: sealing.Domain,
		CaseNo: sealing.CaseNo, Principal: who.ID, InputSM3: in.AttachmentSM3, Result: ResultSupervised,
		Detail: note.String(),
	}
	out, err := s.Ledger.Append(ctx, rec, nil)
	if errors.Is(err, ErrDuplicateRequest) && out != nil {
		// The department used the request id for this case before (the
		// store checks under the ledger lock, so calls at once store one).
		if out.Detail == rec.Detail && out.Domain == rec.Domain && bytes.Equal(out.InputSM3, rec.InputSM3) {
			return out, nil // a retry of a call that was recorded
		}
		return nil, fmt.Errorf("%w: request id %s recorded another result for case %s", ErrRequestConflict, in.RequestID, in.CaseNo)
	}
	return out, err
}

// caseRecords reads the case's records, up to MaxCaseRecords.
func (s *Supervision) caseRecords(ctx context.Context, township, caseNo string) ([]*Record, error) {
	return s.Cases.CaseRecords(ctx, township, caseNo, 0, MaxCaseRecords)
}

// Case returns the story of a case: its records that who may read, in
// ledger order (up to MaxCaseRecords). A township's clerks read their
// township's cases, a supervisor the records of its domains, the county
// office all. A case with no record who may read is ErrNotFound, whether
// it exists or not; asking for another township's case as a clerk is
// ErrPermission.
func (s *Supervision) Case(ctx context.Context, who *Principal, township, caseNo string) ([]*Record, error) {
	if !isDivisionCode(township) {
		return nil, fmt.Errorf("%w: township %s is not a division code", ErrBadSupervision, quoted(township, maxCodeLen))
	}
	if !validText(caseNo, maxCaseNoLen) {
		return nil, fmt.Errorf("%w: case number %s is empty, too long or not plain text", ErrBadSupervision, quoted(caseNo, maxCaseNoLen))
	}
	f, err := Scope(who, RecordFilter{Township: township})
	if err != nil {
		return nil, err
	}
	recs, err := s.caseRecords(ctx, township, caseNo)
	if err != nil {
		return nil, err
	}
	out := recs[:0]
	for _, r := range recs {
		if f.Matches(r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("case %s of township %s: %w", caseNo, township, ErrNotFound)
	}
	return out, nil
}
