package pdf_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/verify"
)

// refusedFixtures are the PDFs under testdata/ that the engine refuses to
// seal, even with Request.Repair, and why. Every other PDF there must be
// sealed, and verified.
var refusedFixtures = map[string]error{
	// Pages smaller than the 42 mm seal (placement's rows of issue 14).
	"realworld/pdfjs-IdentityToUnicodeMap_charCodeOf.pdf": pdf.ErrSealOffPage,
	"realworld/pdfjs-Type3WordSpacing.pdf":                pdf.ErrSealOffPage,
	"realworld/pdfjs-bug1011159.pdf":                      pdf.ErrSealOffPage,
	"realworld/pdfjs-issue7665.pdf":                       pdf.ErrSealOffPage,
	"realworld/pdfjs-issue10438_reduced.pdf":              pdf.ErrSealOffPage,
	"realworld/pdfjs-xref_command_missing.pdf":            pdf.ErrSealOffPage,
	// A page tree that loops.
	"realworld/qpdf-pages-loop.pdf": pdf.ErrDamaged,
	// Encrypted, its encryption dictionary damaged with its
	// cross-reference data: not read as plain.
	"realworld/pdfjs-PDFBOX-4352-0.pdf": pdf.ErrDamaged,
	// Certificate encryption, which stays refused.
	"realworld/pyhanko-minimal-pubkey-aes256.pdf": pdf.ErrEncrypted,
}

// TestSealAndVerifyEveryFixture seals every PDF under testdata/ as the
// service does (Request.Repair, a visible seal by default placement) and
// verifies each output with our verifier: our signature is valid, and the
// verifier finds the file readable and undamaged. Earlier signatures (the
// attack corpus's, the interop files') are judged as they were; a file
// that had none must be valid as a whole.
func TestSealAndVerifyEveryFixture(t *testing.T) {
	req, root, err := sealRequest()
	if err != nil {
		t.Fatal(err)
	}
	req.Repair = true
	var files []string
	err = filepath.WalkDir("../testdata", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.EqualFold(filepath.Ext(p), ".pdf") {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) < 50 {
		t.Fatalf("found %d PDFs under testdata: %v", len(files), err)
	}
	for _, file := range files {
		name, _ := filepath.Rel("../testdata", file)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			res, err := pdf.Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req)
			if want, refused := refusedFixtures[name]; refused || err != nil {
				if !refused || !errors.Is(err, want) {
					t.Fatalf("Seal: %v, want %v", err, want)
				}
				return
			}
			doc := out.Bytes()
			rep, err := verify.PDF(context.Background(), bytes.NewReader(doc), int64(len(doc)),
				verify.Options{Roots: []*smx509.Certificate{root}})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range rep.Reasons {
				switch p.Code {
				case verify.CodeUnreadable, verify.CodeDamaged, verify.CodeTooLarge, verify.CodeTrailingData, verify.CodeNoSignatures:
					t.Errorf("the verifier rejects our output's structure: %s", p)
				}
			}
			ours := -1
			for i, s := range rep.Signatures {
				if s.Field == res.Field {
					ours = i
				}
			}
			switch {
			case ours < 0:
				t.Fatalf("the verifier does not find our signature %s among %d", res.Field, len(rep.Signatures))
			case !rep.Signatures[ours].Valid:
				t.Errorf("our signature is not valid: %v", rep.Signatures[ours].Reasons)
			case len(res.PriorSignatures) == 0 && rep.Verdict != verify.VerdictValid:
				t.Errorf("a file sealed once is %s: %v", rep.Verdict, rep.Reasons)
			}
		})
	}
}
