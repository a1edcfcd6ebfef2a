package pdf

import (
	"bytes"
	"encoding/binary"
	"strconv"

	"github.com/emmansun/gmsm/sm3"
)

// What a seal widget draws, identified so that it can be compared with the
// seal's registered picture (the picture of a GB/T 38540 SESeal): a
// verifier must be able to tell that the image on the page is the
// township's seal and not another picture signed with its key.
//
// The engine draws a seal as one XObject — a form of paths for a drawn seal,
// an image with a soft mask for a scan — placed by the widget's appearance
// with "q a b c d e f cm /Name Do Q" (appearance.go). Its PictureDigest is
// the SM3 of that XObject in a canonical form: a form's decoded content, or
// an image's size, colour space and decoded samples with its mask's. The
// same picture prepared again (NewVectorSeal, NewSealImage) gives the same
// digest, however the document compressed it or where the widget put it.

// PictureDigest is the SM3 of a seal picture in canonical form.
type PictureDigest [32]byte

func formDigest(content []byte) PictureDigest {
	h := sm3.New()
	h.Write([]byte("form\x00"))
	h.Write(content)
	var d PictureDigest
	h.Sum(d[:0])
	return d
}

func imageDigest(w, h int, colorSpace string, samples []byte, maskW, maskH int, alpha []byte) PictureDigest {
	s := sm3.New()
	var n [8]byte
	put := func(v int) { binary.BigEndian.PutUint64(n[:], uint64(v)); s.Write(n[:]) }
	s.Write([]byte("image\x00" + colorSpace + "\x00"))
	put(w)
	put(h)
	put(len(samples))
	s.Write(samples)
	put(maskW)
	put(maskH)
	put(len(alpha))
	s.Write(alpha)
	var d PictureDigest
	s.Sum(d[:0])
	return d
}

// Digest returns the digest of the seal's picture as a document draws it.
func (s *SealImage) Digest() PictureDigest { return s.digest }

// maxPictureStream bounds what is decoded to identify a widget's picture.
const maxPictureStream = 16 << 20

// widgetPicture returns the digest of the one XObject the appearance ap
// (a widget's /AP /N) places, and false when the appearance is not a single
// placed XObject of the engine's shape.
func (d *document) widgetPicture(ap object) (PictureDigest, bool) {
	var none PictureDigest
	o, err := d.resolve(ap)
	if err != nil {
		return none, false
	}
	st, ok := o.(*stream)
	if !ok || st.n > maxPictureStream {
		return none, false
	}
	content, err := d.streamData(st)
	if err != nil {
		return none, false
	}
	f := bytes.Fields(content)
	if len(f) != 11 || string(f[0]) != "q" || string(f[7]) != "cm" || string(f[9]) != "Do" || string(f[10]) != "Q" || f[8][0] != '/' {
		return none, false
	}
	for _, v := range f[1:7] {
		if _, err := strconv.ParseFloat(string(v), 64); err != nil {
			return none, false
		}
	}
	res, err := d.getDict(st.dict.get("Resources"), "appearance resources")
	if err != nil {
		return none, false
	}
	xo, err := d.getDict(res.get("XObject"), "appearance XObjects")
	if err != nil {
		return none, false
	}
	xr, err := d.resolve(xo.get(name(f[8][1:])))
	if err != nil {
		return none, false
	}
	x, ok := xr.(*stream)
	if !ok || x.n > maxPictureStream {
		return none, false
	}
	data, err := d.streamData(x)
	if err != nil {
		return none, false
	}
	switch nameOf(x.dict.get("Subtype")) {
	case "Form":
		return formDigest(data), true
	case "Image":
		w, _ := asInt(x.dict.get("Width"))
		h, _ := asInt(x.dict.get("Height"))
		cs := nameOf(x.dict.get("ColorSpace"))
		var alpha []byte
		var mw, mh int64
		if mo, err := d.resolve(x.dict.get("SMask")); err == nil && mo != nil {
			m, ok := mo.(*stream)
			if !ok || m.n > maxPictureStream {
				return none, false
			}
			if alpha, err = d.streamData(m); err != nil {
				return none, false
			}
			mw, _ = asInt(m.dict.get("Width"))
			mh, _ = asInt(m.dict.get("Height"))
		}
		return imageDigest(int(w), int(h), string(cs), data, int(mw), int(mh), alpha), true
	}
	return none, false
}
