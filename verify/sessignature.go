package verify

import (
	"bytes"
	"context"
	"io"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/seal/ses"
)

// A GB/T 38540 SES_Signature in a PDF (/Filter /GM.PKILite /SubFilter
// /GM.sm2seal, the "ses" profile, ses.PDFSigner): /Contents holds the
// SES_Signature, whose dataHash is the SM3 of the signed byte ranges and
// whose TBS_Sign carries the seal's SESeal. It is judged as a CMS signature
// is — the bytes, the signature, the chain at the (proven) signing time,
// revocation, what changed later — and its seal as the default profile's
// SESeal is.

// sesSignature checks the SES_Signature of s into sr.
func (v *verifier) sesSignature(ctx context.Context, src io.ReaderAt, s *pdf.SignatureField, sr *SignatureReport, hashable bool) {
	sr.TimeBasis = TimeClaimed
	if s.Contents == nil {
		return
	}
	der, err := cms.TrimPadding(s.Contents)
	if err != nil {
		sr.Reasons = append(sr.Reasons, problem(CodeSESealInvalid, "%v", err))
		return
	}
	sig, err := ses.ParseSignature(der)
	if err != nil {
		sr.Reasons = append(sr.Reasons, problem(CodeSESealInvalid, "%v", err))
		return
	}
	sr.DigestAlgorithm, sr.SignatureAlgorithm = "SM3 (1.2.156.10197.1.401)", "SM3withSM2 ("+sig.SignAlg.String()+")"
	if hashable {
		h := sm3.New()
		if _, err := io.Copy(h, &ctxReader{ctx: ctx, r: s.SignedBytes(src)}); err != nil {
			sr.Reasons = append(sr.Reasons, problem(CodeUnreadable, "%v", err))
			return
		}
		if sr.DigestMatch = bytes.Equal(h.Sum(nil), sig.DataHash); !sr.DigestMatch {
			sr.Reasons = append(sr.Reasons, problem(CodeDigestMismatch, "the SES_Signature's dataHash is not the SM3 of the signed bytes"))
		}
	}
	if err := sig.VerifySigner(); err != nil {
		sr.Reasons = append(sr.Reasons, problem(CodeBadSignature, "%v", err))
	} else {
		sr.SignatureValid = true
	}
	sr.SigningTime, sr.SigningTimeSource = sig.Time, "ses"
	if sr.SigningTime.After(v.now.Add(futureSkew)) {
		sr.Reasons = append(sr.Reasons, problem(CodeFutureSigning, "signed at %s, verified at %s",
			sr.SigningTime.UTC().Format(time.RFC3339), v.now.UTC().Format(time.RFC3339)))
	}
	at, proven := v.signatureTimestamp(sr, &cms.Result{Signer: sig.Cert, Signature: sig.Value, TimeStampToken: sig.TimeStamp}, sig.Time)
	v.signerChecks(sr, sig.Cert, nil, at, proven)
	seals, warns := sealPlacements(s)
	sr.Seals, sr.Warnings = seals, append(sr.Warnings, warns...)
	v.checkSeal(sr, s.Widgets, sig.Seal, sig.Cert, at)
}
