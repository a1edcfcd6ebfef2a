package pdf_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/verify"
)

// What sealing reads leniently in an unsigned file (a page tree the
// standard does not allow, a /Fields entry that is no field) stays refused
// in a signed one, by the sealer and by the verifier: the leniency never
// reaches a signed revision.

// appendUpdate appends to a file whose newest section is a cross-reference
// table an incremental update that defines objs (number → body).
func appendUpdate(t *testing.T, in []byte, objs map[int]string) []byte {
	t.Helper()
	tr := in[bytes.LastIndex(in, []byte("trailer")):]
	root := regexp.MustCompile(`/Root\s+(\d+ \d+ R)`).FindSubmatch(tr)
	size := regexp.MustCompile(`/Size\s+(\d+)`).FindSubmatch(tr)
	prev := regexp.MustCompile(`startxref\s+(\d+)`).FindSubmatch(tr)
	if root == nil || size == nil || prev == nil {
		t.Fatalf("no /Root, /Size or startxref in the last trailer: %q", tr)
	}
	out := bytes.Clone(in)
	var xref strings.Builder
	xref.WriteString("xref\n")
	for num, body := range objs {
		fmt.Fprintf(&xref, "%d 1\n%010d 00000 n \n", num, len(out)+1)
		out = fmt.Appendf(out, "\n%d 0 obj\n%s\nendobj\n", num, body)
	}
	at := len(out)
	out = fmt.Appendf(out, "%strailer\n<< /Size %s /Root %s /Prev %s >>\nstartxref\n%d\n%%%%EOF\n", xref.String(), size[1], root[1], prev[1], at)
	return out
}

// lastObject returns the body of the newest definition of object num.
func lastObject(t *testing.T, b []byte, num int) string {
	t.Helper()
	ms := regexp.MustCompile(`(?s)\n`+strconv.Itoa(num)+` 0 obj\s*(.*?)\s*endobj`).FindAllSubmatch(b, -1)
	if len(ms) == 0 {
		t.Fatalf("no object %d", num)
	}
	return string(ms[len(ms)-1][1])
}

// sealedOne seals testdata/pdfs/one.pdf, a one-page file without a form.
func sealedOne(t *testing.T) ([]byte, *smx509.Certificate) {
	t.Helper()
	in, err := os.ReadFile("../testdata/pdfs/one.pdf")
	if err != nil {
		t.Fatal(err)
	}
	req, root, err := sealRequest()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := pdf.Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), root
}

