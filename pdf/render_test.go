package pdf

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os/exec"
	"strconv"
	"sync"
	"testing"
)

// Pixel checks: pdftoppm (poppler) renders the sealed page, and the seal's
// red must appear where the seal image is red, while where the seal is
// transparent the page must look as it did before sealing.

const renderDPI = 150

// render returns page (1-based) of file rendered at renderDPI.
func render(t testing.TB, file string, page int) image.Image {
	t.Helper()
	p := strconv.Itoa(page)
	out, err := exec.Command(tool(t, "pdftoppm", "poppler-utils"), "-png", "-r", strconv.Itoa(renderDPI), "-f", p, "-l", p, "-singlefile", file).Output()
	if err != nil {
		t.Fatalf("pdftoppm %s page %d: %v", file, page, err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("pdftoppm output: %v", err)
	}
	return img
}

// samplePoint is a point of the seal image, in fractions of its width and
// height from its top left corner.
type samplePoint struct{ u, v float64 }

var (
	samplesOnce            sync.Once
	redPoints, clearPoints []samplePoint
	sealRed                color.NRGBA
)

// sealSamples picks points where the seal image is solid red, and points
// where it is fully transparent, each with a margin around it so that
// rendering and rounding cannot move it onto the other kind.
func sealSamples(t testing.TB) ([]samplePoint, []samplePoint) {
	t.Helper()
	testSeal(t)
	samplesOnce.Do(func() {
		var err error
		if redPoints, clearPoints, sealRed, err = samplesFrom(sealPNG, DefaultSealWidthMM); err != nil {
			panic(err)
		}
	})
	if len(redPoints) < 50 || len(clearPoints) < 50 {
		t.Fatalf("seal image gives %d red and %d clear sample points", len(redPoints), len(clearPoints))
	}
	return redPoints, clearPoints
}

// samplesFrom picks the sample points of a seal PNG drawn widthMM wide, and
// its ink over white paper.
func samplesFrom(pngData []byte, widthMM float64) (red, clear []samplePoint, ink color.NRGBA, err error) {
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return nil, nil, ink, err
	}
	b := img.Bounds()
	at := func(x, y int) color.NRGBA { return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) }
	isRed := func(c color.NRGBA) bool { return c.A >= 200 && c.R > 180 && c.G < 90 && c.B < 90 }
	// The margin is about two rendered pixels at renderDPI.
	margin := int(math.Ceil(2 * float64(b.Dx()) / (widthMM / 25.4 * renderDPI)))
	var sum [3]int
	for y := b.Min.Y + margin; y < b.Max.Y-margin; y += 3 {
		for x := b.Min.X + margin; x < b.Max.X-margin; x += 3 {
			allRed, allClear := true, true
			for dy := -margin; dy <= margin && (allRed || allClear); dy += 2 {
				for dx := -margin; dx <= margin; dx += 2 {
					c := at(x+dx, y+dy)
					allRed = allRed && isRed(c)
					allClear = allClear && c.A == 0
				}
			}
			p := samplePoint{(float64(x-b.Min.X) + 0.5) / float64(b.Dx()), (float64(y-b.Min.Y) + 0.5) / float64(b.Dy())}
			if allRed {
				red = append(red, p)
				// The ink may be slightly translucent: expect it over white paper.
				c := at(x, y)
				over := func(v uint8) int { return (int(v)*int(c.A) + 255*(255-int(c.A))) / 255 }
				sum[0] += over(c.R)
				sum[1] += over(c.G)
				sum[2] += over(c.B)
			}
			if allClear {
				clear = append(clear, p)
			}
		}
	}
	n := max(len(red), 1)
	return red, clear, color.NRGBA{uint8(sum[0] / n), uint8(sum[1] / n), uint8(sum[2] / n), 255}, nil
}

// closeTo reports whether a rendered pixel has the ink's colour.
func closeTo(c color.Color, ink color.NRGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, want uint8) float64 { return math.Abs(float64(a>>8) - float64(want)) }
	return d(r, ink.R) < 40 && d(g, ink.G) < 40 && d(b, ink.B) < 40
}

// sealBox is where a seal is expected, in rendered pixels from the top left
// of the page as seen: the image's box, or a part of it for a strip.
type sealBox struct {
	x, y, w, h float64 // the whole image's box
	u0, u1     float64 // the horizontal part of the image shown, 0–1
}

// mm returns a sealBox for a seal of w×h mm whose centre lies cx mm right
// and cy mm down from the top left corner.
func mmBox(cx, cy, w, h float64) sealBox {
	k := renderDPI / 25.4
	return sealBox{x: (cx - w/2) * k, y: (cy - h/2) * k, w: w * k, h: h * k, u0: 0, u1: 1}
}

// checkSealPixels compares the page before and after sealing at the
// seal's sample points.
func checkSealPixels(t testing.TB, before, after image.Image, box sealBox) {
	t.Helper()
	sealSamples(t)
	checkInk(t, before, after, box, sealRed)
}

// checkInk is checkSealPixels for a seal image of the interop seal's shape
// in another colour: ink is its colour over white paper.
func checkInk(t testing.TB, before, after image.Image, box sealBox, ink color.NRGBA) {
	t.Helper()
	red, clear := sealSamples(t)
	checkInkAt(t, before, after, box, red, clear, ink)
}

// checkInkAt checks the page after sealing has ink at the red points of
// the seal's box and is unchanged at its clear points.
func checkInkAt(t testing.TB, before, after image.Image, box sealBox, red, clear []samplePoint, ink color.NRGBA) {
	t.Helper()
	redOK, redN, clearOK, clearN := 0, 0, 0, 0
	var misses []string
	for _, p := range red {
		if p.u < box.u0 || p.u >= box.u1 {
			continue
		}
		x, y := int(box.x+p.u*box.w), int(box.y+p.v*box.h)
		if !(image.Point{x, y}.In(after.Bounds())) {
			continue
		}
		redN++
		if closeTo(after.At(x, y), ink) {
			redOK++
		} else if len(misses) < 5 {
			misses = append(misses, fmt.Sprintf("(%d,%d)=%v", x, y, after.At(x, y)))
		}
	}
	for _, p := range clear {
		if p.u < box.u0 || p.u >= box.u1 {
			continue
		}
		x, y := int(box.x+p.u*box.w), int(box.y+p.v*box.h)
		if !(image.Point{x, y}.In(after.Bounds())) {
			continue
		}
		clearN++
		r1, g1, b1, _ := before.At(x, y).RGBA()
		r2, g2, b2, _ := after.At(x, y).RGBA()
		if absDiff(r1, r2) < 24<<8 && absDiff(g1, g2) < 24<<8 && absDiff(b1, b2) < 24<<8 {
			clearOK++
		}
	}
	if redN < 5 || clearN < 10 {
		t.Fatalf("too few sample points inside the page: %d red, %d clear", redN, clearN)
	}
	if float64(redOK) < 0.9*float64(redN) {
		t.Errorf("seal ink at %d of %d points where the seal is inked (ink %v); misses %v", redOK, redN, ink, misses)
	}
	if float64(clearOK) < 0.95*float64(clearN) {
		t.Errorf("page unchanged at %d of %d points where the seal is transparent", clearOK, clearN)
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
