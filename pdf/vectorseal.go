package pdf

import (
	"bytes"
	"fmt"

	"github.com/ronganxian/eseal/sealimage"
)

// A seal drawn by the rules (package sealimage) is paths, not pixels: its
// picture is a content stream that fills outlines in the seal's colour. It
// is carried as a form XObject, written once per update like an image, and
// each widget's appearance draws that form. The paths are exact at any zoom
// and in print, and the document embeds no font for the seal's text.

// maxSealContent bounds a vector seal's content stream: a seal with twenty
// characters is about 60 KB; anything near this is not a seal.
const maxSealContent = 4 << 20

// NewVectorSeal prepares a seal drawn by the PDF content stream content in
// a box sizeMM millimetres square, in points with its origin at the lower
// left (sealimage.Seal.PDFContent). The content may use only path
// construction and painting operators and colour: it has no resources.
func NewVectorSeal(content []byte, sizeMM float64) (*SealImage, error) {
	if err := checkVectorSeal(content, sizeMM); err != nil {
		return nil, err
	}
	form, err := deflate(content)
	if err != nil {
		return nil, err
	}
	pt := sizeMM * ptPerMM
	return &SealImage{wPt: pt, hPt: pt, form: form, digest: formDigest(content)}, nil
}

// checkVectorSeal is what NewVectorSeal checks of a drawn seal.
func checkVectorSeal(content []byte, sizeMM float64) error {
	if sizeMM < 1 || sizeMM > 500 {
		return fmt.Errorf("%w: size %.1f mm is outside 1–500 mm", ErrBadImage, sizeMM)
	}
	if len(content) == 0 || len(content) > maxSealContent {
		return fmt.Errorf("%w: a seal's content stream of %d bytes", ErrBadImage, len(content))
	}
	return pathsOnly(content)
}

// SealPictureDigest is the Digest of SealPicture(typ, data, widthMM),
// without preparing the picture to be drawn: a drawn seal's paths and a
// scan's samples are not compressed, which is much of SealPicture's work
// and none of what a verifier needs.
func SealPictureDigest(typ string, data []byte, widthMM int) (PictureDigest, error) {
	switch typ {
	case "png":
		img, err := newSealImage(data, float64(widthMM), false)
		if err != nil {
			return PictureDigest{}, err
		}
		return img.Digest(), nil
	case "svg":
	default:
		return PictureDigest{}, fmt.Errorf("%w: picture type %q is neither svg nor png", ErrBadImage, typ)
	}
	content, err := sealimage.PDFContentFromSVG(data)
	if err != nil {
		return PictureDigest{}, fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	if err := checkVectorSeal(content, float64(widthMM)); err != nil {
		return PictureDigest{}, err
	}
	return formDigest(content), nil
}

// pathsOnly checks that content uses only the operators a drawn seal needs,
// so that what the form draws is what its paths say: no text, images,
// other forms, or resources that the form does not carry.
func pathsOnly(content []byte) error {
	allowed := map[string]bool{
		"q": true, "Q": true, "cm": true, "w": true, "J": true, "j": true, "M": true,
		"m": true, "l": true, "c": true, "v": true, "y": true, "h": true, "re": true,
		"f": true, "F": true, "f*": true, "S": true, "s": true, "B": true, "B*": true, "b": true, "b*": true, "n": true,
		"g": true, "G": true, "rg": true, "RG": true, "k": true, "K": true,
	}
	for _, tok := range bytes.Fields(content) {
		c := tok[0]
		if c == '-' || c == '.' || c >= '0' && c <= '9' {
			continue
		}
		if !allowed[string(tok)] {
			return fmt.Errorf("%w: a seal's content stream uses %q; only paths and colours may draw it", ErrBadImage, tok)
		}
	}
	return nil
}

// Vector reports whether the seal is drawn as paths (NewVectorSeal) rather
// than as an image.
func (s *SealImage) Vector() bool { return s.form != nil }

// SealPicture prepares a seal's registered picture — the picture of its
// national seal data (GB/T 38540 SESeal), of type typ ("svg" or "png") and
// widthMM wide — as documents draw it: an SVG in the form sealimage writes
// by its paths, a PNG as an image. The sealer draws this, and a verifier
// compares its Digest with what a widget draws.
func SealPicture(typ string, data []byte, widthMM int) (*SealImage, error) {
	switch typ {
	case "svg":
		content, err := sealimage.PDFContentFromSVG(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadImage, err)
		}
		return NewVectorSeal(content, float64(widthMM))
	case "png":
		return NewSealImage(data, float64(widthMM))
	}
	return nil, fmt.Errorf("%w: picture type %q is neither svg nor png", ErrBadImage, typ)
}

// WithSESeal returns the seal image carrying the seal's national seal data
// (GB/T 38540 SESeal, DER) whose picture it is. Every signature drawn with
// it then carries the SESeal in its signed revision, as a stream that the
// signature dictionary names (/ESealSESeal), so that a verifier can check
// that the picture on the page is the seal's registered one. The SESeal is
// compressed here, once per seal, not once per document.
func (s *SealImage) WithSESeal(der []byte) (*SealImage, error) {
	if len(der) == 0 || len(der) > maxSESeal {
		return nil, fmt.Errorf("%w: an SESeal of %d bytes", ErrBadImage, len(der))
	}
	c, err := deflate(der)
	if err != nil {
		return nil, err
	}
	out := *s
	out.seseal, out.sesealDER = c, der
	return &out, nil
}

// SESeal returns the SESeal the image carries (WithSESeal), nil when none.
func (s *SealImage) SESeal() []byte { return s.sesealDER }
