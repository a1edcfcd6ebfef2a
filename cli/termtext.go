package cli

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ronganxian/eseal/seal"
)

// termText returns s as it may be printed to a terminal: every character
// that would not show as itself is replaced by a visible escape. That
// covers the control characters that start escape sequences (a forged PDF
// field or ledger record could otherwise clear the screen and print a
// green "VALID"), line breaks that would fake a line of our own output,
// bidirectional overrides that reorder what follows, and zero-width
// characters; bytes that are not UTF-8 show as \xNN. Text of our own
// passes unchanged. JSON output is not escaped: it stays exact.
func termText(s string) string {
	clean := true
	for _, r := range s {
		if !seal.Shows(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case seal.Shows(r):
			b.WriteString(s[i : i+n])
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}
