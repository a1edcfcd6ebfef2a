package pdf

import (
	"context"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/sm3"
)

// The document timestamp (ISO 32000-2 §12.8.5, PAdES B-LTA): a signature
// field whose value is an RFC 3161 token over the revision's byte ranges,
// /Type /DocTimeStamp, /SubFilter /ETSI.RFC3161. Added after a /DSS, it
// proves when the validation data existed, so that an archive can be
// re-stamped before the algorithms or the TSA's certificate age out. It is
// invisible: its widget has an empty rectangle on the first page.

// AddDocTimestamp writes src (size bytes) to w followed by an incremental
// update that adds a document timestamp. stamp gets the SM3 digest of the
// update's byte ranges and returns the DER token over it; reserve bounds
// the token's length. A signed document stays valid: a document timestamp
// is an allowed later change.
func AddDocTimestamp(ctx context.Context, w io.Writer, src io.ReaderAt, size int64, stamp func(digest []byte) ([]byte, error), reserve int, lim Limits) error {
	if stamp == nil || reserve <= 0 {
		return fmt.Errorf("%w: a document timestamp needs a TSA and a reserve", ErrBadRequest)
	}
	d, err := open(src, size, newBudget(ctx, lim))
	if err != nil {
		return err
	}
	defer d.release()
	if err := d.setupCrypt(); err != nil {
		return err
	}
	f, err := d.form()
	if err != nil {
		return err
	}
	if f.docMDP == 1 {
		return ErrCertifiedNoChanges
	}
	first, err := d.page(0)
	if err != nil {
		return err
	}
	field := ""
	for i := 1; field == ""; i++ {
		if n := fmt.Sprintf("DocTimeStamp%d", i); !f.names[n] {
			field = n
		}
	}
	next := d.maxNum + 1
	if sz, ok := asInt(d.trailer.get("Size")); ok && sz > int64(next) && sz <= maxObjNum {
		next = int(sz)
	}
	u := &update{base: size, next: next, crypt: d.crypt}
	if last, _, err := d.window(size-1, 1); err != nil {
		return err
	} else if last[0] != '\n' && last[0] != '\r' {
		u.buf = append(u.buf, '\n')
	}
	sigRef, widget := u.alloc(), u.alloc()
	u.putNew(widget, dict{
		{"Type", name("Annot")}, {"Subtype", name("Widget")},
		{"Rect", array{int64(0), int64(0), int64(0), int64(0)}},
		{"P", first.ref}, {"F", int64(annotPrint | annotLocked)},
		{"FT", name("Sig")}, {"T", textString(field)}, {"V", sigRef},
	})
	changed := newChangeSet()
	if err := changed.addAnnot(d, first, widget); err != nil {
		return err
	}
	if err := changed.addField(d, f, widget); err != nil {
		return err
	}
	for _, c := range changed.order {
		u.put(c, changed.objs[c])
	}
	ph := u.writeDocTimeStamp(sigRef, reserve)
	u.finish(d.trailer, d.startxref, d.xrefStream, next)

	total := size + int64(len(u.buf))
	start := size + int64(ph.contents)
	end := start + int64(ph.hexLen) + 2
	if err := u.patchByteRange(ph, [4]int64{0, start, end, total - end}); err != nil {
		return err
	}
	h := sm3.New()
	if _, err := io.Copy(h, io.NewSectionReader(src, 0, size)); err != nil {
		return fmt.Errorf("pdf: reading the document: %w", err)
	}
	h.Write(u.buf[:ph.contents])
	h.Write(u.buf[ph.contents+ph.hexLen+2:])
	token, err := stamp(h.Sum(nil))
	if err != nil {
		return fmt.Errorf("pdf: document timestamp: %w", err)
	}
	if err := u.patchContents(ph, token); err != nil {
		return err
	}
	if _, err := io.Copy(w, io.NewSectionReader(src, 0, size)); err != nil {
		return fmt.Errorf("pdf: copying the document: %w", err)
	}
	if _, err := w.Write(u.buf); err != nil {
		return fmt.Errorf("pdf: writing the document timestamp: %w", err)
	}
	return nil
}

// writeDocTimeStamp writes a document timestamp's dictionary as object r,
// with room for a token of tokenLen bytes: the placeholders of a signature
// dictionary, and nothing a token does not carry itself (no /M: the token
// holds the time).
func (u *update) writeDocTimeStamp(r ref, tokenLen int) sigPlaceholders {
	u.begin(r)
	b := append(u.buf, "<</Type/DocTimeStamp/Filter/Adobe.PPKLite/SubFilter/ETSI.RFC3161/ByteRange["...)
	var ph sigPlaceholders
	ph.byteRange = len(b)
	for range byteRangeWidth {
		b = append(b, ' ')
	}
	b = append(b, "]/Contents"...)
	ph.contents = len(b)
	ph.hexLen = 2 * tokenLen
	b = append(b, '<')
	for range ph.hexLen {
		b = append(b, '0')
	}
	b = append(b, ">>>"...)
	u.buf = b
	u.end()
	return ph
}
