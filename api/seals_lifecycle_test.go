package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/keystore"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestSealLifecycleRecords: each change to a seal made through the API is
// a lifecycle record, by the county office, with the serials before and
// after, which every department's reading of the ledger holds.
func TestSealLifecycleRecords(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	adm := sealv1.NewSealAdminServiceClient(e.conn)
	const town = "450224102"
	issued, err := adm.IssueSeal(e.as("admin"), &sealv1.IssueSealRequest{TownshipCode: town})
	if err != nil {
		t.Fatal(err)
	}
	act := &sealv1.SealActionRequest{TownshipCode: town, Reason: "经办人离岗"}
	if _, err := adm.SuspendSeal(e.as("admin"), act); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.ResumeSeal(e.as("admin"), &sealv1.SealActionRequest{TownshipCode: town}); err != nil {
		t.Fatal(err)
	}
	rotated, err := adm.RotateSeal(e.as("admin"), &sealv1.SealActionRequest{TownshipCode: town})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adm.RevokeSeal(e.as("admin"), &sealv1.SealActionRequest{TownshipCode: town, Reason: "cessationOfOperation"}); err != nil {
		t.Fatal(err)
	}
	// A change the keystore refuses is no record.
	if _, err := adm.ResumeSeal(e.as("admin"), &sealv1.SealActionRequest{TownshipCode: town}); err == nil {
		t.Fatal("a revoked seal resumed")
	}
	one, two := issued.CertSerial, rotated.CertSerial
	want := []seal.LifecycleNote{
		{Action: seal.ActionIssue, NewSerial: one},
		{Action: seal.ActionSuspend, OldSerial: one, NewSerial: one, Reason: "经办人离岗"},
		{Action: seal.ActionResume, OldSerial: one, NewSerial: one},
		{Action: seal.ActionRotate, OldSerial: one, NewSerial: two},
		{Action: seal.ActionRevoke, OldSerial: two, Reason: "cessationOfOperation"},
	}
	ledger := sealv1.NewLedgerServiceClient(e.conn)
	for _, who := range []string{"admin", "sup-minzheng", "sup-nongye"} {
		resp, err := ledger.ListRecords(e.as(who), &sealv1.ListRecordsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Records) != len(want) {
			t.Fatalf("%s reads %d records, want the %d lifecycle records", who, len(resp.Records), len(want))
		}
		for i, r := range resp.Records {
			n, err := seal.ParseLifecycleNote(r.Detail)
			if err != nil || n != want[i] || r.Result != "lifecycle" || r.Principal != "admin" || r.TownshipCode != town ||
				r.Domain != seal.AllDomains {
				t.Errorf("%s: record %d: %+v (%v); want %+v", who, i, r, err, want[i])
			}
		}
	}
	resp, err := ledger.ListRecords(e.as("changan-approval"), &sealv1.ListRecordsRequest{})
	if err != nil || len(resp.Records) != 0 {
		t.Fatalf("another township's clerk reads %d records, %v", len(resp.GetRecords()), err)
	}
}

// downStore is a store whose ledger appends fail.
type downStore struct{ store.Store }

var errLedgerDown = errors.New("the ledger's database is down")

func (downStore) Append(context.Context, *seal.Record, []byte) (*seal.Record, error) {
	return nil, errLedgerDown
}

// TestSealLifecycleUnrecorded: when the change is made but its record
// cannot be stored, the change stands (the seal is suspended), and the
// county office is told that it is not recorded: Internal, not success.
func TestSealLifecycleUnrecorded(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	srv := &sealAdminServer{ks: e.ks, st: e.st, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ledger: seal.NewLedger(downStore{e.st}, nil)}
	ctx := context.WithValue(context.Background(), principalKey{}, &seal.Principal{ID: "admin", Role: seal.RoleAdmin})
	_, err := srv.SuspendSeal(ctx, &sealv1.SealActionRequest{TownshipCode: "450224101"})
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "was suspended, and that stands") ||
		!strings.Contains(err.Error(), "ask for the same change again") {
		t.Fatalf("a suspension the ledger could not record: %v, want Internal saying so", err)
	}
	live, lerr := e.ks.LiveSeal(ctx, "450224101")
	if lerr != nil || live.State != keystore.StateSuspended {
		t.Fatalf("the seal after the unrecorded suspension: %+v, %v; want it suspended", live, lerr)
	}
	if h, herr := e.st.Head(ctx); !errors.Is(herr, seal.ErrNotFound) {
		t.Fatalf("the ledger holds %+v, %v", h, herr)
	}

	// The way back: the county office asks again, the ledger is up, and
	// the change that stands is recorded, said to be late; asked a third
	// time, the keystore's refusal stands, as it does for resuming a seal
	// that was never suspended.
	srv.ledger = seal.NewLedger(e.st, nil)
	if got, err := srv.SuspendSeal(ctx, &sealv1.SealActionRequest{TownshipCode: "450224101"}); err != nil || got.State != "suspended" {
		t.Fatalf("the suspension asked again: %+v, %v", got, err)
	}
	recs, err := e.st.Records(ctx, store.RecordFilter{}, 0, 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("the ledger after the suspension asked again: %d records, %v", len(recs), err)
	}
	n, err := seal.ParseLifecycleNote(recs[0].Detail)
	if err != nil || n.Action != seal.ActionSuspend || n.Reason != "recorded late, when the change was asked again" || n.OldSerial == "" ||
		n.OldSerial != n.NewSerial {
		t.Fatalf("the late record: %+v, %v", n, err)
	}
	if _, err := srv.SuspendSeal(ctx, &sealv1.SealActionRequest{TownshipCode: "450224101"}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("a recorded suspension asked again: %v, want FailedPrecondition", err)
	}
	if _, err := srv.ResumeSeal(ctx, &sealv1.SealActionRequest{TownshipCode: "450224100"}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("resuming a seal never suspended: %v, want FailedPrecondition", err)
	}
	// A revocation that could not be recorded is recorded when asked again.
	srv.ledger = seal.NewLedger(downStore{e.st}, nil)
	if _, err := srv.RevokeSeal(ctx, &sealv1.SealActionRequest{TownshipCode: "450224200", Reason: "keyCompromise"}); status.Code(err) != codes.Internal {
		t.Fatalf("an unrecorded revocation: %v", err)
	}
	srv.ledger = seal.NewLedger(e.st, nil)
	if got, err := srv.RevokeSeal(ctx, &sealv1.SealActionRequest{TownshipCode: "450224200", Reason: "keyCompromise"}); err != nil || got.State != "revoked" {
		t.Fatalf("the revocation asked again: %+v, %v", got, err)
	}
	if recs, err = e.st.Records(ctx, store.RecordFilter{}, 0, 10); err != nil || len(recs) != 2 {
		t.Fatalf("the ledger after the revocation asked again: %d records, %v", len(recs), err)
	}
	if n, err := seal.ParseLifecycleNote(recs[1].Detail); err != nil || n.Action != seal.ActionRevoke || n.NewSerial != "" ||
		n.Reason != "recorded late, when the change was asked again: keyCompromise" {
		t.Fatalf("the late revocation record: %+v, %v", n, err)
	}
	if _, err := srv.RevokeSeal(ctx, &sealv1.SealActionRequest{TownshipCode: "450224200", Reason: "keyCompromise"}); err == nil {
		t.Fatal("a recorded revocation asked again succeeded")
	}
}
