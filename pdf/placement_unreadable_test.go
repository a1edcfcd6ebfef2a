package pdf

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestDefaultPlacementUnreadableContent: a page whose content cannot be
// decoded (a filter we do not read, impossible predictor parameters) is
// still sealed visibly — viewers draw what they can of it, and PDFBox signs
// it — at the lower right margins, saying why; the seal's widget is drawn
// on the page. Before, the default placement's text reading refused the
// whole sealing.
func TestDefaultPlacementUnreadableContent(t *testing.T) {
	for _, name := range []string{"qpdf-bad-data.pdf", "qpdf-issue-1688a.pdf"} {
		t.Run(name, func(t *testing.T) {
			in := visibleFile(t, name)
			req := baseRequest(t)
			req.Image = testSeal(t)
			out, res := sealOnPage(t, in, req)
			// Not checkSealed: qpdf --check finds the input's errors in
			// the output too.
			a, err := Analyze(context.Background(), bytes.NewReader(out), int64(len(out)), Limits{})
			if err != nil || a.Damage != nil || len(a.Signatures) != 1 {
				t.Fatalf("Analyze: %v, damage %v", err, a.Damage)
			}
			if w := a.Signatures[0].Widgets; len(w) != 1 || !w[0].Drawn || !w[0].OnPage || !w[0].HasPicture || w[0].Picture != req.Image.Digest() {
				t.Errorf("the seal's widget: %+v", w)
			}
			if len(res.Seals) != 1 || !strings.Contains(res.Seals[0].Why, "content cannot be read") || !strings.Contains(res.Seals[0].Why, "lower right margins") {
				t.Errorf("placed %+v", res.Seals)
			}
		})
	}
}

// TestContentUnreadable: only damage and unsupported filters fall back; a
// limit, the budget or the caller stopping the reading still refuse.
func TestContentUnreadable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("%w: bad predictor", ErrDamaged), true},
		{fmt.Errorf("%w: stream filter /LZWDecode", ErrUnsupported), true},
		{&LimitError{Limit: "MaxDecodedBytes"}, false},
		{&MeterError{}, false},
		{fmt.Errorf("reading: %w", context.DeadlineExceeded), false},
		{fmt.Errorf("%w: %w", ErrDamaged, context.Canceled), false},
	} {
		if got := contentUnreadable(tc.err); got != tc.want {
			t.Errorf("contentUnreadable(%v) = %v", tc.err, got)
		}
	}
}
