// Package archive builds and verifies archive packages (档案资料资源共享):
// one ZIP file holding a case's, or a township's and a period's, sealed
// documents with their ledger records, the checkpoint that covers them,
// the CRL and trust bundle to verify them offline, and a manifest signed
// by the county's ledger key. The service builds them (ExportArchive,
// GET /v1/archive.zip); anyone checks them with `sealctl archive verify`
// and the county root alone.
//
// What it touches: Build writes only to the io.Writer it is given and
// reads only through its Source; Verify reads only the io.ReaderAt it is
// given. Neither opens files, the network or a database; the CLI and the
// service do that.
//
// # Layout
//
//	manifest.json          the Manifest: filter, time, exporter, every other file's size and SM3
//	manifest.sig           SM2 signature (DER, default user id) by the ledger key over ManifestMessage
//	manifest.crt           the ledger key's certificate (DER)
//	records.jsonl          each record as a signed event (package events), in sequence order
//	documents/<seq>.pdf    the sealed PDF of each sealing record, unless deleted under retention
//	checkpoints.json       the checkpoint that covers the records
//	crl/county.crl         the county CA's latest CRL (DER), when one is published
//	trust/bundle.pem       the county trust bundle (intermediates only: roots in it are ignored)
//
// # What it proves
//
// Each record is an event signed by the ledger key (events.Message), whose
// subscription attribute is the archive's filter (Filter.String) and whose
// prevseq is the previous record that matches the filter (0 for the
// first). The events are signed when the package is made, by the ledger
// key that signs the manifest, whose certificate is checked at that time
// (not at each record's, as a receiver checks events pushed as they
// happen: the ledger certificate of today may be younger than a record).
// With the county root alone, a verifier knows each record is the
// county's, untouched (its hash), that it matches the filter, and that no
// record matching the filter is missing between the first and the last in
// the package, or before the first. That the last is the last matching
// record at the time of export is said by the signed manifest (its record
// count and the ledger head it names), not by the events.
//
// The checkpoint is the first signed checkpoint at or after the newest
// record. It proves that the ledger had reached its sequence number and
// head hash at its time, signed by the ledger key. It does not prove, from
// the package alone, that the records are in that chain: that needs every
// record between each of them and the checkpoint, most of them other
// townships' and domains', which the package does not carry. Where two
// records in the package are adjacent in the ledger, their prevHash link is
// checked; where the newest record is the checkpoint's, its hash must be
// the checkpoint's head. The county office, holding the whole ledger,
// proves the rest (`sealctl ledger verify`).
//
// Each document's SM3 must be its record's OutputSM3, and the PDF must
// verify (package verify) against the county root and the package's CRL at
// the record's time.
package archive

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ronganxian/eseal/seal"
)

// Names of the package's files.
const (
	ManifestName    = "manifest.json"
	SignatureName   = "manifest.sig"
	CertName        = "manifest.crt"
	RecordsName     = "records.jsonl"
	CheckpointsName = "checkpoints.json"
	CRLName         = "crl/county.crl"
	TrustName       = "trust/bundle.pem"
	documentsDir    = "documents/"
)

// DocumentName is the name of record seq's sealed PDF in the package.
func DocumentName(seq uint64) string { return fmt.Sprintf("%s%d.pdf", documentsDir, seq) }

// Format names the package format in the manifest.
const Format = "eseal-archive/1"

// Errors, for errors.Is.
var (
	// ErrTooLarge: the package would exceed its size budget.
	ErrTooLarge = errors.New("archive: the package exceeds its size budget")
	// ErrInvalidFilter: the filter selects no township, or its period is
	// empty or open.
	ErrInvalidFilter = errors.New("archive: invalid filter")
	// ErrInvalid: the package does not verify (see Report for each file).
	ErrInvalid = errors.New("archive: the package does not verify")
	// ErrNoRecords: the filter matches no record.
	ErrNoRecords = errors.New("archive: no ledger record matches the filter")
)

// Filter selects the records of a package: a township's, and either one
// of its cases or the records made in [From, To). Domains, when set (a
// supervisor's export), narrows it to the records of those domains.
type Filter struct {
	Township string    `json:"township"`
	CaseNo   string    `json:"caseNo,omitempty"`
	Domains  []string  `json:"domains,omitempty"`
	From     time.Time `json:"from,omitzero"`
	To       time.Time `json:"to,omitzero"`
}

// Check reports whether the filter is one a package may be built for.
func (f Filter) Check() error {
	switch {
	case f.Township == "":
		return fmt.Errorf("%w: a township is required", ErrInvalidFilter)
	case f.CaseNo == "" && (f.From.IsZero() || f.To.IsZero()):
		return fmt.Errorf("%w: a case number, or a period (from and to), is required", ErrInvalidFilter)
	case !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To):
		return fmt.Errorf("%w: the period ends (%s) before it starts (%s)", ErrInvalidFilter,
			f.To.UTC().Format(time.RFC3339), f.From.UTC().Format(time.RFC3339))
	}
	for _, s := range append([]string{f.Township, f.CaseNo}, f.Domains...) {
		if strings.ContainsAny(s, " =,\n\r\t") {
			return fmt.Errorf("%w: %q contains a space, '=' or ','", ErrInvalidFilter, s)
		}
	}
	return nil
}

// Matches reports whether record r passes the filter.
func (f Filter) Matches(r *seal.Record) bool {
	return r.Township == f.Township && (f.CaseNo == "" || r.CaseNo == f.CaseNo) &&
		(len(f.Domains) == 0 || slices.Contains(f.Domains, r.Domain)) &&
		(f.From.IsZero() || !r.Time.Before(f.From)) && (f.To.IsZero() || r.Time.Before(f.To))
}

// String is the filter in one canonical line, which each record's event
// carries as its subscription (and so its signature covers): "archive
// township=T case=C domains=D1,D2 from=… to=…", with the fields that are
// set, times in RFC 3339 UTC with nanoseconds.
func (f Filter) String() string {
	var b strings.Builder
	b.WriteString("archive township=" + f.Township)
	if f.CaseNo != "" {
		b.WriteString(" case=" + f.CaseNo)
	}
	if len(f.Domains) > 0 {
		d := slices.Clone(f.Domains)
		slices.Sort(d)
		b.WriteString(" domains=" + strings.Join(d, ","))
	}
	if !f.From.IsZero() {
		b.WriteString(" from=" + f.From.UTC().Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		b.WriteString(" to=" + f.To.UTC().Format(time.RFC3339Nano))
	}
	return b.String()
}
