package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ronganxian/eseal/api"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/keystore/sealkeys"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/sealimage"
)

// A seal's picture is the scan of the real seal when the county put one in
// seal_image_dir (<township code>.png), cleaned (sealimage.CleanScan), else
// the seal drawn by the rules from its name (sealimage.Draw) in vector
// paths.
type picture struct {
	drawn *sealimage.Seal // or
	scan  []byte          // PNG, cleaned
}

// picture makes sl's picture.
func (s *Service) picture(sl keystore.Seal) (picture, error) {
	if s.Config.SealImageDir != "" {
		b, err := os.ReadFile(filepath.Join(s.Config.SealImageDir, sl.TownshipCode+".png"))
		if err == nil {
			clean, err := sealimage.CleanScan(b)
			if err != nil {
				return picture{}, fmt.Errorf("the scan of the seal %s: %w", sl.Name, err)
			}
			return picture{scan: clean}, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return picture{}, err
		}
	}
	f, err := sealimage.LoadFont(s.Config.SealFont)
	if err != nil {
		return picture{}, fmt.Errorf("drawing the seal %s: %w (install fonts-arphic-uming, set seal_font, or put the seal's scan in seal_image_dir)", sl.Name, err)
	}
	defer f.Close()
	name, purpose := sealimage.SplitSealName(sl.Name)
	seal, err := sealimage.Draw(sealimage.Spec{Name: name, Purpose: purpose, DiameterMM: float64(s.Config.SealDiameterMM)}, f)
	if err != nil {
		return picture{}, fmt.Errorf("drawing the seal %s: %w", sl.Name, err)
	}
	return picture{drawn: seal}, nil
}

// images gives each seal's picture ready to be drawn on documents; sealkeys
// makes it once per seal.
func (s *Service) images() sealkeys.ImageSource {
	return func(sl keystore.Seal) (*pdf.SealImage, error) {
		p, err := s.picture(sl)
		if err != nil {
			return nil, err
		}
		if p.scan != nil {
			return pdf.NewSealImage(p.scan, float64(s.Config.SealDiameterMM))
		}
		return pdf.NewVectorSeal(p.drawn.PDFContent(), p.drawn.DiameterMM())
	}
}

// pictures serves GetSealImage.
type pictures struct{ s *Service }

var _ api.SealPictures = pictures{}

// SealPicture gives the picture of township's current seal as PNG at dpi,
// or as SVG when it is drawn by the rules.
func (ps pictures) SealPicture(ctx context.Context, township, format string, dpi int) (*api.SealPicture, error) {
	if format != "png" && format != "svg" {
		return nil, fmt.Errorf("%w: format %q is not png or svg", api.ErrPictureRequest, format)
	}
	if dpi < 36 || dpi > 2400 {
		return nil, fmt.Errorf("%w: %d dpi is outside 36–2400", api.ErrPictureRequest, dpi)
	}
	sl, _, err := ps.s.Keystore.TownshipSeal(ctx, township)
	if err != nil {
		return nil, err
	}
	p, err := ps.s.picture(sl)
	if err != nil {
		return nil, err
	}
	out := &api.SealPicture{SealName: sl.Name, DiameterMM: float64(ps.s.Config.SealDiameterMM), Drawn: p.drawn != nil}
	switch {
	case p.scan != nil && format == "svg":
		return nil, fmt.Errorf("%w: the seal of %s is the county's scan, which has no SVG; ask for png", api.ErrPictureRequest, township)
	case p.scan != nil:
		out.MediaType, out.Data = "image/png", p.scan
	case format == "svg":
		out.MediaType, out.Data = "image/svg+xml", p.drawn.SVG()
	default:
		out.MediaType = "image/png"
		if out.Data, err = p.drawn.PNG(dpi); err != nil {
			return nil, err
		}
	}
	return out, nil
}
