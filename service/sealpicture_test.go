package service

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/sealimage"
)

// TestSealPictures: a seal is drawn by the rules from its name unless the
// county put its scan in seal_image_dir; a font that cannot be read is
// reported with what to do.
func TestSealPictures(t *testing.T) {
	changan := keystore.Seal{ID: "s1", TownshipCode: "450224100", Name: "融安县长安镇人民政府行政审批专用章"}
	scans := t.TempDir()
	if err := os.WriteFile(filepath.Join(scans, "450224101.png"), sealimage.Round(300), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		cfg      Config
		seal     keystore.Seal
		vector   bool
		mm       float64
		failWith string
	}{
		{"drawn by the rules", Config{SealFont: sealimage.DefaultFontPath, SealDiameterMM: 42}, changan, true, 42, ""},
		{"drawn at 40 mm", Config{SealFont: sealimage.DefaultFontPath, SealDiameterMM: 40}, changan, true, 40, ""},
		{"no scan for this township", Config{SealImageDir: scans, SealFont: sealimage.DefaultFontPath, SealDiameterMM: 42}, changan, true, 42, ""},
		{"the county's scan", Config{SealImageDir: scans, SealFont: "/nonexistent.ttf", SealDiameterMM: 42},
			keystore.Seal{ID: "s2", TownshipCode: "450224101", Name: "融安县浮石镇人民政府行政审批专用章"}, false, 42, ""},
		{"no font", Config{SealFont: "/nonexistent.ttf", SealDiameterMM: 42}, changan, false, 0, "install fonts-arphic-uming"},
		{"a name the font cannot draw", Config{SealFont: sealimage.DefaultFontPath, SealDiameterMM: 42},
			keystore.Seal{ID: "s3", TownshipCode: "450224102", Name: "融安县\U0001F600镇人民政府"}, false, 0, "U+1F600"},
	} {
		s := &Service{Config: &tc.cfg}
		p, err := s.picture(tc.seal)
		if tc.failWith != "" {
			if err == nil || !strings.Contains(err.Error(), tc.failWith) || !strings.Contains(err.Error(), tc.seal.Name) {
				t.Errorf("%s: %v, want an error naming the seal and saying %q", tc.name, err, tc.failWith)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var img *pdf.SealImage
		if p.drawn != nil {
			img, err = pdf.NewVectorSeal(p.drawn.PDFContent(), p.drawn.DiameterMM())
		} else {
			img, err = pdf.NewSealImage(p.scan, float64(tc.cfg.SealDiameterMM))
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		} else if img.Vector() != tc.vector || img.WidthMM() < tc.mm-0.01 || img.WidthMM() > tc.mm+0.01 {
			t.Errorf("%s: vector %v, %.2f mm; want vector %v, %g mm", tc.name, img.Vector(), img.WidthMM(), tc.vector, tc.mm)
		}
	}
}

// TestSealPictureConfig: seal_font and seal_diameter_mm load with their
// defaults, from the file or the environment, and a size no seal has is
// refused.
func TestSealPictureConfig(t *testing.T) {
	for _, tc := range []struct {
		file, env string
		font      string
		mm        int64
		invalid   bool
	}{
		{"", "", sealimage.DefaultFontPath, 42, false},
		{"seal_diameter_mm: 40\nseal_font: fonts/song.ttf\n", "", "fonts/song.ttf", 40, false},
		{"", "40", sealimage.DefaultFontPath, 40, false},
		{"seal_diameter_mm: 4\n", "", sealimage.DefaultFontPath, 4, true},
	} {
		t.Setenv("ESEAL_SEAL_DIAMETER_MM", tc.env)
		if tc.env == "" {
			os.Unsetenv("ESEAL_SEAL_DIAMETER_MM")
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "sealsvc.yaml")
		if err := os.WriteFile(path, []byte("data_dir: .\n"+tc.file), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		font := tc.font
		if !filepath.IsAbs(font) {
			font = filepath.Join(dir, font)
		}
		if c.SealFont != font || c.SealDiameterMM != tc.mm {
			t.Errorf("%q: seal_font %q, seal_diameter_mm %d; want %q, %d", tc.file, c.SealFont, c.SealDiameterMM, font, tc.mm)
		}
		if err := c.Validate(); (err != nil && strings.Contains(err.Error(), "seal_diameter_mm")) != tc.invalid {
			t.Errorf("%q: Validate %v", tc.file, err)
		}
	}
}
