package pdf

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/ronganxian/eseal/seal/cms"
	tjx509 "github.com/tjfoc/gmsm/x509"
)

// fixtureCase says what must happen to one shared fixture.
type fixtureCase struct {
	dir, file string
	// refuse is the error a refusal wraps; nil when the file is sealed.
	refuse error
	// repair is whether Request.Repair makes a refused file sealable.
	repair bool
	// prior is the number of signatures the file already carries.
	prior int
}

// fixtureCases lists every shared fixture. TestFixtureTableComplete fails
// when a fixture is added without an entry here.
var fixtureCases = []fixtureCase{
	{dir: fixtureDir, file: "decision.pdf"},
	{dir: fixtureDir, file: "one.pdf"},
	{dir: fixtureDir, file: "one_bad_offsets.pdf", refuse: ErrDamaged, repair: true},
	{dir: fixtureDir, file: "one_droid.pdf"},
	{dir: fixtureDir, file: "one_enc_aes128.pdf"},
	{dir: fixtureDir, file: "one_enc_aes256.pdf"},
	{dir: fixtureDir, file: "one_enc_rc4.pdf"},
	{dir: fixtureDir, file: "one_hybrid.pdf"},
	{dir: fixtureDir, file: "one_leading_junk.pdf", refuse: ErrDamaged, repair: true},
	{dir: fixtureDir, file: "one_linearized.pdf"},
	{dir: fixtureDir, file: "one_mixed_stream_then_table.pdf", prior: 1},
	{dir: fixtureDir, file: "one_objstm.pdf"},
	{dir: fixtureDir, file: "one_pagestr.pdf"},
	{dir: fixtureDir, file: "one_pdf20.pdf"},
	{dir: fixtureDir, file: "one_pdf20_objstm.pdf"},
	{dir: fixtureDir, file: "one_type0.pdf"},
	{dir: fixtureDir, file: "one_type0_gs.pdf"},
	{dir: interopDir, file: "bc-signed-visible.pdf", prior: 1},
	{dir: interopDir, file: "bc-signed-invisible-objstm.pdf", prior: 1},
}

func TestFixtureTableComplete(t *testing.T) {
	for _, dir := range []string{fixtureDir, interopDir} {
		files, err := filepath.Glob(filepath.Join(dir, "*.pdf"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures in %s: %v", dir, err)
		}
		for _, f := range files {
			if !slices.ContainsFunc(fixtureCases, func(c fixtureCase) bool { return c.dir == dir && c.file == filepath.Base(f) }) {
				t.Errorf("fixture %s has no entry in fixtureCases", f)
			}
		}
	}
}

// TestFixtures seals every fixture with a visible seal, or checks that it
// is refused with the error that says why.
func TestFixtures(t *testing.T) {
	for _, c := range fixtureCases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			in, err := os.ReadFile(filepath.Join(c.dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			req := baseRequest(t)
			req.Image = testSeal(t)
			req.Placements = []Placement{At{Page: 1, Corner: TopLeft, X: 60, Y: 60}}
			if c.refuse != nil {
				var out bytes.Buffer
				_, err := Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req)
				if !errors.Is(err, c.refuse) {
					t.Fatalf("Seal: %v, want %v", err, c.refuse)
				}
				if out.Len() != 0 {
					t.Errorf("a refusal wrote %d bytes", out.Len())
				}
				t.Logf("refused: %v", err)
				if !c.repair {
					return
				}
				req.Repair = true
			}
			out, res := sealBytes(t, in, req)
			base := in
			if c.repair {
				if res.Repaired == "" {
					t.Error("Result.Repaired is empty after a repair")
				}
				t.Logf("repaired: %s", res.Repaired)
				base = out[:res.UpdateOffset]
				// The repaired document reads as the damaged one does
				// in poppler, which repairs it on the fly.
				if a, b := pdftotext(t, writeTemp(t, "in.pdf", in)), pdftotext(t, writeTemp(t, "base.pdf", base)); a != b || len(a) < 20 {
					t.Errorf("text differs after the repair:\n%s\n--- repaired:\n%s", a, b)
				}
			} else if res.UpdateOffset != int64(len(in)) {
				t.Errorf("UpdateOffset %d, want %d", res.UpdateOffset, len(in))
			}
			checkSealed(t, base, out, res, c.prior)
			if res.Repaired == "" {
				if sum := sm3Sum(in); !bytes.Equal(res.SourceDigest, sum) {
					t.Errorf("SourceDigest %x, want %x", res.SourceDigest, sum)
				}
			}
			if sum := sm3Sum(out); !bytes.Equal(res.OutputDigest, sum) {
				t.Errorf("OutputDigest %x, want %x", res.OutputDigest, sum)
			}
			// The seal is drawn where it was asked for.
			file := writeTemp(t, "sealed.pdf", out)
			before := render(t, writeTemp(t, "in.pdf", base), 1)
			after := render(t, file, 1)
			// A township seal is 42 mm across: the pixels must show it at that size.
			checkSealPixels(t, before, after, mmBox(60, 60, 42, 42))
		})
	}
}

