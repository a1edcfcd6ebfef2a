package api

import (
	"context"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// principalServer implements PrincipalService.
type principalServer struct {
	sealv1.UnimplementedPrincipalServiceServer
	st store.Store
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
	if err := s.st.CreatePrincipal(ctx, p, store.CredentialToken, hash); err != nil {
		return nil, toStatus(err)
	}
	return &sealv1.CreatePrincipalResponse{Principal: principalToProto(store.PrincipalInfo{Principal: p}), Token: token}, nil
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
