package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/pdf"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"github.com/ronganxian/eseal/verify"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// verificationServer implements VerificationService: verify.PDF, trusting
// the county's bundle and whatever anchors the request adds, and checking
// revocation with the service's latest CRL and the CRLs the request adds.
// Anyone may call it; it reads the keystore and nothing else.
type verificationServer struct {
	sealv1.UnimplementedVerificationServiceServer
	ks  *keystore.Keystore
	now func() time.Time
	// maxDoc bounds a document, and slots admits verifications in order
	// of arrival: anyone may call Verify, so its work is bounded too.
	maxDoc int64
	slots  chan struct{}
	// limits bound what reading one document may cost.
	limits pdf.Limits
}

// Verify verifies the request's document.
func (s *verificationServer) Verify(ctx context.Context, req *sealv1.VerifyRequest) (*sealv1.VerifyResponse, error) {
	if len(req.Document) == 0 {
		return nil, status.Error(codes.InvalidArgument, "no document to verify")
	}
	if int64(len(req.Document)) > s.maxDoc {
		return nil, status.Errorf(codes.ResourceExhausted, "document of %d bytes exceeds the limit of %d bytes", len(req.Document), s.maxDoc)
	}
	if err := working(ctx, verifyingCost(int64(len(req.Document))), 0, true); err != nil {
		return nil, err
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		return nil, status.Errorf(codes.ResourceExhausted, "every verification slot stayed busy until the deadline: %v", ctx.Err())
	}
	opts := verify.Options{Now: s.now, Limits: s.limits}
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
	rep, err := verify.PDF(metered(ctx), bytes.NewReader(req.Document), int64(len(req.Document)), opts)
	if ctx.Err() != nil {
		// The caller went away or the deadline passed: say so, not Internal.
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	if st, ok := meterRefusal(err); ok {
		return nil, st
	}
	if err != nil {
		return nil, status.Errorf(codes.Internal, "verifying: %v", err)
	}
	return &sealv1.VerifyResponse{Report: sealapi.Report(rep)}, nil
}
