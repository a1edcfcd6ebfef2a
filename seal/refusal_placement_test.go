package seal

import (
	"fmt"
	"testing"

	"github.com/ronganxian/eseal/pdf"
)

// TestPlacementRefusals: every placement error of the engine is refused
// by the placement rule, a seal that would lie off the page included.
func TestPlacementRefusals(t *testing.T) {
	for _, e := range []error{pdf.ErrPageOutOfRange, pdf.ErrKeywordNotFound, pdf.ErrSealOffPage} {
		r := documentRefusal(fmt.Errorf("%w: page 1 shows 71 × 18 mm", e))
		if r == nil || r.Rule != RulePlacement {
			t.Errorf("%v: refusal %+v, want rule %s", e, r, RulePlacement)
		}
	}
}
