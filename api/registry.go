package api

import (
	"bytes"
	"context"
	"errors"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// registryServer implements RegistryService over the store.
type registryServer struct {
	sealv1.UnimplementedRegistryServiceServer
	st store.Store
}

func (s *registryServer) ListTownships(ctx context.Context, _ *sealv1.ListTownshipsRequest) (*sealv1.ListTownshipsResponse, error) {
	ts, err := s.st.Townships(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &sealv1.ListTownshipsResponse{}
	for _, t := range ts {
		out.Townships = append(out.Townships, townshipToProto(t))
	}
	return out, nil
}

func (s *registryServer) GetTownship(ctx context.Context, req *sealv1.GetTownshipRequest) (*sealv1.Township, error) {
	t, err := s.st.Township(ctx, req.Code)
	if err != nil {
		return nil, toStatus(err)
	}
	return townshipToProto(t), nil
}

func (s *registryServer) ListItems(ctx context.Context, req *sealv1.ListItemsRequest) (*sealv1.ListItemsResponse, error) {
	if req.Window != "" && !seal.Window(req.Window).Valid() {
		return nil, status.Errorf(codes.InvalidArgument, "window %q is not approval, service or dispatched", req.Window)
	}
	items, err := s.st.Items(ctx, seal.Window(req.Window), req.Domain)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &sealv1.ListItemsResponse{}
	for _, it := range items {
		out.Items = append(out.Items, itemToProto(it))
	}
	return out, nil
}

func (s *registryServer) GetItem(ctx context.Context, req *sealv1.GetItemRequest) (*sealv1.Item, error) {
	it, err := s.st.Item(ctx, req.Code)
	if err != nil {
		return nil, toStatus(err)
	}
	return itemToProto(it), nil
}

func (s *registryServer) SetItemActive(ctx context.Context, req *sealv1.SetItemActiveRequest) (*sealv1.Item, error) {
	it, err := s.st.SetItemActive(ctx, req.Code, req.Active)
	if err != nil {
		return nil, toStatus(err)
	}
	return itemToProto(it), nil
}

// maxCatalogBytes bounds one catalog import.
const maxCatalogBytes = 16 << 20

func (s *registryServer) ImportCatalog(ctx context.Context, req *sealv1.ImportCatalogRequest) (*sealv1.ImportCatalogResponse, error) {
	if len(req.TownshipsCsv)+len(req.ItemsCsv)+len(req.ImplementationsCsv) > maxCatalogBytes {
		return nil, status.Errorf(codes.ResourceExhausted, "catalog import exceeds %d bytes", maxCatalogBytes)
	}
	src := seal.CatalogSource{
		Known: func(township, item string) (bool, bool) {
			_, terr := s.st.Township(ctx, township)
			_, ierr := s.st.Item(ctx, item)
			return terr == nil, ierr == nil
		},
	}
	if len(req.TownshipsCsv) > 0 {
		src.Townships = bytes.NewReader(req.TownshipsCsv)
	}
	if len(req.ItemsCsv) > 0 {
		src.Items = bytes.NewReader(req.ItemsCsv)
	}
	if len(req.ImplementationsCsv) > 0 {
		src.Implementations = bytes.NewReader(req.ImplementationsCsv)
	}
	c, err := seal.ParseCatalog(src)
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.st.ImportCatalog(ctx, c); err != nil {
		return nil, toStatus(err)
	}
	return &sealv1.ImportCatalogResponse{Townships: int32(len(c.Townships)), Items: int32(len(c.Items)),
		Implementations: int32(len(c.Implementations))}, nil
}

func (s *registryServer) GetImplementationList(ctx context.Context, req *sealv1.GetImplementationListRequest) (*sealv1.ImplementationList, error) {
	t, err := s.st.Township(ctx, req.TownshipCode)
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "township %s is not registered", req.TownshipCode)
	} else if err != nil {
		return nil, toStatus(err)
	}
	items, err := s.st.ImplementationList(ctx, t.Code)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &sealv1.ImplementationList{Township: townshipToProto(t)}
	for _, it := range items {
		out.Items = append(out.Items, itemToProto(it))
	}
	return out, nil
}
