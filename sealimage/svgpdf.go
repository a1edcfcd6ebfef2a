package sealimage

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The SVG of a drawn seal is the seal's canonical picture: it is what the
// national seal data (SESeal) carries, and the PDF content that draws the
// seal on a document is derived from it by PDFContentFromSVG alone. So a
// verifier holding the SESeal can derive the content again and compare it
// byte for byte with what the document draws.

// ErrNotOurSVG means an SVG that is not in the form SVG writes: one filled
// path in millimetres, in a square view box.
var ErrNotOurSVG = errors.New("sealimage: not a seal SVG of the form this package writes")

type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Width   string   `xml:"width,attr"`
	Height  string   `xml:"height,attr"`
	ViewBox string   `xml:"viewBox,attr"`
	Paths   []struct {
		Fill     string `xml:"fill,attr"`
		FillRule string `xml:"fill-rule,attr"`
		D        string `xml:"d,attr"`
	} `xml:"path"`
}

// PDFContentFromSVG returns the PDF content stream that draws the seal
// picture svg (as SVG writes it) in a box of its size in points, origin at
// the lower left.
func PDFContentFromSVG(svg []byte) ([]byte, error) {
	size, rgb, d, err := readSVG(svg)
	if err != nil {
		return nil, err
	}
	const ptPerMM = 72 / 25.4
	var b strings.Builder
	fmt.Fprintf(&b, "q %s %s %s rg\n", num(float64(rgb>>16&0xff)/255, 3), num(float64(rgb>>8&0xff)/255, 3), num(float64(rgb&0xff)/255, 3))
	err = walkPath(d, func(cmd byte, nums []float64) {
		for i := 0; i < len(nums); i += 2 {
			b.WriteString(num(nums[i]*ptPerMM, 2) + " " + num((size-nums[i+1])*ptPerMM, 2))
			b.WriteByte(' ')
		}
		b.WriteString(map[byte]string{'M': "m", 'L': "l", 'C': "c", 'Z': "h"}[cmd])
		b.WriteByte('\n')
	})
	if err != nil {
		return nil, err
	}
	b.WriteString("f\nQ\n")
	return []byte(b.String()), nil
}

// ParseSVG reads a seal picture in the form SVG writes back into a Seal,
// for rasterising it (PNG). The Seal knows its paths, not its text.
func ParseSVG(svg []byte) (*Seal, error) {
	size, _, d, err := readSVG(svg)
	if err != nil {
		return nil, err
	}
	s := &Seal{diameter: size}
	r := size / 2
	pt := func(n []float64, i int) Point { return Point{n[i] - r, r - n[i+1]} }
	err = walkPath(d, func(cmd byte, n []float64) {
		switch cmd {
		case 'M':
			s.path.moveTo(pt(n, 0))
		case 'L':
			s.path.lineTo(pt(n, 0))
		case 'C':
			s.path.cubeTo(pt(n, 0), pt(n, 2), pt(n, 4))
		case 'Z':
			s.path.closePath()
		}
	})
	return s, err
}

// readSVG checks that svg is in the form SVG writes and returns its size
// in millimetres, its fill colour and its path data.
func readSVG(svg []byte) (size float64, rgb uint64, d string, err error) {
	var doc svgDoc
	if err := xml.Unmarshal(svg, &doc); err != nil {
		return 0, 0, "", fmt.Errorf("%w: %v", ErrNotOurSVG, err)
	}
	w := strings.TrimSuffix(doc.Width, "mm")
	size, err = strconv.ParseFloat(w, 64)
	if err != nil || doc.Width != doc.Height || !strings.HasSuffix(doc.Width, "mm") || doc.ViewBox != "0 0 "+w+" "+w || size <= 0 || size > 500 {
		return 0, 0, "", fmt.Errorf("%w: size %q×%q, view box %q", ErrNotOurSVG, doc.Width, doc.Height, doc.ViewBox)
	}
	if len(doc.Paths) != 1 || doc.Paths[0].FillRule != "nonzero" || len(doc.Paths[0].Fill) != 7 || doc.Paths[0].Fill[0] != '#' {
		return 0, 0, "", fmt.Errorf("%w: %d paths", ErrNotOurSVG, len(doc.Paths))
	}
	rgb, err = strconv.ParseUint(doc.Paths[0].Fill[1:], 16, 32)
	if err != nil {
		return 0, 0, "", fmt.Errorf("%w: fill %q", ErrNotOurSVG, doc.Paths[0].Fill)
	}
	return size, rgb, doc.Paths[0].D, nil
}

// walkPath calls step for each command of path data as SVG writes it: a
// command letter glued to its first number, the numbers separated by
// spaces, absolute M, L, C and Z only.
func walkPath(d string, step func(cmd byte, nums []float64)) error {
	var cmd byte
	var nums []float64
	flush := func() error {
		if cmd == 0 {
			return nil
		}
		if need := map[byte]int{'M': 2, 'L': 2, 'C': 6, 'Z': 0}[cmd]; len(nums) != need {
			return fmt.Errorf("%w: %c with %d numbers", ErrNotOurSVG, cmd, len(nums))
		}
		step(cmd, nums)
		nums = nums[:0]
		return nil
	}
	for _, tok := range splitCommands(strings.Fields(d)) {
		if c := tok[0]; c == 'M' || c == 'L' || c == 'C' || c == 'Z' {
			if err := flush(); err != nil {
				return err
			}
			cmd, tok = c, tok[1:]
			if tok == "" {
				continue
			}
		}
		v, err := strconv.ParseFloat(tok, 64)
		if err != nil || cmd == 0 {
			return fmt.Errorf("%w: path data %q", ErrNotOurSVG, tok)
		}
		nums = append(nums, v)
	}
	return flush()
}

// splitCommands splits tokens at command letters glued to the end of a
// number ("3.5Z" or "1.2M4"), which SVG writes between subpaths.
func splitCommands(toks []string) []string {
	var out []string
	for _, t := range toks {
		start := 0
		for i := 1; i < len(t); i++ {
			if c := t[i]; c == 'M' || c == 'L' || c == 'C' || c == 'Z' {
				out = append(out, t[start:i])
				start = i
			}
		}
		out = append(out, t[start:])
	}
	return out
}
