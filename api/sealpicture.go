package api

import (
	"context"
	"errors"

	"github.com/ronganxian/eseal/keystore"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal/ses"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// SealPictures gives the picture of a township's current seal, as sealed
// documents show it. Package service implements it: it knows whether the
// county put a scan in place of the drawn seal, and with which font and
// size seals are drawn.
type SealPictures interface {
	SealPicture(ctx context.Context, township, format string, dpi int) (*SealPicture, error)
	// SESeal returns the national seal data (GB/T 38540) of the
	// township's current seal, made from its picture the first time.
	SESeal(ctx context.Context, township string) (keystore.SESealRecord, error)
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

// ExportSESeal answers with the SESeal of the township's current seal,
// made by the county as seal maker the first time.
func (s *sealAdminServer) ExportSESeal(ctx context.Context, req *sealv1.ExportSESealRequest) (*sealv1.SESeal, error) {
	if s.pictures == nil {
		return nil, status.Error(codes.Unimplemented, "this service keeps no seal pictures")
	}
	rec, err := s.pictures.SESeal(ctx, req.TownshipCode)
	if errors.Is(err, keystore.ErrNoSeal) {
		return nil, status.Errorf(codes.NotFound, "township %s has no seal", req.TownshipCode)
	} else if err != nil {
		return nil, toStatus(err)
	}
	return sesealToProto(rec)
}

// ImportSESeal replaces the township's SESeal with one made elsewhere.
func (s *sealAdminServer) ImportSESeal(ctx context.Context, req *sealv1.ImportSESealRequest) (*sealv1.SESeal, error) {
	rec, err := s.ks.ImportSESeal(ctx, req.TownshipCode, req.Seseal)
	if errors.Is(err, keystore.ErrNoSeal) {
		return nil, status.Errorf(codes.NotFound, "township %s has no seal", req.TownshipCode)
	} else if err != nil {
		return nil, toStatus(err)
	}
	s.log.Info("SESeal imported", "township", req.TownshipCode, "seal", rec.SealID, "esid", rec.ESID)
	return sesealToProto(rec)
}

func sesealToProto(rec keystore.SESealRecord) (*sealv1.SESeal, error) {
	es, err := ses.ParseSeal(rec.DER)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "the stored SESeal of seal %s: %v", rec.SealID, err)
	}
	return &sealv1.SESeal{Der: rec.DER, EsId: es.ID, Name: es.Name, Maker: es.MakerCert.Subject.CommonName,
		ValidFrom: timestamppb.New(es.ValidFrom), ValidUntil: timestamppb.New(es.ValidUntil), Imported: rec.Imported}, nil
}
