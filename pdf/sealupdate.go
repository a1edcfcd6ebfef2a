package pdf

import "fmt"

// The sealing update: the incremental update Seal appends, which becomes
// the document's newest revision. It holds the objects the seal adds (the
// signature dictionary, the seal's image, appearances and annotations) and
// the existing objects it changes (the pages' /Annots, the form's
// /Fields), each written once, after all its changes are made. The
// verifier's side, finding the revisions a file already has, is
// revisionscan.go.

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
	spots, err := s.spots()
	if err != nil {
		return err
	}
	if len(spots) > 1 && f.docMDP == 2 {
		return fmt.Errorf("%w: a seal drawn in %d places adds annotations", ErrCertifiedNoAnnotations, len(spots))
	}

	next := d.maxNum + 1
	if sz, ok := asInt(d.trailer.get("Size")); ok && sz > int64(next) && sz <= maxObjNum {
		next = int(sz)
	}
	u := &update{base: s.n, next: next, crypt: d.crypt}
	s.u = u
	if last, _, err := d.window(s.n-1, 1); err != nil {
		return err
	} else if last[0] != '\n' && last[0] != '\r' {
		u.buf = append(u.buf, '\n')
	}

	sigRef := u.alloc()
	annots := s.writeAnnots(spots, field, sigRef)
	if spots, annots, err = s.rebuildStamp(spots, annots, field); err != nil {
		return err
	}
	spots, annots = s.writeQR(spots, annots, field)
	changed := newChangeSet()
	for i, sp := range spots {
		if err := changed.addAnnot(d, sp.page, annots[i]); err != nil {
			return err
		}
	}
	if err := changed.addField(d, f, annots[0]); err != nil {
		return err
	}
	for _, c := range changed.order {
		u.put(c, changed.objs[c])
	}
	// The signature dictionary comes last, so that little follows its
	// /Contents: the output digest hashes that tail a second time.
	var seseal ref
	var filter, subFilter name
	if fs, ok := req.Signer.(FormatSigner); ok {
		filter, subFilter = name(fs.Filter()), name(fs.SubFilter())
	}
	if req.Image != nil && req.Image.seseal != nil && subFilter == "" { // an SES_Signature carries its SESeal itself
		seseal = u.alloc()
		u.putNew(seseal, &stream{dict: dict{{"Filter", name("FlateDecode")}}, data: req.Image.seseal})
	}
	s.ph = u.writeSigDict(sigRef, sigFields{
		time: req.Time, name: req.SealName, reason: req.Reason, location: req.Location, contact: req.ContactInfo,
		itemCode: req.ItemCode, itemName: req.ItemName, caseNumber: req.CaseNumber, seseal: seseal,
		filter: filter, subFilter: subFilter,
	}, req.Signer.Size(req.Time))
	u.finish(d.trailer, d.startxref, d.xrefStream, next)
	return nil
}

// spots resolves the request's placements; an invisible signature has one
// spot of zero size on the first page.
func (s *sealer) spots() ([]spot, error) {
	if s.req.Image == nil {
		p, err := s.d.page(0)
		if err != nil {
			return nil, err
		}
		return []spot{{page: p}}, nil
	}
	pl, err := newPlacer(s.d, s.req.Image)
	if err != nil {
		return nil, err
	}
	placements := s.req.Placements
	if len(placements) == 0 {
		placements = []Placement{Default{}}
	}
	var spots []spot
	for _, p := range placements {
		if p == nil {
			return nil, fmt.Errorf("%w: nil placement", ErrBadRequest)
		}
		sp, err := p.spots(pl)
		if err != nil {
			return nil, err
		}
		spots = append(spots, sp...)
	}
	return spots, nil
}

// writeAnnots writes the seal image, and an annotation with its appearance
// for each spot. The first is the signature field's widget. The others
// (the strips of a cross-page seal, or further seals) are stamp
// annotations in the same signed revision: a signature field with several
// widgets would be the natural form, but poppler-based viewers show each
// such widget as a separate, unsigned signature.
func (s *sealer) writeAnnots(spots []spot, field string, sigRef ref) []ref {
	u, img := s.u, s.req.Image
	var imgRef ref
	if img != nil {
		imgRef = u.writeImage(img)
	}
	annots := make([]ref, len(spots))
	for i, sp := range spots {
		ap := u.writeAppearance(sp, img, imgRef)
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
		u.putNew(annots[i], ad)
		if img != nil {
			r := sp.rect
			s.res.Seals = append(s.res.Seals, Placed{Page: sp.page.index + 1, Rect: [4]float64{
				float64(num(r.llx)), float64(num(r.lly)), float64(num(r.urx)), float64(num(r.ury))}, Why: sp.why})
		}
	}
	return annots
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

// addField lists the new field in the form's /Fields, creating the form
// if need be, and sets /SigFlags to say that it holds signatures and must
// be updated by appending.
func (c *changeSet) addField(d *document, f *form, field ref) error {
	fields := append(append(array(nil), f.fields...), field)
	acro := f.acro.clone()
	if f.fieldsRef.num != 0 {
		c.set(f.fieldsRef, fields)
	} else {
		acro.set("Fields", fields)
	}
	flags, _ := asInt(acro.get("SigFlags"))
	acro.set("SigFlags", flags|3)
	if f.acroRef.num != 0 {
		c.set(f.acroRef, acro)
		return nil
	}
	rootRef := d.trailer.get("Root").(ref)
	cat, err := c.dict(d, rootRef)
	if err != nil {
		return err
	}
	cat.set("AcroForm", acro)
	c.set(rootRef, cat)
	return nil
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
