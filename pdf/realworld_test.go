package pdf_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/verify"
)

// The reading rows of issue 14 (testdata/realworld/README.md): third-party
// files that the engine refused, or sealed into output that its own
// verifier rejected. Each is sealed as the service seals (Request.Repair
// on), its output verified by our verifier and checked by qpdf. The
// visibility rows (tiny pages, NeedAppearances) are placement's tests.

const realworldDir = "../testdata/realworld"

type realworldOutcome int

const (
	rwSealed   realworldOutcome = iota // sealed as an incremental update
	rwRepaired                         // repaired by a rewrite, then sealed
)

func TestRealWorldReading(t *testing.T) {
	for _, tc := range []struct {
		file    string
		outcome realworldOutcome
		// invisible seals without a picture: the page is too small for
		// a 42 mm seal, which placement refuses, and the row is about
		// reading the file.
		invisible bool
		// strict is what Seal without Repair (and the verifier's
		// reading, Analyze) says of a damaged input.
		strict error
		// verifierReads: the verifier reads the input as it is, strict
		// as it is; only sealing needs what is damaged.
		verifierReads bool
		// refuse is the refusal, even with Repair.
		refuse error
		// says is in the repair's note, or in the refusal.
		says string
	}{
		// The free-list head "0000000000 65536 f".
		{file: "pdfjs-ContentStreamCycleType3insideType3.pdf"},
		{file: "pdfjs-annotation-polyline-polygon-without-appearance.pdf"},
		{file: "pdfjs-bitmap-symbol-empty.pdf"},
		// Our verifier rejected our own output: a null entry in /Annots,
		// and a page object listed twice in the page tree.
		{file: "pdfjs-issue18823.pdf"},
		{file: "qpdf-duplicate-page-inherited.pdf"},
		// AES-256 whose /CF and crypt filter are indirect objects.
		{file: "pdfjs-issue7665.pdf", invisible: true},
		// Damaged: repaired, then sealed.
		{file: "pdfjs-helloworld-bad.pdf", outcome: rwRepaired, strict: pdf.ErrDamaged},
		{file: "pdfjs-issue10438_reduced.pdf", outcome: rwRepaired, strict: pdf.ErrDamaged, invisible: true},
		{file: "pdfjs-xref_command_missing.pdf", outcome: rwRepaired, strict: pdf.ErrDamaged, invisible: true},
		{file: "pdfjs-issue9252.pdf", outcome: rwRepaired, strict: pdf.ErrDamaged},
		{file: "pdfjs-scan-bad.pdf", outcome: rwRepaired, strict: pdf.ErrTruncated},
		// A page tree that loops outside the page sealed: refused, as the
		// verifier refuses it, not sealed into a file it rejects.
		{file: "qpdf-pages-loop.pdf", refuse: pdf.ErrDamaged},
		// A page tree the standard does not allow, which pdf.js and
		// PDFBox read: rewritten with the tree made regular, then
		// sealed (pagetreefix.go). Pages written in place in /Kids:
		{file: "pyhanko-page-tree-direct-kid.pdf", outcome: rwRepaired, strict: pdf.ErrDamaged,
			says: "1 page(s) or node(s) written in place in /Kids made objects of their own"},
		{file: "qpdf-direct-pages.pdf", outcome: rwRepaired, strict: pdf.ErrDamaged,
			says: "2 page(s) or node(s) written in place in /Kids made objects of their own"},
		// The catalog's /Pages is a page, or a dictionary without /Kids.
		{file: "qpdf-pages-is-page.pdf", outcome: rwRepaired, strict: pdf.ErrDamaged,
			says: "the page given as the root of the page tree put under a new root"},
		{file: "pdfjs-issue21436.pdf", outcome: rwRepaired, strict: pdf.ErrDamaged,
			says: "the page given as the root of the page tree put under a new root"},
		{file: "pdfjs-issue15590.pdf", outcome: rwRepaired, strict: pdf.ErrDamaged, invisible: true,
			says: "the page given as the root of the page tree put under a new root"},
		// A /Count of 9999999999 over one page.
		// Placing the seal on the last page needs the count, which the
		// verifier, walking every page, does not.
		{file: "pdfjs-poppler-67295-0.pdf", outcome: rwRepaired, strict: pdf.ErrDamaged, verifierReads: true,
			says: "1 page count(s) corrected"},
		// A /Fields entry that is an integer: passed over, and left out
		// of the sealing revision's /Fields (fields.go, usableFields).
		{file: "qpdf-form-errors.pdf"},
		// Encrypted (its content stream is AES data), its encryption
		// dictionary damaged with its cross-reference data: refused,
		// not read as plain (repair.go, rebuiltEncryption).
		{file: "pdfjs-PDFBOX-4352-0.pdf", refuse: pdf.ErrDamaged, strict: pdf.ErrDamaged,
			says: "its encryption dictionary (object 6) cannot be read"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			inFile := filepath.Join(realworldDir, tc.file)
			in, err := os.ReadFile(inFile)
			if err != nil {
				t.Fatal(err)
			}
			req, root, err := sealRequest()
			if err != nil {
				t.Fatal(err)
			}
			if tc.invisible {
				req.Image = nil
			}
			if tc.strict != nil {
				// Strict reading refuses the damaged file: sealing
				// without Repair, and the verifier.
				var out bytes.Buffer
				if _, err := pdf.Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req); !errors.Is(err, tc.strict) || out.Len() != 0 {
					t.Errorf("Seal without Repair: %v (%d bytes written), want %v", err, out.Len(), tc.strict)
				}
				a, err := pdf.Analyze(context.Background(), bytes.NewReader(in), int64(len(in)), pdf.Limits{})
				if err == nil {
					err = a.Damage // read, but not wholly
				}
				if tc.verifierReads {
					if err != nil {
						t.Errorf("Analyze: %v", err)
					}
				} else if !errors.Is(err, tc.strict) {
					t.Errorf("Analyze: %v, want %v", err, tc.strict)
				}
			}
			req.Repair = true
			var out bytes.Buffer
			res, err := pdf.Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req)
			if tc.refuse != nil {
				if !errors.Is(err, tc.refuse) || out.Len() != 0 || !strings.Contains(fmt.Sprint(err), tc.says) {
					t.Fatalf("Seal: %v (%d bytes written), want %v saying %q", err, out.Len(), tc.refuse, tc.says)
				}
				return
			}
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			doc := out.Bytes()
			switch tc.outcome {
			case rwSealed:
				if res.Repaired != "" || !bytes.HasPrefix(doc, in) {
					t.Errorf("Repaired %q, output starts with the input: %v; want an incremental update", res.Repaired, bytes.HasPrefix(doc, in))
				}
			case rwRepaired:
				if !strings.Contains(res.Repaired, "rebuilt the file") {
					t.Errorf("Repaired = %q, want a rebuild", res.Repaired)
				}
			}
			if !strings.Contains(res.Repaired, tc.says) {
				t.Errorf("Repaired = %q, want it to say %q", res.Repaired, tc.says)
			}
			t.Logf("repaired: %q", res.Repaired)
			rep, err := verify.PDF(context.Background(), bytes.NewReader(doc), int64(len(doc)),
				verify.Options{Roots: []*smx509.Certificate{root}})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != verify.VerdictValid || len(rep.Signatures) != 1 || rep.Signatures[0].Field != res.Field {
				t.Errorf("our verifier on our output: %s %v, %d signatures", rep.Verdict, rep.Reasons, len(rep.Signatures))
			}
			outFile := filepath.Join(t.TempDir(), "sealed.pdf")
			if err := os.WriteFile(outFile, doc, 0o600); err != nil {
				t.Fatal(err)
			}
			if before, after := qpdfStatus(t, inFile), qpdfStatus(t, outFile); after > before {
				t.Errorf("qpdf --check: output %s, input %s", qpdfStatusName[after], qpdfStatusName[before])
			}
		})
	}
}

