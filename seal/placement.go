package seal

import (
	"slices"
	"strings"

	"github.com/ronganxian/eseal/pdf"
)

// placement says where the seals of a sealing went and why, in one line:
// each distinct reason once, in order (a cross-page seal's strips each
// give theirs).
func placement(seals []pdf.Placed) string {
	var whys []string
	for _, s := range seals {
		if s.Why != "" && !slices.Contains(whys, s.Why) {
			whys = append(whys, s.Why)
		}
	}
	return strings.Join(whys, "; ")
}
