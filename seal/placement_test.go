package seal_test

import (
	"context"
	"testing"

	"github.com/ronganxian/eseal/pdf"
)

// TestSealerSaysWhere: the output says where the seal went and why, as the
// engine placed it: on the decision's 署名 and 成文日期 by default, where
// asked otherwise; a replay leaves it to the document.
func TestSealerSaysWhere(t *testing.T) {
	f := newSealerFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		id         string
		placements []pdf.Placement
		want       string
	}{
		{"w-1", nil, "centred on the 署名 and 成文日期 (青山镇人民政府(印章) / 2024年5月20日), shifted down 8 mm to clear the body text"},
		{"w-2", []pdf.Placement{pdf.At{Page: 1, Corner: pdf.TopLeft, X: 40, Y: 50}}, "centred 40 mm across and 50 mm from the top left corner, as asked"},
	} {
		in := f.input(tc.id)
		in.Placements = tc.placements
		out, err := f.sealer.Seal(ctx, f.clerk, in)
		if err != nil {
			t.Fatal(err)
		}
		if out.Placement != tc.want {
			t.Errorf("%s: placement %q, want %q", tc.id, out.Placement, tc.want)
		}
		again, err := f.sealer.Seal(ctx, f.clerk, in)
		if err != nil || !again.Replayed || again.Placement != "" {
			t.Errorf("%s: replay %v, placement %q, %v", tc.id, again.Replayed, again.Placement, err)
		}
	}
}
