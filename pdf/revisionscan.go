package pdf

import (
	"bytes"
	"fmt"
)

// Revisions (ISO 32000-2 §7.5.6). A document is its original bytes and
// the incremental updates appended to them. Each revision ends with its
// cross-reference section, its trailer, "startxref", the section's offset
// and the "%%EOF" marker. The revisions that count are those on the /Prev
// chain of the newest section: they are what a viewer reads. A signature
// signs one revision, so its byte range must end where one of them ends.
//
// This file finds a document's revisions, for the verifier (Analyze).
// Writing the revision a seal adds is sealupdate.go.

// maxRevisions bounds the revisions a verifier analyses; each one is read
// as a document of its own.
const maxRevisions = 256

// Revision is one revision of a document: the original, or an incremental
// update.
type Revision struct {
	// XRef is the offset of the revision's cross-reference section (its
	// newest one, for a linearized file's two sections).
	XRef int64
	// EOF is the offset just past the revision's "%%EOF" marker, and End
	// that plus the end-of-line marker that follows it, if any. A
	// signature of this revision ends its byte range at one of them.
	EOF, End int64
	// Changes says what the revision changes in the document as the
	// revision before it left it. It is filled in only for the revisions
	// after the first one that a signature signs; see Analyze.
	Changes []Change
}

// eofMarker is one "startxref N %%EOF" found in the file.
type eofMarker struct {
	startxref int64 // N
	eof, end  int64 // just past %%EOF, and past its end-of-line
}

// chainSections returns the offsets of the cross-reference sections on the
// /Prev chain, newest first. It reads them into a scratch document, so
// that d's own table stays as open left it.
func (d *document) chainSections() ([]int64, error) {
	scratch := newDocument(d.src, d.size, d.bud)
	var offs []int64
	seen := make(map[int64]bool)
	for off := d.startxref; ; {
		if len(offs) == maxXRefSections {
			return nil, damaged(-1, "more than %d cross-reference sections", maxXRefSections)
		}
		if seen[off] {
			return nil, damaged(off, "cross-reference /Prev chain loops")
		}
		seen[off] = true
		offs = append(offs, off)
		trailer, _, err := scratch.readSection(off)
		if err != nil {
			return nil, err
		}
		prev, ok := asInt(trailer.get("Prev"))
		if !ok {
			return offs, nil
		}
		if prev < 0 || prev >= d.size {
			return nil, damaged(off, "/Prev %d outside the file", prev)
		}
		off = prev
	}
}

// eofMarkers finds every "startxref N %%EOF" at or after from, in order.
// It reads the file once, in chunks.
func (d *document) eofMarkers(from int64) ([]eofMarker, error) {
	const chunk = 256 << 10
	const keyword = "startxref"
	var out []eofMarker
	for pos := from; pos < d.size; {
		buf, eof, err := d.window(pos, chunk)
		if err != nil {
			return nil, err
		}
		i := 0
		for {
			j := bytes.Index(buf[i:], []byte(keyword))
			if j < 0 {
				break
			}
			at := pos + int64(i+j)
			if m, ok, err := d.markerAt(at + int64(len(keyword))); err != nil {
				return nil, err
			} else if ok {
				out = append(out, m)
				if len(out) > maxXRefSections {
					return nil, damaged(at, "more than %d end-of-file markers", maxXRefSections)
				}
			}
			i += j + len(keyword)
		}
		if eof {
			break
		}
		// Step back so that a keyword split by the chunk's end is seen.
		pos += int64(len(buf) - len(keyword) + 1)
	}
	return out, nil
}

// markerAt reads "N %%EOF" after a startxref keyword that ends at off.
func (d *document) markerAt(off int64) (eofMarker, bool, error) {
	buf, _, err := d.window(off, 128)
	if err != nil {
		return eofMarker{}, false, err
	}
	i := 0
	skip := func() {
		for i < len(buf) && isWhite(buf[i]) {
			i++
		}
	}
	if i < len(buf) && isRegular(buf[i]) {
		return eofMarker{}, false, nil // "startxrefs…", not the keyword
	}
	skip()
	start := i
	var n int64
	for i < len(buf) && buf[i] >= '0' && buf[i] <= '9' && i-start < 18 {
		n = n*10 + int64(buf[i]-'0')
		i++
	}
	if i == start || i == len(buf) || !isWhite(buf[i]) {
		return eofMarker{}, false, nil
	}
	skip()
	if !bytes.HasPrefix(buf[i:], []byte("%%EOF")) {
		return eofMarker{}, false, nil
	}
	i += len("%%EOF")
	m := eofMarker{startxref: n, eof: off + int64(i)}
	switch {
	case bytes.HasPrefix(buf[i:], []byte("\r\n")):
		i += 2
	case i < len(buf) && (buf[i] == '\n' || buf[i] == '\r'):
		i++
	}
	m.end = off + int64(i)
	return m, true, nil
}

// revisions returns the document's revisions, oldest first. A section on
// the chain whose own marker cannot be found (the main section of a
// linearized file, which the first-page section's marker covers) belongs
// to the next newer revision. The newest section must have a marker, and
// the revisions must end in the order they are chained.
func (d *document) revisions() ([]Revision, error) {
	secs, err := d.chainSections()
	if err != nil {
		return nil, err
	}
	lo := secs[0]
	for _, s := range secs {
		lo = min(lo, s)
	}
	markers, err := d.eofMarkers(lo)
	if err != nil {
		return nil, err
	}
	// The marker of a section is the first after it that names it.
	markerOf := func(sec int64) (eofMarker, bool) {
		for _, m := range markers {
			if m.startxref == sec && m.eof > sec {
				return m, true
			}
		}
		return eofMarker{}, false
	}
	if _, ok := markerOf(secs[0]); !ok {
		return nil, damaged(secs[0], "no \"startxref %d %%%%EOF\" ends the newest revision", secs[0])
	}
	var revs []Revision
	for i := len(secs) - 1; i >= 0; i-- {
		m, ok := markerOf(secs[i])
		if !ok {
			continue
		}
		if n := len(revs); n > 0 && m.end <= revs[n-1].End {
			return nil, damaged(secs[i], "revision ending at byte %d is chained after one ending at byte %d", m.end, revs[n-1].End)
		}
		revs = append(revs, Revision{XRef: secs[i], EOF: m.eof, End: m.end})
		if len(revs) > maxRevisions {
			return nil, fmt.Errorf("%w: more than %d revisions", ErrTooLarge, maxRevisions)
		}
	}
	return revs, nil
}
