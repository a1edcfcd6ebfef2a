package events

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ronganxian/eseal/seal"
)

// SpecVersion is the CloudEvents version the events follow.
const SpecVersion = "1.0"

// ContentType is the HTTP Content-Type of a structured-mode event.
const ContentType = "application/cloudevents+json; charset=utf-8"

// Event types, by the record's kind, and for a seal's lifecycle by its
// action.
const (
	TypeSealed     = "cn.gov.gx.eseal.ledger.sealed.v1"
	TypeRefused    = "cn.gov.gx.eseal.ledger.refused.v1"
	TypeSupervised = "cn.gov.gx.eseal.ledger.supervised.v1"

	TypeSealIssued    = "cn.gov.gx.eseal.ledger.seal.issued.v1"
	TypeSealSuspended = "cn.gov.gx.eseal.ledger.seal.suspended.v1"
	TypeSealResumed   = "cn.gov.gx.eseal.ledger.seal.resumed.v1"
	TypeSealRotated   = "cn.gov.gx.eseal.ledger.seal.rotated.v1"
	TypeSealRevoked   = "cn.gov.gx.eseal.ledger.seal.revoked.v1"
)

// lifecycleTypes maps a lifecycle record's action to its event type.
var lifecycleTypes = map[seal.LifecycleAction]string{
	seal.ActionIssue: TypeSealIssued, seal.ActionSuspend: TypeSealSuspended, seal.ActionResume: TypeSealResumed,
	seal.ActionRotate: TypeSealRotated, seal.ActionRevoke: TypeSealRevoked,
}

// Event is one CloudEvent as it travels and as a receiver keeps it.
type Event struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject,omitempty"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	ChainHash       string    `json:"chainhash"`
	Subscription    string    `json:"subscription"`
	PrevSeq         string    `json:"prevseq"`
	SignedAt        time.Time `json:"signedat"`
	Signature       string    `json:"signature"`
	SignerCert      string    `json:"signercert"`
	// TreeIndex, TreeSize and TreePath are set when the event was signed
	// with others in one tree (SignTree): its leaf's place, the tree's
	// size, and the sibling hashes from the leaf up, SM3 in hex.
	TreeIndex string `json:"treeindex,omitempty"`
	TreeSize  string `json:"treesize,omitempty"`
	TreePath  string `json:"treepath,omitempty"`
	Data      Data   `json:"data"`
}

// Data is the ledger record an event carries: every field its hash covers,
// hashes in hex.
type Data struct {
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"`
	RequestID  string    `json:"requestId"`
	Township   string    `json:"township"`
	SealID     string    `json:"sealId"`
	CertSerial string    `json:"certSerial"`
	Item       string    `json:"item"`
	Domain     string    `json:"domain"`
	CaseNo     string    `json:"caseNo"`
	Principal  string    `json:"principal"`
	Window     string    `json:"window"`
	DocKind    string    `json:"docKind"`
	InputSM3   string    `json:"inputSm3"`
	OutputSM3  string    `json:"outputSm3,omitempty"`
	Result     string    `json:"result"`
	Rule       string    `json:"rule,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	PrevHash   string    `json:"prevHash"`
	Hash       string    `json:"hash"`
}

// TypeOf returns the event type of a record, or "" for a record of no
// known kind (or a lifecycle record whose note does not parse), which the
// Verifier refuses.
func TypeOf(r *seal.Record) string {
	switch r.Result {
	case seal.ResultSealed:
		return TypeSealed
	case seal.ResultRefused:
		return TypeRefused
	case seal.ResultSupervised:
		return TypeSupervised
	case seal.ResultLifecycle:
		if n, err := seal.ParseLifecycleNote(r.Detail); err == nil {
			return lifecycleTypes[n.Action]
		}
	}
	return ""
}

// New returns the unsigned event for record r, sent from source for the
// subscription sub, whose previous matching record is prevSeq (0: none).
func New(r *seal.Record, source, sub string, prevSeq uint64) *Event {
	subject := r.CaseNo
	if subject == "" {
		subject = r.RequestID
	}
	if subject == "" { // a seal's lifecycle
		subject = r.SealID
	}
	return &Event{
		SpecVersion: SpecVersion, ID: strconv.FormatUint(r.Seq, 10), Source: source, Type: TypeOf(r),
		Subject: subject, Time: r.Time.UTC(), DataContentType: "application/json",
		ChainHash: hex.EncodeToString(r.Hash), Subscription: sub, PrevSeq: strconv.FormatUint(prevSeq, 10),
		Data: Data{
			Seq: r.Seq, Time: r.Time.UTC(), RequestID: r.RequestID, Township: r.Township, SealID: r.SealID,
			CertSerial: r.CertSerial, Item: r.Item, Domain: r.Domain, CaseNo: r.CaseNo, Principal: r.Principal,
			Window: string(r.Window), DocKind: r.DocKind, InputSM3: hex.EncodeToString(r.InputSM3),
			OutputSM3: hex.EncodeToString(r.OutputSM3), Result: string(r.Result), Rule: string(r.Rule),
			Detail: r.Detail, PrevHash: hex.EncodeToString(r.PrevHash), Hash: hex.EncodeToString(r.Hash),
		},
	}
}

// Record rebuilds the ledger record from the event's data. It fails when a
// hash field is not hex.
func (d *Data) Record() (*seal.Record, error) {
	r := &seal.Record{Seq: d.Seq, Time: d.Time.UTC(), RequestID: d.RequestID, Township: d.Township, SealID: d.SealID,
		CertSerial: d.CertSerial, Item: d.Item, Domain: d.Domain, CaseNo: d.CaseNo, Principal: d.Principal,
		Window: seal.Window(d.Window), DocKind: d.DocKind, Result: seal.Result(d.Result), Rule: seal.Rule(d.Rule),
		Detail: d.Detail}
	var err error
	for _, f := range []struct {
		name string
		hex  string
		out  *[]byte
	}{{"inputSm3", d.InputSM3, &r.InputSM3}, {"outputSm3", d.OutputSM3, &r.OutputSM3},
		{"prevHash", d.PrevHash, &r.PrevHash}, {"hash", d.Hash, &r.Hash}} {
		if *f.out, err = hex.DecodeString(f.hex); err != nil {
			return nil, fmt.Errorf("%w: data.%s is not hex", ErrMalformed, f.name)
		}
		if len(*f.out) == 0 {
			*f.out = nil
		}
	}
	return r, nil
}

// Seq returns the event's id as the ledger sequence number.
func (e *Event) Seq() (uint64, error) {
	n, err := strconv.ParseUint(e.ID, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%w: id %q is not a ledger sequence number", ErrMalformed, e.ID)
	}
	return n, nil
}

// Prev returns prevseq as a number.
func (e *Event) Prev() (uint64, error) {
	n, err := strconv.ParseUint(e.PrevSeq, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: prevseq %q is not a number", ErrMalformed, e.PrevSeq)
	}
	return n, nil
}

// Marshal returns the event in the CloudEvents JSON format.
func (e *Event) Marshal() ([]byte, error) { return json.Marshal(e) }

// Parse reads one event in the CloudEvents JSON format.
func Parse(b []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if e.SpecVersion != SpecVersion {
		return nil, fmt.Errorf("%w: specversion %q, want %q", ErrMalformed, e.SpecVersion, SpecVersion)
	}
	return &e, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
