package pdf

import (
	"errors"
	"fmt"
)

// Errors that say why a document cannot be sealed. Each refusal wraps one of
// them, so that a caller can test it with errors.Is and tell the clerk what
// to do; the wrapping message names what exactly failed.
var (
	// ErrNotPDF means the input has no %PDF- header in its first kilobyte or
	// no startxref at its end: it is not a PDF at all.
	ErrNotPDF = errors.New("pdf: not a PDF file")
	// ErrTruncated means the file ends before its structure does, typically
	// an incomplete upload or copy. Obtain the complete file again.
	ErrTruncated = errors.New("pdf: file is truncated")
	// ErrDamaged means the file's cross-reference data or objects are broken
	// (wrong offsets, junk before the header, unparsable objects). Seal
	// repairs such a file when it carries no signatures; otherwise
	// re-save the document in its authoring application.
	ErrDamaged = errors.New("pdf: file is damaged")
	// ErrDamagedSigned means the file is damaged (it wraps ErrDamaged) and
	// carries signatures: repairing it would rewrite it and break them, so
	// it is not sealed. The signer must re-save and re-sign it.
	ErrDamagedSigned = fmt.Errorf("%w, and it carries signatures, which a rewrite to repair it would break", ErrDamaged)
	// ErrEncrypted means the document is encrypted in a way the engine
	// cannot seal: it needs a password to open, uses a security handler
	// other than the standard one, or its permissions forbid adding a
	// signature field. Documents encrypted with the standard handler and
	// an empty user password are sealed. Remove the protection (export an
	// unprotected copy) before sealing.
	ErrEncrypted = errors.New("pdf: document is encrypted")
	// ErrCertifiedNoChanges means the document carries a certification
	// signature whose DocMDP permission (P=1) forbids any change, signing
	// included. The certifier must issue a version that permits signing.
	ErrCertifiedNoChanges = errors.New("pdf: certified document permits no changes (DocMDP P=1)")
	// ErrCertifiedNoAnnotations means the document's certification (DocMDP
	// P=2) permits signing but not adding annotations, which a seal drawn
	// in several places (a cross-page seal) needs. Seal it in one place.
	ErrCertifiedNoAnnotations = errors.New("pdf: certified document permits signing but not added annotations (DocMDP P=2)")
	// ErrPageOutOfRange means a placement names a page the document lacks.
	ErrPageOutOfRange = errors.New("pdf: page out of range")
	// ErrKeywordNotFound means a keyword placement's text is not on the
	// pages searched.
	ErrKeywordNotFound = errors.New("pdf: keyword not found")
	// ErrFieldExists means the requested signature field name is taken.
	ErrFieldExists = errors.New("pdf: signature field name already in use")
	// ErrTooLarge means an object, stream or the file exceeds the limits
	// this package accepts, which bound its memory use on hostile input.
	ErrTooLarge = errors.New("pdf: input exceeds size limits")
	// ErrUnsupported means a valid PDF construct this package does not
	// implement, for example an unknown stream filter where it must decode.
	ErrUnsupported = errors.New("pdf: unsupported PDF feature")
	// ErrBadImage means the seal image is not a usable PNG.
	ErrBadImage = errors.New("pdf: bad seal image")
	// ErrBadRequest means the sealing request itself is incomplete or
	// inconsistent (no signer, negative size, nothing to place).
	ErrBadRequest = errors.New("pdf: bad sealing request")
	// ErrSignatureTooLarge means the signer returned more bytes than its
	// Size promised, so the signature does not fit its placeholder.
	ErrSignatureTooLarge = errors.New("pdf: signature larger than its placeholder")
	// ErrSourceChanged means the source bytes changed between hashing and
	// copying them to the output; the output must be discarded.
	ErrSourceChanged = errors.New("pdf: source changed while sealing")
)

// damaged returns an ErrDamaged error that says what is broken and where.
func damaged(off int64, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if off >= 0 {
		return fmt.Errorf("%w: %s (at byte %d)", ErrDamaged, msg, off)
	}
	return fmt.Errorf("%w: %s", ErrDamaged, msg)
}
