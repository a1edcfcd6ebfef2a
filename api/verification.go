package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/keystore"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/verify"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// verificationServer implements VerificationService: verify.PDF, trusting
// the county's bundle and whatever anchors the request adds, and checking
// revocation with the service's latest CRL and the CRLs the request adds.
// Anyone may call it; it reads the keystore and nothing else.
type verificationServer struct {
	sealv1.UnimplementedVerificationServiceServer
	ks  *keystore.Keystore
	now func() time.Time
}

// Verify verifies the request's document.
func (s *verificationServer) Verify(ctx context.Context, req *sealv1.VerifyRequest) (*sealv1.VerifyResponse, error) {
	if len(req.Document) == 0 {
		return nil, status.Error(codes.InvalidArgument, "no document to verify")
	}
	opts := verify.Options{Now: s.now}
	bundle, err := s.ks.TrustBundle(ctx)
	if err != nil {
		return nil, toStatus(fmt.Errorf("the county trust bundle: %w", err))
	}
	if opts.Roots, err = verify.ParseCertificates(bundle); err != nil {
		return nil, status.Errorf(codes.Internal, "the county trust bundle: %v", err)
	}
	for i, p := range req.TrustPem {
		roots, err := verify.ParseCertificates(p)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "trust_pem[%d]: %v", i, err)
		}
		opts.Roots = append(opts.Roots, roots...)
	}
	switch crl, err := s.ks.CRL(ctx); {
	case errors.Is(err, keystore.ErrNotFound): // none published yet
	case err != nil:
		return nil, toStatus(fmt.Errorf("the service's CRL: %w", err))
	default:
		rl, err := smx509.ParseRevocationList(crl.DER)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "the service's CRL: %v", err)
		}
		opts.CRLs = append(opts.CRLs, rl)
	}
	for i, c := range req.Crls {
		rls, err := verify.ParseCRLs(c)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "crls[%d]: %v", i, err)
		}
		opts.CRLs = append(opts.CRLs, rls...)
	}
	rep, err := verify.PDF(bytes.NewReader(req.Document), int64(len(req.Document)), opts)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "verifying: %v", err)
	}
	return &sealv1.VerifyResponse{Report: VerificationReport(rep)}, nil
}

// VerificationReport maps a verification report onto the API's, which
// `sealctl verify --json` prints too. Reasons and warnings become
// "CODE: meaning: detail" strings.
func VerificationReport(r *verify.FileReport) *sealv1.FileReport {
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
