package seal

import (
	"encoding/hex"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm3"
)

// Every text a caller supplies is bounded and checked before it is used or
// recorded. A text that passes shows what it is: it holds no control
// characters (C0, DEL, C1), no line or paragraph separators, and no format
// characters, which include the bidirectional overrides and isolates that
// make "长安-\u202e1000-6202" display as 长安-2026-0001, and the zero-width
// characters that make two identifiers look alike.

// Bounds of the texts a sealing request carries, in bytes.
const (
	maxRequestIDLen = 128
	maxCaseNoLen    = 64 // real case numbers are under 40 characters
	maxDocKindLen   = 128
	maxCodeLen      = 32 // township and item codes
	maxReasonLen    = 512
	maxDetailLen    = 1024 // a refusal's message in the ledger
)

// Shows reports whether r shows as itself: it is not a control, format
// (bidi, zero-width) or line-separator character, nor a decoding error.
// The ledger accepts only such text, and sealctl escapes every other
// character it prints.
func Shows(r rune) bool {
	return r != utf8.RuneError && !unicode.Is(unicode.Cc, r) && !unicode.Is(unicode.Cf, r) &&
		!unicode.Is(unicode.Zl, r) && !unicode.Is(unicode.Zp, r)
}

// validText reports whether s is non-empty valid UTF-8 of at most max
// bytes, every character of which shows as itself.
func validText(s string, max int) bool {
	if s == "" || len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !Shows(r) {
			return false
		}
	}
	return true
}

// recordable returns s if it may be recorded as it is (validText, or
// empty), and otherwise a short stand-in that names its length and SM3, so
// that the ledger shows that something unusable was sent without storing
// it: a record never grows with what a caller sends, and never displays
// other than it reads.
func recordable(s string, max int) string {
	if s == "" || validText(s, max) {
		return s
	}
	sum := sm3.Sum([]byte(s))
	return fmt.Sprintf("(invalid text: %d bytes, SM3 %s…)", len(s), hex.EncodeToString(sum[:6]))
}

// quoted returns s for a message: as it is if it may be recorded, else its
// stand-in.
func quoted(s string, max int) string {
	if s == "" {
		return `""`
	}
	return recordable(s, max)
}

// clip cuts s to at most max bytes at a character boundary.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max] + "…"
}
