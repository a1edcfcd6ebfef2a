package pdf

import (
	"fmt"
	"strconv"
)

// The seal's appearance: one image XObject (with its /SMask) per document,
// or for a vector seal one form XObject of its paths (vectorseal.go), and
// for each widget a form XObject that draws it. A cross-page seal's
// strip is a form whose bounding box is one strip wide and which draws the
// whole image shifted left, so that the box shows only its strip; the image
// is stored once, not cut.

const imageResource = "Im0"

// writeImage writes the seal image and its soft mask, returning the image;
// the image is written once per update.
func (u *update) writeImage(img *SealImage) ref {
	if u.image.num != 0 {
		return u.image
	}
	r := u.alloc()
	u.image = r
	if img.form != nil {
		u.putNew(r, &stream{dict: dict{
			{"Type", name("XObject")},
			{"Subtype", name("Form")},
			{"BBox", array{int64(0), int64(0), num(img.wPt), num(img.hPt)}},
			{"Resources", dict{}},
			{"Filter", name("FlateDecode")},
		}, data: img.form})
		return r
	}
	d := dict{
		{"Type", name("XObject")},
		{"Subtype", name("Image")},
		{"Width", int64(img.w)},
		{"Height", int64(img.h)},
		{"ColorSpace", img.colorSpace},
		{"BitsPerComponent", int64(8)},
		{"Interpolate", true},
		{"Filter", name("FlateDecode")},
	}
	var mask ref
	if img.alpha != nil {
		mask = u.alloc()
		d = append(d, dictEntry{"SMask", mask})
	}
	u.putNew(r, &stream{dict: d, data: img.samples})
	if img.alpha != nil {
		u.putNew(mask, &stream{dict: dict{
			{"Type", name("XObject")},
			{"Subtype", name("Image")},
			{"Width", int64(img.maskW)},
			{"Height", int64(img.maskH)},
			{"ColorSpace", name("DeviceGray")},
			{"BitsPerComponent", int64(8)},
			{"Interpolate", true},
			{"Filter", name("FlateDecode")},
		}, data: img.alpha})
	}
	return r
}

// writeAppearance writes the form XObject for one spot.
func (u *update) writeAppearance(s spot, img *SealImage, imgRef ref) ref {
	r := u.alloc()
	d := dict{
		{"Type", name("XObject")},
		{"Subtype", name("Form")},
		{"BBox", array{int64(0), int64(0), num(s.bboxW), num(s.bboxH)}},
	}
	if s.matrix != [6]float64{1, 0, 0, 1, 0, 0} {
		m := make(array, 6)
		for i, v := range s.matrix {
			m[i] = num(v)
		}
		d = append(d, dictEntry{"Matrix", m})
	}
	var content []byte
	if img != nil {
		d = append(d, dictEntry{"Resources", dict{{"XObject", dict{{imageResource, imgRef}}}}})
		content = append(content, "q "...)
		if img.form != nil { // a form has its own units: points
			content = append(content, "1 0 0 1 "...)
		} else { // an image fills the unit square
			content = appendReal(content, float64(num(img.wPt)))
			content = append(content, " 0 0 "...)
			content = appendReal(content, float64(num(img.hPt)))
			content = append(content, ' ')
		}
		content = appendReal(content, float64(num(-s.offsetX)))
		content = append(content, " 0 cm /"+imageResource+" Do Q"...)
	}
	u.putNew(r, &stream{dict: d, data: content})
	return r
}

// rectArray writes a rectangle as a PDF array.
func rectArray(r rect) array {
	return array{num(r.llx), num(r.lly), num(r.urx), num(r.ury)}
}

// defaultFieldName returns ESeal1, ESeal2…, the first not in use.
func defaultFieldName(used map[string]bool) string {
	for i := 1; ; i++ {
		n := "ESeal" + strconv.Itoa(i)
		if !used[n] {
			return n
		}
	}
}

// rebuildStamp adds, when the form asks viewers to rebuild its fields'
// appearances (/NeedAppearances true), a stamp annotation that draws the
// seal over its widget, which such viewers would draw empty (see fields.go).
// It returns the spots and annotations with the stamp's appended.
func (s *sealer) rebuildStamp(spots []spot, annots []ref, field string) ([]spot, []ref, error) {
	img := s.req.Image
	if !s.f.needAppearances || img == nil || len(spots) == 0 {
		return spots, annots, nil
	}
	if s.f.docMDP == 2 {
		return nil, nil, fmt.Errorf("%w: the form asks viewers to redraw its fields (/NeedAppearances), which would draw the seal's widget empty, and the stamp that shows it is an annotation", ErrCertifiedNoAnnotations)
	}
	u, sp := s.u, spots[0]
	ap := u.writeAppearance(sp, img, u.writeImage(img))
	r := u.alloc()
	u.putNew(r, dict{
		{"Type", name("Annot")},
		{"Subtype", name("Stamp")},
		{"Rect", rectArray(sp.rect)},
		{"P", sp.page.ref},
		{"AP", dict{{"N", ap}}},
		{"F", int64(annotPrint | annotReadOnly | annotLocked)},
		{"NM", textString(field + "-shown")},
		{"Contents", textString(field)},
	})
	return append(spots, sp), append(annots, r), nil
}
