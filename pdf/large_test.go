package pdf

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/seal/cms"
)

// The large document of issue 4: 200 pages, about 10 MB. It is generated
// once per test run, deterministically, into the run's scratch directory,
// and not committed.

const (
	largePages      = 200
	largeImageBytes = 50_000 // per page: a 250×200 grey image, incompressible
)

var (
	largeOnce sync.Once
	largePath string
	largeErr  error
)

// largePDF returns the path of the generated document.
func largePDF(t testing.TB) string {
	t.Helper()
	largeOnce.Do(func() {
		largePath = filepath.Join(scratchDir, "large-200p.pdf")
		largeErr = writeLargePDFFile(largePath)
	})
	if largeErr != nil {
		t.Fatal(largeErr)
	}
	return largePath
}

func writeLargePDFFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := writeLargePDF(bw, largePages, largeImageBytes); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeLargePDF writes a plain PDF (classic cross-reference table) of n
// pages, each with a line of text and an image of imageBytes bytes of
// seeded pseudo-random grey, so that the file does not compress.
func writeLargePDF(w io.Writer, n, imageBytes int) error {
	cw := &countingWriter{w: w}
	var offs []int64
	obj := func(body string, stream []byte) {
		offs = append(offs, cw.n)
		fmt.Fprintf(cw, "%d 0 obj\n%s", len(offs), body)
		if stream != nil {
			fmt.Fprintf(cw, "\nstream\n")
			cw.Write(stream)
			fmt.Fprintf(cw, "\nendstream")
		}
		fmt.Fprintf(cw, "\nendobj\n")
	}
	fmt.Fprintf(cw, "%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n")
	// 1 catalog, 2 page tree, 3 font, then per page: page, content, image.
	kids := make([]string, n)
	for i := range n {
		kids[i] = fmt.Sprintf("%d 0 R", 4+3*i)
	}
	obj("<</Type/Catalog/Pages 2 0 R>>", nil)
	obj(fmt.Sprintf("<</Type/Pages/Count %d/Kids[%s]/MediaBox[0 0 595.28 841.89]>>", n, strings.Join(kids, " ")), nil)
	obj("<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>", nil)
	rng := rand.New(rand.NewPCG(4, 200))
	img := make([]byte, imageBytes)
	for i := range n {
		p := 4 + 3*i
		obj(fmt.Sprintf("<</Type/Page/Parent 2 0 R/Contents %d 0 R/Resources<</Font<</F1 3 0 R>>/XObject<</Im1 %d 0 R>>>>>>", p+1, p+2), nil)
		content := fmt.Sprintf("BT /F1 12 Tf 72 770 Td (Township approval archive, page %d of %d) Tj ET\nq 250 0 0 200 72 480 cm /Im1 Do Q\n", i+1, n)
		obj(fmt.Sprintf("<</Length %d>>", len(content)), []byte(content))
		for k := 0; k < len(img); k += 8 {
			v := rng.Uint64()
			for j := 0; j < 8 && k+j < len(img); j++ {
				img[k+j] = byte(v >> (8 * j))
			}
		}
		obj(fmt.Sprintf("<</Type/XObject/Subtype/Image/Width 250/Height %d/ColorSpace/DeviceGray/BitsPerComponent 8/Length %d>>", imageBytes/250, len(img)), img)
	}
	xref := cw.n
	fmt.Fprintf(cw, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(cw, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(cw, "trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return cw.err
}

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// TestLargeDocument seals the 200-page document with a seal on its last
// page and a cross-page seal over all 200 pages, in one signature, and
// runs the output checks on it.
func TestLargeDocument(t *testing.T) {
	path := largePDF(t)
	in := readFile(t, path)
	if len(in) < 9<<20 || len(in) > 12<<20 {
		t.Fatalf("the large document has %d bytes, want about 10 MB", len(in))
	}
	qpdfCheck(t, path)
	req := baseRequest(t)
	req.Image = testSeal(t)
	req.Placements = []Placement{Default{}, Riding{Y: 60}}
	out, res := sealBytes(t, in, req)
	if len(res.Seals) != 1+largePages {
		t.Errorf("%d seals drawn, want %d", len(res.Seals), 1+largePages)
	}
	checkSealed(t, in, out, res, 0)
	// No date line: the seal sits inside the lower right margins.
	after := render(t, writeTemp(t, "out.pdf", out), largePages)
	before := render(t, path, largePages)
	const w = 595.28 / 72 * 25.4
	const h = 841.89 / 72 * 25.4
	checkSealPixels(t, before, after, mmBox(w-DefaultMarginRightMM-21, h-DefaultMarginBottomMM-21, 42, 42))
}

// peakRSSChildEnv names the large document when the test binary runs as
// the child that measures peak memory.
const peakRSSChildEnv = "ESEAL_PDF_PEAK_RSS_CHILD"

// runPeakRSSChild seals the file named by the environment, from file to
// file, and prints the process's peak resident set size. TestMain calls it.
func runPeakRSSChild(src string) {
	chain := testpki.MustChain(testpki.Options{})
	s, err := cms.NewSigner(chain.LeafKey(), chain.Certs, cms.ProfileDefault)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	img, err := NewSealImage(mustRead(filepath.Join(interopDir, "seal.png")), 0)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if err := sealFileToFile(src+".sealed.pdf", src, Request{Signer: s, SealName: "test", Image: img}); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			fmt.Println(line)
		}
	}
	os.Exit(0)
}

// sealFileToFile seals the file src into a new file dst, streaming both,
// and removes dst again.
func sealFileToFile(dst, src string, req Request) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer os.Remove(dst)
	defer out.Close()
	w := bufio.NewWriterSize(out, 256<<10)
	if _, err := Seal(context.Background(), w, in, st.Size(), req); err != nil {
		return err
	}
	return w.Flush()
}

func mustRead(name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}

// peakRSS runs the child on file and returns its peak RSS in bytes.
func peakRSS(t testing.TB, file string) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), peakRSSChildEnv+"="+file)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("peak RSS child: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" && f[2] == "kB" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	t.Fatalf("peak RSS child printed no VmHWM:\n%s", out)
	return 0
}

// TestLargeDocumentMemory checks the memory bound of issue 4: sealing the
// 10 MB document peaks below twice its size plus 32 MB of resident memory.
func TestLargeDocumentMemory(t *testing.T) {
	path := largePDF(t)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	rss := peakRSS(t, path)
	limit := 2*st.Size() + 32<<20
	t.Logf("peak RSS %.1f MB for a %.1f MB document (limit %.1f MB)", float64(rss)/(1<<20), float64(st.Size())/(1<<20), float64(limit)/(1<<20))
	if rss > limit {
		t.Errorf("peak RSS %d bytes exceeds %d", rss, limit)
	}
	if !bytes.Contains(readFile(t, path)[:16], []byte("%PDF-")) {
		t.Error("the document is not a PDF")
	}
}
