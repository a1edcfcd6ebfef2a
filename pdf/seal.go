package pdf

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// Signer makes the detached CMS signature over an SM3 digest. *cms.Signer
// satisfies it.
type Signer interface {
	// Size is the exact length of the DER signature for signingTime;
	// SignDigest never returns more.
	Size(signingTime time.Time) int
	// SignDigest signs the SM3 digest of the signed byte ranges.
	SignDigest(digest []byte, signingTime time.Time) ([]byte, error)
}

// Request is one sealing.
type Request struct {
	// Signer signs; required.
	Signer Signer
	// Time is the signing time written to /M and given to the Signer;
	// zero means now.
	Time time.Time
	// SealName is the seal's name (/Name), e.g. 融安县长安镇人民政府行政审批专用章.
	SealName string
	// Reason (/Reason), Location (/Location) and ContactInfo are optional.
	Reason, Location, ContactInfo string
	// ItemCode, ItemName and CaseNumber say what the seal is used for;
	// they are written to the signature dictionary as /ESealItemCode,
	// /ESealItemName and /ESealCaseNumber, text strings covered by the
	// signature like the rest of it.
	ItemCode, ItemName, CaseNumber string
	// FieldName names the new signature field; empty picks ESeal1,
	// ESeal2… It must not be in use, nor contain a period.
	FieldName string
	// Image is the visible seal; nil makes an invisible signature.
	Image *SealImage
	// Placements say where Image is drawn; empty means Default. All of
	// them belong to the one signature: for example Keyword and Riding
	// together put the seal at the signature line and across the pages.
	Placements []Placement
	// Repair allows sealing a damaged file that carries no signatures:
	// junk before the header is dropped, and a file whose
	// cross-reference data is broken is rebuilt from the objects found in
	// it. The output then does not start with the input's bytes;
	// Result.Repaired says so, and Result.UpdateOffset is where the
	// repaired file ends.
	Repair bool
}

// Result describes a sealing.
type Result struct {
	// Field is the new signature field's name.
	Field string
	// UpdateOffset is where the sealing revision starts in the output:
	// the bytes before it are the input's, unless Repaired.
	UpdateOffset int64
	// ByteRange is the signed byte ranges, as offset/length pairs.
	ByteRange [4]int64
	// Size is the number of bytes written.
	Size int64
	// SourceDigest is the SM3 digest of the input, Digest that of the
	// signed byte ranges (what the signature signs), and OutputDigest
	// that of the whole output.
	SourceDigest, Digest, OutputDigest []byte
	// Seals lists the widgets drawn, in order; empty when invisible.
	Seals []Placed
	// PriorSignatures are the signatures the document already carried;
	// they remain as valid as they were.
	PriorSignatures []Signature
	// Repaired says what was repaired, empty when nothing was.
	Repaired string
}

// Placed is where one seal (or one strip of a cross-page seal) was drawn.
type Placed struct {
	// Page is 1-based.
	Page int
	// Rect is the widget rectangle in the page's default user space, in
	// points: llx, lly, urx, ury.
	Rect [4]float64
}

// Seal seals the PDF in src (size bytes) as req asks, and writes the
// sealed document to w: the original bytes unchanged, followed by an
// incremental update with the signature field, its appearance and the
// signature.
//
// Everything that can fail but writing — reading and checking the
// document, placing the seal, hashing and signing — happens before the
// first byte is written, so that a refusal leaves w untouched. The source
// is read twice (to hash, then to copy); if it changes in between, or w or
// src fails while copying, Seal returns an error and what was written must
// be discarded. SealFile does so.
func Seal(w io.Writer, src io.ReaderAt, size int64, req Request) (*Result, error) {
	if req.Signer == nil {
		return nil, fmt.Errorf("%w: no signer", ErrBadRequest)
	}
	if req.Image == nil && len(req.Placements) > 0 {
		return nil, fmt.Errorf("%w: placements without a seal image", ErrBadRequest)
	}
	if strings.Contains(req.FieldName, ".") {
		return nil, fmt.Errorf("%w: field name %q contains a period", ErrBadRequest, req.FieldName)
	}
	if req.Time.IsZero() {
		req.Time = time.Now()
	}
	s := &sealer{req: &req, src: src, size: size}
	if err := s.open(); err != nil {
		return nil, err
	}
	if err := s.build(); err != nil {
		return nil, err
	}
	if err := s.sign(); err != nil {
		return nil, err
	}
	if err := s.write(w); err != nil {
		return nil, err
	}
	return s.res, nil
}

