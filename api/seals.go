package api

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ronganxian/eseal/keystore"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// sealAdminServer implements SealAdminService over the keystore.
type sealAdminServer struct {
	sealv1.UnimplementedSealAdminServiceServer
	ks       *keystore.Keystore
	st       store.Store
	pictures SealPictures // nil: GetSealImage is Unimplemented
	log      *slog.Logger
}

// IssueSeal makes and activates the seal of a registered township.
func (s *sealAdminServer) IssueSeal(ctx context.Context, req *sealv1.IssueSealRequest) (*sealv1.Seal, error) {
	t, err := s.st.Township(ctx, req.TownshipCode)
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "township %s is not registered", req.TownshipCode)
	}
	sl, err := s.ks.IssueActive(ctx, keystore.SealRequest{TownshipCode: t.Code, Organization: t.Government(), Name: t.SealName})
	if err != nil {
		return nil, toStatus(err)
	}
	s.makeSESeal(ctx, sl)
	return sealToProto(sl), nil
}

// makeSESeal makes a new seal's national seal data (GB/T 38540 SESeal) as
// the county's seal maker, so that it exists from the seal's first day
// (it would otherwise be made on first use). A failure is logged, not
// returned: the seal stands, and its first use tries again.
func (s *sealAdminServer) makeSESeal(ctx context.Context, sl keystore.Seal) {
	if s.pictures == nil {
		return
	}
	if _, err := s.pictures.SESeal(ctx, sl.TownshipCode); err != nil {
		s.log.Warn("making the seal's SESeal", "seal", sl.ID, "err", err)
	}
}

// changed answers a lifecycle change. A change whose CRL could not be
// republished stands, and is answered as done; the failure is logged.
func (s *sealAdminServer) changed(sl keystore.Seal, err error) (*sealv1.Seal, error) {
	if errors.Is(err, keystore.ErrCRLNotPublished) {
		s.log.Error("publishing the CRL after a seal change", "seal", sl.ID, "err", err)
		err = nil
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return sealToProto(sl), nil
}

func (s *sealAdminServer) SuspendSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	return s.changed(s.ks.SuspendTownship(ctx, req.TownshipCode))
}

func (s *sealAdminServer) ResumeSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	return s.changed(s.ks.ResumeTownship(ctx, req.TownshipCode))
}

func (s *sealAdminServer) RotateSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	sl, err := s.ks.RotateTownship(ctx, req.TownshipCode)
	if err == nil || errors.Is(err, keystore.ErrCRLNotPublished) {
		s.makeSESeal(ctx, sl)
	}
	return s.changed(sl, err)
}

func (s *sealAdminServer) RevokeSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	reason, err := keystore.ParseRevocationReason(req.Reason)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return s.changed(s.ks.RevokeTownship(ctx, req.TownshipCode, reason))
}

func (s *sealAdminServer) ListSeals(ctx context.Context, req *sealv1.ListSealsRequest) (*sealv1.ListSealsResponse, error) {
	ss, err := s.ks.Seals(ctx, req.TownshipCode)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &sealv1.ListSealsResponse{}
	for _, sl := range ss {
		out.Seals = append(out.Seals, sealToProto(sl))
	}
	return out, nil
}

func (s *sealAdminServer) GetTrustBundle(ctx context.Context, _ *sealv1.GetTrustBundleRequest) (*sealv1.TrustBundle, error) {
	pem, err := s.ks.TrustBundle(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &sealv1.TrustBundle{Pem: string(pem)}, nil
}

func (s *sealAdminServer) GetCRL(ctx context.Context, _ *sealv1.GetCRLRequest) (*sealv1.CRL, error) {
	crl, err := s.ks.CRL(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &sealv1.CRL{Der: crl.DER, ThisUpdate: timestamppb.New(crl.ThisUpdate), NextUpdate: timestamppb.New(crl.NextUpdate)}, nil
}
