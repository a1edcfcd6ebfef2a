package pdf

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// addFixtureSeeds seeds a fuzz target with every shared fixture.
func addFixtureSeeds(f *testing.F) {
	for _, dir := range []string{fixtureDir, interopDir} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.pdf"))
		if len(files) == 0 {
			f.Fatalf("no seed fixtures in %s", dir)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("%PDF-1.7\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\nstartxref\n9\n%%EOF"))
}

// FuzzReader reads whatever it is given as far as sealing would: the
// cross-reference chain, the form, every page and its text. It must never
// panic, whatever the input.
func FuzzReader(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := open(bytes.NewReader(b), int64(len(b)), defaultBudget())
		if err != nil {
			return
		}
		d.form()
		ps, err := d.pages()
		if err != nil || len(ps) > 50 {
			return
		}
		pl := &placer{d: d, npages: len(ps), pages: map[int]*page{}, fonts: fontCache{}}
		for _, p := range ps {
			if t, err := pl.text(p); err == nil {
				t.find([]rune("盖章"))
				t.dateLine()
			}
		}
	})
}

// FuzzSeal seals whatever it is given with a visible seal by default
// placement. It must never panic, and what it seals must again read as a
// PDF with one more signature.
func FuzzSeal(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		req := baseRequest(t)
		req.Image = testSeal(t)
		req.Repair = len(b)%2 == 1
		var out bytes.Buffer
		res, err := Seal(context.Background(), &out, bytes.NewReader(b), int64(len(b)), req)
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("wrote %d bytes, then failed: %v", out.Len(), err)
			}
			return
		}
		// A repaired file is rewritten; any other is updated in place.
		if res.Repaired == "" && !bytes.HasPrefix(out.Bytes(), b) {
			t.Fatal("the output does not start with the input")
		}
		if res.Repaired != "" && res.UpdateOffset > res.Size {
			t.Fatalf("repaired: the update starts at %d, after the output's end %d", res.UpdateOffset, res.Size)
		}
		sigs, err := Signatures(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("the sealed output does not read: %v", err)
		}
		if len(sigs) != len(res.PriorSignatures)+1 {
			t.Fatalf("%d signatures after sealing, %d before", len(sigs), len(res.PriorSignatures))
		}
	})
}

// sentinels are the errors a refusal may wrap.
var sentinels = []error{ErrNotPDF, ErrTruncated, ErrDamaged, ErrEncrypted, ErrCertifiedNoChanges,
	ErrCertifiedNoAnnotations, ErrPageOutOfRange, ErrKeywordNotFound, ErrSealOffPage, ErrFieldExists, ErrTooLarge,
	ErrUnsupported}

// TestMutations seals thousands of randomly damaged fixtures, a fixed
// sample of what the fuzz targets explore: no panic, every refusal typed,
// every success a PDF that reads back with one more signature.
func TestMutations(t *testing.T) {
	var files [][]byte
	for _, dir := range []string{fixtureDir, interopDir} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.pdf"))
		for _, n := range names {
			files = append(files, readFile(t, n))
		}
	}
	rng := rand.New(rand.NewPCG(20261127, 4))
	req := baseRequest(t)
	req.Image = testSeal(t)
	sealed, refused := 0, map[error]int{}
	repaired := 0
	for i := range 2000 {
		b := mutate(rng, files[rng.IntN(len(files))])
		req.Repair = i%2 == 1
		var out bytes.Buffer
		res, err := Seal(context.Background(), &out, bytes.NewReader(b), int64(len(b)), req)
		if err != nil {
			typed := false
			for _, s := range sentinels {
				if errors.Is(err, s) {
					refused[s]++
					typed = true
					break
				}
			}
			if !typed {
				t.Errorf("mutation %d: untyped error %v", i, err)
			}
			if out.Len() != 0 {
				t.Errorf("mutation %d: wrote %d bytes, then failed", i, out.Len())
			}
			continue
		}
		sealed++
		if res.Repaired != "" {
			repaired++
		}
		sigs, err := Signatures(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil || len(sigs) != len(res.PriorSignatures)+1 {
			t.Errorf("mutation %d: sealed output reads back with %d signatures (%v)", i, len(sigs), err)
		}
	}
	t.Logf("sealed %d (%d repaired), refused %v", sealed, repaired, refused)
}

// mutate damages a copy of b as fuzzers do: byte changes, deletions,
// duplicated chunks, and PDF delimiters and digits dropped in.
func mutate(rng *rand.Rand, in []byte) []byte {
	b := bytes.Clone(in)
	for range 1 + rng.IntN(6) {
		if len(b) == 0 {
			break
		}
		j := rng.IntN(len(b))
		switch rng.IntN(4) {
		case 0:
			b[j] = byte(rng.IntN(256))
		case 1:
			n := min(rng.IntN(64), len(b)-j)
			b = append(b[:j:j], b[j+n:]...)
		case 2:
			k := rng.IntN(len(b))
			n := min(rng.IntN(256), len(b)-k)
			b = append(b[:j:j], append(bytes.Clone(b[k:k+n]), b[j:]...)...)
		case 3:
			b[j] = "0123456789[]<>()/ R"[rng.IntN(19)]
		}
	}
	return b
}
