package seal_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal"
)

// TestSealerVerifyQR: the code is drawn, in the sealing revision, only on
// the sealings of the items VerifyQR names; it carries the short form of
// the record's InputSM3, by which the store finds that record.
func TestSealerVerifyQR(t *testing.T) {
	cases := []struct {
		name string
		qr   *seal.VerifyQR
		want bool
	}{
		{"off", nil, false},
		{"all", &seal.VerifyQR{BaseURL: "http://127.0.0.1:8080", All: true}, true},
		{"this item", &seal.VerifyQR{BaseURL: "http://127.0.0.1:8080", Items: map[string]bool{"450224-XK-0002": true}}, true},
		{"another item", &seal.VerifyQR{BaseURL: "http://127.0.0.1:8080", Items: map[string]bool{"450224-XK-0003": true}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newSealerFixture(t)
			f.sealer.QR = tc.qr
			out, err := f.sealer.Seal(context.Background(), f.clerk, f.input("r-qr"))
			if err != nil {
				t.Fatal(err)
			}
			update := out.Document[len(f.doc):]
			short := seal.ShortForm(out.Record.InputSM3)
			drawn := bytes.Contains(update, []byte("ESeal1-qr"))
			if drawn != tc.want || bytes.Contains(update, []byte("/VERIFY/R/"+short)) != tc.want {
				t.Fatalf("code drawn %v, want %v", drawn, tc.want)
			}
			if strings.Contains(out.Placement, "QR") {
				t.Errorf("placement %q speaks of a code that was not left out", out.Placement)
			}
			prefix, err := seal.ParseShortForm(short)
			if err != nil {
				t.Fatal(err)
			}
			lk := f.store.(interface {
				SealedByInputPrefix(context.Context, []byte, int) ([]*seal.Record, error)
			})
			recs, err := lk.SealedByInputPrefix(context.Background(), prefix, 10)
			if err != nil || len(recs) != 1 || recs[0].Seq != out.Record.Seq || !bytes.Equal(recs[0].OutputSM3, out.Record.OutputSM3) {
				t.Errorf("the record by its short form: %v, %v", recs, err)
			}
		})
	}
}

// TestSealerVerifyQRLeftOut: a code that fits nowhere beside the seal
// without covering text (a 60 mm code on a page whose seal sits in its
// text, the seal at the top of the page over the title and the first lines)
// is left out, and where the seal went says so.
func TestSealerVerifyQRLeftOut(t *testing.T) {
	f := newSealerFixture(t)
	f.sealer.QR = &seal.VerifyQR{BaseURL: "http://127.0.0.1:8080", All: true, SizeMM: 60}
	in := f.input("r-qr-big")
	in.Placements = []pdf.Placement{pdf.At{Page: 1, Corner: pdf.TopLeft, X: 105, Y: 40}}
	out, err := f.sealer.Seal(context.Background(), f.clerk, in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out.Document[len(f.doc):], []byte("ESeal1-qr")) || !strings.Contains(out.Placement, "verification QR code (60 mm) was left out") {
		t.Errorf("placement %q", out.Placement)
	}
}