func TestLenientReadingStaysOffSignedFiles(t *testing.T) {
	signed, root := sealedOne(t)
	cat := regexp.MustCompile(`/Root\s+(\d+) 0 R`).FindAllSubmatch(signed, -1)
	catNum, _ := strconv.Atoi(string(cat[len(cat)-1][1]))
	catalog := lastObject(t, signed, catNum)
	pagesNum, _ := strconv.Atoi(string(regexp.MustCompile(`/Pages\s+(\d+) 0 R`).FindStringSubmatch(catalog)[1]))
	pages := lastObject(t, signed, pagesNum)
	pageNum, _ := strconv.Atoi(string(regexp.MustCompile(`/Kids\s*\[\s*(\d+) 0 R`).FindStringSubmatch(pages)[1]))
	page := lastObject(t, signed, pageNum)
	if !strings.Contains(catalog, "/AcroForm <<") || !strings.Contains(catalog, "/Fields [") {
		t.Fatalf("the sealed catalog holds no direct form: %s", catalog)
	}

	for _, tc := range []struct {
		name string
		objs map[int]string
	}{
		// The page written in place in /Kids (pyHanko's
		// page-tree-direct-kid.pdf, once signed).
		{"page in place in /Kids", map[int]string{pagesNum: "<< /Type /Pages /Count 1 /Kids [ " + page + " ] >>"}},
		// A page given as the root of the page tree (qpdf's
		// pages-is-page.pdf, once signed).
		{"page as the root", map[int]string{catNum: strings.Replace(catalog, fmt.Sprintf("/Pages %d 0 R", pagesNum), fmt.Sprintf("/Pages %d 0 R", pageNum), 1)}},
		// An integer in /Fields (qpdf's form-errors.pdf, once signed).
		{"integer in /Fields", map[int]string{catNum: strings.Replace(catalog, "/Fields [", "/Fields [ 7 ", 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := appendUpdate(t, signed, tc.objs)
			if bytes.Equal(in, signed) || len(tc.objs) != 1 {
				t.Fatal("no change made")
			}
			// The verifier does not read the signed file leniently.
			rep, err := verify.PDF(context.Background(), bytes.NewReader(in), int64(len(in)),
				verify.Options{Roots: []*smx509.Certificate{root}})
			if err != nil {
				t.Fatal(err)
			}
			damaged := false
			for _, r := range rep.Reasons {
				damaged = damaged || r.Code == verify.CodeDamaged
			}
			if rep.Verdict == verify.VerdictValid || !damaged {
				t.Errorf("verify: %s %v; want the damage reported", rep.Verdict, rep.Reasons)
			}
			// Nor does sealing: the file carries a signature, which
			// the repair would break.
			req, _, err := sealRequest()
			if err != nil {
				t.Fatal(err)
			}
			req.Repair = true
			var out bytes.Buffer
			if _, err := pdf.Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req); !errors.Is(err, pdf.ErrDamagedSigned) || out.Len() != 0 {
				t.Errorf("Seal: %v (%d bytes written), want ErrDamagedSigned", err, out.Len())
			}
		})
	}
}

// TestEncryptDangling: in a file whose cross-reference data is sound, an
// /Encrypt that refers to an object the file does not define is the null
// object (ISO 32000-2 §7.3.10), so absent (§7.3.7): the file is read, and
// sealed, as unencrypted, as pdf.js, PDFBox and qpdf read it. The sealing
// revision says /Encrypt null: /Encrypt here names the very number the
// update gives its first new object, which would otherwise become the
// "encryption dictionary" of the sealed file. The same /Encrypt
// in a file that has to be rebuilt is refused: there the object may exist,
// damaged (pdfjs-PDFBOX-4352-0.pdf in TestRealWorldReading).
func TestEncryptDangling(t *testing.T) {
	one, err := os.ReadFile("../testdata/pdfs/one.pdf")
	if err != nil {
		t.Fatal(err)
	}
	tr := bytes.LastIndex(one, []byte("trailer"))
	size := regexp.MustCompile(`/Size\s+(\d+)`).FindSubmatch(one[tr:])
	if size == nil {
		t.Fatal("no /Size")
	}
	in := bytes.Clone(one)
	in = append(in[:tr], bytes.Replace(one[tr:], []byte("/Size"), fmt.Appendf(nil, "/Encrypt %s 0 R /Size", size[1]), 1)...)
	req, root, err := sealRequest()
	if err != nil {
		t.Fatal(err)
	}
	req.Repair = true
	var out bytes.Buffer
	res, err := pdf.Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	doc := out.Bytes()
	if res.Repaired != "" || !bytes.HasPrefix(doc, in) {
		t.Errorf("Repaired %q; want an incremental update", res.Repaired)
	}
	if !regexp.MustCompile(`/Encrypt\s*null`).Match(doc[len(in):]) {
		t.Errorf("the sealing revision does not say /Encrypt null")
	}
	rep, err := verify.PDF(context.Background(), bytes.NewReader(doc), int64(len(doc)), verify.Options{Roots: []*smx509.Certificate{root}})
	if err != nil || rep.Verdict != verify.VerdictValid {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	file := filepath.Join(t.TempDir(), "sealed.pdf")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if s := qpdfStatus(t, file); s == 2 {
		t.Errorf("qpdf --check finds errors in the output")
	}
}
