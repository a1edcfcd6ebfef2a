package api

import (
	"context"
	"errors"

	"github.com/ronganxian/eseal/keystore"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// SealPictures gives the picture of a township's current seal, as sealed
// documents show it. Package service implements it: it knows whether the
// county put a scan in place of the drawn seal, and with which font and
// size seals are drawn.
type SealPictures interface {
	SealPicture(ctx context.Context, township, format string, dpi int) (*SealPicture, error)
}

// A SealPicture is a seal's picture in one format.
type SealPicture struct {
	MediaType  string // image/png or image/svg+xml
	Data       []byte
	Drawn      bool // drawn by the rules, rather than the county's scan
	SealName   string
	DiameterMM float64
}

// ErrPictureRequest means a picture that cannot be given: a format other
// than png or svg, a resolution out of range, or SVG of a scan.
var ErrPictureRequest = errors.New("seal picture")

// GetSealImage answers with the picture of the township's current seal.
func (s *sealAdminServer) GetSealImage(ctx context.Context, req *sealv1.GetSealImageRequest) (*sealv1.SealImage, error) {
	if s.pictures == nil {
		return nil, status.Error(codes.Unimplemented, "this service does not draw seal pictures")
	}
	format := req.Format
	if format == "" {
		format = "png"
	}
	dpi := int(req.Dpi)
	if dpi == 0 {
		dpi = 300
	}
	p, err := s.pictures.SealPicture(ctx, req.TownshipCode, format, dpi)
	switch {
	case errors.Is(err, ErrPictureRequest):
		return nil, status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, keystore.ErrNoSeal):
		return nil, status.Errorf(codes.NotFound, "township %s has no seal", req.TownshipCode)
	case err != nil:
		return nil, toStatus(err)
	}
	return &sealv1.SealImage{MediaType: p.MediaType, Data: p.Data, Drawn: p.Drawn, SealName: p.SealName, DiameterMm: p.DiameterMM}, nil
}
