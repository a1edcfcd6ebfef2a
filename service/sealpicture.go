package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/keystore/sealkeys"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/sealimage"
)

// images returns each seal's picture: the scan of the real seal when the
// county put one in seal_image_dir (<township code>.png), else the seal
// drawn by the rules from its name (sealimage), in vector paths. Each is
// made once per seal (sealkeys caches it).
func (s *Service) images() sealkeys.ImageSource {
	return func(sl keystore.Seal) (*pdf.SealImage, error) {
		if s.Config.SealImageDir != "" {
			b, err := os.ReadFile(filepath.Join(s.Config.SealImageDir, sl.TownshipCode+".png"))
			if err == nil {
				return pdf.NewSealImage(b, float64(s.Config.SealDiameterMM))
			}
			if !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		}
		seal, err := s.drawSeal(sl)
		if err != nil {
			return nil, err
		}
		return pdf.NewVectorSeal(seal.PDFContent(), seal.DiameterMM())
	}
}

// drawSeal draws sl by the rules with the configured font.
func (s *Service) drawSeal(sl keystore.Seal) (*sealimage.Seal, error) {
	f, err := sealimage.LoadFont(s.Config.SealFont)
	if err != nil {
		return nil, fmt.Errorf("drawing the seal %s: %w (install fonts-arphic-uming, set seal_font, or put the seal's scan in seal_image_dir)", sl.Name, err)
	}
	defer f.Close()
	name, purpose := sealimage.SplitSealName(sl.Name)
	seal, err := sealimage.Draw(sealimage.Spec{Name: name, Purpose: purpose, DiameterMM: float64(s.Config.SealDiameterMM)}, f)
	if err != nil {
		return nil, fmt.Errorf("drawing the seal %s: %w", sl.Name, err)
	}
	return seal, nil
}
