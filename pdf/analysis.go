package pdf

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Analysis is what a signature verifier needs to know about a document's
// structure: its revisions, what each revision after a signed one
// changes, and where each signature lies.
type Analysis struct {
	// Size is the file's size.
	Size int64
	// Revisions are the revisions on the cross-reference chain, oldest
	// first.
	Revisions []Revision
	// Trailing is the number of bytes after the last revision's end, and
	// TrailingJunk whether any of them is not white space.
	Trailing     int64
	TrailingJunk bool
	// Signatures are the signed signature fields, in form order, then
	// those found only as widgets on the pages.
	Signatures []SignatureField
	// Damage, when not nil, is why the revisions or the form cannot be
	// read; then what Revisions and Signatures hold is incomplete.
	Damage error
}

// maxAnalysedRevisions bounds the revisions after the first signed one
// that are compared, each against the one before it.
const maxAnalysedRevisions = 64

// Analyze reads the structure of the PDF in src (size bytes) for a
// verifier. It fails only when the file cannot be read as a PDF at all
// (ErrNotPDF, ErrTruncated, ErrDamaged, ErrTooLarge) or is encrypted in a
// way it cannot read without a password (ErrEncrypted); damage found past that point is in Analysis.Damage, and
// what a revision that cannot be read changes is ChangeUnparseable.
//
// Changes are computed for every revision after the first revision that
// a signature's byte range ends at: each is read as the document a viewer
// would have shown then, and compared with the one before it.
//
// The file, with every revision read, spends from one budget of lim. A
// file that exceeds it fails with a *LimitError if the failure comes
// before its revisions and signatures are known; later, the Damage or the
// revision's ChangeUnparseable says so. When ctx ends, Analyze returns
// ctx's error, and when ctx's Meter refuses, the *MeterError.
func Analyze(ctx context.Context, src io.ReaderAt, size int64, lim Limits) (*Analysis, error) {
	bud := newBudget(ctx, lim)
	a, err := analyzeWithin(src, size, bud)
	if err := bud.ctx.Err(); err != nil {
		return nil, err // what was read is incomplete, whatever it says
	}
	if me := (*MeterError)(nil); errors.As(bud.err, &me) {
		return nil, me // as incomplete, and it says nothing of the file
	}
	if err != nil {
		return nil, err
	}
	if a.Damage == nil && bud.err != nil {
		a.Damage = bud.err // read leniently past it: incomplete
	}
	return a, nil
}

func analyzeWithin(src io.ReaderAt, size int64, bud *budget) (*Analysis, error) {
	d, err := open(src, size, bud)
	if err != nil {
		return nil, err
	}
	if err := d.setupCrypt(); err != nil {
		return nil, err
	}
	a := &Analysis{Size: size}
	if a.Revisions, err = d.revisions(); err != nil {
		a.Damage = err
		return a, nil
	}
	last := a.Revisions[len(a.Revisions)-1].End
	a.Trailing = size - last
	if a.Trailing > 0 {
		tail, _, err := d.window(last, int(min(a.Trailing, 1<<20)))
		if err != nil {
			return nil, err
		}
		for _, c := range tail {
			if !isWhite(c) {
				a.TrailingJunk = true
				break
			}
		}
		if a.Trailing > 1<<20 {
			a.TrailingJunk = true
		}
	}
	if a.Signatures, err = d.signatureFields(); err != nil {
		a.Damage = err
		return a, nil
	}
	d.release() // the revisions compared are read afresh
	first := -1
	for i := range a.Signatures {
		s := &a.Signatures[i]
		s.Revision = a.revisionEndingAt(s.ByteRange)
		if s.Revision >= 0 && (first < 0 || s.Revision < first) {
			first = s.Revision
		}
	}
	if first >= 0 && first < len(a.Revisions)-1 {
		a.compare(src, first, bud)
	}
	return a, nil
}

// revisionEndingAt returns the index of the revision whose end the byte
// range ends at, -1 when none.
func (a *Analysis) revisionEndingAt(br []int64) int {
	if len(br) < 2 {
		return -1
	}
	end := br[len(br)-2] + br[len(br)-1]
	for i, r := range a.Revisions {
		if end == r.End || end == r.EOF {
			return i
		}
	}
	return -1
}

// compare fills in the changes of the revisions after revision first.
func (a *Analysis) compare(src io.ReaderAt, first int, bud *budget) {
	revs := a.Revisions
	if len(revs)-1-first > maxAnalysedRevisions {
		for k := first + 1; k < len(revs); k++ {
			revs[k].Changes = []Change{{Kind: ChangeUnparseable, Alters: true,
				Detail: fmt.Sprintf("more than %d revisions follow the signed one", maxAnalysedRevisions)}}
		}
		return
	}
	ends := make([]int64, len(revs))
	for i, r := range revs {
		ends[i] = r.End
	}
	prev, pr, perr := openRevision(src, revs[first], bud)
	for k := first + 1; k < len(revs); k++ {
		cur, cr, err := openRevision(src, revs[k], bud)
		switch {
		case err != nil:
			revs[k].Changes = unparseable(fmt.Sprintf("revision %d cannot be read: %v", k+1, err))
		case perr != nil:
			revs[k].Changes = unparseable(fmt.Sprintf("revision %d, before it, cannot be read: %v", k, perr))
		default:
			revs[k].Changes = diff(prev, cur, pr, cr, ends)
		}
		if prev != nil {
			prev.release()
		}
		prev, pr, perr = cur, cr, err
	}
	if prev != nil {
		prev.release()
	}
}

func unparseable(detail string) []Change {
	return []Change{{Kind: ChangeUnparseable, Alters: true, Detail: detail}}
}

// openRevision reads the document as revision r left it, and the roles
// of its objects.
func openRevision(src io.ReaderAt, r Revision, bud *budget) (*document, *roleMap, error) {
	d, err := open(io.NewSectionReader(src, 0, r.End), r.End, bud)
	if err != nil {
		return nil, nil, err
	}
	rm, err := d.revisionRoles(r)
	if err != nil {
		d.release()
		return nil, nil, err
	}
	return d, rm, nil
}

// revisionRoles checks that d is revision r and returns the roles of its
// objects.
func (d *document) revisionRoles(r Revision) (*roleMap, error) {
	if d.startxref != r.XRef {
		return nil, damaged(-1, "its startxref points to byte %d, not to its section at %d", d.startxref, r.XRef)
	}
	if err := d.setupCrypt(); err != nil {
		return nil, err
	}
	return d.roles()
}
