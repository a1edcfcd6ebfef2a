package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/sqlstore"
)

// Retainer is a store whose sealed documents the retention policy deletes
// (store/sqlstore's retention.go).
type Retainer interface {
	store.Store
	PurgeDocuments(ctx context.Context, before time.Time, limit int) (int, error)
	Document(ctx context.Context, seq uint64) (*seal.Record, []byte, error)
	ArchiveRecords(ctx context.Context, f sqlstore.ArchiveFilter, afterSeq uint64, limit int) ([]*seal.Record, error)
}

// RunRetention checks the retention purge and the archive's queries on
// the stores o opens, which must be Retainers. stored reports whether doc's
// bytes are still anywhere in the database's storage (the SQLite log, the
// PostgreSQL documents table): a purged document's must not be.
func RunRetention(t *testing.T, o Opener, stored func(t *testing.T, doc []byte) bool) {
	ctx := context.Background()
	a, b := o.Open(t)
	s, other := a.(Retainer), b.(Retainer)
	now := time.Now().UTC().Truncate(time.Microsecond)
	old, recent := now.AddDate(0, 0, -40), now.AddDate(0, 0, -1)
	doc := func(i int) []byte { return bytes.Repeat([]byte{'a' + byte(i)}, 3000+i) }
	type add struct {
		i        int
		result   seal.Result
		at       time.Time
		township string
	}
	for _, x := range []add{
		{1, seal.ResultSealed, old, "450224100"},
		{2, seal.ResultRefused, old, "450224100"},
		{3, seal.ResultSealed, old, "450224101"},
		{4, seal.ResultSealed, recent, "450224100"},
		{5, seal.ResultSealed, recent.Add(time.Hour), "450224100"},
	} {
		r := NewRecord(x.i, x.result)
		r.Time, r.Township = x.at, x.township
		var d []byte
		if x.result == seal.ResultSealed {
			d = doc(x.i)
		}
		if _, err := s.Append(ctx, r, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{1, 3, 4, 5} {
		if !stored(t, doc(i)) {
			t.Fatalf("document %d is not in the storage before the purge: the check cannot fail", i)
		}
	}
	cut := now.AddDate(0, 0, -30)
	for _, c := range []struct {
		limit, want int
	}{{1, 1}, {0, 1}, {0, 0}} {
		n, err := other.PurgeDocuments(ctx, cut, c.limit)
		if err != nil || n != c.want {
			t.Fatalf("PurgeDocuments(limit %d) = %d, %v; want %d", c.limit, n, err, c.want)
		}
	}
	for _, c := range []struct {
		seq  uint64
		doc  []byte
		want error
	}{{1, nil, seal.ErrDocumentDeleted}, {2, nil, store.ErrNotFound}, {3, nil, seal.ErrDocumentDeleted},
		{4, doc(4), nil}, {5, doc(5), nil}, {6, nil, store.ErrNotFound}} {
		rec, d, err := s.Document(ctx, c.seq)
		if !errors.Is(err, c.want) || !bytes.Equal(d, c.doc) {
			t.Errorf("Document(%d) = %d bytes, %v; want %d bytes, %v", c.seq, len(d), err, len(c.doc), c.want)
		}
		if errors.Is(err, seal.ErrDocumentDeleted) && (rec == nil || rec.Seq != c.seq || rec.OutputSM3 == nil) {
			t.Errorf("Document(%d) of a deleted document: record %+v, want the record with its hashes", c.seq, rec)
		}
	}
	for _, i := range []int{1, 3} {
		if stored(t, doc(i)) {
			t.Errorf("document %d's bytes are still stored after the purge", i)
		}
	}
	for _, i := range []int{4, 5} {
		if !stored(t, doc(i)) {
			t.Errorf("document %d, inside the retention period, is gone", i)
		}
	}
	// GetSealResult's store call: the record and the typed error, not
	// NotFound; and an id never sealed is still NotFound.
	rec, d, err := s.Result(ctx, "450224100", "req-1")
	if !errors.Is(err, seal.ErrDocumentDeleted) || rec == nil || rec.Seq != 1 || d != nil {
		t.Errorf("Result(req-1) after the purge = %+v, %d bytes, %v; want record 1 and ErrDocumentDeleted", rec, len(d), err)
	}
	if _, _, err := s.Result(ctx, "450224100", "req-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Result(req-2), a refusal: %v, want ErrNotFound", err)
	}
	// The request id stays sealed: sealing it again is a duplicate.
	again, err := s.Append(ctx, NewRecord(1, seal.ResultSealed), doc(1))
	if !errors.Is(err, store.ErrDuplicateRequest) || again == nil || again.Seq != 1 {
		t.Errorf("sealing req-1 again after the purge: %+v, %v; want record 1 and ErrDuplicateRequest", again, err)
	}
	// The ledger keeps every record and the chain.
	if n := verifyAll(t, s, nil); n != 5 {
		t.Errorf("verified %d records after the purge, want 5", n)
	}

	for _, c := range []struct {
		name string
		f    sqlstore.ArchiveFilter
		want []uint64
	}{
		{"township", sqlstore.ArchiveFilter{Township: "450224100"}, []uint64{1, 2, 4, 5}},
		{"case", sqlstore.ArchiveFilter{Township: "450224100", CaseNo: "CA-4"}, []uint64{4}},
		{"other township's case", sqlstore.ArchiveFilter{Township: "450224100", CaseNo: "CA-3"}, nil},
		{"range", sqlstore.ArchiveFilter{Township: "450224100", From: recent, To: recent.Add(time.Hour)}, []uint64{4}},
		{"domain", sqlstore.ArchiveFilter{Township: "450224100", Domains: []string{"民政"}}, nil},
		{"domain and range", sqlstore.ArchiveFilter{Domains: []string{"农业农村"}, From: old, To: recent}, []uint64{1, 2, 3}},
	} {
		recs, err := other.ArchiveRecords(ctx, c.f, 0, 10)
		var got []uint64
		for _, r := range recs {
			got = append(got, r.Seq)
		}
		if err != nil || !sameSeqs(got, c.want) {
			t.Errorf("ArchiveRecords(%s) = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if recs, err := s.ArchiveRecords(ctx, sqlstore.ArchiveFilter{Township: "450224100"}, 2, 1); err != nil || len(recs) != 1 || recs[0].Seq != 4 {
		t.Errorf("ArchiveRecords after 2, limit 1: %v, %v", recs, err)
	}
}

func sameSeqs(a, b []uint64) bool {
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
