package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ronganxian/eseal/internal/atomicfile"
	"github.com/ronganxian/eseal/verify"
)

// What `verify` says of the seal's national seal data (GB/T 38540 SESeal)
// a signature carries, and `verify --extract-seal DIR`, which writes the
// registered pictures out.

func init() {
	for k, v := range map[string][2]string{
		"seseal":          {"电子印章", "national seal"},
		"claimed-ses":     {"电子签章数据中声明", "claimed in the SES_Signature"},
		"seseal-none":     {"无（只核验了签名，没有电子印章数据）", "none (the signature only was checked: it carries no SESeal)"},
		"seseal-maker":    {"制章者", "seal maker"},
		"seseal-valid":    {"印章有效期", "seal valid"},
		"seseal-picture":  {"印章图像", "seal picture"},
		"seseal-match":    {"与页面上的印章一致", "the one drawn on the page"},
		"seseal-mismatch": {"与页面上的印章不一致", "not the one drawn on the page"},
		"maker-trusted":   {"可信", "trusted"},
		"maker-untrusted": {"不可信", "not trusted"},
	} {
		verifyText[k] = v
	}
}

// sesealRows adds what the signature's SESeal says.
func (a *app) sesealRows(s verify.SignatureReport, add func(key, value string)) {
	es := s.SESeal
	if es == nil {
		add("seseal", a.vt("seseal-none"))
		return
	}
	add("seseal", es.Name+"  esID "+es.ID)
	maker := a.vt("maker-untrusted")
	if es.MakerTrusted {
		maker = a.vt("maker-trusted")
	}
	add("seseal-maker", es.Maker+a.paren(maker))
	add("seseal-valid", a.day(es.ValidFrom)+" – "+a.day(es.ValidUntil))
	match := a.vt("seseal-mismatch")
	if es.PictureMatches {
		match = a.vt("seseal-match")
	}
	add("seseal-picture", fmt.Sprintf("%s %d×%d mm%s", strings.ToUpper(es.PictureType), es.PictureWidthMM, es.PictureHeightMM, a.paren(match)))
}

// extractSeals writes the registered picture of each signature's SESeal in
// the report of file into dir, as <file>-<field>.<type>, and says so.
func (a *app) extractSeals(dir, file string, rep *verify.FileReport) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	for _, s := range rep.Signatures {
		if s.SESeal == nil || len(s.SESeal.Picture) == 0 {
			continue
		}
		name := filepath.Join(dir, safeName(base+"-"+s.Field)+"."+safeName(s.SESeal.PictureType))
		if err := atomicfile.WriteFile(name, s.SESeal.Picture, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "%s: %s\n", a.vt("seseal-picture"), termText(name))
	}
	return nil
}

// safeName keeps a file name from a PDF's field name to one path element.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r < 0x20 {
			return '_'
		}
		return r
	}, strings.TrimLeft(s, "."))
}
