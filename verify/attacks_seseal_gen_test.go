package verify

import (
	"crypto/rand"
	"crypto/x509/pkix"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/ses"
	"github.com/ronganxian/eseal/sealimage"
)

// sesealFiles are the corpus's seals with national seal data (GB/T 38540
// SESeal), made by a seal maker under the corpus root:
//
//	valid-seseal.pdf         长安镇's seal drawn by the rules, with its SESeal
//	seal-image-mismatch.pdf  a valid signature by 长安镇's seal, with its
//	                         SESeal, whose widget shows 浮石镇's seal
func (p *corpusPKI) sesealFiles(decision []byte) (map[string][]byte, error) {
	makerKey, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	policy, err := smx509.ParseOID(sealMakerPolicy)
	if err != nil {
		return nil, err
	}
	der, err := smx509.CreateCertificate(rand.Reader, &smx509.Certificate{
		SerialNumber: randSerial(), Subject: pkix.Name{CommonName: "测试县电子印章制作 (TEST)"},
		NotBefore: p.signingTime.Add(-time.Hour), NotAfter: p.signingTime.Add(50 * 365 * 24 * time.Hour),
		KeyUsage: smx509.KeyUsageDigitalSignature, BasicConstraintsValid: true, Policies: []smx509.OID{policy},
	}, p.root, makerKey.Public(), p.rootKey)
	if err != nil {
		return nil, err
	}
	maker, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	font, err := sealimage.LoadFont(sealimage.DefaultFontPath)
	if err != nil {
		return nil, err
	}
	defer font.Close()
	picture := func(name string) (ses.Picture, error) {
		s, err := sealimage.Draw(sealimage.Spec{Name: name, Purpose: "行政审批专用章"}, font)
		if err != nil {
			return ses.Picture{}, err
		}
		return ses.Picture{Type: ses.PictureSVG, Data: s.SVG(), WidthMM: 42, HeightMM: 42}, nil
	}
	changan, err := picture("融安县长安镇人民政府")
	if err != nil {
		return nil, err
	}
	fushi, err := picture("融安县浮石镇人民政府")
	if err != nil {
		return nil, err
	}
	sealDER, err := ses.MakeSeal(ses.SealInfo{VendorID: "test", ID: "seal-450224100-corpus", Type: ses.TypeOrganization,
		Name: "融安县长安镇人民政府行政审批专用章", Certs: [][]byte{p.goodCert.Raw},
		Created: p.signingTime.Add(-time.Minute), ValidFrom: p.signingTime.Add(-time.Hour), ValidUntil: p.signingTime.Add(5 * 365 * 24 * time.Hour),
		Picture: changan}, makerKey, maker)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for name, pic := range map[string]ses.Picture{"valid-seseal.pdf": changan, "seal-image-mismatch.pdf": fushi} {
		img, err := pdf.SealPicture(pic.Type, pic.Data, pic.WidthMM)
		if err != nil {
			return nil, err
		}
		if img, err = img.WithSESeal(sealDER); err != nil {
			return nil, err
		}
		if files[name], err = p.sealWith(decision, p.good, img, ""); err != nil {
			return nil, err
		}
	}
	return files, nil
}