// sealer carries one sealing through its steps.
type sealer struct {
	req  *Request
	src  io.ReaderAt // the input
	size int64
	base io.ReaderAt // the bytes the update follows: src, or src repaired
	n    int64       // their length
	d    *document
	f    *form
	u    *update
	ph   sigPlaceholders
	res  *Result
	crc  uint32 // of base, from the hashing pass
}

func (s *sealer) open() error {
	s.base, s.n = s.src, s.size
	s.res = &Result{}
	d, err := open(s.src, s.size)
	var shift *shiftError
	switch {
	case err == nil || !s.req.Repair || !errors.Is(err, ErrDamaged):
	case errors.As(err, &shift):
		s.base = io.NewSectionReader(s.src, shift.junk, s.size-shift.junk)
		s.n = s.size - shift.junk
		d, err = open(s.base, s.n)
		s.res.Repaired = fmt.Sprintf("dropped %d bytes of junk before the %%PDF- header", shift.junk)
	default:
		var rebuilt []byte
		if rebuilt, s.res.Repaired, err = rebuild(s.src, s.size); err != nil {
			return err
		}
		s.base, s.n = bytes.NewReader(rebuilt), int64(len(rebuilt))
		d, err = open(s.base, s.n)
	}
	if err != nil {
		return err
	}
	s.d = d
	if enc := d.trailer.get("Encrypt"); enc != nil {
		what := ""
		if ed, err := d.getDict(enc, "/Encrypt"); err == nil {
			v, _ := asInt(ed.get("V"))
			r, _ := asInt(ed.get("R"))
			what = fmt.Sprintf(" (/%s V%d R%d)", nameOf(ed.get("Filter")), v, r)
		}
		return fmt.Errorf("%w%s: remove the password protection before sealing", ErrEncrypted, what)
	}
	if s.f, err = d.form(); err != nil {
		return err
	}
	if s.res.Repaired != "" && len(s.f.sigs) > 0 {
		return fmt.Errorf("%w: it carries %d signature(s), which a repair would break", ErrDamaged, len(s.f.sigs))
	}
	if s.f.docMDP == 1 {
		return ErrCertifiedNoChanges
	}
	s.res.PriorSignatures = s.f.sigs
	return nil
}