// qpdfStatus is what qpdf --check says of file, from best to worst: 0 no
// fault, 1 warnings, 2 errors. It fails the test when qpdf is missing.
func qpdfStatus(t testing.TB, file string) int {
	t.Helper()
	q, err := exec.LookPath("qpdf")
	if err != nil {
		t.Fatal("qpdf is required for this test: install the Debian package qpdf")
	}
	out, err := exec.Command(q, "--check", file).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil && bytes.Contains(out, []byte("No syntax or stream encoding errors found")) && !bytes.Contains(out, []byte("WARNING")):
		return 0
	case err == nil, errors.As(err, &ee) && ee.ExitCode() == 3:
		return 1
	case errors.As(err, &ee):
		return 2
	}
	t.Fatalf("qpdf --check %s: %v", file, err)
	return 2
}

var qpdfStatusName = []string{"no fault", "warnings", "errors"}

// TestRealWorldEncryptionRefusals: the encryption the engine refuses on
// principle, each with a message that says which: certificate (public-key)
// encryption here; a user password and permissions that forbid fields in
// TestEncryptedRefusals. The verifier reports such a file encrypted.
func TestRealWorldEncryptionRefusals(t *testing.T) {
	for _, tc := range []struct{ file, says string }{
		{"pyhanko-minimal-pubkey-aes256.pdf", "/Adobe.PubSec is not the standard one (a certificate"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(realworldDir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			req, _, err := sealRequest()
			if err != nil {
				t.Fatal(err)
			}
			req.Repair = true
			var out bytes.Buffer
			_, err = pdf.Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req)
			if !errors.Is(err, pdf.ErrEncrypted) || !strings.Contains(err.Error(), tc.says) || out.Len() != 0 {
				t.Fatalf("Seal: %v (%d bytes written), want ErrEncrypted saying %q", err, out.Len(), tc.says)
			}
			rep, err := verify.PDF(context.Background(), bytes.NewReader(in), int64(len(in)), verify.Options{})
			if err != nil || rep.Verdict != verify.VerdictUnreadable || rep.Reasons[0].Code != verify.CodeEncrypted {
				t.Errorf("verify: %+v, %v; want unreadable, encrypted", rep, err)
			}
		})
	}
}

