package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/pdf"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/seal/cms"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// verifySealed checks that doc carries one seal whose CMS verifies and whose
// dictionary names the item and case.
func verifySealed(t *testing.T, doc []byte, item, caseNo string) {
	t.Helper()
	sigs, err := pdf.Signatures(bytes.NewReader(doc), int64(len(doc)))
	if err != nil || len(sigs) != 1 {
		t.Fatalf("signatures: %v, %v", sigs, err)
	}
	der, err := cms.TrimPadding(sigs[0].Contents)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cms.Verify(der, sigs[0].SignedBytes(bytes.NewReader(doc)), nil)
	if err != nil {
		t.Fatalf("seal does not verify: %v", err)
	}
	if sigs[0].ItemCode != item || sigs[0].CaseNumber != caseNo || !sigs[0].CoversWholeFile {
		t.Fatalf("signature dictionary %+v", sigs[0])
	}
	if res.Signer.Subject.CommonName != "融安县长安镇人民政府行政审批专用章" {
		t.Errorf("signed by %q", res.Signer.Subject.CommonName)
	}
}

func sealReq(id, item, caseNo, kind string, doc []byte) *sealv1.SealRequest {
	return &sealv1.SealRequest{RequestId: id, ItemCode: item, CaseNo: caseNo, DocKind: kind, Document: doc}
}

const permit = "准予行政许可决定书"

// TestEndToEnd seals through gRPC, REST and the stream on each store, over
// loopback without TLS, over TLS with bearer tokens, and over mTLS with
// client certificates (which REST passes on through the gateway).
func TestEndToEnd(t *testing.T) {
	for _, kind := range storeKinds {
		for _, over := range transports {
			t.Run(kind+"/"+string(over), func(t *testing.T) { testEndToEnd(t, kind, over) })
		}
	}
}

