package sealapi

import (
	"time"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/verify"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Report maps a verification report onto the API's, which
// `sealctl verify --json` prints too. Reasons and warnings become
// "CODE: meaning: detail" strings.
func Report(r *verify.FileReport) *sealv1.FileReport {
	out := &sealv1.FileReport{Verdict: string(r.Verdict), Reasons: problems(r.Reasons), Warnings: problems(r.Warnings),
		Size: r.Size, Revisions: int32(r.Revisions)}
	for _, s := range r.Signatures {
		sr := &sealv1.SignatureReport{
			Field: s.Field, Signer: s.Signer, SealName: s.SealName, TownshipCode: s.Township,
			ItemCode: s.ItemCode, ItemName: s.ItemName, CaseNo: s.CaseNumber, Reason: s.Reason, Location: s.Location,
			Filter: s.Filter, SubFilter: s.SubFilter, SigningTime: timestamp(s.SigningTime), SigningTimeSource: s.SigningTimeSource,
			DigestAlgorithm: s.DigestAlgorithm, SignatureAlgorithm: s.SignatureAlgorithm,
			DigestMatch: s.DigestMatch, SignatureValid: s.SignatureValid, ChainTrusted: s.ChainTrusted,
			KeyUsageOk: s.KeyUsageOK, ValidAtSigningTime: s.ValidAtSigningTime,
			Revocation: string(s.Revocation), RevokedAt: timestamp(s.RevokedAt),
			CoversWholeFile: s.CoversWholeFile, Revision: int32(s.Revision), DocMdp: int32(s.DocMDP),
			Valid: s.Valid, Reasons: problems(s.Reasons), Warnings: problems(s.Warnings),
			ProvenTime: timestamp(s.ProvenTime), TimeBasis: s.TimeBasis,
		}
		if ts := s.Timestamp; ts != nil {
			sr.Timestamp = &sealv1.TimestampInfo{Time: timestamp(ts.Time), AccuracyMicros: ts.Accuracy.Microseconds(),
				Tsa: ts.TSA, TsaSubject: ts.TSASubject, TsaSerial: ts.TSASerial, Serial: ts.Serial, Policy: ts.Policy,
				HashAlgorithm: ts.HashAlgorithm, SignatureAlgorithm: ts.SignatureAlgorithm,
				ChainTrusted: ts.ChainTrusted, Valid: ts.Valid}
		}
		for _, c := range s.Chain {
			sr.Chain = append(sr.Chain, &sealv1.CertificateInfo{
				Subject: c.Subject, Issuer: c.Issuer, Serial: c.Serial,
				NotBefore: timestamp(c.NotBefore), NotAfter: timestamp(c.NotAfter), KeyUsage: c.KeyUsage,
				SignatureValid: c.SignatureValid, ValidAtSigningTime: c.ValidAtSigningTime,
				TrustAnchor: c.TrustAnchor, Revocation: string(c.Revocation),
			})
		}
		for _, c := range s.LaterRevisions {
			sr.LaterRevisions = append(sr.LaterRevisions, &sealv1.RevisionChange{
				Revision: int32(c.Revision), Kind: c.Kind, Detail: c.Detail, Allowed: c.Allowed,
				Objects: int32s(c.Objects), Pages: int32s(c.Pages),
			})
		}
		for _, p := range s.Seals {
			sr.Seals = append(sr.Seals, &sealv1.SealPlacement{Page: int32(p.Page), Rect: rectSlice(p.Rect),
				CropBox: rectSlice(p.CropBox), Drawn: p.Drawn, OnPage: p.OnPage})
		}
		out.Signatures = append(out.Signatures, sr)
	}
	return out
}

func problems(ps []verify.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// timestamp is t, or nil for the zero time.
func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func int32s(a []int) []int32 {
	out := make([]int32, len(a))
	for i, v := range a {
		out[i] = int32(v)
	}
	return out
}

// rectSlice is a rectangle as the API gives it: empty when zero (no
// usable rectangle).
func rectSlice(r [4]float64) []float64 {
	if r == [4]float64{} {
		return nil
	}
	return r[:]
}
