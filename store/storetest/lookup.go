package storetest

import (
	"context"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
)

// InputLookup is the public lookup by a verification code's short form
// (sqlstore's ledger_lookup.go).
type InputLookup interface {
	SealedByInputPrefix(ctx context.Context, prefix []byte, limit int) ([]*seal.Record, error)
}

// RunLookup checks the lookup of sealed records by the short form of
// their input's SM3: every sealing of the input is found, oldest first and
// bounded; a refusal of the same input never is; a hash that shares all
// but the 100th bit is not found, one that differs only after it is; an
// unknown short form finds nothing.
func RunLookup(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open.Open(t)
	lk, ok := s.(InputLookup)
	if !ok {
		t.Fatalf("%T has no SealedByInputPrefix", s)
	}
	doc := sm3.Sum([]byte("the decision"))
	near := doc
	near[12] ^= 0x10 // the 100th bit
	after := doc
	after[12] ^= 0x08 // the 101st
	rec := func(i int, res seal.Result, in [32]byte) *seal.Record {
		r := NewRecord(i, res)
		r.InputSM3 = append([]byte(nil), in[:]...)
		return r
	}
	var want []uint64
	for i, r := range []*seal.Record{
		rec(1, seal.ResultSealed, doc),
		rec(2, seal.ResultRefused, doc),
		rec(3, seal.ResultSealed, near),
		rec(4, seal.ResultSealed, doc),
		rec(5, seal.ResultSealed, after),
		NewRecord(6, seal.ResultSealed),
	} {
		var d []byte
		if r.Result == seal.ResultSealed {
			d = []byte("%PDF-sealed")
		}
		got, err := s.Append(ctx, r, d)
		if err != nil {
			t.Fatalf("append %d: %v", i+1, err)
		}
		if i == 0 || i == 3 || i == 4 {
			want = append(want, got.Seq)
		}
	}
	prefix, err := seal.ParseShortForm(seal.ShortForm(doc[:]))
	if err != nil {
		t.Fatal(err)
	}
	seqs := func(limit int) []uint64 {
		t.Helper()
		recs, err := lk.SealedByInputPrefix(ctx, prefix, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []uint64
		for _, r := range recs {
			if r.Result != seal.ResultSealed || r.CaseNo == "" {
				t.Errorf("record %d: %s, case %q", r.Seq, r.Result, r.CaseNo)
			}
			out = append(out, r.Seq)
		}
		return out
	}
	if got := seqs(10); !equalSeqs(got, want) {
		t.Errorf("found %v, want %v", got, want)
	}
	if got := seqs(2); !equalSeqs(got, want[:2]) {
		t.Errorf("limit 2: found %v, want %v", got, want[:2])
	}
	none, _ := seal.ParseShortForm("AAAAAAAAAAAAAAAAAAAA")
	if recs, err := lk.SealedByInputPrefix(ctx, none, 10); err != nil || len(recs) != 0 {
		t.Errorf("unknown short form: %d records, %v", len(recs), err)
	}
	ones, _ := seal.ParseShortForm("77777777777777777777") // no upper bound to the range
	if recs, err := lk.SealedByInputPrefix(ctx, ones, 10); err != nil || len(recs) != 0 {
		t.Errorf("all-ones short form: %d records, %v", len(recs), err)
	}
	if _, err := lk.SealedByInputPrefix(ctx, prefix[:5], 10); err == nil {
		t.Error("a 5-byte prefix accepted")
	}
	var _ store.Store = s
}

func equalSeqs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
