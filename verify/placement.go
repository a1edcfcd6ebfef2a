package verify

import (
	"fmt"
	"strings"

	"github.com/ronganxian/eseal/pdf"
)

// Where each signature's seal is drawn. A seal that lies off the page, or
// is drawn nowhere, is seen by no one: the report gives, for every
// signature, each widget's page and rectangle and whether it lies wholly
// within the page's crop box (what viewers show and print).
//
// An off-page or invisible seal is a warning, not a reason: the verdict
// says whether the signed document is intact and was signed by a trusted
// seal, and that does not depend on where the seal's picture is. Invisible
// signatures are legitimate (other signers make them, and a signature's
// widget may be hidden by design), and a later revision that moves a seal
// off the page is already a change to what the pages show, judged by the
// revision comparison. The engine itself never seals off the page (see
// pdf.ErrSealOffPage); the warning tells a reader that the seal they
// cannot see is really there, or that the one they expect is missing.

// SealPlacement is where one widget of a signature draws its seal.
type SealPlacement struct {
	// Page is 1-based, 0 when no page lists the widget.
	Page int
	// Rect is the widget's rectangle and CropBox its page's visible area,
	// in the page's default user space (points): llx, lly, urx, ury.
	Rect, CropBox [4]float64
	// Drawn is whether viewers draw it at all; OnPage whether it is drawn
	// wholly within the crop box.
	Drawn, OnPage bool
}

// sealPlacements reports where s draws its seal, and the warnings: a
// widget drawn off the page, or no widget drawn at all.
func sealPlacements(s *pdf.SignatureField) ([]SealPlacement, []Problem) {
	var out []SealPlacement
	var warns []Problem
	drawn := 0
	for _, w := range s.Widgets {
		out = append(out, SealPlacement{Page: w.Page, Rect: w.Rect, CropBox: w.CropBox, Drawn: w.Drawn, OnPage: w.OnPage})
		if !w.Drawn {
			continue
		}
		drawn++
		if !w.OnPage {
			warns = append(warns, problem(CodeSealOffPage, "page %d, seal at %s, page shows %s", w.Page, FormatRect(w.Rect), FormatRect(w.CropBox)))
		}
	}
	if drawn == 0 {
		warns = append(warns, problem(CodeSealInvisible, "%d widget(s), none drawn", len(s.Widgets)))
	}
	return out, warns
}

// FormatRect writes a rectangle as [llx lly urx ury], in points to one
// decimal.
func FormatRect(r [4]float64) string {
	parts := make([]string, 4)
	for i, v := range r {
		parts[i] = strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", v), "0"), ".")
	}
	return "[" + strings.Join(parts, " ") + "]"
}
