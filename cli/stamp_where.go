package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ronganxian/eseal/pdf"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// sealedWhere says where the newest signature of a sealed document draws
// its seal, as a clerk would give it back to `stamp`: the page, and the
// seal's centre in mm from the page's bottom-left corner (--corner
// bottom-left --at X,Y). For a riding seal it names the pages. It is read
// from the document the service returned, so it says what viewers will
// show, and "" when the document has no drawn seal to point at.
func (a *app) sealedWhere(ctx context.Context, doc []byte) string {
	an, err := pdf.Analyze(ctx, bytes.NewReader(doc), int64(len(doc)), pdf.Limits{})
	if err != nil || len(an.Signatures) == 0 {
		return ""
	}
	newest := an.Signatures[0]
	for _, s := range an.Signatures[1:] {
		if s.Revision > newest.Revision {
			newest = s
		}
	}
	const mm = 25.4 / 72
	var places []string
	for _, w := range newest.Widgets {
		if !w.Drawn {
			continue
		}
		x := ((w.Rect[0]+w.Rect[2])/2 - w.CropBox[0]) * mm
		y := ((w.Rect[1]+w.Rect[3])/2 - w.CropBox[1]) * mm
		places = append(places, fmt.Sprintf(a.t("seal-at"), w.Page, x, y))
	}
	switch len(places) {
	case 0:
		return ""
	case 1:
		return places[0]
	}
	return fmt.Sprintf(a.t("seal-at-pages"), len(places)) + "; " + strings.Join(places, "; ")
}

// printStampJSON prints the ledger record of a sealing as JSON, as
// --output json always has, with "placement" added: where the service
// put the seal and why (SealResponse.placement; "" for a result returned
// again).
func (a *app) printStampJSON(resp *sealv1.SealResponse) error {
	b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(resp.GetRecord())
	if err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	p, err := json.Marshal(resp.GetPlacement())
	if err != nil {
		return err
	}
	fields["placement"] = p
	return a.printJSON(fields)
}
