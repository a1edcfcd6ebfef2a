package verify

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/emmansun/gmsm/smx509"
)

// attackCase is one file of the attack corpus and the verdict it must
// get: the verdict, and the codes that must be among the reasons (for an
// invalid file) or the warnings (for a valid one).
type attackCase struct {
	file    string
	root    string // the trust anchor: root.pem or wrong-root.pem
	crl     bool   // check revocation with crl.pem
	verdict Verdict
	codes   []Code
}

// attackTable is the attack corpus with its expected verdicts.
var attackTable = []attackCase{
	// What must pass.
	{"valid.pdf", "root.pem", true, VerdictValid, nil},
	{"valid-visible.pdf", "root.pem", true, VerdictValid, nil},
	{"valid-seseal.pdf", "root.pem", true, VerdictValid, nil},
	{"valid-twice.pdf", "root.pem", true, VerdictValid, []Code{CodeNotWholeFile}},
	{"valid.pdf", "root.pem", false, VerdictValid, []Code{CodeRevocationUnknown}},
	// Tampering with the signed bytes and the signature.
	{"flipped-byte.pdf", "root.pem", true, VerdictInvalid, []Code{CodeDigestMismatch}},
	{"zeroed-contents.pdf", "root.pem", true, VerdictInvalid, []Code{CodeCMSMalformed}},
	{"shortened-byterange.pdf", "root.pem", true, VerdictInvalid, []Code{CodeByteRangeEnd, CodeDigestMismatch}},
	{"appended-after-eof.pdf", "root.pem", true, VerdictInvalid, []Code{CodeTrailingData}},
	// Changes appended after signing (incremental saving).
	{"whitebox-name.pdf", "root.pem", true, VerdictInvalid, []Code{CodeModified}},
	{"replaced-content.pdf", "root.pem", true, VerdictInvalid, []Code{CodeModified}},
	// A note added after signing: viewers draw its icon over the page.
	{"annotation-note.pdf", "root.pem", true, VerdictInvalid, []Code{CodeModified}},
	{"isa.pdf", "root.pem", true, VerdictInvalid, []Code{CodeModified}},
	{"isa-copied-sigdict.pdf", "root.pem", true, VerdictInvalid, []Code{CodeByteRangeGap, CodeModified}},
	{"annotation-cover.pdf", "root.pem", true, VerdictInvalid, []Code{CodeModified}},
	// Universal signature forgery.
	{"usf-contents-missing.pdf", "root.pem", true, VerdictInvalid, []Code{CodeContentsMissing}},
	{"usf-contents-empty.pdf", "root.pem", true, VerdictInvalid, []Code{CodeContentsMissing}},
	{"usf-contents-null.pdf", "root.pem", true, VerdictInvalid, []Code{CodeContentsMissing}},
	{"usf-byterange-missing.pdf", "root.pem", true, VerdictInvalid, []Code{CodeByteRange}},
	{"usf-byterange-null.pdf", "root.pem", true, VerdictInvalid, []Code{CodeByteRange}},
	{"usf-byterange-zero.pdf", "root.pem", true, VerdictInvalid, []Code{CodeByteRange}},
	// Signature wrapping and the shadow attack.
	{"signature-wrapping.pdf", "bc-root.pem", false, VerdictInvalid, []Code{CodeByteRangeGap}},
	{"shadow-hide-replace.pdf", "root.pem", true, VerdictInvalid, []Code{CodeModified}},
	// The seal: a valid signature under another township's picture.
	{"seal-image-mismatch.pdf", "root.pem", true, VerdictInvalid, []Code{CodeSealImageMismatch}},
	// Certificates.
	{"valid.pdf", "wrong-root.pem", true, VerdictInvalid, []Code{CodeUntrusted}},
	{"expired.pdf", "root.pem", true, VerdictInvalid, []Code{CodeCertExpired}},
	{"revoked.pdf", "root.pem", true, VerdictInvalid, []Code{CodeKeyCompromised}}, // revoked for keyCompromise
	{"suspended.pdf", "root.pem", true, VerdictInvalid, []Code{CodeSuspended}},
	{"revoked.pdf", "root.pem", false, VerdictValid, []Code{CodeRevocationUnknown}},
}

// runAttackTable verifies every case against the corpus in dir.
func runAttackTable(t *testing.T, dir string) {
	for _, c := range attackTable {
		name := c.file + "/" + c.root
		if !c.crl {
			name += "/no-crl"
		}
		t.Run(name, func(t *testing.T) {
			b := readTestFile(t, filepath.Join(dir, c.file))
			opts := Options{Roots: []*smx509.Certificate{loadCert(t, dir, c.root)}}
			if c.crl {
				opts.CRLs = []*smx509.RevocationList{loadCRL(t, filepath.Join(dir, "crl.pem"))}
			}
			rep, err := PDF(context.Background(), bytes.NewReader(b), int64(len(b)), opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != c.verdict {
				t.Errorf("verdict %s, want %s; reasons %v", rep.Verdict, c.verdict, rep.Reasons)
			}
			if len(rep.Signatures) == 0 {
				t.Fatalf("no signature reported; reasons %v", rep.Reasons)
			}
			s := rep.Signatures[len(rep.Signatures)-1]
			if c.file == "valid-twice.pdf" {
				s = rep.Signatures[0] // the first seal, with the second after it
			}
			got := s.Reasons
			if c.verdict == VerdictValid {
				got = s.Warnings
				if len(s.Reasons) > 0 {
					t.Errorf("valid, but with reasons %v", s.Reasons)
				}
			}
			for _, want := range c.codes {
				if !slices.ContainsFunc(got, func(p Problem) bool { return p.Code == want }) {
					t.Errorf("%s not among %v", want, got)
				}
			}
			if c.verdict == VerdictInvalid && s.Valid {
				t.Errorf("signature %s reported valid", s.Field)
			}
		})
	}
}

// TestAttacks runs the attack table on the committed corpus.
func TestAttacks(t *testing.T) {
	runAttackTable(t, attackDir)
}

// TestAttackCorpus builds the corpus afresh, with new keys, and runs the
// table on it; with -update it rewrites the committed corpus.
func TestAttackCorpus(t *testing.T) {
	dir := t.TempDir()
	if *update {
		dir = attackDir
	}
	if err := buildCorpus(dir); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(filepath.Join(interopDir, "bc-root.pem"), filepath.Join(dir, "bc-root.pem")); err != nil {
		t.Fatal(err)
	}
	runAttackTable(t, dir)
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

func readTestFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadCert(t testing.TB, dir, name string) *smx509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(readTestFile(t, filepath.Join(dir, name)))
	if blk == nil {
		t.Fatalf("%s holds no PEM block", name)
	}
	c, err := smx509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func loadCRL(t testing.TB, name string) *smx509.RevocationList {
	t.Helper()
	blk, _ := pem.Decode(readTestFile(t, name))
	if blk == nil {
		t.Fatalf("%s holds no PEM block", name)
	}
	rl, err := smx509.ParseRevocationList(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return rl
}
