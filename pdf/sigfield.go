package pdf

import (
	"bytes"
	"errors"
	"fmt"
)

// Where a signature lies in the file. A verifier must check that the gap
// its byte range leaves is exactly the /Contents string of its own
// dictionary, or a signature's bytes can be moved about (signature
// wrapping). That needs the dictionary's place in the file, which the
// object model does not keep: so the dictionary is read again here, from
// its offset, noting where each of its values lies.

// Errors that say why a signature dictionary cannot be checked. A
// SignatureField's Problem wraps one of them.
var (
	// ErrSignatureNotLocated means the signature dictionary is not an
	// indirect object stored at an offset of its own (it is a direct
	// dictionary, or in an object stream), so its /Contents cannot be the
	// gap of a byte range.
	ErrSignatureNotLocated = errors.New("pdf: signature dictionary is not an uncompressed indirect object")
	// ErrContentsMissing means /Contents is missing, null, empty, indirect,
	// or not a hexadecimal string.
	ErrContentsMissing = errors.New("pdf: signature /Contents is missing or not a hexadecimal string")
	// ErrByteRangeMissing means /ByteRange is missing, null, indirect, or
	// not an array of integers.
	ErrByteRangeMissing = errors.New("pdf: signature /ByteRange is missing or not an array of integers")
	// ErrDuplicateEntry means /Contents or /ByteRange appears twice in the
	// dictionary, which readers may resolve differently.
	ErrDuplicateEntry = errors.New("pdf: signature dictionary repeats /Contents or /ByteRange")
)

// SignatureField is a signature as it lies in the file: the claims of its
// field and dictionary, and the positions a verifier checks its byte
// range against.
type SignatureField struct {
	// Signature holds the field's name and the dictionary's entries.
	// ByteRange and Contents are those written directly in the
	// dictionary, nil when Problem says they are unusable.
	Signature
	// Type is the dictionary's /Type: "Sig", "DocTimeStamp", or empty.
	Type string
	// Revision is the index in Analysis.Revisions of the revision whose
	// end the byte range ends at, -1 when it ends at none.
	Revision int
	// Object is the signature dictionary's object number, 0 when the
	// field's /V is not a reference.
	Object int
	// Offset is where the dictionary's object begins, -1 when it is not
	// stored at an offset of its own.
	Offset int64
	// ContentsStart and ContentsEnd delimit the /Contents string, from its
	// '<' to just past its '>'; both -1 when it was not found.
	ContentsStart, ContentsEnd int64
	// Problem says why the dictionary cannot be checked: it wraps
	// ErrSignatureNotLocated, ErrContentsMissing, ErrByteRangeMissing or
	// ErrDuplicateEntry, or a parse error. It is nil when the dictionary is
	// well formed.
	Problem error
	// Widgets are the field's widget annotations: where its seal is
	// drawn, as the last revision shows it.
	Widgets []Widget
	// SESeal is the seal's national seal data (DER) that the dictionary
	// names (/ESealSESeal), nil when it names none; SESealProblem says why
	// a named one could not be read.
	SESeal        []byte
	SESealProblem error

	widgetRefs []ref
}

// Widget is one widget annotation of a signature field, and whether a
// viewer shows what it draws: a seal that lies off the page, or on no
// page, is seen by no one, whatever the signature says.
type Widget struct {
	// Page is 1-based; 0 when no page lists the widget in its /Annots, so
	// that no viewer draws it.
	Page int
	// Rect is the widget's /Rect and CropBox the visible area of its page
	// (the CropBox within the MediaBox), both normalised, in the page's
	// default user space: llx, lly, urx, ury. Rect is zero when the
	// widget has no usable rectangle (an invisible signature).
	Rect, CropBox [4]float64
	// Drawn is whether viewers draw the widget: it is on a page, has an
	// area and a normal appearance, and is neither hidden nor NoView.
	Drawn bool
	// OnPage is whether it is drawn wholly within the crop box.
	OnPage bool
	// Picture identifies the picture the widget's appearance draws, when
	// HasPicture: it is one placed XObject, as the engine draws a seal
	// (picturedigest.go).
	Picture    PictureDigest
	HasPicture bool
}

