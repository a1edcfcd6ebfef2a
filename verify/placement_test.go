package verify

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/sealimage"
)

// TestSealPlacementReport: every signature's report says where its seal
// is drawn, and whether that lies on the page; a seal drawn nowhere or
// off the page is a warning.
func TestSealPlacementReport(t *testing.T) {
	p, err := newCorpusPKI()
	if err != nil {
		t.Fatal(err)
	}
	img, err := pdf.NewSealImage(sealimage.Round(300), 0)
	if err != nil {
		t.Fatal(err)
	}
	in := readTestFile(t, fixtureDir+"/decision.pdf")
	visible, err := p.sealWith(in, p.good, img, "")
	if err != nil {
		t.Fatal(err)
	}
	invisible, err := p.sealWith(in, p.good, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	// A later revision crops the page to its top, away from the seal over
	// the date line: the seal is then off the page as shown.
	cropped, err := cropPage(visible, "[0 600 595 842]")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		file      []byte
		drawn, on bool
		warn      Code // the placement warning expected, or ""
		wantValid bool
		rectKnown bool
	}{
		{"visible seal", visible, true, true, "", true, true},
		{"invisible signature", invisible, false, false, CodeSealInvisible, true, false},
		{"page cropped after sealing", cropped, true, false, CodeSealOffPage, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := PDF(context.Background(), bytes.NewReader(tc.file), int64(len(tc.file)), Options{Roots: []*smx509.Certificate{p.root}})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Signatures) != 1 {
				t.Fatalf("%d signatures", len(rep.Signatures))
			}
			s := rep.Signatures[0]
			if s.Valid != tc.wantValid {
				t.Errorf("valid = %v, want %v: %v", s.Valid, tc.wantValid, s.Reasons)
			}
			if len(s.Seals) != 1 {
				t.Fatalf("%d seal placements, want 1", len(s.Seals))
			}
			sp := s.Seals[0]
			if sp.Page != 1 || sp.Drawn != tc.drawn || sp.OnPage != tc.on {
				t.Errorf("placement %+v, want page 1, drawn %v, on page %v", sp, tc.drawn, tc.on)
			}
			if tc.rectKnown {
				// 42 mm square, within A4, below the top 242 pt
				if w := sp.Rect[2] - sp.Rect[0]; w < 118 || w > 120 || sp.Rect[0] < 0 || sp.Rect[1] < 0 || sp.Rect[2] > 595.3 || sp.Rect[3] > 600 {
					t.Errorf("seal rectangle %v, want 42 mm square on A4, below y 600", sp.Rect)
				}
			}
			var got []Code
			for _, w := range s.Warnings {
				if w.Code == CodeSealOffPage || w.Code == CodeSealInvisible {
					got = append(got, w.Code)
				}
			}
			if tc.warn == "" && len(got) > 0 || tc.warn != "" && (len(got) != 1 || got[0] != tc.warn) {
				t.Errorf("placement warnings %v, want %q", got, tc.warn)
			}
			if tc.warn != "" && tc.warn.Chinese() == "" {
				t.Errorf("%s has no Chinese text", tc.warn)
			}
		})
	}
}

// cropPage appends a revision that gives the (only) page of sealed a
// CropBox.
func cropPage(sealed []byte, box string) ([]byte, error) {
	n, err := pageObject(sealed)
	if err != nil {
		return nil, err
	}
	body, err := lastObject(sealed, n)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(body, ">>") {
		return nil, fmt.Errorf("page %d is not a plain dictionary", n)
	}
	body = regexp.MustCompile(`/CropBox\s*\[[^\]]*\]`).ReplaceAllString(body, "")
	return appendUpdate(sealed, []rawObject{{n, strings.TrimSuffix(body, ">>") + "/CropBox " + box + ">>"}}, nil), nil
}

func TestFormatRect(t *testing.T) {
	for _, tc := range []struct {
		r    [4]float64
		want string
	}{
		{[4]float64{0, 0, 0, 0}, "[0 0 0 0]"},
		{[4]float64{419.2441, 99.2126, 538.2992, 218.2677}, "[419.2 99.2 538.3 218.3]"},
		{[4]float64{-10.05, 2.5, 100, 50}, "[-10.1 2.5 100 50]"},
	} {
		if got := FormatRect(tc.r); got != tc.want {
			t.Errorf("FormatRect(%v) = %s, want %s", tc.r, got, tc.want)
		}
	}
}