func testEndToEnd(t *testing.T, kind string, over transport) {
	e := newEnvOver(t, kind, over, func(c *Config) { c.MaxDocumentBytes = 4 << 20 })
	doc := readDecision(t)
	// clerk calls as the 长安镇 approval window over the transport.
	conn, clerk := e.caller("changan-approval")
	sealing := sealv1.NewSealingServiceClient(conn)

	t.Run("gRPC", func(t *testing.T) {
		resp, err := sealing.Seal(clerk, sealReq("g-1", "450224-XK-0002", "CA-1", permit, doc))
		if err != nil {
			t.Fatal(err)
		}
		verifySealed(t, resp.Document, "450224-XK-0002", "CA-1")
		out := sm3.Sum(resp.Document)
		if r := resp.Record; r.Result != "sealed" || !bytes.Equal(r.OutputSm3, out[:]) || r.Principal != "changan-approval" {
			t.Fatalf("record %+v", r)
		}
		again, err := sealing.Seal(clerk, sealReq("g-1", "450224-XK-0002", "CA-1", permit, doc))
		if err != nil || !bytes.Equal(again.Document, resp.Document) || again.Record.Seq != resp.Record.Seq {
			t.Fatalf("idempotent retry: %v", err)
		}
		got, err := sealing.GetSealResult(clerk, &sealv1.GetSealResultRequest{RequestId: "g-1", CaseNo: "CA-1"})
		if err != nil || !bytes.Equal(got.Document, resp.Document) {
			t.Fatalf("GetSealResult: %v", err)
		}
		fushi, fctx := e.caller("fushi-approval")
		if _, err := sealv1.NewSealingServiceClient(fushi).GetSealResult(fctx, &sealv1.GetSealResultRequest{RequestId: "g-1", CaseNo: "CA-1"}); status.Code(err) != codes.NotFound {
			t.Errorf("another clerk fetched the result: %v", err)
		}
	})

	t.Run("REST", func(t *testing.T) {
		body, _ := json.Marshal(map[string]any{"requestId": "r-1", "itemCode": "450224-XK-0002", "caseNo": "CA-2",
			"docKind": permit, "document": base64.StdEncoding.EncodeToString(doc)})
		resp := e.rest(t, "POST", "/v1/seal", "changan-approval", body)
		if resp.code != http.StatusOK {
			t.Fatalf("REST seal: %d %s", resp.code, resp.body)
		}
		var out struct {
			Document []byte `json:"document"`
			Record   struct {
				Result    string `json:"result"`
				Principal string `json:"principal"`
			} `json:"record"`
		}
		if err := json.Unmarshal(resp.body, &out); err != nil {
			t.Fatal(err)
		}
		verifySealed(t, out.Document, "450224-XK-0002", "CA-2")
		if out.Record.Result != "sealed" || out.Record.Principal != "changan-approval" {
			t.Fatalf("REST record %+v", out.Record)
		}

		// A refusal through REST: the same rule, as HTTP 403 with details.
		body, _ = json.Marshal(map[string]any{"requestId": "r-2", "itemCode": "450224-XK-0002", "caseNo": "CA-3",
			"docKind": permit, "document": base64.StdEncoding.EncodeToString(doc)})
		resp = e.rest(t, "POST", "/v1/seal", "changan-service", body)
		if resp.code != http.StatusForbidden || !bytes.Contains(resp.body, []byte(`"reason":"wrong_window"`)) {
			t.Fatalf("REST refusal: %d %s", resp.code, resp.body)
		}
		if r := e.rest(t, "GET", "/v1/townships", "", nil); r.code != http.StatusUnauthorized {
			t.Errorf("unauthenticated REST call: %d", r.code)
		}
		if r := e.rest(t, "GET", "/v1/trust", "", nil); r.code != http.StatusOK || !bytes.Contains(r.body, []byte("BEGIN CERTIFICATE")) {
			t.Errorf("trust bundle: %d %s", r.code, r.body)
		}
	})

	t.Run("stream", func(t *testing.T) {
		st, err := sealing.SealStream(clerk)
		if err != nil {
			t.Fatal(err)
		}
		hdr := sealReq("s-1", "450224-XK-0002", "CA-4", permit, nil)
		st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Header{Header: hdr}})
		for b := doc; len(b) > 0; b = b[min(len(b), 7000):] {
			st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Chunk{Chunk: b[:min(len(b), 7000)]}})
		}
		st.CloseSend()
		var got []byte
		first, err := st.Recv()
		if err != nil || first.GetRecord() == nil {
			t.Fatalf("first response: %v, %v", first, err)
		}
		for {
			m, err := st.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m.GetChunk()...)
		}
		verifySealed(t, got, "450224-XK-0002", "CA-4")
	})

	t.Run("oversized", func(t *testing.T) {
		big := make([]byte, 5<<20)
		_, err := sealing.Seal(clerk, sealReq("big-1", "450224-XK-0002", "CA-5", permit, big))
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("5 MiB with a 4 MiB limit: %v", err)
		}
		st, _ := sealing.SealStream(clerk)
		st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Header{Header: sealReq("big-2", "450224-XK-0002", "CA-5", permit, nil)}})
		for range 5 {
			st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Chunk{Chunk: big[:1<<20]}})
		}
		st.CloseSend()
		if _, err := st.Recv(); status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("streamed 5 MiB with a 4 MiB limit: %v", err)
		}
	})
}

