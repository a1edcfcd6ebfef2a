package pdf

import (
	"bytes"
	"context"
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
	// Size is the longest DER signature SignDigest returns for
	// signingTime; the placeholder is that long, and a shorter signature
	// is padded with zeros.
	Size(signingTime time.Time) int
	// SignDigest signs the SM3 digest of the signed byte ranges.
	SignDigest(digest []byte, signingTime time.Time) ([]byte, error)
}

// A FormatSigner is a Signer whose signature is not a detached CMS: it
// names the signature dictionary's /Filter and /SubFilter (a GB/T 38540
// SES_Signature is /GM.PKILite /GM.sm2seal, seal/ses).
type FormatSigner interface {
	Signer
	Filter() string
	SubFilter() string
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
	// Repair allows sealing a damaged file that carries no signatures,
	// after repairing it (see Result.Repaired). The service always allows
	// it (issue 14); without it a damaged file is refused, as the
	// verifier refuses it.
	Repair bool
	// Limits bound the memory and work the document may cost; zero
	// fields are the defaults.
	Limits Limits
	// QR, when set, is drawn beside the seal, in the same signed revision,
	// as an annotation of its own (qr.go); it needs Image.
	QR *QRCode
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
	// Repaired says what was repaired, empty when nothing was. With
	// Request.Repair, a damaged file that carries no signatures is
	// repaired before it is sealed:
	// junk before the header is dropped, and a file whose
	// cross-reference data or object offsets are broken, or that ends
	// before them, is rebuilt from the objects found in it, as viewers
	// read it. The output then does not start with the input's bytes,
	// and UpdateOffset is where the repaired file ends. A damaged file
	// that carries signatures is refused (ErrDamagedSigned): a rewrite
	// would break them. Only sealing repairs; the verifier (Analyze)
	// reads every file as it is.
	Repaired string
	// QR is where Request.QR was drawn; nil when it was not, and then
	// QRNote says why.
	QR     *Placed
	QRNote string
}

// Placed is where one seal (or one strip of a cross-page seal) was drawn.
type Placed struct {
	// Page is 1-based.
	Page int
	// Rect is the widget rectangle in the page's default user space, in
	// points: llx, lly, urx, ury.
	Rect [4]float64
	// Why says where the seal went and why, for the clerk: "centred on
	// the 署名 and 成文日期 (…), shifted down 6 mm to clear the body text",
	// "no date line …: inside the lower right margins", "centred on the
	// keyword …".
	Why string
}

// Seal seals the PDF in src (size bytes) as req asks, and writes the
// sealed document to w: the original bytes unchanged, followed by an
// incremental update with the signature field, its appearance and the
// signature.
//
// Everything that can fail but writing — reading and checking the
// document, placing the seal, hashing and signing — happens before the
// first byte is written, so that a refusal or a failing signer leaves w
// untouched. For that the source is read twice: hashed, then copied. If it
// changes in between (ErrSourceChanged), or w or src fails while copying,
// Seal returns an error and what was written must be discarded: a caller
// that writes a file writes it atomically (internal/atomicfile).
//
// Reading the document spends from req.Limits; a document that needs more
// is refused with a *LimitError. When ctx ends, Seal stops reading and
// returns ctx's error, before anything is signed or written.
func Seal(ctx context.Context, w io.Writer, src io.ReaderAt, size int64, req Request) (*Result, error) {
	return sealWithin(newBudget(ctx, req.Limits), w, src, size, req)
}