// maxWidgets bounds the widgets read for one signature field.
const maxWidgets = 64

// fieldWidgets returns the widget annotations of field fd (object fr):
// the field itself when field and widget are merged, and its kids that
// are widgets.
func (d *document) fieldWidgets(fd dict, fr ref) []ref {
	var out []ref
	if nameOf(fd.get("Subtype")) == "Widget" && fr.num != 0 {
		out = append(out, fr)
	}
	ko, err := d.resolve(fd.get("Kids"))
	if err != nil {
		return out
	}
	kids, _ := ko.(array)
	for _, k := range kids {
		kr, ok := k.(ref)
		if !ok || len(out) >= maxWidgets {
			continue
		}
		if kd, err := d.getDict(kr, "signature widget"); err == nil && nameOf(kd.get("Subtype")) == "Widget" {
			out = append(out, kr)
		}
	}
	return out
}

// widget reads where widget r is drawn; pages maps each annotation's
// object number to the page that lists it.
func (d *document) widget(r ref, pages map[int]*page) Widget {
	var w Widget
	p := pages[r.num]
	if p == nil {
		return w
	}
	w.Page = p.index + 1
	w.CropBox = [4]float64{p.box.llx, p.box.lly, p.box.urx, p.box.ury}
	wd, err := d.getDict(r, "signature widget")
	if err != nil {
		return w
	}
	rc, ok, err := d.box(wd.get("Rect"))
	if err != nil || !ok {
		return w
	}
	w.Rect = [4]float64{rc.llx, rc.lly, rc.urx, rc.ury}
	flags, _ := asInt(wd.get("F"))
	const hidden, noView = 1 << 1, 1 << 5
	hasAppearance := false
	if ao, err := d.resolve(wd.get("AP")); err == nil {
		if ap, ok := ao.(dict); ok {
			n, err := d.resolve(ap.get("N"))
			hasAppearance = err == nil && n != nil
			if hasAppearance {
				w.Picture, w.HasPicture = d.widgetPicture(n)
			}
		}
	}
	w.Drawn = hasAppearance && flags&(hidden|noView) == 0
	const tolerance = 0.01
	w.OnPage = w.Drawn && rc.llx >= p.box.llx-tolerance && rc.lly >= p.box.lly-tolerance &&
		rc.urx <= p.box.urx+tolerance && rc.ury <= p.box.ury+tolerance
	return w
}

// sigSpan is what locateSignature finds in a signature dictionary.
type sigSpan struct {
	dict                       dict
	contentsStart, contentsEnd int64 // '<' and past '>'; -1 when absent
	contents                   []byte
	contentsHex                bool
	byteRange                  object
	nContents, nByteRange      int
}

// locateSignature reads the signature dictionary of object r at its
// offset and notes where /Contents lies.
func (d *document) locateSignature(r ref) (int64, *sigSpan, error) {
	e, ok := d.xref[r.num]
	if !ok || e.kind != xrefOffset || int(e.gen) != r.gen {
		return -1, nil, fmt.Errorf("%w: object %d", ErrSignatureNotLocated, r.num)
	}
	off := e.off
	var span *sigSpan
	err := d.parseWindow(off, 4096, func(buf []byte, eof bool) error {
		span = &sigSpan{contentsStart: -1, contentsEnd: -1}
		p := newParser(buf, eof)
		hdr, ok, err := p.objHeader()
		if err != nil {
			return err
		}
		if !ok || hdr != r {
			return damaged(off, "no \"%d %d obj\" where the signature dictionary should start", r.num, r.gen)
		}
		t, err := p.lex.next()
		if err != nil {
			return err
		}
		if t.kind != tokDictOpen {
			return damaged(off, "signature object %d is %v, not a dictionary", r.num, t)
		}
		p.depth = 1
		for {
			t, err := p.lex.next()
			if err != nil {
				return err
			}
			if t.kind == tokDictClose {
				return nil
			}
			if t.kind != tokName {
				if t.kind == tokEOF && !eof {
					return errIncomplete
				}
				return p.lex.syntax("dictionary key is %v, not a name", t)
			}
			key := name(t.b)
			if err := p.lex.skipSpace(); err != nil {
				return err
			}
			start := p.lex.pos
			v, err := p.object()
			if err != nil {
				return err
			}
			span.dict = append(span.dict, dictEntry{key, v})
			switch key {
			case "Contents":
				span.nContents++
				if span.nContents == 1 {
					s, isStr := v.(str)
					span.contents = s
					span.contentsHex = isStr && buf[start] == '<'
					span.contentsStart, span.contentsEnd = off+int64(start), off+int64(p.lex.pos)
				}
			case "ByteRange":
				span.nByteRange++
				if span.nByteRange == 1 {
					span.byteRange = v
				}
			}
		}
	})
	if err != nil {
		return off, nil, syntaxErr(off, fmt.Sprintf("signature dictionary %d", r.num), err)
	}
	return off, span, nil
}

