package api

import (
	"context"
	"fmt"
	"strings"
	"testing"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestMisuseIsVisibleToTheSupervisor seals as each kind of wrong caller and
// checks that the ledger holds the attempt, under the caller's own
// identity, with the item's domain, so that the item's supervising
// department (农业农村 for 宅基地审批) sees it in ledger list and in
// ledger watch (不得挪作他用).
func TestMisuseIsVisibleToTheSupervisor(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind, nil)
			doc := readDecision(t)
			sealing := sealv1.NewSealingServiceClient(e.conn)
			ledger := sealv1.NewLedgerServiceClient(e.conn)
			const item = "450224-XK-0002" // 农村村民宅基地审批, 农业农村, approval window

			watchCtx, stopWatch := context.WithCancel(e.as("sup-nongye"))
			defer stopWatch()
			watch, err := ledger.WatchRecords(watchCtx, &sealv1.WatchRecordsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			// A first sealing that the conflicting request below reuses.
			if _, err := sealing.Seal(e.as("changan-approval"), sealReq("v-1", item, "长安-SECRET-CASE-42", permit, doc)); err != nil {
				t.Fatal(err)
			}
			badPlacement := sealReq("v-5", item, "长安-5", permit, doc)
			badPlacement.Placement = &sealv1.Placement{Mode: &sealv1.Placement_Explicit{Explicit: &sealv1.ExplicitPlacement{Page: 1, Corner: "middle"}}}
			otherTownship := sealReq("v-2", item, "浮石-2", permit, doc)
			otherTownship.TownshipCode = "450224100"

			cases := []struct {
				name      string
				who       string
				req       *sealv1.SealRequest
				code      codes.Code
				rule      string
				township  string // recorded: the caller's own
				principal string
			}{
				{"another township's seal", "fushi-approval", otherTownship, codes.PermissionDenied, "wrong_township", "450224101", "fushi-approval"},
				{"the wrong window", "changan-service", sealReq("v-3", item, "长安-3", permit, doc), codes.PermissionDenied, "wrong_window", "450224100", "changan-service"},
				{"a supervisor", "sup-minzheng", sealReq("v-4", item, "民政-4", permit, doc), codes.PermissionDenied, "not_clerk", "", "sup-minzheng"},
				{"the county office", "admin", sealReq("v-6", item, "县-6", permit, doc), codes.PermissionDenied, "not_clerk", "", "admin"},
				{"a placement that cannot be read", "changan-approval", badPlacement, codes.InvalidArgument, "placement", "450224100", "changan-approval"},
				{"a request id used for another case", "changan-approval", sealReq("v-1", item, "长安-7", permit, doc), codes.AlreadyExists, "request_conflict", "450224100", "changan-approval"},
			}
			for _, c := range cases {
				_, err := sealing.Seal(e.as(c.who), c.req)
				if status.Code(err) != c.code {
					t.Fatalf("%s: %v, want %s", c.name, err, c.code)
				}
				if strings.Contains(err.Error(), "SECRET") {
					t.Fatalf("%s: the refusal discloses another request's case: %v", c.name, err)
				}
			}

			// ledger list, as the item's supervisor.
			list, err := ledger.ListRecords(e.as("sup-nongye"), &sealv1.ListRecordsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			refusals := map[string]*sealv1.LedgerRecord{}
			for _, r := range list.Records {
				if r.Result == "refused" {
					refusals[r.RequestId] = r
				}
			}
			for _, c := range cases {
				r, ok := refusals[c.req.RequestId]
				if c.rule == "request_conflict" {
					// Two records carry v-1: the sealing and the conflict.
					r, ok = nil, false
					for _, x := range list.Records {
						if x.RequestId == "v-1" && x.Result == "refused" {
							r, ok = x, true
						}
					}
				}
				if !ok {
					t.Errorf("%s: the supervisor of 农业农村 does not see the refusal in ledger list", c.name)
					continue
				}
				if r.Rule != c.rule || r.Domain != "农业农村" || r.TownshipCode != c.township || r.Principal != c.principal ||
					r.ItemCode != item || r.CaseNo != c.req.CaseNo || len(r.InputSm3) != 32 || r.Detail == "" {
					t.Errorf("%s: recorded %+v", c.name, r)
				}
				if strings.Contains(r.Detail, "SECRET") {
					t.Errorf("%s: the record discloses another request's case: %s", c.name, r.Detail)
				}
			}

			// ledger watch, as the item's supervisor: the sealing, then every
			// refusal, in order.
			for i := 0; i < 1+len(cases); i++ {
				r, err := watch.Recv()
				if err != nil {
					t.Fatalf("watch: %v", err)
				}
				if i == 0 {
					continue
				}
				if c := cases[i-1]; r.Rule != c.rule || r.Principal != c.principal {
					t.Errorf("watch record %d: %s by %s, want %s by %s", r.Seq, r.Rule, r.Principal, c.rule, c.principal)
				}
			}
		})
	}
}

