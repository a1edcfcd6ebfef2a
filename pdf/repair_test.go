package pdf

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
)

var startxrefNum = regexp.MustCompile(`startxref\s+\d+`)

// breakXref points the last startxref of b at byte 100, inside the first
// object, so that the file's cross-reference data cannot be read.
func breakXref(t testing.TB, b []byte) []byte {
	t.Helper()
	all := startxrefNum.FindAllIndex(b, -1)
	if len(all) == 0 {
		t.Fatal("no startxref to break")
	}
	last := all[len(all)-1]
	out := bytes.Clone(b[:last[0]])
	out = append(out, "startxref\n100"...)
	return append(out, b[last[1]:]...)
}

// TestRepair: a damaged file without signatures is refused, and once
// Request.Repair allows it, repaired, then sealed:
// the junk before the header dropped or, when the cross-reference data is
// broken, the file rebuilt from its objects (those of object streams
// too). The repaired file reads as the undamaged one does, and the seal
// follows it. The verifier's reading (Analyze) stays strict: it still
// refuses the damaged input.
func TestRepair(t *testing.T) {
	for _, tc := range []struct {
		name, fixture string
		damage        func(testing.TB, []byte) []byte
		note          string // what Result.Repaired must say
	}{
		{"junk before the header", "one_objstm.pdf", func(_ testing.TB, b []byte) []byte {
			return append([]byte("junk from a mail gateway\r\n"), b...)
		}, "dropped 26 bytes of junk"},
		{"broken xref table", "one.pdf", breakXref, "rebuilt the file"},
		{"broken xref stream and object streams", "one_objstm.pdf", breakXref, "rebuilt the file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good := fixture(t, tc.fixture)
			in := tc.damage(t, good)
			if _, err := Analyze(context.Background(), bytes.NewReader(in), int64(len(in)), Limits{}); !errors.Is(err, ErrDamaged) {
				t.Fatalf("Analyze of the damaged input: %v, want ErrDamaged", err)
			}
			req := baseRequest(t)
			var refused bytes.Buffer
			if _, err := Seal(context.Background(), &refused, bytes.NewReader(in), int64(len(in)), req); !errors.Is(err, ErrDamaged) {
				t.Fatalf("Seal without Repair: %v, want ErrDamaged", err)
			}
			req.Repair = true
			out, res := sealBytes(t, in, req)
			if !strings.Contains(res.Repaired, tc.note) {
				t.Errorf("Result.Repaired = %q, want it to say %q", res.Repaired, tc.note)
			}
			base := out[:res.UpdateOffset]
			if _, err := Analyze(context.Background(), bytes.NewReader(base), int64(len(base)), Limits{}); err != nil {
				t.Fatalf("the repaired file does not read: %v", err)
			}
			checkSealed(t, base, out, res, 0)
			if sum := sm3Sum(in); !bytes.Equal(res.SourceDigest, sum) {
				t.Errorf("SourceDigest %x is not the digest of the damaged input %x", res.SourceDigest, sum)
			}
			want := pdftotext(t, writeTemp(t, "good.pdf", good))
			if got := pdftotext(t, writeTemp(t, "repaired.pdf", base)); got != want || len(want) < 20 {
				t.Errorf("the repaired file's text differs from the undamaged file's:\n%s\n--- repaired:\n%s", want, got)
			}
		})
	}
}

// TestRepairRefusesSignedFiles: rebuilding a signed file would break its
// signatures, so a signed file with broken cross-reference data is
// refused with ErrDamagedSigned, which is also ErrDamaged, even with
// Request.Repair.
func TestRepairRefusesSignedFiles(t *testing.T) {
	for _, name := range []string{"bc-signed-visible.pdf", "bc-signed-invisible-objstm.pdf"} {
		t.Run(name, func(t *testing.T) {
			in := breakXref(t, interop(t, name))
			req := baseRequest(t)
			req.Repair = true
			var out bytes.Buffer
			_, err := Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req)
			if !errors.Is(err, ErrDamagedSigned) || !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "signatures") {
				t.Fatalf("Seal: %v, want ErrDamagedSigned naming the signatures", err)
			}
			if out.Len() != 0 {
				t.Errorf("a refusal wrote %d bytes", out.Len())
			}
		})
	}
}

// TestRepairRefusesIncompleteFiles: a file cut short has lost objects that
// it refers to; rebuilding it would seal a document with parts missing,
// so it stays refused even with Request.Repair, naming what is missing
// (or, when the catalog itself was lost, that).
func TestRepairRefusesIncompleteFiles(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"decision.pdf", "no document catalog"},
		{"one.pdf", "no document catalog"},
		{"one_objstm.pdf", "object(s) that the document refers to are missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good := fixture(t, tc.name)
			in := good[:len(good)/2]
			req := baseRequest(t)
			req.Repair = true
			var out bytes.Buffer
			_, err := Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), req)
			if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Seal of the first half: %v, want ErrTruncated saying %q", err, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("a refusal wrote %d bytes", out.Len())
			}
		})
	}
}
