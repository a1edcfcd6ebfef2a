package pdf

import (
	"strconv"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Fonts, as far as finding text needs them (ISO 32000-2 §9.5–9.10): how a
// string splits into character codes, the width of each code, and the
// Unicode text it stands for. Glyph shapes are never read.

type font struct {
	composite bool    // Type0
	enc       *cmap   // Type0 encoding CMap when embedded
	codeLen   int     // Type0 code length when the CMap is predefined
	vertical  bool    // a -V CMap
	decode    textDec // for Type0 fonts without ToUnicode
	toUni     *cmap
	simple    [256]rune // simple fonts: text by the font's encoding, one rune a code
	hasSimple [256]bool // whether the code has a text in simple
	simpleW   [256]float64
	hasW      [256]bool
	cidW      []cidWidth // CIDFonts: /W, in order
	dw        float64    // default width, glyph space
	scale     float64    // glyph space to text space: 1/1000, or a Type3 FontMatrix
}

// cidWidth is one entry of a CIDFont's /W: a width for each CID from lo,
// or one width for lo through hi.
type cidWidth struct {
	lo, hi int
	w      float64
	list   []float64
}

// textDec is how a predefined CMap's codes read as text.
type textDec uint8

const (
	decNone textDec = iota
	decUCS2         // codes are UTF-16BE (Uni*-UCS2 and -UTF16 CMaps)
	decGBK          // codes are GBK bytes (GB-EUC, GBK-EUC, GBpc-EUC CMaps)
)

// fontCache holds the fonts read for one document, keyed by object number.
type fontCache map[int]*font

func (d *document) loadFont(o object, cache fontCache) *font {
	r, isRef := o.(ref)
	if isRef {
		if f, ok := cache[r.num]; ok {
			return f
		}
	}
	f := d.readFont(o)
	if isRef {
		cache[r.num] = f
	}
	return f
}

// readFont reads what it can of a font; a font it cannot read yields text
// without widths, never an error, since text is only a placement aid.
func (d *document) readFont(o object) *font {
	f := &font{scale: 0.001, dw: 1000}
	fd, err := d.getDict(o, "font")
	if err != nil {
		return f
	}
	sub := nameOf(fd.get("Subtype"))
	if tu, err := d.resolve(fd.get("ToUnicode")); err == nil {
		if s, ok := tu.(*stream); ok {
			if data, err := d.streamData(s); err == nil {
				f.toUni = d.parseCMap(data)
			}
		}
	}
	if sub == "Type0" {
		f.composite = true
		f.codeLen = 2
		enc, _ := d.resolve(fd.get("Encoding"))
		switch v := enc.(type) {
		case name:
			f.setPredefined(string(v))
		case *stream:
			if data, err := d.streamData(v); err == nil {
				f.enc = d.parseCMap(data)
			}
			if n, ok := v.dict.get("CMapName").(name); ok {
				f.vertical = strings.HasSuffix(string(n), "-V")
			}
		}
		desc, _ := d.resolve(fd.get("DescendantFonts"))
		if da, ok := desc.(array); ok && len(da) > 0 {
			if cf, err := d.getDict(da[0], "descendant font"); err == nil {
				f.readCIDWidths(d, cf)
			}
		}
		return f
	}
	// Simple fonts: Type1, MMType1, TrueType, Type3.
	f.dw = 0
	if sub == "Type3" {
		if m, _ := d.resolve(fd.get("FontMatrix")); m != nil {
			if ma, ok := m.(array); ok && len(ma) == 6 {
				if v, ok := asNumber(ma[0]); ok && v > 0 && v < 10 {
					f.scale = v
				}
			}
		}
	}
	first, _ := d.resolve(fd.get("FirstChar"))
	fc, _ := asInt(first)
	if w, _ := d.resolve(fd.get("Widths")); w != nil {
		if wa, ok := w.(array); ok && fc >= 0 && fc < 256 {
			for i, e := range wa {
				if int(fc)+i >= 256 {
					break
				}
				e, _ = d.resolve(e)
				if v, ok := asNumber(e); ok {
					f.simpleW[int(fc)+i], f.hasW[int(fc)+i] = v, true
				}
			}
		}
	}
	if desc, err := d.getDict(fd.get("FontDescriptor"), "font descriptor"); err == nil {
		if mw, ok := asNumber(desc.get("MissingWidth")); ok {
			f.dw = mw
		}
	}
	if f.dw == 0 {
		f.dw = 500 // a guess for fonts without metrics, such as the standard 14
	}
	base := winAnsi
	var diffs array
	enc, _ := d.resolve(fd.get("Encoding"))
	switch v := enc.(type) {
	case name:
		if v == "StandardEncoding" || v == "MacRomanEncoding" {
			base = winAnsi // they agree with it on the ASCII letters and digits
		}
	case dict:
		diffs, _ = v.get("Differences").(array)
	}
	for c := range 256 {
		if r := base(byte(c)); r != 0 {
			f.simple[c], f.hasSimple[c] = r, true
		}
	}
	code := 0
	for _, e := range diffs {
		switch v := e.(type) {
		case int64:
			code = int(v)
		case name:
			if code >= 0 && code < 256 {
				f.simple[code], f.hasSimple[code] = glyphRune(v)
			}
			code++
		}
	}
	return f
}

// setPredefined sets up a predefined CMap by its name.
func (f *font) setPredefined(n string) {
	f.vertical = strings.HasSuffix(n, "-V")
	switch {
	case strings.HasPrefix(n, "Identity-"):
	case strings.Contains(n, "UCS2") || strings.Contains(n, "UTF16"):
		f.decode = decUCS2
	case strings.Contains(n, "EUC") || strings.HasPrefix(n, "GBK"):
		f.decode = decGBK
		f.codeLen = 0 // 1 byte, or 2 after a lead byte 0x81–0xFE
	}
}

// readCIDWidths reads /DW and /W of a CIDFont.
func (f *font) readCIDWidths(d *document, cf dict) {
	if dw, ok := asNumber(cf.get("DW")); ok {
		f.dw = dw
	}
	w, _ := d.resolve(cf.get("W"))
	wa, ok := w.(array)
	if !ok {
		return
	}
	for i := 0; i < len(wa) && len(f.cidW) < maxCMapEntries; {
		c1, ok := asInt(wa[i])
		if !ok || c1 < 0 || i+1 >= len(wa) {
			return
		}
		next, _ := d.resolve(wa[i+1])
		if list, ok := next.(array); ok {
			cw := cidWidth{lo: int(c1), hi: int(c1) + len(list) - 1, list: make([]float64, len(list))}
			for k, e := range list {
				cw.list[k], _ = asNumber(e)
			}
			f.cidW = append(f.cidW, cw)
			i += 2
			continue
		}
		c2, ok1 := asInt(next)
		if !ok1 || i+2 >= len(wa) {
			return
		}
		if v, ok := asNumber(wa[i+2]); ok && c2 >= c1 {
			f.cidW = append(f.cidW, cidWidth{lo: int(c1), hi: int(c2), w: v})
		}
		i += 3
	}
}

// glyphInfo is one decoded code.
type glyphInfo struct {
	text  []rune
	width float64 // in text space units for a font size of 1
	space bool    // the single-byte code 32, which word spacing applies to
}

// glyphs splits s into codes. Texts that are not already in the font are
// built in buf, which it returns grown: a text stays valid as buf grows,
// since it is never written again.
func (f *font) glyphs(s []byte, out []glyphInfo, buf []rune) ([]glyphInfo, []rune) {
	for len(s) > 0 {
		var code uint32
		var n int
		switch {
		case !f.composite:
			code, n = uint32(s[0]), 1
		case f.enc != nil:
			code, n = f.enc.next(s, 2)
		case f.codeLen == 0: // GBK-style: a lead byte starts a two-byte code
			n = 1
			if s[0] >= 0x81 && s[0] <= 0xFE && len(s) > 1 {
				n = 2
			}
			code, _, _ = codeOf(s[:n])
		default:
			code, n = f.toUni.next(s, f.codeLen)
		}
		raw := s[:n]
		s = s[n:]
		g := glyphInfo{space: n == 1 && code == 32}
		var text []rune
		var ok bool
		text, buf, ok = f.toUni.unicodeIn(code, n, buf)
		if !ok {
			text, buf = f.fallbackText(code, n, raw, buf)
		}
		g.text = text
		g.width = f.width(code, n) * f.scale
		out = append(out, g)
	}
	return out, buf
}

func (f *font) fallbackText(code uint32, n int, raw []byte, buf []rune) ([]rune, []rune) {
	if !f.composite {
		if c := code & 0xFF; f.hasSimple[c] {
			return f.simple[c : c+1 : c+1], buf
		}
		return nil, buf
	}
	switch f.decode {
	case decUCS2:
		u := make([]uint16, 0, 2)
		for i := 0; i+1 < len(raw); i += 2 {
			u = append(u, uint16(raw[i])<<8|uint16(raw[i+1]))
		}
		return utf16.Decode(u), buf
	case decGBK:
		if b, err := simplifiedchinese.GBK.NewDecoder().Bytes(raw); err == nil {
			return []rune(string(b)), buf
		}
	}
	return nil, buf
}

func (f *font) width(code uint32, n int) float64 {
	key := int(code)
	if f.composite {
		switch {
		case f.enc != nil:
			cid, ok := f.enc.cid(code, n)
			if !ok {
				if f.enc.identity || (len(f.enc.cidChars) == 0 && len(f.enc.cidRanges) == 0) {
					cid = int(code)
				} else {
					return f.dw
				}
			}
			key = cid
		case f.decode == decGBK && n == 1:
			return 500 // half-width
		case f.decode != decNone:
			return f.dw // the CIDs of predefined CMaps are not known here
		}
	}
	if !f.composite {
		if key < 256 && f.hasW[key] {
			return f.simpleW[key]
		}
		return f.dw
	}
	// Later /W entries override earlier ones; look from the end.
	for i := len(f.cidW) - 1; i >= 0; i-- {
		if cw := &f.cidW[i]; key >= cw.lo && key <= cw.hi {
			if cw.list != nil {
				return cw.list[key-cw.lo]
			}
			return cw.w
		}
	}
	return f.dw
}

// winAnsi reads a byte as WinAnsiEncoding, which agrees with Latin-1 but
// in 0x80–0x9F; those are left out.
func winAnsi(c byte) rune {
	if c >= 0x20 && c < 0x7F || c >= 0xA0 {
		return rune(c)
	}
	return 0
}

// glyphRune maps the glyph names that subset fonts commonly use to their
// characters: uniXXXX, uXXXX[XX], single letters, digits and a few
// punctuation names.
func glyphRune(n name) (rune, bool) {
	s := string(n)
	if i := strings.IndexByte(s, '.'); i > 0 {
		s = s[:i]
	}
	if len(s) == 1 {
		return rune(s[0]), true
	}
	if strings.HasPrefix(s, "uni") && len(s) == 7 {
		if v, err := strconv.ParseUint(s[3:], 16, 32); err == nil {
			return rune(v), true
		}
	}
	if strings.HasPrefix(s, "u") && len(s) >= 5 && len(s) <= 7 {
		if v, err := strconv.ParseUint(s[1:], 16, 32); err == nil {
			return rune(v), true
		}
	}
	if r, ok := glyphNames[s]; ok {
		return r, true
	}
	return 0, false
}

var glyphNames = map[string]rune{
	"space": ' ', "zero": '0', "one": '1', "two": '2', "three": '3', "four": '4',
	"five": '5', "six": '6', "seven": '7', "eight": '8', "nine": '9',
	"period": '.', "comma": ',', "colon": ':', "semicolon": ';', "hyphen": '-',
	"parenleft": '(', "parenright": ')', "slash": '/', "underscore": '_',
	"bracketleft": '[', "bracketright": ']', "quotesingle": '\'', "quotedbl": '"',
	"percent": '%', "ampersand": '&', "plus": '+', "equal": '=', "at": '@', "numbersign": '#',
}
