package pdf

import (
	"fmt"
	"time"
)

// The signature dictionary (ISO 32000-2 §12.8.1). It is written with two
// placeholders: /ByteRange, of fixed width, patched in place once the
// update's layout is known; and /Contents, a hex string of exactly twice
// the signature's DER length, patched after signing. Everything else in the
// dictionary, the custom entries below included, lies inside the byte
// ranges and so is covered by the signature.

// Custom signature dictionary entries. The standard has no place for what
// a township seal is used for, so these second-class names carry it (as
// text strings); readers that do not know them ignore them.
const (
	// keyItemCode is the registered approval or service item's code.
	keyItemCode name = "ESealItemCode"
	// keyItemName is the item's name.
	keyItemName name = "ESealItemName"
	// keyCaseNumber is the case number (办件编号) of the application.
	keyCaseNumber name = "ESealCaseNumber"
	// keySESeal refers to a stream holding the seal's GB/T 38540 SESeal
	// (DER), written in the same revision.
	keySESeal name = "ESealSESeal"
)

// byteRangeWidth is the width of the /ByteRange array between its
// brackets: "0 " and three ten-digit numbers with their spaces.
const byteRangeWidth = 2 + 3*10 + 2

// sigPlaceholders locates the placeholders within the update buffer.
type sigPlaceholders struct {
	byteRange int // index of the first byte after '['
	contents  int // index of '<'
	hexLen    int // hex digits between < and >
}

// sigFields are the signer's claims written into the dictionary.
type sigFields struct {
	time                            time.Time
	name, reason, location, contact string
	itemCode, itemName, caseNumber  string
	seseal                          ref  // the SESeal's stream; zero when none
	filter, subFilter               name // zero: Adobe.PPKLite, adbe.pkcs7.detached
}

// writeSigDict writes the signature dictionary as object r, with room
// for a DER signature of sigLen bytes. In an encrypted document its strings
// are encrypted but /Contents, as the standard requires.
func (u *update) writeSigDict(r ref, f sigFields, sigLen int) sigPlaceholders {
	u.begin(r)
	filter, subFilter := f.filter, f.subFilter
	if filter == "" {
		filter, subFilter = "Adobe.PPKLite", "adbe.pkcs7.detached"
	}
	b := append(u.buf, "<</Type/Sig/Filter"...)
	b = appendName(b, filter)
	b = append(b, "/SubFilter"...)
	b = appendName(b, subFilter)
	b = append(b, "/ByteRange["...)
	var ph sigPlaceholders
	ph.byteRange = len(b)
	for range byteRangeWidth {
		b = append(b, ' ')
	}
	b = append(b, "]/Contents"...)
	ph.contents = len(b)
	ph.hexLen = 2 * sigLen
	b = append(b, '<')
	for range ph.hexLen {
		b = append(b, '0')
	}
	b = append(b, '>')
	b = append(b, "/M"...)
	b = appendString(b, u.encryptString(r, str(pdfDate(f.time))))
	add := func(key name, v string) {
		if v != "" {
			b = appendName(b, key)
			b = appendString(b, u.encryptString(r, textString(v)))
		}
	}
	add("Name", f.name)
	add("Reason", f.reason)
	add("Location", f.location)
	add("ContactInfo", f.contact)
	add(keyItemCode, f.itemCode)
	add(keyItemName, f.itemName)
	add(keyCaseNumber, f.caseNumber)
	if f.seseal.num != 0 {
		b = appendName(b, keySESeal)
		b = fmt.Appendf(b, " %d %d R", f.seseal.num, f.seseal.gen)
	}
	b = append(b, "/Prop_Build<</Filter<</Name/Adobe.PPKLite>>/App<</Name/ESeal.Rongan>>>>>>"...)
	u.buf = b
	u.end()
	return ph
}

// patchByteRange writes the final byte ranges into the placeholder.
func (u *update) patchByteRange(ph sigPlaceholders, br [4]int64) error {
	s := fmt.Sprintf("%d %d %d %d", br[0], br[1], br[2], br[3])
	if len(s) > byteRangeWidth {
		return fmt.Errorf("%w: byte range %s does not fit its placeholder", ErrTooLarge, s)
	}
	n := copy(u.buf[ph.byteRange:], s)
	for i := ph.byteRange + n; i < ph.byteRange+byteRangeWidth; i++ {
		u.buf[i] = ' '
	}
	return nil
}

// patchContents writes der as hex into the /Contents placeholder; the
// rest stays zero, the padding the standard allows.
func (u *update) patchContents(ph sigPlaceholders, der []byte) error {
	if 2*len(der) > ph.hexLen {
		return fmt.Errorf("%w: %d bytes for a %d-byte placeholder", ErrSignatureTooLarge, len(der), ph.hexLen/2)
	}
	const hexdigits = "0123456789ABCDEF"
	p := u.buf[ph.contents+1:]
	for i, c := range der {
		p[2*i] = hexdigits[c>>4]
		p[2*i+1] = hexdigits[c&15]
	}
	return nil
}

// pdfDate formats t as a PDF date (§7.9.4), in t's own zone.
func pdfDate(t time.Time) string {
	b := []byte("D:")
	b = t.AppendFormat(b, "20060102150405")
	_, off := t.Zone()
	if off == 0 {
		return string(append(b, 'Z'))
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = appendPadded(b, int64(off/3600), 2)
	b = append(b, '\'')
	b = appendPadded(b, int64(off%3600/60), 2)
	b = append(b, '\'')
	return string(b)
}