// build lays out the incremental update, placeholders included.
func (s *sealer) build() error {
	d, f, req := s.d, s.f, s.req
	field := req.FieldName
	if field == "" {
		field = defaultFieldName(f.names)
	} else if f.names[field] {
		return fmt.Errorf("%w: %q", ErrFieldExists, field)
	}
	s.res.Field = field

	var spots []spot
	if req.Image != nil {
		pl, err := newPlacer(d, req.Image)
		if err != nil {
			return err
		}
		placements := req.Placements
		if len(placements) == 0 {
			placements = []Placement{Default{}}
		}
		for _, p := range placements {
			if p == nil {
				return fmt.Errorf("%w: nil placement", ErrBadRequest)
			}
			sp, err := p.spots(pl)
			if err != nil {
				return err
			}
			spots = append(spots, sp...)
		}
	} else {
		p, err := d.page(0)
		if err != nil {
			return err
		}
		spots = []spot{{page: p}}
	}

	if len(spots) > 1 && f.docMDP == 2 {
		return fmt.Errorf("%w: a seal drawn in %d places adds annotations", ErrCertifiedNoAnnotations, len(spots))
	}

	next := d.maxNum + 1
	if sz, ok := asInt(d.trailer.get("Size")); ok && sz > int64(next) && sz <= maxObjNum {
		next = int(sz)
	}
	u := &update{base: s.n, next: next}
	s.u = u
	if last, _, err := d.window(s.n-1, 1); err != nil {
		return err
	} else if last[0] != '\n' && last[0] != '\r' {
		u.buf = append(u.buf, '\n')
	}

	sigRef := u.alloc()

	var imgRef ref
	if req.Image != nil {
		imgRef = u.writeImage(req.Image)
	}
	// The first spot is the signature field's widget. The others (the
	// strips of a cross-page seal, or further seals) are stamp
	// annotations in the same signed revision: a signature field with
	// several widgets would be the natural form, but poppler-based viewers
	// show each such widget as a separate, unsigned signature.
	annots := make([]ref, len(spots))
	for i, sp := range spots {
		ap := u.writeAppearance(sp, req.Image, imgRef)
		annots[i] = u.alloc()
		ad := dict{
			{"Type", name("Annot")},
			{"Rect", rectArray(sp.rect)},
			{"P", sp.page.ref},
			{"AP", dict{{"N", ap}}},
		}
		if i == 0 {
			ad = append(ad,
				dictEntry{"Subtype", name("Widget")},
				dictEntry{"F", int64(annotPrint | annotLocked)},
				dictEntry{"FT", name("Sig")},
				dictEntry{"T", textString(field)},
				dictEntry{"V", sigRef})
		} else {
			ad = append(ad,
				dictEntry{"Subtype", name("Stamp")},
				dictEntry{"F", int64(annotPrint | annotReadOnly | annotLocked)},
				dictEntry{"NM", textString(fmt.Sprintf("%s-%d", field, i+1))},
				dictEntry{"Contents", textString(fmt.Sprintf("%s %d/%d", field, i+1, len(spots)))})
		}
		u.put(annots[i], ad)
		if req.Image != nil {
			s.res.Seals = append(s.res.Seals, Placed{Page: sp.page.index + 1, Rect: [4]float64{
				float64(num(sp.rect.llx)), float64(num(sp.rect.lly)), float64(num(sp.rect.urx)), float64(num(sp.rect.ury))}})
		}
	}
	fieldRef := annots[0]

	changed := newChangeSet()
	// Each page lists its new widgets in /Annots.
	for i, sp := range spots {
		if err := changed.addAnnot(d, sp.page, annots[i]); err != nil {
			return err
		}
	}
	// The form lists the new field, and says that it holds signatures.
	fields := append(append(array(nil), f.fields...), fieldRef)
	acro := f.acro.clone()
	if f.fieldsRef.num != 0 {
		changed.set(f.fieldsRef, fields)
	} else {
		acro.set("Fields", fields)
	}
	flags, _ := asInt(acro.get("SigFlags"))
	acro.set("SigFlags", flags|3)
	if f.acroRef.num != 0 {
		changed.set(f.acroRef, acro)
	} else {
		rootRef := d.trailer.get("Root").(ref)
		cat, err := changed.dict(d, rootRef)
		if err != nil {
			return err
		}
		cat.set("AcroForm", acro)
		changed.set(rootRef, cat)
	}
	for _, c := range changed.order {
		u.put(c, changed.objs[c])
	}
	// The signature dictionary comes last, so that little follows its
	// /Contents: the output digest hashes that tail a second time.
	s.ph = u.writeSigDict(sigRef, sigFields{
		time: req.Time, name: req.SealName, reason: req.Reason, location: req.Location, contact: req.ContactInfo,
		itemCode: req.ItemCode, itemName: req.ItemName, caseNumber: req.CaseNumber,
	}, req.Signer.Size(req.Time))
	u.finish(d.trailer, d.startxref, d.xrefStream, next)
	return nil
}

// Annotation flags (ISO 32000-2 §12.5.3).
const (
	annotPrint    = 1 << 2
	annotReadOnly = 1 << 6
	annotLocked   = 1 << 7
)

// changeSet collects the existing objects the update rewrites, so that
// each is written once with all its changes.
type changeSet struct {
	objs  map[ref]object
	order []ref
}

func newChangeSet() *changeSet { return &changeSet{objs: map[ref]object{}} }

func (c *changeSet) set(r ref, o object) {
	if _, ok := c.objs[r]; !ok {
		c.order = append(c.order, r)
	}
	c.objs[r] = o
}

