package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
)

// RunCases runs the conformance tests of a case's records
// (seal.CaseStore) and of supervision results recorded through the store.
func RunCases(t *testing.T, o Opener) {
	t.Run("CaseRecords", func(t *testing.T) { testCaseRecords(t, o) })
	t.Run("Supervision", func(t *testing.T) { testSupervision(t, o) })
}

// caseRecord is NewRecord for case caseNo of township.
func caseRecord(i int, res seal.Result, township, caseNo string) *seal.Record {
	r := NewRecord(i, res)
	r.Township, r.CaseNo = township, caseNo
	return r
}

func testCaseRecords(t *testing.T, o Opener) {
	ctx := context.Background()
	s, other := o.Open(t)
	const a, b = "450224100", "450224101"
	for i, r := range []*seal.Record{
		caseRecord(1, seal.ResultRefused, a, "CASE-1"),
		caseRecord(2, seal.ResultSealed, a, "CASE-1"),
		caseRecord(3, seal.ResultSealed, b, "CASE-1"), // the same number in another township
		caseRecord(4, seal.ResultSealed, a, "CASE-2"),
		caseRecord(5, seal.ResultSealed, a, "CASE-1"),
	} {
		if _, err := s.Append(ctx, r, []byte("doc")); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	seqs := func(recs []*seal.Record) []uint64 {
		var out []uint64
		for _, r := range recs {
			out = append(out, r.Seq)
		}
		return out
	}
	for _, c := range []struct {
		township, caseNo string
		after            uint64
		limit            int
		want             []uint64
	}{
		{a, "CASE-1", 0, 10, []uint64{1, 2, 5}},
		{b, "CASE-1", 0, 10, []uint64{3}},
		{a, "CASE-2", 0, 10, []uint64{4}},
		{a, "CASE-1", 1, 10, []uint64{2, 5}},
		{a, "CASE-1", 0, 2, []uint64{1, 2}},
		{a, "CASE-3", 0, 10, nil},
		{a, "case-1", 0, 10, nil}, // case numbers are exact
	} {
		got, err := other.CaseRecords(ctx, c.township, c.caseNo, c.after, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if g := seqs(got); len(g) != len(c.want) || !slices.Equal(g, c.want) {
			t.Errorf("CaseRecords(%s, %s, %d, %d) = %v, want %v", c.township, c.caseNo, c.after, c.limit, g, c.want)
		}
		for _, r := range got {
			if string(r.ComputeHash()) != string(r.Hash) {
				t.Errorf("record %d read by case does not hash to its hash", r.Seq)
			}
		}
	}
}

func testSupervision(t *testing.T, o Opener) {
	ctx := context.Background()
	s, other := o.Open(t)
	const town = "450224100"
	// CASE-1 sealed in 农业农村 (NewRecord's domain), CASE-R only refused.
	for _, r := range []*seal.Record{
		caseRecord(1, seal.ResultSealed, town, "CASE-1"),
		caseRecord(2, seal.ResultRefused, town, "CASE-R"),
	} {
		if _, err := s.Append(ctx, r, []byte("doc")); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	sup := &seal.Supervision{Ledger: seal.NewLedger(s, nil), Cases: other, Now: func() time.Time { return now }}
	agri := &seal.Principal{ID: "dept-agri", Role: seal.RoleSupervisor, Domains: []string{"农业农村"}}
	health := &seal.Principal{ID: "dept-health", Role: seal.RoleSupervisor, Domains: []string{"卫生健康"}}
	attach := sm3.Sum([]byte("inspection report"))
	in := seal.SupervisionInput{Township: town, CaseNo: "CASE-1", Kind: "现场核查", Outcome: "限期整改", Date: "2026-12-03",
		Note: `消防通道堵塞, "限十日"整改`, AttachmentSM3: attach[:], RequestID: "sup-1"}

	rec, err := sup.Record(ctx, agri, in)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Seq != 3 || rec.Result != seal.ResultSupervised || rec.Principal != "dept-agri" || rec.Domain != "农业农村" ||
		rec.Item != "450224-XK-0002" || string(rec.InputSM3) != string(attach[:]) || rec.OutputSM3 != nil {
		t.Fatalf("the supervision record: %+v", rec)
	}
	note, err := seal.ParseSupervisionNote(rec.Detail)
	if err != nil || note.Kind != seal.KindOnSite || note.Outcome != seal.OutcomeRectify || note.Note != in.Note ||
		note.Date.String() != "2026-12-03" {
		t.Fatalf("the record's note %q: %+v, %v", rec.Detail, note, err)
	}
	stored, err := other.Record(ctx, 3)
	if err != nil || string(stored.Hash) != string(rec.Hash) || stored.Detail != rec.Detail {
		t.Fatalf("the stored supervision record: %+v, %v", stored, err)
	}
	// A retry with the same request id gets the same record; another
	// result under it is a conflict.
	if again, err := sup.Record(ctx, agri, in); err != nil || again.Seq != 3 {
		t.Fatalf("a retry: %+v, %v", again, err)
	}
	changed := in
	changed.Outcome = "合格"
	if _, err := sup.Record(ctx, agri, changed); !errors.Is(err, seal.ErrRequestConflict) {
		t.Fatalf("another result under a used request id: %v", err)
	}
	// Calls with one new request id at once, through two replicas, store
	// one record: the check is under the ledger lock.
	supOther := &seal.Supervision{Ledger: seal.NewLedger(other, nil), Cases: other, Now: sup.Now}
	once := in
	once.RequestID = "sup-at-once"
	var wg sync.WaitGroup
	seqs := make([]uint64, 8)
	errs := make([]error, 8)
	for i := range seqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			via := sup
			if i%2 == 1 {
				via = supOther
			}
			r, err := via.Record(ctx, agri, once)
			if err == nil {
				seqs[i] = r.Seq
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i := range seqs {
		if errs[i] != nil || seqs[i] != 4 {
			t.Fatalf("call %d of one request id at once: seq %d, %v; want every call to get record 4", i, seqs[i], errs[i])
		}
	}
	if h, err := s.Head(ctx); err != nil || h.Seq != 4 {
		t.Fatalf("calls of one request id at once stored more than one record: head %+v, %v", h, err)
	}
	for _, c := range []struct {
		name string
		who  *seal.Principal
		edit func(*seal.SupervisionInput)
		want error
	}{
		{"another domain's department", health, nil, seal.ErrPermission},
		{"a clerk", &seal.Principal{ID: "clerk-1", Role: seal.RoleClerk, Township: town}, nil, seal.ErrPermission},
		{"the county office", &seal.Principal{ID: "admin", Role: seal.RoleAdmin}, nil, seal.ErrPermission},
		{"an unknown case", agri, func(i *seal.SupervisionInput) { i.CaseNo = "CASE-9" }, seal.ErrNotFound},
		{"a case only refused", agri, func(i *seal.SupervisionInput) { i.CaseNo = "CASE-R" }, seal.ErrNotFound},
		{"the case in another township", agri, func(i *seal.SupervisionInput) { i.Township = "450224101" }, seal.ErrNotFound},
		{"a date after today", agri, func(i *seal.SupervisionInput) { i.Date = "2026-12-05" }, seal.ErrBadSupervision},
		{"an unknown kind", agri, func(i *seal.SupervisionInput) { i.Kind = "夜访" }, seal.ErrBadSupervision},
	} {
		i := in
		i.RequestID = ""
		if c.edit != nil {
			c.edit(&i)
		}
		if r, err := sup.Record(ctx, c.who, i); !errors.Is(err, c.want) {
			t.Errorf("%s: %+v, %v; want %v", c.name, r, err, c.want)
		}
	}
	if h, err := s.Head(ctx); err != nil || h.Seq != 4 {
		t.Fatalf("refused attempts were recorded: head %+v, %v", h, err)
	}

	// The story: the township's clerk, the department and the county
	// office see the sealing and the result; a clerk of another township
	// may not ask, and another domain's department sees nothing.
	for _, c := range []struct {
		name string
		who  *seal.Principal
		want []uint64
		err  error
	}{
		{"the township's clerk", &seal.Principal{ID: "clerk-1", Role: seal.RoleClerk, Township: town}, []uint64{1, 3, 4}, nil},
		{"the department", agri, []uint64{1, 3, 4}, nil},
		{"the county office", &seal.Principal{ID: "admin", Role: seal.RoleAdmin}, []uint64{1, 3, 4}, nil},
		{"another township's clerk", &seal.Principal{ID: "clerk-2", Role: seal.RoleClerk, Township: "450224101"}, nil, seal.ErrPermission},
		{"another domain's department", health, nil, seal.ErrNotFound},
	} {
		recs, err := sup.Case(ctx, c.who, town, "CASE-1")
		var got []uint64
		for _, r := range recs {
			got = append(got, r.Seq)
		}
		if !errors.Is(err, c.err) || !slices.Equal(got, c.want) {
			t.Errorf("%s reads the case: %v, %v; want %v, %v", c.name, got, err, c.want, c.err)
		}
	}
	verifyAll(t, s, nil)
	// The department's watch (its domain's records) shows the result.
	if recs, err := s.Records(ctx, store.RecordFilter{Domains: []string{"农业农村"}}, 2, 10); err != nil || len(recs) != 2 ||
		recs[0].Result != seal.ResultSupervised {
		t.Fatalf("the domain's records after the sealing: %+v, %v", recs, err)
	}
}