// checkSealed runs the output checks of issue 4 on a sealed file: the
// original is a prefix, qpdf finds no fault, pdfsig lists every signature
// with ours covering the whole file, every signature still verifies, and
// ours verifies under tjfoc/gmsm as well.
func checkSealed(t *testing.T, in, out []byte, res *Result, prior int) {
	t.Helper()
	if !bytes.HasPrefix(out, in) {
		t.Fatal("the output does not start with the original bytes")
	}
	file := writeTemp(t, "sealed.pdf", out)
	qpdfCheck(t, file)

	_, chain := sm2Signer(t)
	cn := chain.Leaf().Subject.CommonName
	ps := pdfsig(t, file)
	if len(ps) != prior+1 {
		t.Fatalf("pdfsig lists %d signatures, want %d: %+v", len(ps), prior+1, ps)
	}
	ours := ps[len(ps)-1]
	if ours.commonName != cn || ours.total != "Total document signed" || ours.field != res.Field || ours.subFilter != "adbe.pkcs7.detached" {
		t.Errorf("pdfsig on our signature: %+v; want signer %q, field %q, total document signed", ours, cn, res.Field)
	}

	raw := scanSignatures(t, out)
	if len(raw) != prior+1 {
		t.Fatalf("found %d signatures in the bytes, want %d", len(raw), prior+1)
	}
	all := &cms.VerifyOptions{Algorithms: cms.SM2 | cms.ECDSA | cms.RSA}
	for i, s := range raw {
		if _, err := cms.Verify(s.der, bytes.NewReader(s.signed(out)), all); err != nil {
			t.Errorf("signature %d (byte range %v) no longer verifies: %v", i+1, s.byteRange, err)
		}
	}
	last := raw[len(raw)-1]
	if last.byteRange != res.ByteRange {
		t.Errorf("byte range in the file %v, Result says %v", last.byteRange, res.ByteRange)
	}
	if last.byteRange[0] != 0 || last.byteRange[2]+last.byteRange[3] != int64(len(out)) {
		t.Errorf("our byte range %v does not cover the file of %d bytes", last.byteRange, len(out))
	}
	if !bytes.Equal(sm3Sum(last.signed(out)), res.Digest) {
		t.Error("Result.Digest is not the SM3 of the byte ranges")
	}
	tjVerify(t, last.der, last.signed(out), cn)

	sigs, err := Signatures(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatalf("Signatures: %v", err)
	}
	if len(sigs) != prior+1 {
		t.Fatalf("Signatures lists %d, want %d", len(sigs), prior+1)
	}
	s := sigs[len(sigs)-1]
	req := baseRequest(t)
	if s.Field != res.Field || s.Name != req.SealName || s.Reason != req.Reason || s.ItemCode != req.ItemCode ||
		s.ItemName != req.ItemName || s.CaseNumber != req.CaseNumber || !s.CoversWholeFile || s.SigningTime != "D:20261127093015+08'00'" {
		t.Errorf("Signatures reports %+v", s)
	}
	for _, p := range sigs[:prior] {
		if p.CoversWholeFile {
			t.Errorf("earlier signature %q reported as covering the sealed file", p.Field)
		}
	}
}

// tjMu serialises calls into tjfoc/gmsm, whose BER-to-DER conversion
// writes package state and so races when parallel subtests verify.
var tjMu sync.Mutex

// tjVerify checks a CMS signature with tjfoc/gmsm, written apart from the
// emmansun code that made it.
func tjVerify(t *testing.T, der, content []byte, cn string) {
	t.Helper()
	tjMu.Lock()
	defer tjMu.Unlock()
	p7, err := tjx509.ParsePKCS7(der)
	if err != nil {
		t.Fatalf("tjfoc cannot parse the CMS: %v", err)
	}
	p7.Content = content
	if err := p7.Verify(); err != nil {
		t.Errorf("tjfoc rejects the signature: %v", err)
	}
	if s := p7.GetOnlySigner(); s == nil || s.Subject.CommonName != cn {
		t.Errorf("tjfoc finds signer %v, want %q", s, cn)
	}
}
