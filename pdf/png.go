package pdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/png"
)

// The seal image. A township seal is a PNG, red on transparent. PNGs come in
// many colour types; each is converted here to non-premultiplied colour
// samples and, when any pixel is not opaque, a separate alpha channel that
// the PDF image carries as its /SMask (ISO 32000-2 §11.6.5.3). A paletted
// PNG with a tRNS chunk keeps its transparency this way; reading only its
// palette colours would draw the transparent entries as a black box.
//
// A seal is printed in one ink: its pixels differ in coverage (alpha), not
// in colour. When that holds — every pixel's colour, weighted by its
// alpha, within inkTolerance of the ink — the colour image is stored as a
// single pixel of the ink, and the soft mask alone carries the shape (the
// standard lets a soft mask's resolution differ from its image's). That
// halves what every sealed document carries and hashes.
//
// The decoded and compressed samples are kept in the SealImage, which is
// made once per seal and used for every document.

// DefaultSealWidthMM is the diameter of a township government's seal.
const DefaultSealWidthMM = 42

// inkTolerance is the largest difference, in 8-bit levels over any
// background, that storing a seal as one ink may make to a pixel.
const inkTolerance = 4

// maxImagePixels bounds the seal image's size in pixels.
const maxImagePixels = 4096 * 4096

const ptPerMM = 72 / 25.4

// SealImage is a seal image ready to be placed: decoded, converted and
// compressed once. It is immutable and safe for concurrent use.
type SealImage struct {
	w, h       int           // pixels of the colour image: 1×1 for one ink
	maskW      int           // pixels of the soft mask
	maskH      int           //
	wPt, hPt   float64       // size on the page, in points
	colorSpace name          // DeviceRGB, or DeviceGray when every pixel is grey
	samples    []byte        // zlib-compressed colour samples
	alpha      []byte        // zlib-compressed alpha samples, nil when opaque
	form       []byte        // zlib-compressed content stream of a vector seal (vectorseal.go); then no samples
	digest     PictureDigest // of the picture as drawn (picturedigest.go)
	seseal     []byte        // zlib-compressed SESeal whose picture this is (WithSESeal); nil when none
	sesealDER  []byte        // the same, as given
}

// NewSealImage decodes a PNG seal image of any colour type and prepares it
// to be drawn widthMM millimetres wide (DefaultSealWidthMM when zero); its
// height follows the image's aspect ratio.
func NewSealImage(pngData []byte, widthMM float64) (*SealImage, error) {
	return newSealImage(pngData, widthMM, true)
}

// newSealImage is NewSealImage; without compress it makes the picture's
// digest only, and keeps no samples (SealPictureDigest).
func newSealImage(pngData []byte, widthMM float64, compress bool) (*SealImage, error) {
	if widthMM == 0 {
		widthMM = DefaultSealWidthMM
	}
	if widthMM < 1 || widthMM > 500 {
		return nil, fmt.Errorf("%w: width %.1f mm is outside 1–500 mm", ErrBadImage, widthMM)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(pngData))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxImagePixels {
		return nil, fmt.Errorf("%w: %d×%d pixels (at most %d in all)", ErrBadImage, cfg.Width, cfg.Height, maxImagePixels)
	}
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	s := &SealImage{w: cfg.Width, h: cfg.Height, maskW: cfg.Width, maskH: cfg.Height}
	s.wPt = widthMM * ptPerMM
	s.hPt = s.wPt * float64(s.h) / float64(s.w)

	rgb, alpha, grey, opaque := samples(img)
	if ink, ok := oneInk(rgb, alpha); ok && !opaque {
		rgb = ink[:]
		s.w, s.h = 1, 1
	}
	if grey {
		s.colorSpace = "DeviceGray"
		g := make([]byte, len(rgb)/3)
		for i := range g {
			g[i] = rgb[3*i]
		}
		rgb = g
	} else {
		s.colorSpace = "DeviceRGB"
	}
	if !compress {
		if opaque {
			s.digest = imageDigest(s.w, s.h, string(s.colorSpace), rgb, 0, 0, nil)
		} else {
			s.digest = imageDigest(s.w, s.h, string(s.colorSpace), rgb, s.maskW, s.maskH, alpha)
		}
		return s, nil
	}
	if s.samples, err = deflate(rgb); err != nil {
		return nil, err
	}
	if !opaque {
		if s.alpha, err = deflate(alpha); err != nil {
			return nil, err
		}
		s.digest = imageDigest(s.w, s.h, string(s.colorSpace), rgb, s.maskW, s.maskH, alpha)
	} else {
		s.digest = imageDigest(s.w, s.h, string(s.colorSpace), rgb, 0, 0, nil)
	}
	return s, nil
}