// TestLedgerHoldsOnlyWhatItCanReturn sends texts that are too long or that
// display other than they read. Each is refused and recorded, and every
// record can be read back through get, list and watch, with the text
// replaced by a stand-in that names its length and hash.
func TestLedgerHoldsOnlyWhatItCanReturn(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	doc := readDecision(t)
	sealing := sealv1.NewSealingServiceClient(e.conn)
	ledger := sealv1.NewLedgerServiceClient(e.conn)
	const item = "450224-XK-0002"
	huge := strings.Repeat("4", 3<<20) // within one message, far past any field's bound
	lookalike := "长安-\u202e1000-6202"  // displays as 长安-2026-0001

	hugeTownship := sealReq("h-1", item, "H-1", permit, doc)
	hugeTownship.TownshipCode = huge
	hugeReason := sealReq("h-2", item, "H-2", permit, doc)
	hugeReason.Reason = strings.Repeat("理", 1<<20)
	for _, c := range []struct {
		name   string
		req    *sealv1.SealRequest
		rule   string
		field  func(*sealv1.LedgerRecord) string
		hidden string
	}{
		{"a 3 MiB township code", hugeTownship, "wrong_township", func(r *sealv1.LedgerRecord) string { return r.Detail }, huge[:64]},
		{"a 3 MiB reason", hugeReason, "bad_request", func(r *sealv1.LedgerRecord) string { return r.Detail }, "理理理理"},
		{"a case number with a bidi override", sealReq("h-3", item, lookalike, permit, doc), "bad_request",
			func(r *sealv1.LedgerRecord) string { return r.CaseNo }, "\u202e"},
		{"a case number with a zero-width space", sealReq("h-4", item, "长安-2026\u200b-0001", permit, doc), "bad_request",
			func(r *sealv1.LedgerRecord) string { return r.CaseNo }, "\u200b"},
		{"a document kind with a C1 control", sealReq("h-5", item, "H-5", "准予\u0085决定书", doc), "bad_request",
			func(r *sealv1.LedgerRecord) string { return r.DocKind }, "\u0085"},
		{"a 3 MiB item code", sealReq("h-6", huge, "H-6", permit, doc), "unknown_item",
			func(r *sealv1.LedgerRecord) string { return r.ItemCode + r.Detail }, huge[:64]},
		{"a 3 MiB request id", sealReq(huge, item, "H-7", permit, doc), "bad_request",
			func(r *sealv1.LedgerRecord) string { return r.RequestId }, huge[:64]},
	} {
		_, err := sealing.Seal(e.as("changan-approval"), c.req)
		if err == nil || len(err.Error()) > 4096 {
			t.Fatalf("%s: %d bytes of error: %.200v", c.name, len(fmt.Sprint(err)), err)
		}
		head, err := ledger.ListRecords(e.as("admin"), &sealv1.ListRecordsRequest{})
		if err != nil {
			t.Fatalf("%s: the ledger cannot be listed: %v", c.name, err)
		}
		if len(head.Records) == 0 {
			t.Fatalf("%s: nothing was recorded", c.name)
		}
		last := head.Records[len(head.Records)-1]
		r, err := ledger.GetRecord(e.as("admin"), &sealv1.GetRecordRequest{Seq: last.Seq})
		if err != nil {
			t.Fatalf("%s: the record cannot be read: %v", c.name, err)
		}
		if r.Rule != c.rule || strings.Contains(c.field(r), c.hidden) {
			t.Errorf("%s: recorded rule %s, field %.120q", c.name, r.Rule, c.field(r))
		}
		if size := len(r.String()); size > 8<<10 {
			t.Errorf("%s: a record of %d bytes", c.name, size)
		}
	}
	// The whole ledger still streams and verifies.
	w, err := ledger.WatchRecords(e.as("admin"), &sealv1.WatchRecordsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 7; i++ {
		if _, err := w.Recv(); err != nil {
			t.Fatalf("watch record %d: %v", i+1, err)
		}
	}
	if v, err := ledger.VerifyLedger(e.as("admin"), &sealv1.VerifyLedgerRequest{}); err != nil || !v.Valid {
		t.Fatalf("VerifyLedger: %+v, %v", v, err)
	}
}