// TestRulesRefuse shows each rule of DESIGN.md §3 refusing its case through
// the API with its own code and ErrorInfo reason, and the refusal in the
// ledger.
func TestRulesRefuse(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind, nil)
			doc := readDecision(t)
			sealing := sealv1.NewSealingServiceClient(e.conn)
			adm := sealv1.NewSealAdminServiceClient(e.conn)
			// 浮石镇's seal suspended; 雅瑶乡's revoked.
			if _, err := adm.SuspendSeal(e.as("admin"), &sealv1.SealActionRequest{TownshipCode: "450224101"}); err != nil {
				t.Fatal(err)
			}
			if _, err := adm.RevokeSeal(e.as("admin"), &sealv1.SealActionRequest{TownshipCode: "450224200", Reason: "keyCompromise"}); err != nil {
				t.Fatal(err)
			}
			if _, err := sealv1.NewRegistryServiceClient(e.conn).SetItemActive(e.as("admin"), &sealv1.SetItemActiveRequest{Code: "450224-XK-0003"}); err != nil {
				t.Fatal(err)
			}
			for i, tc := range []struct {
				name string
				who  string
				req  *sealv1.SealRequest
				code codes.Code
				rule seal.Rule
			}{
				{"another township's seal", "changan-approval", &sealv1.SealRequest{TownshipCode: "450224101", ItemCode: "450224-XK-0002", CaseNo: "1", DocKind: permit}, codes.PermissionDenied, seal.RuleWrongTownship},
				{"service window, licensing item", "changan-service", &sealv1.SealRequest{ItemCode: "450224-XK-0002", CaseNo: "1", DocKind: permit}, codes.PermissionDenied, seal.RuleWrongWindow},
				{"unknown item", "changan-approval", &sealv1.SealRequest{ItemCode: "450224-XK-0999", CaseNo: "1", DocKind: permit}, codes.NotFound, seal.RuleUnknownItem},
				{"withdrawn item", "changan-approval", &sealv1.SealRequest{ItemCode: "450224-XK-0003", CaseNo: "1", DocKind: permit}, codes.FailedPrecondition, seal.RuleItemInactive},
				{"dispatched agency's item", "fushi-approval", &sealv1.SealRequest{ItemCode: "450224-PZ-0001", CaseNo: "1", DocKind: "营业执照"}, codes.FailedPrecondition, seal.RuleDispatchedItem},
				{"not on the township's list", "yayao-both", &sealv1.SealRequest{ItemCode: "450224-XK-0006", CaseNo: "1", DocKind: "林木采伐许可证"}, codes.FailedPrecondition, seal.RuleItemNotImplemented},
				{"document kind", "changan-approval", &sealv1.SealRequest{ItemCode: "450224-XK-0002", CaseNo: "1", DocKind: "营业执照"}, codes.InvalidArgument, seal.RuleDocumentKind},
				{"suspended seal", "fushi-approval", &sealv1.SealRequest{ItemCode: "450224-XK-0002", CaseNo: "1", DocKind: permit}, codes.FailedPrecondition, seal.RuleSealSuspended},
				{"revoked seal", "yayao-both", &sealv1.SealRequest{ItemCode: "450224-XK-0002", CaseNo: "1", DocKind: permit}, codes.FailedPrecondition, seal.RuleSealRevoked},
				{"no case number", "changan-approval", &sealv1.SealRequest{ItemCode: "450224-XK-0002", DocKind: permit}, codes.InvalidArgument, seal.RuleBadRequest},
				{"not a PDF", "changan-approval", &sealv1.SealRequest{ItemCode: "450224-XK-0002", CaseNo: "1", DocKind: permit}, codes.InvalidArgument, seal.RuleBadDocument},
			} {
				t.Run(tc.name, func(t *testing.T) {
					tc.req.RequestId = fmt.Sprintf("refuse-%d", i)
					tc.req.Document = doc
					if tc.rule == seal.RuleBadDocument {
						tc.req.Document = []byte("%PDF-1.7 garbage")
					}
					_, err := sealing.Seal(e.as(tc.who), tc.req)
					st := status.Convert(err)
					if st.Code() != tc.code {
						t.Fatalf("code %v (%s), want %v", st.Code(), st.Message(), tc.code)
					}
					var info *errdetails.ErrorInfo
					for _, d := range st.Details() {
						if ei, ok := d.(*errdetails.ErrorInfo); ok {
							info = ei
						}
					}
					if info == nil || info.Reason != string(tc.rule) || info.Metadata["message_zh"] == "" {
						t.Fatalf("ErrorInfo %v, want reason %s", info, tc.rule)
					}
					head, err := e.st.Head(context.Background())
					if err != nil || head.Result != seal.ResultRefused || head.Rule != tc.rule || head.Principal != tc.who {
						t.Fatalf("refusal not in the ledger: %+v, %v", head, err)
					}
				})
			}
			// Roles: a supervisor cannot seal, a clerk cannot administer,
			// a stranger cannot call at all.
			if _, err := sealing.Seal(e.as("sup-nongye"), sealReq("x", "450224-XK-0002", "1", permit, doc)); status.Code(err) != codes.PermissionDenied {
				t.Errorf("supervisor sealed: %v", err)
			}
			if _, err := adm.RevokeSeal(e.as("changan-approval"), &sealv1.SealActionRequest{TownshipCode: "450224100"}); status.Code(err) != codes.PermissionDenied {
				t.Errorf("clerk revoked a seal: %v", err)
			}
			bad := context.Background()
			bad = metadataCtx(bad, "Bearer esk_not-a-real-token")
			if _, err := sealing.Seal(bad, sealReq("y", "450224-XK-0002", "1", permit, doc)); status.Code(err) != codes.Unauthenticated {
				t.Errorf("bad token: %v", err)
			}
		})
	}
}

