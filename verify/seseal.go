package verify

import (
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/seal/ses"
)

// The seal, not only the signature. A signature made with a township seal
// carries the seal's national seal data (GB/T 38540 SESeal) in its signed
// revision (pdf: /ESealSESeal). The verifier checks that:
//   - the seal maker's signature on the SESeal verifies, and the maker's
//     certificate chains to a trust anchor and carries the seal-maker
//     policy (keystore.SealMakerPolicyOID), so no township seal can have
//     made it;
//   - the SESeal was valid at the signing time (the proven time when a
//     timestamp proves one);
//   - the signing certificate is one the SESeal lists;
//   - the picture every widget of the signature draws is the SESeal's
//     picture (pdf.PictureDigest), so a valid signature under another
//     township's picture is invalid (seal_image_mismatch).
// A signature without an SESeal (documents sealed elsewhere, or before
// seals had one) is checked as a signature only, and the report says so.

// sealMakerPolicy is keystore.SealMakerPolicyOID; the verifier does not
// import the keystore (it runs in browsers too), and a test checks the two
// agree.
const sealMakerPolicy = "2.25.138346704652197221268288181764403961120"

// SESealInfo describes the SESeal a signature carries.
type SESealInfo struct {
	ID, Name, Vendor      string
	Maker                 string // the maker certificate's subject common name
	MakerTrusted          bool
	Created               time.Time
	ValidFrom, ValidUntil time.Time
	PictureType           string
	PictureWidthMM        int
	PictureHeightMM       int
	PictureMatches        bool
	Picture               []byte `json:"-"` // the picture's bytes, for --extract-seal
}

// checkSESeal checks the SESeal that s's dictionary names (the default
// profile), at time at, with res the CMS result (its signer), adding
// reasons to sr.
func (v *verifier) checkSESeal(sr *SignatureReport, s *pdf.SignatureField, res *cms.Result, at time.Time) {
	if s.SESeal == nil && s.SESealProblem == nil {
		return
	}
	if s.SESealProblem != nil {
		sr.Reasons = append(sr.Reasons, problem(CodeSESealInvalid, "%v", s.SESealProblem))
		return
	}
	es, err := ses.ParseSeal(s.SESeal)
	if err != nil {
		sr.Reasons = append(sr.Reasons, problem(CodeSESealInvalid, "%v", err))
		return
	}
	var signer *smx509.Certificate
	if res != nil {
		signer = res.Signer
	}
	v.checkSeal(sr, s.Widgets, es, signer, at)
}

// checkSeal checks the parsed SESeal es of a signature by signer at time
// at, whose widgets are ws.
func (v *verifier) checkSeal(sr *SignatureReport, ws []pdf.Widget, es *ses.Seal, signer *smx509.Certificate, at time.Time) {
	info := &SESealInfo{ID: es.ID, Name: es.Name, Vendor: es.VendorID, Maker: es.MakerCert.Subject.CommonName,
		Created: es.Created, ValidFrom: es.ValidFrom, ValidUntil: es.ValidUntil,
		PictureType: es.Picture.Type, PictureWidthMM: es.Picture.WidthMM, PictureHeightMM: es.Picture.HeightMM, Picture: es.Picture.Data}
	sr.SESeal = info
	if err := es.VerifyMaker(); err != nil {
		sr.Reasons = append(sr.Reasons, problem(CodeSESealInvalid, "%v", err))
		return
	}
	if ok, why := v.trustedMaker(es.MakerCert, es.Created); !ok {
		// Its picture means nothing, and decoding it would let anyone
		// who makes a seal spend the verifier's memory: stop here.
		sr.Reasons = append(sr.Reasons, problem(CodeSESealMaker, "seal %s made by %q: %s", es.ID, info.Maker, why))
		return
	}
	info.MakerTrusted = true
	if !es.ValidAt(at) {
		sr.Reasons = append(sr.Reasons, problem(CodeSESealNotValid, "seal %s is valid %s – %s; signed at %s", es.ID,
			es.ValidFrom.Format(time.DateOnly), es.ValidUntil.Format(time.DateOnly), at.Format(time.RFC3339)))
	}
	if signer != nil && !es.Holds(signer.Raw) {
		sr.Reasons = append(sr.Reasons, problem(CodeSESealNotHolder, "seal %s does not list the signing certificate (%s)", es.ID, signer.Subject.CommonName))
	}
	want, err := pictureDigest(es.Picture)
	if err != nil {
		sr.Reasons = append(sr.Reasons, problem(CodeSealImageMismatch, "seal %s's picture cannot be drawn for comparison: %v", es.ID, err))
		return
	}
	info.PictureMatches = true
	for i, w := range ws {
		if w.Drawn && (!w.HasPicture || w.Picture != want) {
			info.PictureMatches = false
			sr.Reasons = append(sr.Reasons, problem(CodeSealImageMismatch, "widget %d on page %d draws a picture other than seal %s's", i+1, w.Page, es.ID))
		}
	}
}

// pictureDigest is the digest of the picture the SESeal registers, as the
// engine draws it (pdf.SealPictureDigest).
func pictureDigest(p ses.Picture) (pdf.PictureDigest, error) {
	return pdf.SealPictureDigest(p.Type, p.Data, p.WidthMM)
}

// trustedMaker reports whether cert is a seal maker's certificate that
// chains to a trust anchor at t.
func (v *verifier) trustedMaker(cert *smx509.Certificate, t time.Time) (bool, string) {
	marked := false
	for _, p := range cert.Policies {
		if p.String() == sealMakerPolicy {
			marked = true
		}
	}
	if !marked || cert.IsCA || cert.KeyUsage&smx509.KeyUsageDigitalSignature == 0 {
		return false, "its certificate is not a seal maker's (no seal-maker policy)"
	}
	inter := smx509.NewCertPool()
	for _, c := range v.intermediates {
		inter.AddCert(c)
	}
	if _, err := cert.Verify(smx509.VerifyOptions{Roots: v.roots, Intermediates: inter, CurrentTime: t,
		KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}}); err != nil {
		return false, "its certificate does not chain to a trust anchor: " + err.Error()
	}
	return true, ""
}
