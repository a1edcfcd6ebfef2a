package verify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// FuzzVerifyPDF runs the whole verification on whatever it is given:
// parsing, revision analysis, byte range checks, CMS, chains and CRLs. It
// must never panic, hang or allocate without bound (the pdf package caps
// what it reads), never fail but on a read error (a bytes.Reader has
// none), and its report must be consistent: a valid verdict only with
// signatures that are all valid, and a reason for every invalid one. The
// seeds are the shared fixtures, the interop files and the attack corpus.
func FuzzVerifyPDF(f *testing.F) {
	for _, pattern := range []string{
		filepath.Join(fixtureDir, "*.pdf"),
		filepath.Join(interopDir, "*.pdf"),
		filepath.Join(attackDir, "*.pdf"),
	} {
		files, _ := filepath.Glob(pattern)
		if len(files) == 0 {
			f.Fatalf("no seeds match %s", pattern)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	opts := Options{
		Roots: []*smx509.Certificate{loadCert(f, attackDir, "root.pem"), loadCert(f, interopDir, "bc-root.pem")},
		CRLs:  []*smx509.RevocationList{loadCRL(f, filepath.Join(attackDir, "crl.pem"))},
		Now:   func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) },
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := PDF(context.Background(), bytes.NewReader(b), int64(len(b)), opts)
		if err != nil {
			t.Fatalf("Verify failed on an in-memory file: %v", err)
		}
		checkInvariants(t, "input", rep)
	})
}
