package verify

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/emmansun/gmsm/smx509"
)

// TestVerifySealedFixtures seals every shared fixture that the engine
// seals (all the structural variants: tables and streams, hybrid,
// linearized, object streams, PDF 2.0, encrypted with an empty password)
// and checks that each verifies, sealed once and twice.
func TestVerifySealedFixtures(t *testing.T) {
	p := testPKI(t)
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.pdf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	opts := Options{Roots: []*smx509.Certificate{p.root}, CRLs: []*smx509.RevocationList{p.crl(t)}}
	sealedAny := 0
	for _, f := range files {
		in, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		once, err := p.sealWith(in, p.good, nil, "")
		if err != nil {
			t.Logf("%s: not sealed (%v)", filepath.Base(f), err)
			continue
		}
		sealedAny++
		before := verifyBytes(t, in, opts).Signatures
		prior := len(before)
		twice, err := p.sealWith(once, p.good, nil, "")
		if err != nil {
			t.Fatalf("%s: sealing again: %v", filepath.Base(f), err)
		}
		for what, b := range map[string][]byte{"once": once, "twice": twice} {
			rep := verifyBytes(t, b, opts)
			ours := 1
			if what == "twice" {
				ours = 2
			}
			name := filepath.Base(f) + " sealed " + what
			if len(rep.Signatures) != prior+ours {
				t.Fatalf("%s: %d signatures, want %d", name, len(rep.Signatures), prior+ours)
			}
			for i, s := range rep.Signatures {
				if i >= prior && !s.Valid {
					t.Errorf("%s: our signature %s: reasons %v", name, s.Field, s.Reasons)
				}
				// An earlier signature (by a root not trusted here) has the
				// reasons it had before: sealing after it is allowed.
				if i < prior && !slices.Equal(codes(s.Reasons), codes(before[i].Reasons)) {
					t.Errorf("%s: earlier signature %s: reasons %v, before sealing %v", name, s.Field, s.Reasons, before[i].Reasons)
				}
			}
			if prior == 0 && rep.Verdict != VerdictValid {
				t.Errorf("%s: verdict %s, reasons %v", name, rep.Verdict, rep.Reasons)
			}
		}
	}
	if sealedAny < len(files)/2 {
		t.Errorf("only %d of %d fixtures sealed", sealedAny, len(files))
	}
}

func codes(ps []Problem) []Code {
	var out []Code
	for _, p := range ps {
		out = append(out, p.Code)
	}
	return out
}
