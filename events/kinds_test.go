package events_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/events"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/workday"
)

// kindsLedger is a ledger with one record of each kind: a sealing, its
// supervision result, a refusal, and the seal's suspension, resumption,
// rotation, revocation and issue.
func kindsLedger() []*seal.Record {
	t0 := time.Now().Add(-time.Hour)
	in := sm3.Sum([]byte("doc"))
	note := seal.SupervisionNote{Kind: seal.KindOnSite, Outcome: seal.OutcomePass, Date: workday.Date{Year: 2026, Month: 12, Day: 3},
		Note: "现场核查合格"}
	base := func(i int) *seal.Record {
		return &seal.Record{Time: t0.Add(time.Duration(i) * time.Second), Township: "450224101"}
	}
	var recs []*seal.Record
	add := func(r *seal.Record) { recs = append(recs, r) }
	r := base(0)
	r.RequestID, r.SealID, r.CertSerial, r.Item, r.Domain, r.CaseNo, r.Principal, r.Window, r.DocKind =
		"req-1", "seal-1", "0a", "ITEM-1", "民政", "CASE-1", "clerk-1", seal.WindowService, "证明"
	r.InputSM3, r.OutputSM3, r.Result = in[:], in[:], seal.ResultSealed
	add(r)
	r = base(1)
	r.Item, r.Domain, r.CaseNo, r.Principal, r.Result, r.Detail = "ITEM-1", "民政", "CASE-1", "dept-civil", seal.ResultSupervised, note.String()
	add(r)
	r = base(2)
	r.Item, r.Domain, r.CaseNo, r.Principal, r.Result, r.Rule, r.Detail = "ITEM-2", "市场监管", "CASE-2", "clerk-1", seal.ResultRefused,
		"wrong_window", "窗口不符"
	add(r)
	for i, n := range []seal.LifecycleNote{
		{Action: seal.ActionSuspend, OldSerial: "0a", NewSerial: "0a", Reason: "经办人离岗"},
		{Action: seal.ActionResume, OldSerial: "0a", NewSerial: "0a"},
		{Action: seal.ActionRotate, OldSerial: "0a", NewSerial: "0b"},
		{Action: seal.ActionRevoke, OldSerial: "0b", Reason: "cessationOfOperation"},
		{Action: seal.ActionIssue, NewSerial: "0c"},
	} {
		r = base(3 + i)
		r.SealID, r.CertSerial, r.Domain, r.Principal, r.Result, r.Detail = "seal-1", "0a", seal.AllDomains, "admin-1",
			seal.ResultLifecycle, n.String()
		add(r)
	}
	var prev *seal.Record
	for _, r := range recs {
		r.Link(prev)
		prev = r
	}
	return recs
}

// TestEventKinds: every kind of record is an event of its own type that
// verifies; a supervision result retyped as a sealing, and a record of a
// kind the verifier does not know, signed by the county all the same, do
// not; and a department's stream (its domain) holds the seal's lifecycle
// events with no gap.
func TestEventKinds(t *testing.T) {
	c := newCounty(t)
	recs := kindsLedger()
	want := []string{events.TypeSealed, events.TypeSupervised, events.TypeRefused, events.TypeSealSuspended,
		events.TypeSealResumed, events.TypeSealRotated, events.TypeSealRevoked, events.TypeSealIssued}
	v := events.NewVerifier(c.roots)
	for i, line := range c.stream(t, recs, "platform", seal.RecordFilter{}) {
		e, err := events.Parse(line)
		if err != nil {
			t.Fatal(err)
		}
		if e.Type != want[i] {
			t.Errorf("event %s: type %s, want %s", e.ID, e.Type, want[i])
		}
		if err := v.Verify(e); err != nil {
			t.Errorf("event %s (%s): %v", e.ID, e.Type, err)
		}
	}

	sup, err := events.Parse(c.stream(t, recs[:2], "platform", seal.RecordFilter{})[1])
	if err != nil {
		t.Fatal(err)
	}
	sup.Type = events.TypeSealed
	if err := v.Verify(sup); !errors.Is(err, events.ErrForged) {
		t.Errorf("a supervision result as a sealing: %v", err)
	}
	for name, edit := range map[string]func(*seal.Record){
		"a record of an unknown kind":       func(r *seal.Record) { r.Result = "archived" },
		"a lifecycle record without a note": func(r *seal.Record) { r.Result, r.Detail = seal.ResultLifecycle, "suspended" },
	} {
		odd := *recs[0]
		odd.Seq, odd.PrevHash = 0, nil
		edit(&odd)
		odd.Link(nil)
		e := events.New(&odd, "/eseal/test-county", "platform", 0)
		if err := e.Sign(c.key, c.cert); err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(e); !errors.Is(err, events.ErrForged) {
			t.Errorf("%s, signed by the county: %v", name, err)
		}
	}

	civil := c.stream(t, recs, "民政局", seal.RecordFilter{Domains: []string{"民政"}})
	if len(civil) != 7 { // the sealing, its result and five lifecycle events; not the 市场监管 refusal
		t.Fatalf("the 民政 department's stream has %d events, want 7", len(civil))
	}
	rep, err := v.VerifyStream(bytes.NewReader(append(bytes.Join(civil, []byte("\n")), '\n')))
	if err != nil {
		t.Fatalf("the department's stream: %v", err)
	}
	if rep.Distinct != 7 || rep.Subscriptions["民政局"] != 7 {
		t.Fatalf("the department's stream: %+v", rep)
	}
}
