package sealimage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// Fonts from Debian's fonts-arphic-uming (uming.ttc) place their tables at
// offsets that are not multiples of four, which the OpenType specification
// asks for and golang.org/x/image/font/sfnt insists on. faces reads the
// table directories of a font file (one font, or a collection) and presents
// each face as a font file of its own whose tables start on four-byte
// boundaries. Nothing is copied: a face reads its tables from the original
// file, at the offsets its directory gives.

// A face is one font of a file, as a well-aligned font file of its own.
type face struct {
	src  io.ReaderAt
	head []byte      // the offset table and the table directory, rewritten
	segs []tableSpan // the tables, in the order of their new offsets
	size int64
}

// tableSpan maps the face's bytes [at, at+n) to the source's [from, from+n).
type tableSpan struct{ at, from, n int64 }

// faces returns every face of the font file src.
func faces(src io.ReaderAt) ([]*face, error) {
	var hdr [12]byte
	if _, err := src.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("font header: %w", err)
	}
	offsets := []int64{0}
	if string(hdr[:4]) == "ttcf" {
		n := binary.BigEndian.Uint32(hdr[8:12])
		if n == 0 || n > 64 {
			return nil, fmt.Errorf("font collection of %d fonts", n)
		}
		b := make([]byte, 4*n)
		if _, err := src.ReadAt(b, 12); err != nil {
			return nil, fmt.Errorf("font collection: %w", err)
		}
		offsets = offsets[:0]
		for i := range n {
			offsets = append(offsets, int64(binary.BigEndian.Uint32(b[4*i:])))
		}
	}
	var out []*face
	for _, o := range offsets {
		f, err := readFace(src, o)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func readFace(src io.ReaderAt, at int64) (*face, error) {
	var ot [12]byte
	if _, err := src.ReadAt(ot[:], at); err != nil {
		return nil, fmt.Errorf("font offset table: %w", err)
	}
	n := int(binary.BigEndian.Uint16(ot[4:6]))
	if n == 0 || n > 256 {
		return nil, fmt.Errorf("font with %d tables", n)
	}
	dir := make([]byte, 16*n)
	if _, err := src.ReadAt(dir, at+12); err != nil {
		return nil, fmt.Errorf("font table directory: %w", err)
	}
	f := &face{src: src, head: append(ot[:], dir...)}
	type entry struct {
		i         int
		from, len int64
	}
	entries := make([]entry, n)
	for i := range n {
		e := dir[16*i:]
		entries[i] = entry{i, int64(binary.BigEndian.Uint32(e[8:])), int64(binary.BigEndian.Uint32(e[12:]))}
	}
	// Lay the tables out after the directory in their file order, each at
	// the next multiple of four.
	sort.Slice(entries, func(a, b int) bool { return entries[a].from < entries[b].from })
	next := int64(len(f.head))
	for _, e := range entries {
		next = (next + 3) &^ 3
		if next > 1<<31-1 {
			return nil, errors.New("font too large")
		}
		binary.BigEndian.PutUint32(f.head[12+16*e.i+8:], uint32(next))
		f.segs = append(f.segs, tableSpan{at: next, from: e.from, n: e.len})
		next += e.len
	}
	f.size = next
	return f, nil
}

// ReadAt reads the face's bytes: the rewritten directory, a table's bytes
// from the source, or the zeros between tables.
func (f *face) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		o := off + int64(done)
		if o >= f.size {
			return done, io.EOF
		}
		q := p[done:]
		if o < int64(len(f.head)) {
			done += copy(q, f.head[o:])
			continue
		}
		// The segment holding o, or the padding before the next one.
		i := sort.Search(len(f.segs), func(i int) bool { return f.segs[i].at+f.segs[i].n > o })
		s := f.segs[i]
		if o < s.at {
			k := min(int64(len(q)), s.at-o)
			clear(q[:k])
			done += int(k)
			continue
		}
		k := min(int64(len(q)), s.at+s.n-o)
		m, err := f.src.ReadAt(q[:k], s.from+(o-s.at))
		done += m
		if err != nil && !(errors.Is(err, io.EOF) && int64(m) == k) {
			return done, err
		}
	}
	return done, nil
}
