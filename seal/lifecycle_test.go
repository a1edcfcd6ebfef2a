package seal_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
)

// TestLifecycleNoteRoundTrip: each note reads back as written, in the
// documented form; a Detail not in the canonical form is refused.
func TestLifecycleNoteRoundTrip(t *testing.T) {
	for _, c := range []struct {
		note seal.LifecycleNote
		want string
	}{
		{seal.LifecycleNote{Action: seal.ActionIssue, NewSerial: "1a2b"}, `印章变更 action=issue old=- new=1a2b reason=""`},
		{seal.LifecycleNote{Action: seal.ActionSuspend, OldSerial: "1a2b", NewSerial: "1a2b", Reason: "经办人离岗"},
			`印章变更 action=suspend old=1a2b new=1a2b reason="经办人离岗"`},
		{seal.LifecycleNote{Action: seal.ActionResume, OldSerial: "1a2b", NewSerial: "1a2b"}, `印章变更 action=resume old=1a2b new=1a2b reason=""`},
		{seal.LifecycleNote{Action: seal.ActionRotate, OldSerial: "1a2b", NewSerial: "3c4d", Reason: `"到期" x=1`},
			`印章变更 action=rotate old=1a2b new=3c4d reason="\"到期\" x=1"`},
		{seal.LifecycleNote{Action: seal.ActionRevoke, OldSerial: "3c4d", Reason: "keyCompromise"},
			`印章变更 action=revoke old=3c4d new=- reason="keyCompromise"`},
	} {
		got := c.note.String()
		if got != c.want {
			t.Errorf("String() = %s\nwant       %s", got, c.want)
		}
		back, err := seal.ParseLifecycleNote(got)
		if err != nil || back != c.note {
			t.Errorf("ParseLifecycleNote(%s) = %+v, %v", got, back, err)
		}
	}
	for _, bad := range []string{
		``,
		`印章变更 action=explode old=- new=- reason=""`,
		`印章变更 action=启用 old=- new=1a reason=""`,
		`印章变更 action=issue old= new=1a reason=""`,
		`印章变更 action=issue old=- new=XYZ reason=""`,
		`印章变更 action=issue old=- new=1a`,
		`印章变更 action=issue old=- new=1a reason=bare`,
		`印章变更 action=issue new=1a old=- reason=""`,
		`监管结果 kind=onsite outcome=pass date=2026-12-03 note=""`,
	} {
		if n, err := seal.ParseLifecycleNote(bad); !errors.Is(err, seal.ErrBadLifecycle) {
			t.Errorf("ParseLifecycleNote(%q) = %+v, %v; want ErrBadLifecycle", bad, n, err)
		}
	}
}

// flakyStore fails its first failures appends.
type flakyStore struct {
	store.Store
	failures, calls int
}

var errDown = errors.New("the database is down")

func (f *flakyStore) Append(ctx context.Context, r *seal.Record, doc []byte) (*seal.Record, error) {
	f.calls++
	if f.calls <= f.failures {
		return nil, errDown
	}
	return f.Store.Append(ctx, r, doc)
}

// TestRecordLifecycle: the county office's change is recorded for every
// department to see; a passing failure is tried again; a lasting one is
// ErrLifecycleUnrecorded naming the change; only the county office may.
func TestRecordLifecycle(t *testing.T) {
	ctx := context.Background()
	_, st := ledgerFixture(t, nil)
	change := seal.LifecycleChange{Township: "450224100", SealID: "seal-9", CertSerial: "1a2b",
		Note: seal.LifecycleNote{Action: seal.ActionSuspend, OldSerial: "1a2b", NewSerial: "1a2b", Reason: "经办人离岗"}}

	flaky := &flakyStore{Store: st, failures: 2}
	l := seal.NewLedger(flaky, nil)
	rec, err := l.RecordLifecycle(ctx, admin, change)
	if err != nil || flaky.calls != 3 {
		t.Fatalf("two failures then success: %+v, %v after %d calls", rec, err, flaky.calls)
	}
	if rec.Result != seal.ResultLifecycle || rec.Domain != seal.AllDomains || rec.Principal != "admin" || rec.SealID != "seal-9" {
		t.Fatalf("the lifecycle record: %+v", rec)
	}
	if n, err := seal.ParseLifecycleNote(rec.Detail); err != nil || n != change.Note {
		t.Fatalf("the record's note %q: %+v, %v", rec.Detail, n, err)
	}
	// Every department's reading, whatever its domain, holds it; a clerk
	// of the township too, and not one of another township.
	for _, who := range []*seal.Principal{nongye, {ID: "sup-mz", Role: seal.RoleSupervisor, Domains: []string{"民政"}}, changan} {
		recs, _, err := l.Records(ctx, who, seal.RecordFilter{}, 0, 10)
		if err != nil || len(recs) != 1 || recs[0].Seq != rec.Seq {
			t.Errorf("%s reads %d records, %v; want the lifecycle record", who.ID, len(recs), err)
		}
	}
	other := &seal.Principal{ID: "x", Role: seal.RoleClerk, Township: "450224101", Windows: []seal.Window{seal.WindowApproval}}
	if recs, _, err := l.Records(ctx, other, seal.RecordFilter{}, 0, 10); err != nil || len(recs) != 0 {
		t.Errorf("another township's clerk reads %d records, %v", len(recs), err)
	}

	down := &flakyStore{Store: st, failures: 100}
	if _, err := seal.NewLedger(down, nil).RecordLifecycle(ctx, admin, change); !errors.Is(err, seal.ErrLifecycleUnrecorded) ||
		!errors.Is(err, errDown) || down.calls != 3 {
		t.Fatalf("a lasting failure: %v after %d calls", err, down.calls)
	}
	for _, who := range []*seal.Principal{nongye, changan, nil} {
		if _, err := l.RecordLifecycle(ctx, who, change); !errors.Is(err, seal.ErrPermission) {
			t.Errorf("a lifecycle record by %v: %v", who, err)
		}
	}
	bad := change
	bad.Note.Action = "explode"
	if _, err := l.RecordLifecycle(ctx, admin, bad); !errors.Is(err, seal.ErrBadLifecycle) {
		t.Errorf("an unknown action: %v", err)
	}
	if h, err := st.Head(ctx); err != nil || h.Seq != rec.Seq {
		t.Fatalf("refused or failed calls were recorded: head %+v, %v", h, err)
	}
}