// TestWatchByDomain: a supervisor's watch gets exactly its domain's records,
// in order, and resumes after a reconnect without loss or repetition.
func TestWatchByDomain(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind, nil)
			doc := readDecision(t)
			sealing := sealv1.NewSealingServiceClient(e.conn)
			ledger := sealv1.NewLedgerServiceClient(e.conn)
			seal1 := func(i int, who, item, kind string) {
				_, err := sealing.Seal(e.as(who), sealReq(fmt.Sprintf("w-%d", i), item, fmt.Sprintf("W-%d", i), kind, doc))
				if err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(e.as("sup-nongye"))
			w, err := ledger.WatchRecords(ctx, &sealv1.WatchRecordsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			// 农业农村: XK-0002 (approval) and JF-0002 (service); 民政: QR-0001.
			seal1(1, "changan-approval", "450224-XK-0002", permit)
			seal1(2, "changan-service", "450224-QR-0001", "审核意见书")
			seal1(3, "changan-service", "450224-JF-0002", "补贴发放公示表")
			var got []uint64
			for len(got) < 2 {
				r, err := w.Recv()
				if err != nil {
					t.Fatal(err)
				}
				if r.Domain != "农业农村" {
					t.Fatalf("supervisor of 农业农村 got a %s record", r.Domain)
				}
				got = append(got, r.Seq)
			}
			cancel()
			seal1(4, "changan-approval", "450224-XK-0002", permit)
			seal1(5, "changan-service", "450224-QR-0001", "审核意见书")
			w2, err := ledger.WatchRecords(e.as("sup-nongye"), &sealv1.WatchRecordsRequest{AfterSeq: got[len(got)-1]})
			if err != nil {
				t.Fatal(err)
			}
			r, err := w2.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if r.Seq != 4 || r.Domain != "农业农村" || got[0] != 1 || got[1] != 3 {
				t.Fatalf("watch got %v then %d, want [1 3] then 4", got, r.Seq)
			}
			// A stream's error arrives with its first Recv.
			w3, _ := ledger.WatchRecords(e.as("sup-nongye"), &sealv1.WatchRecordsRequest{Filter: &sealv1.RecordFilter{Domains: []string{"民政"}}})
			if _, err := w3.Recv(); status.Code(err) != codes.PermissionDenied {
				t.Errorf("supervisor watched another domain: %v", err)
			}
		})
	}
}

func TestLedgerVerifyFindsTampering(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	doc := readDecision(t)
	sealing := sealv1.NewSealingServiceClient(e.conn)
	for i := range 5 {
		if _, err := sealing.Seal(e.as("changan-approval"), sealReq(fmt.Sprintf("t-%d", i), "450224-XK-0002", fmt.Sprintf("T-%d", i), permit, doc)); err != nil {
			t.Fatal(err)
		}
	}
	ledger := sealv1.NewLedgerServiceClient(e.conn)
	v, err := ledger.VerifyLedger(e.as("admin"), &sealv1.VerifyLedgerRequest{})
	if err != nil || !v.Valid || v.RecordsChecked != 5 {
		t.Fatalf("intact ledger: %+v, %v", v, err)
	}
	// Someone with the database file changes record 3's case number.
	if err := tamperSQLite(e.ksDB.Path(), 3); err != nil {
		t.Fatal(err)
	}
	v, err = ledger.VerifyLedger(e.as("admin"), &sealv1.VerifyLedgerRequest{})
	if err != nil || v.Valid || v.BreakSeq != 3 {
		t.Fatalf("tampered ledger: %+v, %v", v, err)
	}
}

func TestRefusesPlainTextOffLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0"} {
		_, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: addr}, Deps{})
		if !errors.Is(err, ErrPlaintextOffLoopback) {
			t.Errorf("%s: %v", addr, err)
		}
	}
}
