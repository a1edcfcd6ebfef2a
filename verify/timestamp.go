package verify

import (
	"context"
	"encoding/hex"
	"io"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
)

// Proven time. A signature's signing-time attribute is the signer's claim,
// and whoever holds the key can backdate it. An RFC 3161 token from a
// trusted time-stamping authority over the signature value (the unsigned
// attribute id-aa-signatureTimeStampToken) proves that the signature
// existed at the token's genTime. With a valid token, the chain's validity
// and revocation, keyCompromise included, are judged at the latest time the
// token allows (genTime plus its accuracy): a seal revoked for key
// compromise at R leaves documents stamped before R valid. Without one,
// they are judged at the claimed time, as before, and a key compromise
// invalidates every signature of the key.
//
// A token is good only if it is well formed and its signature verifies,
// its imprint is the digest of this signature's value, the TSA's
// certificate chains to a trust anchor at genTime with the critical
// extended key usage id-kp-timeStamping and is not revoked by then, and
// genTime is not before the claimed signing time by more than the token's
// accuracy (a claimed time after the stamp is a forged claim). A bad token
// makes the signature invalid: it fails closed.
//
// A document timestamp (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161)
// is a token whose imprint covers the revision's byte ranges: it is
// checked the same way, and reported as a signature whose signer is the
// TSA.

// TimestampInfo describes a time-stamp token and what checking it found.
type TimestampInfo struct {
	// Time is the token's genTime, and Accuracy its stated accuracy
	// (zero when none).
	Time     time.Time
	Accuracy time.Duration
	// TSA is the TSA certificate's subject common name, TSASubject the
	// whole subject, TSASerial its certificate's serial (hexadecimal).
	TSA, TSASubject, TSASerial string
	// Serial is the token's serial number (hexadecimal), Policy the TSA
	// policy it was issued under.
	Serial, Policy string
	// HashAlgorithm is the imprint's, SignatureAlgorithm the token's.
	HashAlgorithm, SignatureAlgorithm string
	// ChainTrusted is whether the TSA chains to a trust anchor at Time.
	ChainTrusted bool
	// Valid is whether every check passed.
	Valid bool
}

// The time basis of a signature report.
const (
	TimeProven  = "proven"  // a valid timestamp proves the signing time
	TimeClaimed = "claimed" // only the signer's claim, or the verification time
)

// oidExtKeyUsage is the extended key usage extension.
var oidExtKeyUsage = []int{2, 5, 29, 37}

// checkTimestamp checks a token whose imprint covers says what it must
// cover, and returns what it found and the reasons it is not good.
func (v *verifier) checkTimestamp(token []byte, covers func(*cms.TSTInfo) (bool, error)) (*TimestampInfo, []Problem, []Problem) {
	tr, err := cms.VerifyTimeStampToken(token, &cms.VerifyOptions{Algorithms: v.algs})
	if tr == nil {
		return nil, []Problem{problem(CodeTimestampInvalid, "%v", err)}, nil
	}
	t := tr.TSTInfo
	info := &TimestampInfo{Time: t.GenTime, Accuracy: t.Accuracy, Serial: hex.EncodeToString(t.SerialNumber.Bytes()),
		Policy: t.Policy.String(), HashAlgorithm: t.HashAlgorithmName(), SignatureAlgorithm: tr.SignatureAlgorithm.String()}
	var reasons, warnings []Problem
	if err != nil {
		reasons = append(reasons, problem(CodeTimestampInvalid, "%v", err))
	}
	if ok, err := covers(t); err != nil {
		reasons = append(reasons, problem(CodeTimestampImprint, "%v", err))
	} else if !ok {
		reasons = append(reasons, problem(CodeTimestampImprint, "the token's %s imprint is not the digest of what it should cover", info.HashAlgorithm))
	}
	if tsa := tr.Signer; tsa != nil {
		info.TSA, info.TSASubject = tsa.Subject.CommonName, tsa.Subject.String()
		info.TSASerial = hex.EncodeToString(tsa.SerialNumber.Bytes())
		cc := v.checkCertificates(tsa, tr.Certificates, t.GenTime, v.now, false)
		info.ChainTrusted = cc.trusted
		for _, p := range cc.reasons {
			code := CodeTimestampUntrusted
			if p.Code == CodeRevoked || p.Code == CodeKeyCompromised || p.Code == CodeSuspended {
				code = CodeTimestampRevoked
			}
			reasons = append(reasons, problem(code, "TSA %s", p.String()))
		}
		for _, p := range cc.warnings {
			warnings = append(warnings, Problem{Code: p.Code, Detail: joinDetail("TSA "+info.TSA, p.Detail)})
		}
		if !timeStampingEKU(tsa) {
			reasons = append(reasons, problem(CodeTimestampEKU, "%s: the certificate lacks the critical extended key usage id-kp-timeStamping alone", info.TSA))
		}
	}
	info.Valid = len(reasons) == 0
	return info, reasons, warnings
}

