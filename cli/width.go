package cli

import "unicode"

// displayWidth is how many terminal columns s takes: two for the wide
// characters of Chinese text, one for the rest. text/tabwriter counts runes,
// which misaligns tables of Chinese names.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case r < 0x1100:
			w++
		case unicode.Is(unicode.Han, r), r >= 0x3000 && r <= 0x303f, r >= 0xff00 && r <= 0xff60,
			r >= 0xffe0 && r <= 0xffe6, r >= 0x1100 && r <= 0x115f, r >= 0xac00 && r <= 0xd7a3:
			w += 2
		default:
			w++
		}
	}
	return w
}
