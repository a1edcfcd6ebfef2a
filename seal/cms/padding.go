package cms

import (
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// TrimPadding returns the DER SignedData at the start of b, a PDF /Contents
// value, which signers pad with zero bytes to the placeholder's size. It
// fails if b does not start with a DER SEQUENCE or if anything but zero
// bytes follows it: the verifier must not ignore data it cannot account for.
func TrimPadding(b []byte) ([]byte, error) {
	s := cryptobyte.String(b)
	var elem cryptobyte.String
	if !s.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
		return nil, malformed("signature value does not start with a DER SEQUENCE", nil)
	}
	for _, c := range s {
		if c != 0 {
			return nil, ErrTrailingData
		}
	}
	return elem, nil
}
