package pdf

import (
	"io"
	"strings"
)

// The interactive form (ISO 32000-2 §12.7) and the signatures already in
// it. The engine reads the field tree to choose an unused field name, to
// report earlier signatures, and to honour a certification signature's
// DocMDP permissions (§12.8.2.2).

// maxFields bounds the fields walked.
const maxFields = 1 << 16

// Signature describes a signature field that carries a signature.
type Signature struct {
	// Field is the field's fully qualified name.
	Field     string
	Filter    string
	SubFilter string
	// ByteRange is the signed byte ranges as offset/length pairs.
	ByteRange []int64
	// Contents is the /Contents string as stored, zero padding included.
	Contents []byte
	// Name, Reason, Location and SigningTime (/M, unparsed) are the
	// signer's claims in the signature dictionary.
	Name, Reason, Location, SigningTime string
	// ItemCode, ItemName and CaseNumber are this package's entries (see
	// Request), empty in signatures made by others.
	ItemCode, ItemName, CaseNumber string
	// DocMDP is the permission level (1–3) of a certification signature,
	// 0 for an approval signature.
	DocMDP int
	// CoversWholeFile is whether the byte ranges cover the file as read up
	// to its end, the /Contents gap excepted.
	CoversWholeFile bool
}

// SignedBytes returns a reader of the bytes a signature covers in src.
func (s *Signature) SignedBytes(src io.ReaderAt) io.Reader {
	var rs []io.Reader
	for i := 0; i+1 < len(s.ByteRange); i += 2 {
		rs = append(rs, io.NewSectionReader(src, s.ByteRange[i], s.ByteRange[i+1]))
	}
	return io.MultiReader(rs...)
}

// Signatures lists the signatures in a PDF, in field order. It reads
// within the default Limits.
func Signatures(src io.ReaderAt, size int64) ([]Signature, error) {
	d, err := open(src, size, defaultBudget())
	if err != nil {
		return nil, err
	}
	if err := d.setupCrypt(); err != nil {
		return nil, err
	}
	f, err := d.form()
	if err != nil {
		return nil, err
	}
	return f.sigs, nil
}

// form is what the engine knows about the interactive form.
type form struct {
	acroRef   ref  // the /AcroForm reference, zero when it is direct or absent
	acro      dict // nil when absent
	fieldsRef ref  // the /Fields reference, zero when direct
	fields    array
	names     map[string]bool
	sigs      []Signature
	docMDP    int // the strictest DocMDP permission that applies, 0 if none
	// needAppearances is the form's /NeedAppearances (see settle).
	needAppearances bool
}

// NeedAppearances. A form whose /NeedAppearances is true asks viewers to
// build the appearance of every field afresh instead of drawing the ones
// stored. Poppler (22.12, Debian 12's) does so for signature fields too,
// and has nothing to build a seal from: the seal, stored as the signature
// widget's appearance, is replaced by an empty box, and the document shows
// no seal. Acrobat has been reported to hide a signature's appearance under
// the flag as well (pyHanko issue 416). pdf.js and MuPDF draw a
// signature's stored appearance whatever the flag says. PDF 2.0 deprecates
// the flag (ISO 32000-2 §12.7.3).
//
// Two ways out were weighed. Turning the flag off in the sealing revision
// makes every viewer draw the stored appearances: the seal, but also every
// other field's stored appearance, which under this flag is often stale.
// On qpdf's need-appearances.pdf poppler then shows the text, list and
// combo fields empty where it showed their values before sealing: the
// seal would change what the document shows. So the engine leaves the
// form alone, and draws the seal a second time, in a stamp annotation over
// the widget: same rectangle, same image, print and locked, in the same
// signed revision (as the strips of a cross-page seal are). A stamp is not
// a field, so no viewer rebuilds it; viewers that draw the widget draw the
// same image twice in one place (an opaque seal looks the same, where its
// ink is translucent a little darker). The widget keeps the seal, so that
// the signature's own appearance shows wherever viewers draw it.
//
// A certification that forbids added annotations (DocMDP P=2) forbids the
// stamp: such a form is refused (ErrCertifiedNoAnnotations), since its
// seal would not show in poppler.

