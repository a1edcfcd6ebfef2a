// Package webverify is what the public verification page runs in the
// reader's browser, compiled to WebAssembly (cmd/verifywasm): a PDF, the
// trust bundle and the CRLs in; the report out, as the same JSON that
// `sealctl verify --json` prints (sealapi.Report in the protobuf JSON
// mapping; see json.go), so that the page shows what the command line
// would say.
//
// It is plain Go with no browser in it, so that it is tested like any
// other package; the WebAssembly main only moves bytes across.
package webverify

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/verify"
)

// Input is one verification: the document and what to trust.
type Input struct {
	// Name is the file's name as the reader picked it; it is copied into
	// the report's "file" field and nowhere else.
	Name string
	// Document is the PDF's bytes.
	Document []byte
	// Trust holds the trust anchors, PEM (one or more CERTIFICATE blocks)
	// or one DER certificate: the county's trust bundle, and any root the
	// reader added.
	Trust [][]byte
	// CRLs are certificate revocation lists, PEM or DER; none means
	// revocation is reported unknown.
	CRLs [][]byte
	// Now is the verification time; nil means time.Now.
	Now func() time.Time
}

// ErrTrust is returned when a trust anchor or a CRL cannot be read; the
// error names which one.
var ErrTrust = errors.New("webverify: unreadable trust input")

// Report verifies in.Document and returns the report as JSON. A document
// that is not a readable PDF is a report with the verdict "unreadable",
// not an error; the error is for unreadable trust input or an ended ctx.
func Report(ctx context.Context, in Input) ([]byte, error) {
	res, err := Verify(ctx, in)
	return res.JSON, err
}

// Result is a verification's report as JSON, and the pictures of the
// signatures' seals, which the JSON does not carry.
type Result struct {
	JSON     []byte
	Pictures []Picture
	// SM3 is the document's SM3, hex: the page compares it with the
	// ledger's record of the sealing that the verification QR code names
	// (its OutputSM3), beside the verdict.
	SM3 string
}

// Picture is the registered picture of a signature's seal: the picture in
// its national seal data (SESeal), which the verifier compares with what
// the signature draws on the page.
type Picture struct {
	// Signature is the signature's index in the report, from 0.
	Signature int
	// Type is the SESeal's picture type: "png" or "svg" (others are left
	// out: the page shows only these).
	Type string
	Data []byte
	// Matches is whether every widget of the signature draws this picture.
	Matches bool
}

// Verify is Report with the seals' pictures.
func Verify(ctx context.Context, in Input) (Result, error) {
	opts := verify.Options{Now: in.Now}
	for i, b := range in.Trust {
		certs, err := verify.ParseCertificates(b)
		if err != nil {
			return Result{}, fmt.Errorf("%w: trust anchor %d: %w", ErrTrust, i+1, err)
		}
		opts.Roots = append(opts.Roots, certs...)
	}
	for i, b := range in.CRLs {
		crls, err := verify.ParseCRLs(b)
		if err != nil {
			return Result{}, fmt.Errorf("%w: CRL %d: %w", ErrTrust, i+1, err)
		}
		opts.CRLs = append(opts.CRLs, crls...)
	}
	rep, err := verify.PDF(ctx, bytes.NewReader(in.Document), int64(len(in.Document)), opts)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, err
		}
		rep = &verify.FileReport{Verdict: verify.VerdictUnreadable,
			Reasons: []verify.Problem{{Code: verify.CodeUnreadable, Detail: err.Error()}}}
	}
	sum := sm3.Sum(in.Document)
	res := Result{SM3: hex.EncodeToString(sum[:])}
	for i, s := range rep.Signatures {
		if es := s.SESeal; es != nil && len(es.Picture) > 0 && (es.PictureType == "png" || es.PictureType == "svg") {
			res.Pictures = append(res.Pictures, Picture{Signature: i, Type: es.PictureType, Data: es.Picture, Matches: es.PictureMatches})
		}
	}
	if res.JSON, err = marshalReport(rep, in.Name); err != nil {
		return Result{}, err
	}
	return res, nil
}

// Meaning says what a reason's or warning's code means, in Chinese and in
// English, as `sealctl verify` says it; ok is false for an unknown code.
// The page shows these plain words, not the code.
func Meaning(code string) (zh, en string, ok bool) {
	c := verify.Code(code)
	zh, en = c.Chinese(), c.English()
	return zh, en, en != ""
}