// signatureField builds the SignatureField of field fd (object fr, zero
// when direct), named full, whose /V is the signature dictionary.
func (d *document) signatureField(fd dict, fr ref, full string) (SignatureField, bool, error) {
	scratch := &form{names: map[string]bool{}}
	if err := d.addSignature(scratch, fd, fr, full); err != nil {
		return SignatureField{}, false, err
	}
	if len(scratch.sigs) == 0 {
		return SignatureField{}, false, nil // an empty signature field
	}
	sf := SignatureField{Signature: scratch.sigs[0], Revision: -1, Offset: -1, ContentsStart: -1, ContentsEnd: -1,
		widgetRefs: d.fieldWidgets(fd, fr)}
	sf.ByteRange, sf.Contents, sf.CoversWholeFile = nil, nil, false
	if sd, err := d.getDict(fd.get("V"), "signature dictionary"); err == nil {
		sf.Type = string(nameOf(sd.get("Type")))
		if v := sd.get(keySESeal); v != nil {
			sf.SESeal, sf.SESealProblem = d.sesealStream(v)
		}
	}
	r, ok := fd.get("V").(ref)
	if !ok {
		sf.Problem = fmt.Errorf("%w: field %q holds it directly", ErrSignatureNotLocated, full)
		return sf, true, nil
	}
	sf.Object = r.num
	off, span, err := d.locateSignature(r)
	if err != nil {
		sf.Problem = err
		return sf, true, nil
	}
	sf.Offset = off
	sf.ContentsStart, sf.ContentsEnd = span.contentsStart, span.contentsEnd
	switch {
	case span.nContents > 1 || span.nByteRange > 1:
		sf.Problem = fmt.Errorf("%w: %d /Contents and %d /ByteRange entries", ErrDuplicateEntry, span.nContents, span.nByteRange)
	case span.nContents == 0:
		sf.Problem = fmt.Errorf("%w: no /Contents entry", ErrContentsMissing)
	case !span.contentsHex:
		sf.Problem = fmt.Errorf("%w: /Contents is %s", ErrContentsMissing, typeName(span.dict.get("Contents")))
	case len(span.contents) == 0:
		sf.Problem = fmt.Errorf("%w: /Contents is empty", ErrContentsMissing)
	}
	if sf.Problem == nil {
		sf.Contents = span.contents
	} else {
		sf.ContentsStart, sf.ContentsEnd = -1, -1
	}
	br, err := directIntegers(span.byteRange)
	if span.nByteRange == 0 {
		err = fmt.Errorf("%w: no /ByteRange entry", ErrByteRangeMissing)
	}
	if err != nil {
		if sf.Problem == nil {
			sf.Problem = err
		}
		return sf, true, nil
	}
	sf.ByteRange = br
	sf.CoversWholeFile = len(br) == 4 && br[0] == 0 && br[2]+br[3] == d.size
	return sf, true, nil
}

// maxSESeal bounds the SESeal read from a signature dictionary.
const maxSESeal = 4 << 20

