package outbox_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/ronganxian/eseal/events"
	"github.com/ronganxian/eseal/outbox"
	"github.com/ronganxian/eseal/seal"
)

// TestSupervisionAndLifecycleEvents: a supervision result and a seal's
// suspension are ledger records, so the outbox delivers them as signed
// events of their own types, which verify with the county root: the 民政
// department's subscription gets the sealing of its case, its own result,
// and the seal's suspension (which concerns every domain), none missing.
func TestSupervisionAndLifecycleEvents(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, fastConfig())
	r := newReceiver(t)
	create(t, e, outbox.NewSubscription{ID: "minzheng", Endpoint: r.url(), Filter: seal.RecordFilter{Domains: []string{"民政"}}})
	e.run(t)
	e.seal(t, 3) // CASE-0 市场监管 sealed, CASE-1 民政 sealed, CASE-2 市场监管 refused
	dept := &seal.Principal{ID: "dept-minzheng", Role: seal.RoleSupervisor, Domains: []string{"民政"}}
	sup := &seal.Supervision{Ledger: e.ledger, Cases: e.st}
	res, err := sup.Record(ctx, dept, seal.SupervisionInput{Township: "450224101", CaseNo: "CASE-1", Kind: "抽查", Outcome: "合格",
		Date: time.Now().Format(time.DateOnly), Note: "抽查合格"})
	if err != nil {
		t.Fatal(err)
	}
	life, err := e.ledger.RecordLifecycle(ctx, &seal.Principal{ID: "county-office", Role: seal.RoleAdmin}, seal.LifecycleChange{
		Township: "450224101", SealID: "seal-1", CertSerial: "0a",
		Note: seal.LifecycleNote{Action: seal.ActionSuspend, OldSerial: "0a", NewSerial: "0a", Reason: "经办人离岗"}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the department's 3 events", func() bool { return r.count() >= 3 })
	rep := r.verify(t, e.keys, 3)
	if rep.Duplicates != 0 {
		t.Fatalf("duplicates without any failure: %+v", rep)
	}
	r.mu.Lock()
	lines := bytes.Split(bytes.TrimSpace(r.lines.Bytes()), []byte("\n"))
	r.mu.Unlock()
	want := []struct {
		seq uint64
		typ string
	}{{2, events.TypeSealed}, {res.Seq, events.TypeSupervised}, {life.Seq, events.TypeSealSuspended}}
	for i, line := range lines {
		ev, err := events.Parse(line)
		if err != nil {
			t.Fatal(err)
		}
		seq, _ := ev.Seq()
		if seq != want[i].seq || ev.Type != want[i].typ {
			t.Errorf("event %d: seq %d type %s, want %d %s", i, seq, ev.Type, want[i].seq, want[i].typ)
		}
	}
	ev, _ := events.Parse(lines[1])
	if n, err := seal.ParseSupervisionNote(ev.Data.Detail); err != nil || n.Outcome != seal.OutcomePass || ev.Data.Principal != "dept-minzheng" {
		t.Errorf("the supervision event's data: %+v, %v", ev.Data, err)
	}
}
