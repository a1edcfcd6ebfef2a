package pdf

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/seal/cms"
)

// The fixtures travel with the repository (testdata/README.md names their
// source).
const (
	fixtureDir = "../testdata/pdfs"
	interopDir = "../testdata/interop"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

func interop(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(interopDir, name))
	if err != nil {
		t.Fatalf("interop fixture: %v", err)
	}
	return b
}

var (
	signerOnce sync.Once
	testSigner *cms.Signer
	testChain  *testpki.Chain
)

// sm2Signer returns one SM2 test signer for the package's tests.
func sm2Signer(t testing.TB) (*cms.Signer, *testpki.Chain) {
	t.Helper()
	signerOnce.Do(func() {
		testChain = testpki.MustChain(testpki.Options{})
		s, err := cms.NewSigner(testChain.LeafKey(), testChain.Certs, cms.ProfileDefault)
		if err != nil {
			panic(err)
		}
		testSigner = s
	})
	return testSigner, testChain
}

var (
	sealOnce  sync.Once
	sealImage *SealImage
	sealPNG   []byte
)

// testSeal returns the interop seal image, prepared once.
func testSeal(t testing.TB) *SealImage {
	t.Helper()
	sealOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join(interopDir, "seal.png"))
		if err != nil {
			panic(err)
		}
		sealPNG = b
		if sealImage, err = NewSealImage(b, 0); err != nil {
			panic(err)
		}
	})
	return sealImage
}

var testTime = time.Date(2026, 11, 27, 9, 30, 15, 0, time.FixedZone("CST", 8*3600))

func baseRequest(t testing.TB) Request {
	s, _ := sm2Signer(t)
	return Request{
		Signer:     s,
		Time:       testTime,
		SealName:   "融安县长安镇人民政府行政审批专用章",
		Reason:     "准予行政许可",
		ItemCode:   "000115001000",
		ItemName:   "农村村民住宅用地审批",
		CaseNumber: "CA-2026-000123",
	}
}

// sealBytes seals in and returns the output.
func sealBytes(t testing.TB, in []byte, req Request) ([]byte, *Result) {
	t.Helper()
	var out bytes.Buffer
	res, err := Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if int64(out.Len()) != res.Size {
		t.Fatalf("wrote %d bytes, Result.Size %d", out.Len(), res.Size)
	}
	return out.Bytes(), res
}

// tool returns the path of an external checker, failing the test (not
// skipping it) when the tool is missing.
func tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required for this test: install the Debian package %s (apt-get install -y %s)", name, pkg, pkg)
	}
	return p
}

func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// qpdfCheck runs qpdf --check and fails on any error or warning.
func qpdfCheck(t testing.TB, file string) {
	t.Helper()
	out, err := exec.Command(tool(t, "qpdf", "qpdf"), "--check", file).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("WARNING")) || !bytes.Contains(out, []byte("No syntax or stream encoding errors found")) {
		t.Errorf("qpdf --check %s: %v\n%s", filepath.Base(file), err, out)
	}
}

// pdfsigInfo is what pdfsig says about one signature.
type pdfsigInfo struct {
	field, commonName, total, ranges, subFilter string
}

func pdfsig(t testing.TB, file string) []pdfsigInfo {
	t.Helper()
	out, err := exec.Command(tool(t, "pdfsig", "poppler-utils"), file).CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("Signature #")) {
		t.Fatalf("pdfsig %s: %v\n%s", filepath.Base(file), err, out)
	}
	var sigs []pdfsigInfo
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "Signature #"):
			sigs = append(sigs, pdfsigInfo{})
		case len(sigs) == 0:
		case strings.HasPrefix(line, "- Signature Field Name:"):
			sigs[len(sigs)-1].field = strings.TrimSpace(strings.TrimPrefix(line, "- Signature Field Name:"))
		case strings.HasPrefix(line, "- Signer Certificate Common Name:"):
			sigs[len(sigs)-1].commonName = strings.TrimSpace(strings.TrimPrefix(line, "- Signer Certificate Common Name:"))
		case strings.HasPrefix(line, "- Signed Ranges:"):
			sigs[len(sigs)-1].ranges = strings.TrimSpace(strings.TrimPrefix(line, "- Signed Ranges:"))
		case strings.HasPrefix(line, "- Signature Type:"):
			sigs[len(sigs)-1].subFilter = strings.TrimSpace(strings.TrimPrefix(line, "- Signature Type:"))
		case line == "- Total document signed", line == "- Not total document signed":
			sigs[len(sigs)-1].total = strings.TrimPrefix(line, "- ")
		}
	}
	return sigs
}

// rawSig is a signature found by scanning the bytes, independently of the
// package's reader.
type rawSig struct {
	byteRange [4]int64
	der       []byte // trailing zero padding removed
}

var (
	byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)
)

// scanSignatures finds every /ByteRange in the file and the /Contents
// string that its ranges leave out.
func scanSignatures(t testing.TB, b []byte) []rawSig {
	t.Helper()
	var out []rawSig
	for _, m := range byteRangeRE.FindAllSubmatch(b, -1) {
		var s rawSig
		for i := range 4 {
			v, err := strconv.ParseInt(string(m[i+1]), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			s.byteRange[i] = v
		}
		gap := b[s.byteRange[1]:s.byteRange[2]]
		if len(gap) < 2 || gap[0] != '<' || gap[len(gap)-1] != '>' {
			t.Fatalf("byte range %v leaves out %q…, not a hex string", s.byteRange, gap[:min(len(gap), 10)])
		}
		der, err := hex.DecodeString(string(gap[1 : len(gap)-1]))
		if err != nil {
			t.Fatalf("/Contents: %v", err)
		}
		s.der = trimDER(der)
		out = append(out, s)
	}
	return out
}

// trimDER cuts a padded DER value to the length its header states.
func trimDER(b []byte) []byte {
	if len(b) < 2 {
		return b
	}
	l := int(b[1])
	hdr := 2
	if l&0x80 != 0 {
		n := l & 0x7f
		l = 0
		for i := 0; i < n && 2+i < len(b); i++ {
			l = l<<8 | int(b[2+i])
		}
		hdr += n
	}
	if hdr+l <= len(b) {
		return b[:hdr+l]
	}
	return b
}

func (s rawSig) signed(b []byte) []byte {
	out := append([]byte(nil), b[s.byteRange[0]:s.byteRange[0]+s.byteRange[1]]...)
	return append(out, b[s.byteRange[2]:s.byteRange[2]+s.byteRange[3]]...)
}

func sm3Sum(b []byte) []byte {
	s := sm3.Sum(b)
	return s[:]
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pdftotext returns the text of file as poppler extracts it.
func pdftotext(t testing.TB, file string) string {
	t.Helper()
	out, err := exec.Command(tool(t, "pdftotext", "poppler-utils"), "-layout", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", filepath.Base(file), err)
	}
	return string(out)
}

// The engine takes the signature core's signer as it is.
var _ Signer = (*cms.Signer)(nil)
