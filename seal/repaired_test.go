package seal_test

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/seal"
)

// breakStartxref points the last startxref of b at byte 100, so that the
// file's cross-reference data cannot be read.
func breakStartxref(t *testing.T, b []byte) []byte {
	t.Helper()
	all := regexp.MustCompile(`startxref\s+\d+`).FindAllIndex(b, -1)
	if len(all) == 0 {
		t.Fatal("no startxref")
	}
	last := all[len(all)-1]
	out := append(bytes.Clone(b[:last[0]]), "startxref\n100"...)
	return append(out, b[last[1]:]...)
}

// TestSealerRepairs: a damaged document without signatures is repaired,
// then sealed, and the ledger record says so in its Detail, in the
// record returned, the one stored, and the one a replay returns; a
// document sealed as it came has an empty Detail. A damaged document with
// signatures is refused (bad_document), saying a rewrite would break them.
func TestSealerRepairs(t *testing.T) {
	f := newSealerFixture(t)
	ctx := context.Background()

	whole, err := f.sealer.Seal(ctx, f.clerk, f.input("whole"))
	if err != nil {
		t.Fatal(err)
	}
	if whole.Record.Detail != "" || whole.Record.Repaired() != "" {
		t.Errorf("a sealing of a sound file has Detail %q", whole.Record.Detail)
	}

	in := f.input("damaged")
	in.CaseNo = "长安-2026-0043"
	in.Document = breakStartxref(t, f.doc)
	out, err := f.sealer.Seal(ctx, f.clerk, in)
	if err != nil {
		t.Fatalf("Seal of a damaged unsigned file: %v", err)
	}
	r := out.Record
	if r.Result != seal.ResultSealed || !strings.HasPrefix(r.Detail, "repaired: rebuilt the file") ||
		r.Repaired() != strings.TrimPrefix(r.Detail, "repaired: ") {
		t.Fatalf("record %s, Detail %q, Repaired() %q", r.Result, r.Detail, r.Repaired())
	}
	if bytes.HasPrefix(out.Document, in.Document) {
		t.Error("a repaired document kept the damaged bytes at the front")
	}
	if sum := sm3.Sum(in.Document); !bytes.Equal(r.InputSM3, sum[:]) {
		t.Errorf("InputSM3 is not the digest of the damaged document received")
	}
	if !bytes.Equal(r.ComputeHash(), r.Hash) {
		t.Error("the record's hash is not over its fields")
	}
	tampered := *r
	tampered.Detail = ""
	if bytes.Equal(tampered.ComputeHash(), r.Hash) {
		t.Error("the record's hash does not cover its Detail")
	}
	stored, _, err := f.store.Result(ctx, "450224100", "damaged")
	if err != nil || stored.Detail != r.Detail {
		t.Errorf("stored record: %+v, %v", stored, err)
	}
	again, err := f.sealer.Seal(ctx, f.clerk, in)
	if err != nil || !again.Replayed || again.Record.Repaired() != r.Repaired() {
		t.Errorf("replay: %+v, %v", again, err)
	}

	signed, err := os.ReadFile("../testdata/interop/bc-signed-visible.pdf")
	if err != nil {
		t.Fatal(err)
	}
	in = f.input("damaged-signed")
	in.CaseNo = "长安-2026-0044"
	in.Document = breakStartxref(t, signed)
	_, err = f.sealer.Seal(ctx, f.clerk, in)
	if rf, ok := seal.AsRefusal(err); !ok || rf.Rule != seal.RuleBadDocument || !strings.Contains(rf.Message, "signatures") {
		t.Fatalf("Seal of a damaged signed file: %v, want bad_document naming the signatures", err)
	}
}
