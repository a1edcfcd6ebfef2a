package api

import (
	"context"
	"errors"
	"time"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// principalServer implements PrincipalService.
type principalServer struct {
	sealv1.UnimplementedPrincipalServiceServer
	st store.Store
	// ttl is how long a new token works; overlap how long a rotated
	// principal's other tokens keep working beside the new one.
	ttl, overlap time.Duration
	now          func() time.Time
}

// PrincipalFromProto converts and validates a principal from the API.
func PrincipalFromProto(p *sealv1.Principal) (seal.Principal, error) {
	if p == nil {
		return seal.Principal{}, status.Error(codes.InvalidArgument, "no principal")
	}
	out := seal.Principal{ID: p.Id, Name: p.Name, Role: seal.Role(p.Role), Township: p.TownshipCode, Domains: p.Domains}
	for _, w := range p.Windows {
		out.Windows = append(out.Windows, seal.Window(w))
	}
	if err := out.Validate(); err != nil {
		return out, status.Error(codes.InvalidArgument, err.Error())
	}
	return out, nil
}

// CreatePrincipal makes a principal and its first bearer token, which is
// returned once and stored only as its hash.
func (s *principalServer) CreatePrincipal(ctx context.Context, req *sealv1.CreatePrincipalRequest) (*sealv1.CreatePrincipalResponse, error) {
	p, err := PrincipalFromProto(req.Principal)
	if err != nil {
		return nil, err
	}
	if p.Role == seal.RoleClerk {
		if _, err := s.st.Township(ctx, p.Township); err != nil {
			return nil, status.Errorf(codes.FailedPrecondition, "township %s is not registered", p.Township)
		}
	}
	token, hash := NewToken()
	expires := s.now().Add(s.ttl)
	if err := s.st.CreatePrincipal(ctx, p, store.Credential{Kind: store.CredentialToken, Hash: hash, Expires: expires}); err != nil {
		return nil, toStatus(err)
	}
	return &sealv1.CreatePrincipalResponse{Principal: principalToProto(store.PrincipalInfo{Principal: p}), Token: token,
		TokenExpiresAt: timestamppb.New(expires)}, nil
}

// RotateToken gives a principal a new token, returned once and stored only
// as its hash, and retires its other tokens after the overlap (or at once,
// with revoke_previous). The county office rotates anyone's; another
// principal only its own, and only with its newest token, so that a token
// that was rotated away cannot rotate again and keep itself alive.
func (s *principalServer) RotateToken(ctx context.Context, req *sealv1.RotateTokenRequest) (*sealv1.RotateTokenResponse, error) {
	caller := PrincipalFrom(ctx)
	id := req.Id
	if id == "" {
		id = caller.ID
	}
	var by []byte
	if caller.Role != seal.RoleAdmin {
		if id != caller.ID {
			return nil, status.Errorf(codes.PermissionDenied, "role %s may rotate only its own token", caller.Role)
		}
		// A caller with a client certificate has no token hash here: the
		// certificate, not a token, proves who it is.
		by = tokenHashFrom(ctx)
	}
	token, hash := NewToken()
	now := s.now()
	r := store.TokenRotation{ID: id, Hash: hash, Expires: now.Add(s.ttl), OverlapEnd: now.Add(s.overlap), By: by}
	if req.RevokePrevious {
		r.OverlapEnd = now
	}
	p, err := s.st.RotateToken(ctx, r)
	if errors.Is(err, store.ErrReplaced) {
		return nil, status.Error(codes.FailedPrecondition,
			"this token was replaced by a newer one: rotate with the newest token, or ask the county office")
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return &sealv1.RotateTokenResponse{Principal: principalToProto(p), Token: token,
		TokenExpiresAt: timestamppb.New(r.Expires), PreviousExpireAt: timestamppb.New(r.OverlapEnd)}, nil
}

func (s *principalServer) ListPrincipals(ctx context.Context, _ *sealv1.ListPrincipalsRequest) (*sealv1.ListPrincipalsResponse, error) {
	ps, err := s.st.ListPrincipals(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &sealv1.ListPrincipalsResponse{}
	for _, p := range ps {
		out.Principals = append(out.Principals, principalToProto(p))
	}
	return out, nil
}

func (s *principalServer) DisablePrincipal(ctx context.Context, req *sealv1.DisablePrincipalRequest) (*sealv1.Principal, error) {
	p, err := s.st.DisablePrincipal(ctx, req.Id)
	if err != nil {
		return nil, toStatus(err)
	}
	return principalToProto(p), nil
}

func (s *principalServer) WhoAmI(ctx context.Context, _ *sealv1.WhoAmIRequest) (*sealv1.Principal, error) {
	return principalToProto(store.PrincipalInfo{Principal: *PrincipalFrom(ctx)}), nil
}