// dict returns the dictionary r as changed so far, or a copy of the
// original.
func (c *changeSet) dict(d *document, r ref) (dict, error) {
	if o, ok := c.objs[r]; ok {
		return o.(dict), nil
	}
	o, err := d.getDict(r, fmt.Sprintf("object %d", r.num))
	if err != nil {
		return nil, err
	}
	return o.clone(), nil
}

// addAnnot appends a widget to a page's /Annots: to the array object when
// /Annots refers to one, otherwise to the page's own array.
func (c *changeSet) addAnnot(d *document, p *page, w ref) error {
	if ar, ok := p.dict.get("Annots").(ref); ok {
		var a array
		if o, ok := c.objs[ar]; ok {
			a = o.(array)
		} else {
			o, err := d.resolve(ar)
			if err != nil {
				return err
			}
			switch v := o.(type) {
			case array:
				a = append(array(nil), v...)
			case nil:
			default:
				return damaged(-1, "page %d /Annots is %s", p.index+1, typeName(o))
			}
		}
		c.set(ar, append(a, w))
		return nil
	}
	pd, err := c.dict(d, p.ref)
	if err != nil {
		return err
	}
	var a array
	switch v := pd.get("Annots").(type) {
	case array:
		a = append(array(nil), v...)
	case nil:
	default:
		return damaged(-1, "page %d /Annots is %s", p.index+1, typeName(v))
	}
	pd.set("Annots", append(a, w))
	c.set(p.ref, pd)
	return nil
}

// bufPool holds the buffers that stream the source through the hash and
// to the output.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// stream reads base from start to end through fn.
func (s *sealer) stream(fn func([]byte) error) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for off := int64(0); off < s.n; {
		n := int(min(int64(len(buf)), s.n-off))
		m, err := s.base.ReadAt(buf[:n], off)
		if m < n {
			if err == nil || errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: source shrank while sealing", ErrSourceChanged)
			}
			return fmt.Errorf("pdf: reading the source: %w", err)
		}
		if err := fn(buf[:n]); err != nil {
			return err
		}
		off += int64(n)
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sign fixes the byte ranges, hashes them and signs.
func (s *sealer) sign() error {
	u, ph := s.u, s.ph
	total := s.n + int64(len(u.buf))
	start := s.n + int64(ph.contents)
	end := start + int64(ph.hexLen) + 2
	br := [4]int64{0, start, end, total - end}
	if err := u.patchByteRange(ph, br); err != nil {
		return err
	}
	h := sm3.New()
	var crc uint32
	if err := s.stream(func(b []byte) error {
		h.Write(b)
		crc = crc32.Update(crc, castagnoli, b)
		return nil
	}); err != nil {
		return err
	}
	s.crc = crc
	if s.res.Repaired == "" {
		s.res.SourceDigest = h.Sum(nil)
	} else {
		all := sm3.New()
		if _, err := io.Copy(all, io.NewSectionReader(s.src, 0, s.size)); err != nil {
			return fmt.Errorf("pdf: reading the source: %w", err)
		}
		s.res.SourceDigest = all.Sum(nil)
	}
	// The signed digest and the output digest share everything up to
	// /Contents; keep the hash state there for the second.
	h.Write(u.buf[:ph.contents])
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return err
	}
	tail := u.buf[ph.contents+ph.hexLen+2:]
	h.Write(tail)
	s.res.Digest = h.Sum(nil)

	der, err := s.req.Signer.SignDigest(s.res.Digest, s.req.Time)
	if err != nil {
		return fmt.Errorf("pdf: signing: %w", err)
	}
	if err := u.patchContents(ph, der); err != nil {
		return err
	}
	out := sm3.New()
	if err := out.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return err
	}
	out.Write(u.buf[ph.contents:])
	s.res.OutputDigest = out.Sum(nil)
	s.res.ByteRange = br
	s.res.Size = total
	s.res.UpdateOffset = s.n
	return nil
}

// write copies the source and the update to w, checking that the source
// is what was hashed.
func (s *sealer) write(w io.Writer) error {
	var crc uint32
	if err := s.stream(func(b []byte) error {
		crc = crc32.Update(crc, castagnoli, b)
		_, err := w.Write(b)
		return err
	}); err != nil {
		return err
	}
	if crc != s.crc {
		return ErrSourceChanged
	}
	_, err := w.Write(s.u.buf)
	return err
}