// sealWithin is Seal spending from bud.
func sealWithin(bud *budget, w io.Writer, src io.ReaderAt, size int64, req Request) (*Result, error) {
	if req.Signer == nil {
		return nil, fmt.Errorf("%w: no signer", ErrBadRequest)
	}
	if req.Image == nil && len(req.Placements) > 0 {
		return nil, fmt.Errorf("%w: placements without a seal image", ErrBadRequest)
	}
	if req.QR != nil {
		if req.Image == nil {
			return nil, fmt.Errorf("%w: a QR code without a seal image", ErrBadRequest)
		}
		if err := req.QR.check(); err != nil {
			return nil, err
		}
	}
	if strings.Contains(req.FieldName, ".") {
		return nil, fmt.Errorf("%w: field name %q contains a period", ErrBadRequest, req.FieldName)
	}
	if req.Time.IsZero() {
		req.Time = time.Now()
	}
	s := &sealer{req: &req, src: src, size: size, bud: bud, base: src, n: size, res: &Result{}}
	err := s.prepare()
	if req.Repair && repairable(err) {
		if rerr := s.repair(err); rerr != nil {
			return nil, rerr
		}
		err = s.prepare()
	}
	if err != nil {
		return nil, err
	}
	// What was read leniently (text for a placement, fonts) gives up
	// quietly when the budget runs out or the caller goes away; the
	// sealing must not go on with what it read.
	if err := s.bud.alive(); err != nil {
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
	bud  *budget
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

// prepare reads the document in s.base and builds the update: everything
// before hashing and signing.
func (s *sealer) prepare() error {
	if s.d != nil {
		s.d.release() // a damaged original, before its repair
		s.d = nil
	}
	if err := s.open(); err != nil {
		return err
	}
	return s.build()
}

func (s *sealer) open() error {
	d, err := open(s.base, s.n, s.bud)
	if err != nil {
		return err
	}
	s.d = d
	if err := d.setupCrypt(); err != nil {
		return err
	}
	if s.f, err = d.form(); err != nil {
		return err
	}
	// The whole page tree is walked, as the verifier walks it, so that
	// a loop in a part that placement does not visit (qpdf's
	// pages-loop.pdf) is refused here rather than sealed into a file
	// that the verifier rejects.
	if err := d.eachPage(func(*page) error { return nil }); err != nil {
		return err
	}
	if s.res.Repaired != "" && len(s.f.sigs) > 0 {
		return fmt.Errorf("%w: it has %d signature(s)", ErrDamagedSigned, len(s.f.sigs))
	}
	if s.f.docMDP == 1 {
		return ErrCertifiedNoChanges
	}
	s.res.PriorSignatures = s.f.sigs
	return nil
}

// repairable reports whether err is damage that a repair may mend: the
// file's structure is broken or ends early. Anything else (limits,
// encryption, placement, the caller gone) stays as it is.
func repairable(err error) bool {
	return (errors.Is(err, ErrDamaged) || errors.Is(err, ErrTruncated)) && !errors.Is(err, ErrDamagedSigned)
}

// repair makes s.base a sound copy of the damaged source, which failed to
// read with damage, and says what it did in s.res.Repaired. Junk before
// the header is dropped when that alone mends the file; otherwise the
// file is rebuilt from its objects. A file that carries signatures is
// refused: a rewrite would break them.
func (s *sealer) repair(damage error) error {
	var shift *shiftError
	if errors.As(damage, &shift) {
		s.base = io.NewSectionReader(s.src, shift.junk, s.size-shift.junk)
		s.n = s.size - shift.junk
		s.res.Repaired = fmt.Sprintf("dropped %d bytes of junk before the %%PDF- header", shift.junk)
		return nil
	}
	rebuilt, note, err := rebuild(s.src, s.size, s.bud)
	switch {
	case errors.Is(err, ErrDamagedSigned):
		return fmt.Errorf("%w (%v)", err, damage)
	case err != nil:
		return fmt.Errorf("%w; it could not be repaired either: %v", damage, err)
	}
	if errors.Is(damage, ErrTruncated) {
		note += "; the file ended before its cross-reference data, as a truncated file does: check that every page is there"
	}
	s.base, s.n = bytes.NewReader(rebuilt), int64(len(rebuilt))
	s.res.Repaired = note
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
