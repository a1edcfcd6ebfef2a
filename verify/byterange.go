package verify

import (
	"errors"
	"strconv"

	"github.com/ronganxian/eseal/pdf"
)

// checkByteRange applies the rules that defeat universal signature
// forgery and signature wrapping: the signature's dictionary is where the
// file says, its /Contents and /ByteRange are written in it, and the byte
// range is [0 a b c] whose one gap [a, b) is exactly that /Contents
// string, lies within the file, and ends where a revision ends. It
// returns the problems found, none when the range may be hashed.
func checkByteRange(s *pdf.SignatureField, a *pdf.Analysis) []Problem {
	if s.Problem != nil {
		code := CodeNotLocated
		switch {
		case errors.Is(s.Problem, pdf.ErrContentsMissing):
			code = CodeContentsMissing
		case errors.Is(s.Problem, pdf.ErrByteRangeMissing), errors.Is(s.Problem, pdf.ErrDuplicateEntry):
			code = CodeByteRange
		}
		return []Problem{{Code: code, Detail: s.Problem.Error()}}
	}
	br := s.ByteRange
	switch {
	case len(br)%2 != 0:
		return []Problem{problem(CodeByteRange, "%d numbers, not offset and length pairs", len(br))}
	case len(br) > 4:
		return []Problem{problem(CodeByteRange, "%d ranges leave more than one gap", len(br)/2)}
	case len(br) < 4:
		return []Problem{problem(CodeByteRange, "one range leaves no gap for the signature")}
	}
	off1, len1, off2, len2 := br[0], br[1], br[2], br[3]
	switch {
	case off1 != 0:
		return []Problem{problem(CodeByteRange, "the first range starts at byte %d, not 0", off1)}
	case len1 < 0 || off2 < 0 || len2 < 0:
		return []Problem{problem(CodeByteRange, "negative offset or length in %v", br)}
	case len1 == 0:
		return []Problem{problem(CodeByteRange, "the first range is empty: nothing before the signature is signed")}
	case off2 < len1:
		return []Problem{problem(CodeByteRange, "the ranges overlap: the second starts at %d, inside the first [0, %d)", off2, len1)}
	case off2 > a.Size || len2 > a.Size-off2:
		return []Problem{problem(CodeByteRange, "the second range [%d, +%d) runs past the end of the %d-byte file", off2, len2, a.Size)}
	}
	var ps []Problem
	if len1 != s.ContentsStart || off2 != s.ContentsEnd {
		ps = append(ps, problem(CodeByteRangeGap, "the gap is [%d, %d); the /Contents string of signature object %d is at [%d, %d)",
			len1, off2, s.Object, s.ContentsStart, s.ContentsEnd))
	}
	if s.Revision < 0 {
		ps = append(ps, problem(CodeByteRangeEnd, "the ranges end at byte %d; the revisions end at %s", off2+len2, revisionEnds(a)))
	}
	return ps
}

func revisionEnds(a *pdf.Analysis) string {
	var b []byte
	for i, r := range a.Revisions {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, r.End, 10)
		if i == 8 && len(a.Revisions) > 10 {
			b = append(b, ", …"...)
			break
		}
	}
	return string(b)
}
