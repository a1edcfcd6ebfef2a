package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
)

// The Verifier answers: is this PDF validly sealed, as it is displayed now?
// It needs only the trust anchors (the county root) and, optionally, CRLs.
//
// A signature is valid only if its byte range is well formed (it starts
// at 0, its one gap is exactly the /Contents string of its own
// dictionary, and it ends where a revision ends), its digest and signature
// verify, its chain leads to a trust anchor with every certificate valid
// at the signing time and the signer allowed to sign, it was not revoked
// or suspended at the signing time, and every later revision only adds
// signatures, validation data or timestamps (or annotations, form fields
// and metadata that draw nothing over the pages, which are warnings).
// Whatever cannot be parsed or checked fails with a reason.

// Options say what a verification trusts.
type Options struct {
	// Roots are the trust anchors: the county root, and any others the
	// verifier chooses to trust. Without them no chain is trusted.
	Roots []*smx509.Certificate
	// Intermediates are CA certificates to build chains with, besides
	// those embedded in each signature.
	Intermediates []*smx509.Certificate
	// CRLs are checked for revocation. A CRL counts only for the
	// certificates of the CA whose signature on it verifies; the newest
	// such CRL is used.
	CRLs []*smx509.RevocationList
	// Now is the verification time; nil means time.Now.
	Now func() time.Time
	// Algorithms are the signature algorithm families accepted; zero
	// accepts SM2, RSA and ECDSA, each reported with its algorithm.
	Algorithms cms.Algorithms
	// Limits bound the memory and work that reading the file may cost;
	// zero fields are pdf's defaults. A file that needs more is not
	// valid (CodeTooLarge, or CodeUnparseable for a later revision).
	Limits pdf.Limits
}

// futureSkew is how far a claimed signing time may lie after the
// verification time, for clocks that disagree.
const futureSkew = 10 * time.Minute

// verifier holds one verification's options, prepared.
type verifier struct {
	anchors       []*smx509.Certificate
	roots         *smx509.CertPool
	intermediates []*smx509.Certificate
	crls          []*smx509.RevocationList
	now           time.Time
	algs          cms.Algorithms
}

// PDF checks every signature in the PDF in src (size bytes) and returns
// the report. The error is non-nil only when the verification could not
// run: src could not be read, or ctx ended (its error); a file that is
// not a PDF, or that exceeds opts.Limits before its signatures are
// found, is reported with VerdictUnreadable.
//
// The context is an argument, not an Options field, as the context
// package asks: Options say what to trust and may serve many calls (every
// file of a `sealctl verify`), while a context belongs to one call.
func PDF(ctx context.Context, src io.ReaderAt, size int64, opts Options) (*FileReport, error) {
	if src == nil || size < 0 {
		return nil, errors.New("seal: Verify needs a source and its size")
	}
	v := &verifier{anchors: opts.Roots, roots: smx509.NewCertPool(), intermediates: opts.Intermediates,
		crls: opts.CRLs, now: time.Now(), algs: opts.Algorithms}
	for _, r := range opts.Roots {
		v.roots.AddCert(r)
	}
	if opts.Now != nil {
		v.now = opts.Now()
	}
	if v.algs == 0 {
		v.algs = cms.SM2 | cms.RSA | cms.ECDSA
	}
	rep := &FileReport{Size: size}
	a, err := pdf.Analyze(ctx, src, size, opts.Limits)
	if err != nil {
		switch {
		case errors.Is(err, pdf.ErrEncrypted):
			rep.Reasons = append(rep.Reasons, problem(CodeEncrypted, "%v", err))
		case errors.Is(err, pdf.ErrTooLarge):
			rep.Reasons = append(rep.Reasons, problem(CodeTooLarge, "%v", err))
		case isFormatError(err):
			rep.Reasons = append(rep.Reasons, problem(CodeUnreadable, "%v", err))
		default:
			return nil, err
		}
		rep.Verdict = VerdictUnreadable
		return rep, nil
	}
	rep.Revisions = len(a.Revisions)
	if len(v.crls) == 0 {
		v.useDSS(ctx, src, size, opts.Limits, rep)
	}
	switch {
	case errors.Is(a.Damage, pdf.ErrTooLarge):
		rep.Reasons = append(rep.Reasons, problem(CodeTooLarge, "%v", a.Damage))
	case a.Damage != nil:
		rep.Reasons = append(rep.Reasons, problem(CodeDamaged, "%v", a.Damage))
	}
	switch {
	case a.TrailingJunk:
		rep.Reasons = append(rep.Reasons, problem(CodeTrailingData, "%d bytes after the last %%%%EOF at byte %d", a.Trailing, a.Size-a.Trailing))
	case a.Trailing > 0:
		rep.Warnings = append(rep.Warnings, problem(CodeTrailingSpace, "%d bytes", a.Trailing))
	}
	if a.Damage == nil && len(a.Signatures) == 0 {
		rep.Reasons = append(rep.Reasons, Problem{Code: CodeNoSignatures})
	}
	for i := range a.Signatures {
		sr, err := v.signature(ctx, src, a, &a.Signatures[i])
		if err != nil {
			return nil, err
		}
		rep.Signatures = append(rep.Signatures, sr)
		if !sr.Valid {
			first := sr.Reasons[0]
			rep.Reasons = append(rep.Reasons, Problem{Code: first.Code, Detail: joinDetail("signature "+sr.Field, first.Detail)})
		}
	}
	rep.Verdict = VerdictValid
	if len(rep.Reasons) > 0 {
		rep.Verdict = VerdictInvalid
	}
	return rep, nil
}