// WidthMM and HeightMM return the size the seal is drawn at.
func (s *SealImage) WidthMM() float64  { return s.wPt / ptPerMM }
func (s *SealImage) HeightMM() float64 { return s.hPt / ptPerMM }

// samples converts img to 8-bit non-premultiplied RGB and alpha. Fully
// transparent pixels take the mean colour of the visible ones, so that a
// viewer that interpolates the image does not blend a dark fringe into the
// seal's edges.
func samples(img image.Image) (rgb, alpha []byte, grey, opaque bool) {
	b := img.Bounds()
	n := b.Dx() * b.Dy()
	rgb = make([]byte, 3*n)
	alpha = make([]byte, n)
	at := pixelReader(img)
	i := 0
	var sum [3]uint64
	var visible uint64
	grey, opaque = true, true
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := at(x, y)
			rgb[3*i], rgb[3*i+1], rgb[3*i+2], alpha[i] = c.R, c.G, c.B, c.A
			if c.A != 255 {
				opaque = false
			}
			if c.A != 0 {
				if c.R != c.G || c.G != c.B {
					grey = false
				}
				sum[0] += uint64(c.R)
				sum[1] += uint64(c.G)
				sum[2] += uint64(c.B)
				visible++
			}
			i++
		}
	}
	if !opaque && visible > 0 {
		fill := [3]byte{byte(sum[0] / visible), byte(sum[1] / visible), byte(sum[2] / visible)}
		if grey {
			fill[1], fill[2] = fill[0], fill[0]
		}
		for i, a := range alpha {
			if a == 0 {
				copy(rgb[3*i:3*i+3], fill[:])
			}
		}
	}
	return rgb, alpha, grey, opaque
}

// oneInk reports whether the image is one ink, and which: the
// alpha-weighted mean colour, when no pixel differs from it by more than
// inkTolerance once weighted by its alpha.
func oneInk(rgb, alpha []byte) ([3]byte, bool) {
	var sum [3]uint64
	var wsum uint64
	for i, a := range alpha {
		for k := range 3 {
			sum[k] += uint64(a) * uint64(rgb[3*i+k])
		}
		wsum += uint64(a)
	}
	if wsum == 0 {
		return [3]byte{}, false
	}
	var ink [3]byte
	for k := range 3 {
		ink[k] = byte((sum[k] + wsum/2) / wsum)
	}
	for i, a := range alpha {
		for k := range 3 {
			d := int(rgb[3*i+k]) - int(ink[k])
			if d < 0 {
				d = -d
			}
			if d*int(a) > inkTolerance*255 {
				return [3]byte{}, false
			}
		}
	}
	return ink, true
}

// pixelReader returns a fast accessor for the common PNG image types and
// the generic colour model conversion for the rest.
func pixelReader(img image.Image) func(x, y int) color.NRGBA {
	switch m := img.(type) {
	case *image.NRGBA:
		return func(x, y int) color.NRGBA {
			i := m.PixOffset(x, y)
			p := m.Pix[i : i+4 : i+4]
			return color.NRGBA{p[0], p[1], p[2], p[3]}
		}
	case *image.Paletted:
		pal := make([]color.NRGBA, 256)
		for i, c := range m.Palette {
			pal[i] = color.NRGBAModel.Convert(c).(color.NRGBA)
		}
		return func(x, y int) color.NRGBA { return pal[m.Pix[m.PixOffset(x, y)]] }
	case *image.RGBA:
		return func(x, y int) color.NRGBA {
			i := m.PixOffset(x, y)
			p := m.Pix[i : i+4 : i+4]
			switch a := uint32(p[3]); a {
			case 255:
				return color.NRGBA{p[0], p[1], p[2], 255}
			case 0:
				return color.NRGBA{}
			default:
				return color.NRGBA{uint8(uint32(p[0]) * 255 / a), uint8(uint32(p[1]) * 255 / a), uint8(uint32(p[2]) * 255 / a), p[3]}
			}
		}
	case *image.Gray:
		return func(x, y int) color.NRGBA {
			g := m.Pix[m.PixOffset(x, y)]
			return color.NRGBA{g, g, g, 255}
		}
	}
	return func(x, y int) color.NRGBA { return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) }
}

func deflate(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.Write(b)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