// TestVerifierStaysStrict: the repair that sealing allows is no part of
// the verifier's reading. A signed file whose cross-reference data is
// broken, the damage that sealing repairs in an unsigned one, is not
// readable to the verifier, which never rebuilds it; and sealing refuses
// it, since a rewrite would break its signature.
func TestVerifierStaysStrict(t *testing.T) {
	signed, err := os.ReadFile("../testdata/interop/bc-signed-visible.pdf")
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.LastIndex(signed, []byte("startxref"))
	if at < 0 {
		t.Fatal("no startxref")
	}
	in := append(bytes.Clone(signed[:at]), "startxref\n100\n%%EOF\n"...)
	rep, err := verify.PDF(context.Background(), bytes.NewReader(in), int64(len(in)), verify.Options{})
	if err != nil || rep.Verdict != verify.VerdictUnreadable || rep.Reasons[0].Code != verify.CodeUnreadable {
		t.Errorf("verify: %+v, %v; want unreadable", rep, err)
	}
	req, _, err := sealRequest()
	if err != nil {
		t.Fatal(err)
	}
	req.Repair = true
	var out bytes.Buffer
	if _, err := pdf.Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req); !errors.Is(err, pdf.ErrDamagedSigned) || out.Len() != 0 {
		t.Errorf("Seal: %v (%d bytes written), want ErrDamagedSigned", err, out.Len())
	}
}