// isFormatError reports whether err says the file cannot be read as a
// PDF, rather than that reading it failed.
func isFormatError(err error) bool {
	for _, e := range []error{pdf.ErrNotPDF, pdf.ErrTruncated, pdf.ErrDamaged, pdf.ErrTooLarge, pdf.ErrUnsupported} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func joinDetail(prefix, detail string) string {
	if detail == "" {
		return prefix
	}
	return prefix + ": " + detail
}

// signature checks one signature. The error is non-nil only when src
// cannot be read.
func (v *verifier) signature(ctx context.Context, src io.ReaderAt, a *pdf.Analysis, s *pdf.SignatureField) (SignatureReport, error) {
	sr := SignatureReport{
		Field: s.Field, SealName: s.Name, ItemCode: s.ItemCode, ItemName: s.ItemName, CaseNumber: s.CaseNumber,
		Reason: s.Reason, Location: s.Location, Filter: s.Filter, SubFilter: s.SubFilter,
		CoversWholeFile: s.CoversWholeFile, Revision: s.Revision + 1, DocMDP: s.DocMDP,
		Revocation: RevocationUnknown,
	}
	rangeProblems := checkByteRange(s, a)
	sr.Reasons = append(sr.Reasons, rangeProblems...)
	hashable := s.Problem == nil && len(s.ByteRange) == 4 && (len(rangeProblems) == 0 || onlyPlacement(rangeProblems))

	switch s.SubFilter {
	case "adbe.pkcs7.detached", "ETSI.CAdES.detached":
	case "ETSI.RFC3161":
		v.documentTimestamp(ctx, src, s, &sr, hashable)
		return v.finish(sr, a, s), nil
	case "GM.sm2seal":
		v.sesSignature(ctx, src, s, &sr, hashable)
		return v.finish(sr, a, s), nil
	default:
		sr.Reasons = append(sr.Reasons, problem(CodeSubFilter, "/SubFilter /%s; only detached CMS signatures (adbe.pkcs7.detached, ETSI.CAdES.detached) are checked", s.SubFilter))
		hashable = false
	}

	var res *cms.Result
	if s.Contents != nil {
		der, err := cms.TrimPadding(s.Contents)
		if err != nil {
			sr.Reasons = append(sr.Reasons, problem(CodeCMSMalformed, "%v", err))
		} else {
			var content io.Reader = strings.NewReader("")
			if hashable {
				content = &ctxReader{ctx: ctx, r: s.SignedBytes(src)}
			}
			res, err = cms.Verify(der, content, &cms.VerifyOptions{Algorithms: v.algs})
			if hashable && err != nil {
				if p, ok := cmsProblem(err); ok {
					sr.Reasons = append(sr.Reasons, p)
				} else {
					return sr, err
				}
			} else if !hashable && res == nil && err != nil {
				if p, ok := cmsProblem(err); ok && p.Code != CodeDigestMismatch && p.Code != CodeBadSignature {
					sr.Reasons = append(sr.Reasons, p)
				}
			}
		}
	}
	if res != nil {
		sr.DigestAlgorithm, sr.SignatureAlgorithm = res.DigestAlgorithm.String(), res.SignatureAlgorithm.String()
		if hashable {
			sr.DigestMatch, sr.SignatureValid = res.DigestMatch, res.SignatureValid
		}
	}

	at := v.signingTime(&sr, s, res)
	at, proven := v.signatureTimestamp(&sr, res, at)
	if res != nil && res.Signer != nil {
		v.signerChecks(&sr, res.Signer, res.Certificates, at, proven)
	}

	seals, warns := sealPlacements(s)
	sr.Seals, sr.Warnings = seals, append(sr.Warnings, warns...)
	v.checkSESeal(&sr, s, res, at)
	return v.finish(sr, a, s), nil
}

// signerChecks judges the signer's certificate chain, validity and
// revocation at time at (proven or claimed), with the certificates the
// signature embeds.
func (v *verifier) signerChecks(sr *SignatureReport, signer *smx509.Certificate, embedded []*smx509.Certificate, at time.Time, proven bool) {
	sr.Signer = signer.Subject.CommonName
	sr.Township = signer.Subject.SerialNumber
	cc := v.checkCertificates(signer, embedded, at, v.now, proven)
	sr.Chain, sr.ChainTrusted, sr.ValidAtSigningTime, sr.KeyUsageOK = cc.chain, cc.trusted, cc.validAtSigningTime, cc.keyUsageOK
	sr.Revocation, sr.RevokedAt = cc.revocation, cc.revokedAt
	sr.Reasons = append(sr.Reasons, cc.reasons...)
	sr.Warnings = append(sr.Warnings, cc.warnings...)
	if !proven && v.now.After(signer.NotAfter) {
		// What long-term validation needs and this signature lacks.
		sr.Warnings = append(sr.Warnings, problem(CodeTimeOnlyClaimed, "%s expired at %s; verified as of %s",
			sr.Signer, signer.NotAfter.UTC().Format(time.RFC3339), v.now.UTC().Format(time.RFC3339)))
	}
}

// finish adds what the revisions after the signed one change, and the
// verdict.
func (v *verifier) finish(sr SignatureReport, a *pdf.Analysis, s *pdf.SignatureField) SignatureReport {
	if s.Revision >= 0 {
		v.laterRevisions(&sr, a, s)
	}
	if a.TrailingJunk {
		sr.LaterRevisions = append(sr.LaterRevisions, RevisionChange{Revision: len(a.Revisions) + 1, Kind: "trailing_data",
			Detail: fmt.Sprintf("%d bytes after the last %%%%EOF", a.Trailing)})
		sr.Reasons = append(sr.Reasons, problem(CodeTrailingData, "%d bytes after the last %%%%EOF at byte %d", a.Trailing, a.Size-a.Trailing))
	}
	sr.Valid = len(sr.Reasons) == 0
	return sr
}

// ctxReader reads r until ctx ends, so that hashing a large file stops
// when the caller goes away.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// onlyPlacement reports whether the byte range problems leave the ranges
// within the file, so that hashing them still says something.
func onlyPlacement(ps []Problem) bool {
	for _, p := range ps {
		if p.Code != CodeByteRangeGap && p.Code != CodeByteRangeEnd {
			return false
		}
	}
	return true
}

// cmsProblem maps a CMS verification error to a reason.
func cmsProblem(err error) (Problem, bool) {
	code := Code("")
	switch {
	case errors.Is(err, cms.ErrDigestMismatch):
		code = CodeDigestMismatch
	case errors.Is(err, cms.ErrBadSignature), errors.Is(err, cms.ErrSigningCertMismatch):
		code = CodeBadSignature
	case errors.Is(err, cms.ErrAlgorithmNotAccepted), errors.Is(err, cms.ErrUnsupportedAlgorithm):
		code = CodeAlgorithm
	case errors.Is(err, cms.ErrMalformed), errors.Is(err, cms.ErrNeedContent):
		code = CodeCMSMalformed
	default:
		return Problem{}, false
	}
	return Problem{Code: code, Detail: err.Error()}, true
}

// signingTime sets the report's signing time from the signed attribute,
// else /M, and returns the time to check the chain at: that, or now when
// the signature claims none.
func (v *verifier) signingTime(sr *SignatureReport, s *pdf.SignatureField, res *cms.Result) time.Time {
	m, mok := parsePDFDate(s.SigningTime)
	switch {
	case res != nil && !res.SigningTime.IsZero():
		sr.SigningTime, sr.SigningTimeSource = res.SigningTime, "cms"
		if mok && absDuration(m.Sub(res.SigningTime)) > time.Hour {
			sr.Warnings = append(sr.Warnings, problem(CodeTimeMismatch, "/M %s, signing-time attribute %s",
				m.UTC().Format(time.RFC3339), res.SigningTime.UTC().Format(time.RFC3339)))
		}
	case mok:
		sr.SigningTime, sr.SigningTimeSource = m, "pdf"
	default:
		sr.Warnings = append(sr.Warnings, Problem{Code: CodeNoSigningTime})
		return v.now
	}
	if sr.SigningTime.After(v.now.Add(futureSkew)) {
		sr.Reasons = append(sr.Reasons, problem(CodeFutureSigning, "signed at %s, verified at %s",
			sr.SigningTime.UTC().Format(time.RFC3339), v.now.UTC().Format(time.RFC3339)))
	}
	return sr.SigningTime
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// laterRevisions reports what each revision after the signed one changes,
// and whether the signature allows it.
func (v *verifier) laterRevisions(sr *SignatureReport, a *pdf.Analysis, s *pdf.SignatureField) {
	later := a.Revisions[s.Revision+1:]
	if len(later) > 0 {
		sr.Warnings = append(sr.Warnings, problem(CodeNotWholeFile, "%d later revision(s)", len(later)))
	}
	for i, r := range later {
		n := s.Revision + 2 + i
		for _, c := range r.Changes {
			ok, code := allowed(c, s.DocMDP)
			sr.LaterRevisions = append(sr.LaterRevisions, RevisionChange{Revision: n, Kind: string(c.Kind), Detail: c.Detail,
				Objects: c.Objects, Pages: c.Pages, Allowed: ok})
			p := problem(code, "revision %d: %s", n, c.Detail)
			switch {
			case !ok:
				sr.Reasons = append(sr.Reasons, p)
			case code != "":
				sr.Warnings = append(sr.Warnings, p)
			}
		}
	}
}

// allowed says whether a signature with certification level docMDP (0 for
// an approval signature) allows change c, and the reason or warning.
func allowed(c pdf.Change, docMDP int) (bool, Code) {
	switch {
	case c.Kind == pdf.ChangeUnparseable:
		return false, CodeUnparseable
	case c.Alters:
		return false, CodeModified
	case docMDP == 1:
		return false, CodeCertified
	}
	switch c.Kind {
	case pdf.ChangeSignature, pdf.ChangeTimestamp, pdf.ChangeDSS:
		return true, ""
	case pdf.ChangeAnnotation:
		if docMDP == 2 {
			return false, CodeCertified
		}
		return true, CodeAnnotation
	case pdf.ChangeFormField:
		return true, CodeFormChanged
	case pdf.ChangeMetadata:
		return true, CodeMetadata
	case pdf.ChangeUnreferenced:
		return true, CodeUnreferenced
	}
	return false, CodeModified
}