// timeStampingEKU reports whether cert is a TSA's, as RFC 3161 section
// 2.3 asks: an extended key usage extension, marked critical, with
// id-kp-timeStamping alone.
func timeStampingEKU(cert *smx509.Certificate) bool {
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != smx509.ExtKeyUsageTimeStamping || len(cert.UnknownExtKeyUsage) != 0 {
		return false
	}
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(oidExtKeyUsage) {
			return ext.Critical
		}
	}
	return false
}

// signatureTimestamp checks the token on a signature, and returns the
// time to judge the chain at: the latest the token allows, when it is
// good, else at.
func (v *verifier) signatureTimestamp(sr *SignatureReport, res *cms.Result, at time.Time) (time.Time, bool) {
	sr.TimeBasis = TimeClaimed
	if res == nil || res.TimeStampToken == nil {
		return at, false
	}
	info, reasons, warnings := v.checkTimestamp(res.TimeStampToken, func(t *cms.TSTInfo) (bool, error) { return t.Covers(res.Signature) })
	sr.Timestamp = info
	sr.Warnings = append(sr.Warnings, warnings...)
	if info != nil && info.Valid && !sr.SigningTime.IsZero() && info.Time.Add(info.Accuracy).Before(sr.SigningTime.Truncate(time.Second)) {
		reasons = append(reasons, problem(CodeTimestampBeforeClaim, "stamped at %s (accuracy %s), but the signature claims %s",
			info.Time.UTC().Format(time.RFC3339Nano), info.Accuracy, sr.SigningTime.UTC().Format(time.RFC3339)))
		info.Valid = false
	}
	sr.Reasons = append(sr.Reasons, reasons...)
	if info == nil || !info.Valid {
		return at, false
	}
	sr.TimeBasis, sr.ProvenTime = TimeProven, info.Time
	return info.Time.Add(info.Accuracy), true
}

// documentTimestamp checks a document timestamp: its /Contents is a token
// whose imprint covers the signed byte ranges.
func (v *verifier) documentTimestamp(ctx context.Context, src io.ReaderAt, s *pdf.SignatureField, sr *SignatureReport, hashable bool) {
	sr.TimeBasis = TimeClaimed
	if s.Contents == nil {
		return
	}
	der, err := cms.TrimPadding(s.Contents)
	if err != nil {
		sr.Reasons = append(sr.Reasons, problem(CodeTimestampInvalid, "%v", err))
		return
	}
	info, reasons, warnings := v.checkTimestamp(der, func(t *cms.TSTInfo) (bool, error) {
		if !hashable {
			return false, nil // the byte range's own reason says why
		}
		return t.CoversReader(&ctxReader{ctx: ctx, r: s.SignedBytes(src)})
	})
	sr.Timestamp = info
	sr.Reasons, sr.Warnings = append(sr.Reasons, reasons...), append(sr.Warnings, warnings...)
	if info == nil {
		return
	}
	sr.Signer, sr.SignatureAlgorithm, sr.DigestAlgorithm = info.TSA, info.SignatureAlgorithm, info.HashAlgorithm
	sr.SigningTime, sr.SigningTimeSource = info.Time, "timestamp"
	sr.ChainTrusted, sr.DigestMatch, sr.SignatureValid = info.ChainTrusted, hashable && info.Valid, info.Valid
	sr.KeyUsageOK, sr.ValidAtSigningTime, sr.Revocation = info.Valid, info.Valid, RevocationUnknown
	if info.Valid {
		sr.TimeBasis, sr.ProvenTime = TimeProven, info.Time
	}
}
