package api

import (
	"context"
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
	ks  *keystore.Keystore
	st  store.Store
	log *slog.Logger
}

// IssueSeal makes and activates the township's seal.
func (s *sealAdminServer) IssueSeal(ctx context.Context, req *sealv1.IssueSealRequest) (*sealv1.Seal, error) {
	t, err := s.st.Township(ctx, req.TownshipCode)
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "township %s is not registered", req.TownshipCode)
	}
	sl, err := s.ks.Issue(ctx, keystore.SealRequest{TownshipCode: t.Code, Organization: t.Government(), Name: t.SealName})
	if err != nil {
		return nil, toStatus(err)
	}
	sl, err = s.ks.Activate(ctx, sl.ID)
	if err != nil {
		return nil, toStatus(err)
	}
	return sealToProto(sl), nil
}

func (s *sealAdminServer) live(ctx context.Context, township string) (keystore.Seal, error) {
	sl, err := s.ks.LiveSeal(ctx, township)
	if err != nil {
		return sl, toStatus(err)
	}
	return sl, nil
}

// act runs one lifecycle change on the township's live seal and, when the
// change affects the CRL, publishes a new one at once so that verifiers
// learn of it.
func (s *sealAdminServer) act(ctx context.Context, township string, crl bool, f func(id string) (keystore.Seal, error)) (*sealv1.Seal, error) {
	live, err := s.live(ctx, township)
	if err != nil {
		return nil, err
	}
	sl, err := f(live.ID)
	if err != nil {
		return nil, toStatus(err)
	}
	if crl {
		if _, err := s.ks.PublishCRL(ctx); err != nil {
			// The change stands; the next publication will list it.
			s.log.Error("publishing the CRL after a seal change", "seal", sl.ID, "err", err)
		}
	}
	return sealToProto(sl), nil
}

func (s *sealAdminServer) SuspendSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	return s.act(ctx, req.TownshipCode, true, func(id string) (keystore.Seal, error) { return s.ks.Suspend(ctx, id) })
}

func (s *sealAdminServer) ResumeSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	return s.act(ctx, req.TownshipCode, true, func(id string) (keystore.Seal, error) { return s.ks.Resume(ctx, id) })
}

func (s *sealAdminServer) RotateSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	return s.act(ctx, req.TownshipCode, false, func(id string) (keystore.Seal, error) { return s.ks.Rotate(ctx, id) })
}

var revocationReasons = map[string]keystore.RevocationReason{
	"":                     keystore.ReasonUnspecified,
	"unspecified":          keystore.ReasonUnspecified,
	"keyCompromise":        keystore.ReasonKeyCompromise,
	"affiliationChanged":   keystore.ReasonAffiliationChanged,
	"superseded":           keystore.ReasonSuperseded,
	"cessationOfOperation": keystore.ReasonCessationOfOperation,
	"privilegeWithdrawn":   keystore.ReasonPrivilegeWithdrawn,
}

func (s *sealAdminServer) RevokeSeal(ctx context.Context, req *sealv1.SealActionRequest) (*sealv1.Seal, error) {
	reason, ok := revocationReasons[req.Reason]
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "revocation reason %q is not an RFC 5280 reason a seal may be revoked with", req.Reason)
	}
	return s.act(ctx, req.TownshipCode, true, func(id string) (keystore.Seal, error) { return s.ks.Revoke(ctx, id, reason) })
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