func (d *document) form() (*form, error) {
	cat, err := d.catalog()
	if err != nil {
		return nil, err
	}
	f := &form{names: make(map[string]bool)}
	ao := cat.get("AcroForm")
	if r, ok := ao.(ref); ok {
		f.acroRef = r
	}
	if ao, err = d.resolve(ao); err != nil {
		return nil, err
	}
	if a, ok := ao.(dict); ok {
		f.acro = a
		if na, err := d.resolve(a.get("NeedAppearances")); err == nil {
			f.needAppearances, _ = na.(bool)
		}
		fo := a.get("Fields")
		if r, ok := fo.(ref); ok {
			f.fieldsRef = r
		}
		if fo, err = d.resolve(fo); err != nil {
			return nil, err
		}
		f.fields, _ = fo.(array)
	}
	fields, dropped, err := d.usableFields(f.fields)
	if err != nil {
		return nil, err
	}
	err = newFieldWalk(d).walk(fields, func(fd dict, fr ref, full string, ft name) error {
		if full != "" {
			f.names[full] = true
		}
		if ft == "Sig" {
			return d.addSignature(f, fd, fr, full)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if dropped != "" {
		if len(f.sigs) > 0 {
			// A signed form is read as strictly as the verifier reads
			// it: dropping the entry would change a signed revision's
			// form in the sealing one.
			return nil, damaged(-1, "form field is %s, not a dictionary", dropped)
		}
		f.fields = fields
	}
	// The certification signature is named in the catalog's /Perms.
	if perms, err := d.resolve(cat.get("Perms")); err != nil {
		return nil, err
	} else if pd, ok := perms.(dict); ok && pd.get("DocMDP") != nil {
		sd, err := d.getDict(pd.get("DocMDP"), "/Perms /DocMDP signature")
		if err != nil {
			return nil, err
		}
		p, err := d.docMDP(sd)
		if err != nil {
			return nil, err
		}
		f.tighten(p)
	}
	return f, nil
}

func (f *form) tighten(p int) {
	if p > 0 && (f.docMDP == 0 || p < f.docMDP) {
		f.docMDP = p
	}
}

// addSignature records the signature in field fd, if it is signed.
func (d *document) addSignature(f *form, fd dict, fr ref, field string) error {
	// A locked field may carry DocMDP permissions too (PDF 2.0 /Lock /P).
	if lock, err := d.resolve(fd.get("Lock")); err != nil {
		return err
	} else if ld, ok := lock.(dict); ok && fd.get("V") != nil {
		if p, ok := asInt(ld.get("P")); ok && p >= 1 && p <= 3 {
			f.tighten(int(p))
		}
	}
	vr, isRef := fd.get("V").(ref)
	if !isRef {
		vr = fr // a direct dictionary is encrypted with its field
	}
	vo, err := d.resolve(fd.get("V"))
	if err != nil {
		return err
	}
	sd, ok := vo.(dict)
	if !ok {
		return nil // an empty signature field
	}
	s := Signature{Field: field}
	s.Filter = string(nameOf(sd.get("Filter")))
	s.SubFilter = string(nameOf(sd.get("SubFilter")))
	if br, err := d.resolve(sd.get("ByteRange")); err != nil {
		return err
	} else if ba, ok := br.(array); ok {
		for _, e := range ba {
			n, _ := asInt(e)
			s.ByteRange = append(s.ByteRange, n)
		}
	}
	if c, err := d.resolve(sd.get("Contents")); err != nil {
		return err
	} else {
		cs, _ := c.(str)
		s.Contents = []byte(cs)
	}
	text := func(key name) string {
		if v, ok := sd.get(key).(str); ok {
			return d.text(vr, v)
		}
		return ""
	}
	s.Name, s.Reason, s.Location, s.SigningTime = text("Name"), text("Reason"), text("Location"), text("M")
	s.ItemCode, s.ItemName, s.CaseNumber = text(keyItemCode), text(keyItemName), text(keyCaseNumber)
	if s.DocMDP, err = d.docMDP(sd); err != nil {
		return err
	}
	f.tighten(s.DocMDP)
	if n := len(s.ByteRange); n == 4 {
		s.CoversWholeFile = s.ByteRange[0] == 0 && s.ByteRange[2]+s.ByteRange[3] == d.size
	}
	f.sigs = append(f.sigs, s)
	return nil
}

// docMDP returns the DocMDP permission of signature dictionary sd, 0 when
// it has no DocMDP reference.
func (d *document) docMDP(sd dict) (int, error) {
	refs, err := d.resolve(sd.get("Reference"))
	if err != nil {
		return 0, err
	}
	ra, _ := refs.(array)
	for _, ro := range ra {
		rd, err := d.getDict(ro, "signature reference dictionary")
		if err != nil {
			return 0, err
		}
		if nameOf(rd.get("TransformMethod")) != "DocMDP" {
			continue
		}
		tp, err := d.resolve(rd.get("TransformParams"))
		if err != nil {
			return 0, err
		}
		p := int64(2) // the default
		if td, ok := tp.(dict); ok {
			if v, ok := asInt(td.get("P")); ok {
				p = v
			}
		}
		if p < 1 || p > 3 {
			p = 1 // an invalid value is read as the strictest
		}
		return int(p), nil
	}
	return 0, nil
}

func nameOf(o object) name {
	n, _ := o.(name)
	return n
}

// decodeText decodes a PDF text string: UTF-16 with a byte order mark,
// UTF-8 with one (PDF 2.0), or PDFDocEncoding, read here as Latin-1, which
// agrees with it on the printable ASCII range that names use.
func decodeText(s str) string {
	switch {
	case len(s) >= 2 && s[0] == 0xFE && s[1] == 0xFF:
		return utf16Decode(s[2:], true)
	case len(s) >= 2 && s[0] == 0xFF && s[1] == 0xFE:
		return utf16Decode(s[2:], false)
	case len(s) >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF:
		return string(s[3:])
	}
	var b strings.Builder
	for _, c := range s {
		b.WriteRune(rune(c))
	}
	return b.String()
}

func utf16Decode(b []byte, bigEndian bool) string {
	var sb strings.Builder
	for i := 0; i+1 < len(b); i += 2 {
		u := rune(b[i])<<8 | rune(b[i+1])
		if !bigEndian {
			u = rune(b[i+1])<<8 | rune(b[i])
		}
		if u >= 0xD800 && u < 0xDC00 && i+3 < len(b) {
			l := rune(b[i+2])<<8 | rune(b[i+3])
			if !bigEndian {
				l = rune(b[i+3])<<8 | rune(b[i+2])
			}
			if l >= 0xDC00 && l < 0xE000 {
				sb.WriteRune(0x10000 + (u-0xD800)<<10 + (l - 0xDC00))
				i += 2
				continue
			}
		}
		sb.WriteRune(u)
	}
	return sb.String()
}

// usableFields returns the entries of the form's /Fields that can be
// fields, and names the first it leaves out. An entry that is not a
// dictionary (an integer, a name, a reference to an object that does not
// exist) holds no field: no viewer shows anything for it, and qpdf,
// PDFBox and pdf.js pass over it. When sealing an unsigned form, the
// engine passes over it too, and the sealing revision lists the form's
// fields without it (the new field is added to a rewritten /Fields), so
// that the output reads cleanly to the verifier, which stays strict about
// every field entry (signatureFields). A form that carries signatures
// keeps its bad entry and is refused (see form). Entries nested in a
// field's /Kids are not passed over: the sealing revision does not
// rewrite those fields, so the output would keep them.
func (d *document) usableFields(fields array) (array, string, error) {
	var out array
	dropped := ""
	for i, fo := range fields {
		o, err := d.resolve(fo)
		if err != nil {
			return nil, "", err
		}
		switch o.(type) {
		case dict, *stream:
			out = append(out, fields[i])
		default:
			if dropped == "" {
				dropped = typeName(o)
			}
		}
	}
	return out, dropped, nil
}
