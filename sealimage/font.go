package sealimage

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// DefaultFontPath is AR PL UMing, a Ming (宋体-style) font from Debian's
// fonts-arphic-uming, which scripts/install-deps.sh installs. A county may
// name another font file (TrueType or OpenType, or a collection) instead.
const DefaultFontPath = "/usr/share/fonts/truetype/arphic/uming.ttc"

// ErrMissingGlyph means the font cannot draw a character of the seal's text.
// The seal is not made with a substitute: a seal with a wrong or missing
// character is not the township's seal.
var ErrMissingGlyph = errors.New("sealimage: the font has no glyph for a character of the seal")

// A Font gives the outlines of the seal's characters.
type Font struct {
	f    *sfnt.Font
	name string
	upem float64
	// Where an ideograph's em box sits about its baseline, in font units, y
	// up: the seal centres each character on its em box, not on its ink.
	emBottom, emTop float64
	file            *os.File
}

// LoadFont opens a font file. In a collection it takes the simplified
// Chinese face when there is one (UMing's "AR PL UMing CN"), else the first.
// Close the font when the seals are drawn.
func LoadFont(path string) (*Font, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sealimage: font: %w", err)
	}
	fnt, err := pickFace(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("sealimage: font %s: %w", path, err)
	}
	var b sfnt.Buffer
	name, _ := fnt.Name(&b, sfnt.NameIDFull)
	upem := float64(fnt.UnitsPerEm())
	m, err := fnt.Metrics(&b, fixed.Int26_6(fnt.UnitsPerEm())<<6, font.HintingNone)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("sealimage: font %s: %w", path, err)
	}
	fo := &Font{f: fnt, name: name, upem: upem, file: f}
	// The ideographic em box spans one em, and fonts place it about the
	// baseline as they choose (the descent is only a hint: UMing's is 14%
	// of the em while its ideographs stand 11% below the baseline). So the
	// box is taken to be centred where 国, which fills it, has its ink.
	if lo, hi, ok := fo.inkHeight('国'); ok {
		mid := (lo + hi) / 2
		fo.emBottom, fo.emTop = mid-upem/2, mid+upem/2
	} else {
		fo.emBottom = -float64(m.Descent) / 64
		fo.emTop = fo.emBottom + upem
	}
	return fo, nil
}

// inkHeight returns the lowest and highest y (up, font units) of r's
// outline, reading the curves' control points (which bound them).
func (f *Font) inkHeight(r rune) (lo, hi float64, ok bool) {
	var b sfnt.Buffer
	x, err := f.f.GlyphIndex(&b, r)
	if err != nil || x == 0 {
		return 0, 0, false
	}
	segs, err := f.f.LoadGlyph(&b, x, fixed.Int26_6(f.f.UnitsPerEm())<<6, nil)
	if err != nil || len(segs) == 0 {
		return 0, 0, false
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	args := map[sfnt.SegmentOp]int{sfnt.SegmentOpMoveTo: 1, sfnt.SegmentOpLineTo: 1, sfnt.SegmentOpQuadTo: 2, sfnt.SegmentOpCubeTo: 3}
	for _, s := range segs {
		for _, a := range s.Args[:args[s.Op]] {
			y := -float64(a.Y) / 64
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
	}
	return lo, hi, true
}

func pickFace(f *os.File) (*sfnt.Font, error) {
	fs, err := faces(f)
	if err != nil {
		return nil, err
	}
	var b sfnt.Buffer
	var first *sfnt.Font
	for _, fc := range fs {
		fnt, err := sfnt.ParseReaderAt(fc)
		if err != nil {
			return nil, err
		}
		if name, _ := fnt.Name(&b, sfnt.NameIDFamily); strings.HasSuffix(name, " CN") {
			return fnt, nil
		}
		if first == nil {
			first = fnt
		}
	}
	return first, nil
}

// Name is the font's full name, as its file gives it.
func (f *Font) Name() string { return f.name }

// Close releases the font file.
func (f *Font) Close() error { return f.file.Close() }

// Check returns ErrMissingGlyph, naming the characters, when the font cannot
// draw every character of s (white space aside).
func (f *Font) Check(s string) error {
	var b sfnt.Buffer
	var missing []string
	for _, r := range s {
		if r == ' ' || r == '\u3000' {
			continue
		}
		if x, err := f.f.GlyphIndex(&b, r); err != nil || x == 0 {
			missing = append(missing, fmt.Sprintf("%c (U+%04X)", r, r))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s has none for %s", ErrMissingGlyph, f.name, strings.Join(missing, ", "))
	}
	return nil
}

// glyph returns the outline of r in em units (one em is 1), y up, with its
// em box's centre at the origin: the box spans [-w/2, w/2] × [-1/2, 1/2],
// where w is the advance in ems.
func (f *Font) glyph(r rune) (*Path, float64, error) {
	var b sfnt.Buffer
	x, err := f.f.GlyphIndex(&b, r)
	if err != nil || x == 0 {
		return nil, 0, fmt.Errorf("%w: %s has none for %c (U+%04X)", ErrMissingGlyph, f.name, r, r)
	}
	ppem := fixed.Int26_6(f.f.UnitsPerEm()) << 6 // outlines in font units, 26.6
	adv, err := f.f.GlyphAdvance(&b, x, ppem, font.HintingNone)
	if err != nil {
		return nil, 0, fmt.Errorf("sealimage: glyph %c: %w", r, err)
	}
	segs, err := f.f.LoadGlyph(&b, x, ppem, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("sealimage: glyph %c: %w", r, err)
	}
	w := float64(adv) / 64 / f.upem
	cy := (f.emBottom + f.emTop) / 2 / f.upem
	// sfnt gives y down from the baseline; turn it up and centre the box.
	pt := func(p fixed.Point26_6) Point {
		return Point{float64(p.X)/64/f.upem - w/2, -float64(p.Y)/64/f.upem - cy}
	}
	p := &Path{}
	var cur Point
	open := false
	for _, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			if open {
				p.closePath()
			}
			cur = pt(s.Args[0])
			p.moveTo(cur)
			open = true
		case sfnt.SegmentOpLineTo:
			cur = pt(s.Args[0])
			p.lineTo(cur)
		case sfnt.SegmentOpQuadTo:
			c, e := pt(s.Args[0]), pt(s.Args[1])
			// The cubic with the same curve as the quadratic (cur, c, e).
			p.cubeTo(Point{cur.X + 2.0/3*(c.X-cur.X), cur.Y + 2.0/3*(c.Y-cur.Y)},
				Point{e.X + 2.0/3*(c.X-e.X), e.Y + 2.0/3*(c.Y-e.Y)}, e)
			cur = e
		case sfnt.SegmentOpCubeTo:
			cur = pt(s.Args[2])
			p.cubeTo(pt(s.Args[0]), pt(s.Args[1]), cur)
		}
	}
	if open {
		p.closePath()
	}
	return p, w, nil
}
