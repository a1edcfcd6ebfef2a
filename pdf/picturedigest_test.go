package pdf

import (
	"bytes"
	"testing"

	"github.com/ronganxian/eseal/sealimage"
)

// TestWidgetPicture: each widget of a seal says which picture it draws, by
// the digest its picture had when it was prepared: for a drawn (vector)
// seal and a scan (image), and when the widget is a strip of a cross-page
// seal; and
// another picture has another digest.
func TestWidgetPicture(t *testing.T) {
	vector, _ := drawnSeal(t)
	scan := testSeal(t)
	if vector.Digest() == scan.Digest() || vector.Digest() == (PictureDigest{}) {
		t.Fatal("the two pictures have one digest")
	}
	var doc bytes.Buffer
	if err := writeLargePDF(&doc, 3, 50); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		img        *SealImage
		placements []Placement
	}{
		{"drawn seal", vector, nil},
		{"scan", scan, nil},
		// The widget is the first strip, which draws the picture shifted.
		{"drawn seal, cross-page", vector, []Placement{Riding{Y: 60}}},
		{"scan, cross-page", scan, []Placement{Riding{Y: 60}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := baseRequest(t)
			req.Image = tc.img
			req.Placements = tc.placements
			out, _ := sealBytes(t, doc.Bytes(), req)
			a := analyze(t, out)
			if len(a.Signatures) != 1 || len(a.Signatures[0].Widgets) != 1 {
				t.Fatalf("%d signatures, %d widgets", len(a.Signatures), len(a.Signatures[0].Widgets))
			}
			for i, w := range a.Signatures[0].Widgets {
				if !w.HasPicture || w.Picture != tc.img.Digest() {
					t.Errorf("widget %d: picture %v %x, want %x", i, w.HasPicture, w.Picture[:4], tc.img.digest[:4])
				}
			}
		})
	}
	// A seal drawn from another name is another picture.
	f, err := sealimage.LoadFont(sealimage.DefaultFontPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	other, err := sealimage.Draw(sealimage.Spec{Name: "融安县浮石镇人民政府", Purpose: "行政审批专用章"}, f)
	if err != nil {
		t.Fatal(err)
	}
	oi, err := NewVectorSeal(other.PDFContent(), 42)
	if err != nil {
		t.Fatal(err)
	}
	if oi.Digest() == vector.Digest() {
		t.Error("two seals' pictures have one digest")
	}
}
