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
	"github.com/ronganxian/eseal/seal/ses"
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

// registered returns seal sl's national seal data (GB/T 38540 SESeal),
// made by the county as seal maker from the seal's picture the first time
// it is asked for (keystore.MakeSESeal), or imported; the picture
// documents draw is the SESeal's. Without a seal maker (a county whose CA
// key is held elsewhere, and no SESeal imported) it returns nil: the seal
// is drawn from its picture and documents carry no SESeal.
func (s *Service) registered(ctx context.Context, sl keystore.Seal) (*ses.Seal, error) {
	rec, err := s.Keystore.SESeal(ctx, sl.ID)
	if errors.Is(err, keystore.ErrNotFound) {
		p, perr := s.picture(sl)
		if perr != nil {
			return nil, perr
		}
		pic := ses.Picture{Type: ses.PicturePNG, Data: p.scan, WidthMM: int(s.Config.SealDiameterMM), HeightMM: int(s.Config.SealDiameterMM)}
		if p.drawn != nil {
			pic.Type, pic.Data = ses.PictureSVG, p.drawn.SVG()
		}
		rec, err = s.Keystore.MakeSESeal(ctx, sl, pic)
		if errors.Is(err, keystore.ErrNoCAKey) || errors.Is(err, keystore.ErrNoSealMakerStore) {
			return nil, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("the SESeal of seal %s: %w", sl.Name, err)
	}
	return ses.ParseSeal(rec.DER)
}

// images gives each seal's picture, ready to be drawn on documents and
// carrying its SESeal; sealkeys keeps it a while.
func (s *Service) images() sealkeys.ImageSource {
	return func(ctx context.Context, sl keystore.Seal) (*pdf.SealImage, error) {
		es, err := s.registered(ctx, sl)
		if err != nil {
			return nil, err
		}
		if es != nil {
			img, err := pdf.SealPicture(es.Picture.Type, es.Picture.Data, es.Picture.WidthMM)
			if err != nil {
				return nil, err
			}
			return img.WithSESeal(es.Raw)
		}
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

// SESeal gives the SESeal of township's current seal, making it the first
// time; a county without a seal maker here and no imported SESeal gets
// keystore.ErrNoCAKey.
func (ps pictures) SESeal(ctx context.Context, township string) (keystore.SESealRecord, error) {
	sl, _, err := ps.s.Keystore.TownshipSeal(ctx, township)
	if err != nil {
		return keystore.SESealRecord{}, err
	}
	es, err := ps.s.registered(ctx, sl)
	if err != nil {
		return keystore.SESealRecord{}, err
	}
	if es == nil {
		return keystore.SESealRecord{}, fmt.Errorf("%w: seal %s has no SESeal and no seal maker here can make one; import one", keystore.ErrNoCAKey, sl.Name)
	}
	return ps.s.Keystore.SESeal(ctx, sl.ID)
}

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
	es, err := ps.s.registered(ctx, sl)
	if err != nil {
		return nil, err
	}
	var p picture
	out := &api.SealPicture{SealName: sl.Name, DiameterMM: float64(ps.s.Config.SealDiameterMM)}
	switch {
	case es != nil && es.Picture.Type == ses.PictureSVG:
		if p.drawn, err = sealimage.ParseSVG(es.Picture.Data); err != nil {
			return nil, err
		}
		out.DiameterMM = float64(es.Picture.WidthMM)
	case es != nil:
		p.scan = es.Picture.Data
		out.DiameterMM = float64(es.Picture.WidthMM)
	default:
		if p, err = ps.s.picture(sl); err != nil {
			return nil, err
		}
	}
	out.Drawn = p.drawn != nil
	switch {
	case p.scan != nil && format == "svg":
		return nil, fmt.Errorf("%w: the seal of %s is the county's scan, which has no SVG; ask for png", api.ErrPictureRequest, township)
	case p.scan != nil:
		out.MediaType, out.Data = "image/png", p.scan
	case format == "svg" && es != nil:
		out.MediaType, out.Data = "image/svg+xml", es.Picture.Data // as registered, byte for byte
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