// sesealStream reads the stream of an /ESealSESeal entry.
func (d *document) sesealStream(v object) ([]byte, error) {
	if _, ok := v.(ref); !ok {
		return nil, damaged(-1, "/%s is %s, not a reference to a stream", keySESeal, typeName(v))
	}
	o, err := d.resolve(v)
	if err != nil {
		return nil, err
	}
	st, ok := o.(*stream)
	if !ok {
		return nil, damaged(-1, "/%s refers to %s, not a stream", keySESeal, typeName(o))
	}
	if st.n > maxSESeal {
		return nil, damaged(st.off, "/%s is a stream of %d bytes", keySESeal, st.n)
	}
	data, err := d.streamData(st)
	if err != nil {
		return nil, err
	}
	if len(data) > maxSESeal {
		return nil, damaged(st.off, "/%s decodes to %d bytes", keySESeal, len(data))
	}
	return bytes.Clone(data), nil
}

// directIntegers reads a /ByteRange value, which must be an array of
// integers written in place: a reference could point anywhere, also past
// the signed bytes.
func directIntegers(o object) ([]int64, error) {
	a, ok := o.(array)
	if !ok {
		return nil, fmt.Errorf("%w: /ByteRange is %s", ErrByteRangeMissing, typeName(o))
	}
	if len(a) == 0 || len(a) > 64 {
		return nil, fmt.Errorf("%w: /ByteRange has %d entries", ErrByteRangeMissing, len(a))
	}
	out := make([]int64, len(a))
	for i, e := range a {
		n, ok := e.(int64)
		if !ok {
			return nil, fmt.Errorf("%w: /ByteRange entry %d is %s", ErrByteRangeMissing, i, typeName(e))
		}
		out[i] = n
	}
	return out, nil
}

// signatureFields lists the signed signature fields: those in the form's
// field tree, in order, then those whose widgets are on the pages but
// which the form does not list, since some viewers show them too.
func (d *document) signatureFields() ([]SignatureField, error) {
	cat, err := d.catalog()
	if err != nil {
		return nil, err
	}
	var fields array
	if ao, err := d.resolve(cat.get("AcroForm")); err != nil {
		return nil, err
	} else if ad, ok := ao.(dict); ok {
		fo, err := d.resolve(ad.get("Fields"))
		if err != nil {
			return nil, err
		}
		fields, _ = fo.(array)
	}
	var out []SignatureField
	w := newFieldWalk(d)
	err = w.walk(fields, func(fd dict, fr ref, full string, ft name) error {
		if ft != "Sig" {
			return nil
		}
		sf, ok, err := d.signatureField(fd, fr, full)
		if err != nil {
			return err
		}
		if ok {
			out = append(out, sf)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	seen := w.seen
	annotPage := map[int]*page{} // the first page that lists an annotation
	err = d.eachPage(func(p *page) error {
		ao, err := d.resolve(p.dict.get("Annots"))
		if err != nil {
			return err
		}
		annots, _ := ao.(array)
		for _, o := range annots {
			r, ok := o.(ref)
			if ok && annotPage[r.num] == nil {
				annotPage[r.num] = p
			}
			if !ok || seen[r.num] {
				continue
			}
			seen[r.num] = true
			if w.count++; w.count > maxFields {
				return fmt.Errorf("%w: more than %d form fields and annotations", ErrTooLarge, maxFields)
			}
			ao, err := d.get(r)
			if err != nil {
				return err
			}
			if ao == nil {
				continue // a null annotation draws nothing; readers skip it
			}
			ad, err := d.getDict(ao, "annotation")
			if err != nil {
				return err
			}
			if nameOf(ad.get("Subtype")) != "Widget" || d.fieldType(ad) != "Sig" {
				continue
			}
			fd, fr := ad, r
			if !ad.has("V") {
				pr, ok := ad.get("Parent").(ref)
				if !ok || seen[pr.num] {
					continue
				}
				seen[pr.num] = true
				if fd, err = d.getDict(pr, "form field"); err != nil {
					return err
				}
				fr = pr
			}
			name := ""
			if t, ok := fd.get("T").(str); ok {
				name = d.text(fr, t)
			}
			sf, ok, err := d.signatureField(fd, fr, name)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, sf)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		for _, r := range out[i].widgetRefs {
			out[i].Widgets = append(out[i].Widgets, d.widget(r, annotPage))
		}
	}
	return out, nil
}
