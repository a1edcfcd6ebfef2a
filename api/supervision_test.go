package api

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestSupervisionThroughTheAPI: the department of the case's domain
// records a result over gRPC and REST; another department, a clerk and the
// county office may not; an unknown case is NotFound; and the case's story
// is the township's clerks', the department's and the county office's to
// read, not another township's clerk's.
func TestSupervisionThroughTheAPI(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	sealing := sealv1.NewSealingServiceClient(e.conn)
	if _, err := sealing.Seal(e.as("changan-approval"), sealReq("sv-1", "450224-XK-0002", "SV-1", permit, readDecision(t))); err != nil {
		t.Fatal(err)
	}
	sup := sealv1.NewSupervisionServiceClient(e.conn)
	today := time.Now().Format(time.DateOnly)
	attach := sm3.Sum([]byte("现场核查记录.pdf"))
	req := &sealv1.RecordResultRequest{TownshipCode: "450224100", CaseNo: "SV-1", Kind: "现场核查", Outcome: "限期整改", Date: today,
		Note: "场地与申报不符，限期十日整改", AttachmentSm3: attach[:]}
	resp, err := sup.RecordResult(e.as("sup-nongye"), req)
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.Record; r.Result != "supervised" || r.Principal != "sup-nongye" || r.Domain != "农业农村" || r.ItemCode != "450224-XK-0002" ||
		string(r.InputSm3) != string(attach[:]) {
		t.Fatalf("the record: %+v", r)
	}
	if res := resp.Result; res.Kind != "onsite" || res.KindZh != "现场核查" || res.Outcome != "rectify" || res.Date != today {
		t.Fatalf("the result: %+v", res)
	}
	for _, c := range []struct {
		name, who string
		edit      func(*sealv1.RecordResultRequest)
		want      codes.Code
	}{
		{"another domain's department", "sup-minzheng", nil, codes.PermissionDenied},
		{"the township's clerk", "changan-approval", nil, codes.PermissionDenied},
		{"the county office", "admin", nil, codes.PermissionDenied},
		{"an unknown case", "sup-nongye", func(r *sealv1.RecordResultRequest) { r.CaseNo = "SV-404" }, codes.NotFound},
		{"the case number in another township", "sup-nongye", func(r *sealv1.RecordResultRequest) { r.TownshipCode = "450224101" }, codes.NotFound},
		{"a date after today", "sup-nongye", func(r *sealv1.RecordResultRequest) { r.Date = time.Now().AddDate(0, 0, 2).Format(time.DateOnly) }, codes.InvalidArgument},
		{"an unknown outcome", "sup-nongye", func(r *sealv1.RecordResultRequest) { r.Outcome = "尚可" }, codes.InvalidArgument},
		{"a 31-byte digest", "sup-nongye", func(r *sealv1.RecordResultRequest) { r.AttachmentSm3 = attach[:31] }, codes.InvalidArgument},
	} {
		r := &sealv1.RecordResultRequest{TownshipCode: req.TownshipCode, CaseNo: req.CaseNo, Kind: req.Kind, Outcome: req.Outcome,
			Date: req.Date, Note: req.Note}
		if c.edit != nil {
			c.edit(r)
		}
		if _, err := sup.RecordResult(e.as(c.who), r); status.Code(err) != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}

	// REST, as the platform would call it.
	body, _ := json.Marshal(map[string]any{"townshipCode": "450224100", "caseNo": "SV-1", "kind": "spot_check", "outcome": "rectified",
		"date": today, "note": "已整改到位", "requestId": "platform-77"})
	if rest := e.rest(t, "POST", "/v1/supervision/results", "sup-nongye", body); rest.code != 200 ||
		!strings.Contains(string(rest.body), `"kindZh":"抽查"`) {
		t.Fatalf("REST RecordResult: %d %s", rest.code, rest.body)
	}
	if rest := e.rest(t, "POST", "/v1/supervision/results", "sup-nongye", body); rest.code != 200 { // a retry
		t.Fatalf("REST RecordResult again: %d %s", rest.code, rest.body)
	}

	for _, c := range []struct {
		who     string
		entries int
		want    codes.Code
	}{
		{"changan-approval", 3, codes.OK},
		{"changan-service", 3, codes.OK},
		{"sup-nongye", 3, codes.OK},
		{"admin", 3, codes.OK},
		{"fushi-approval", 0, codes.PermissionDenied},
		{"sup-minzheng", 0, codes.NotFound},
	} {
		got, err := sup.GetCase(e.as(c.who), &sealv1.GetCaseRequest{TownshipCode: "450224100", CaseNo: "SV-1"})
		if status.Code(err) != c.want || len(got.GetEntries()) != c.entries {
			t.Errorf("%s reads the case: %d entries, %v; want %d, %v", c.who, len(got.GetEntries()), err, c.entries, c.want)
			continue
		}
		if c.entries == 3 {
			en := got.Entries
			if en[0].Record.Result != "sealed" || en[1].Supervision.GetOutcomeZh() != "限期整改" || en[2].Supervision.GetKind() != "spot_check" ||
				en[0].Record.Seq >= en[1].Record.Seq || en[1].Record.Seq >= en[2].Record.Seq {
				t.Errorf("%s reads the story out of order or wrong: %v", c.who, en)
			}
		}
	}
	rest := e.rest(t, "GET", "/v1/townships/450224100/cases/"+url.PathEscape("SV-1"), "admin", nil)
	if rest.code != 200 || !strings.Contains(string(rest.body), `"outcomeZh":"已整改"`) {
		t.Fatalf("REST GetCase: %d %s", rest.code, rest.body)
	}
}
