package api

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/workday"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestTimelinessThroughTheAPI: the acceptance time of a Seal request
// reaches the record's note, and ReportService.Timeliness counts it, for
// those who may read the records, over gRPC and REST.
func TestTimelinessThroughTheAPI(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	// A calendar around today, whatever year the test runs in: weekends
	// off, no holidays.
	now := time.Now()
	cal, err := workday.Parse([]byte(fmt.Sprintf("covers: {from: %s, to: %s}",
		now.AddDate(0, -3, 0).Format(time.DateOnly), now.AddDate(0, 3, 0).Format(time.DateOnly))))
	if err != nil {
		t.Fatal(err)
	}
	e.sealer.Calendar = cal
	client := sealv1.NewSealingServiceClient(e.conn)
	doc := readDecision(t)
	for i, accepted := range []time.Time{now.Add(-time.Hour), now.AddDate(0, 0, -60)} { // 450224-XK-0002 promises 20 working days
		resp, err := client.Seal(e.as("changan-approval"), &sealv1.SealRequest{RequestId: fmt.Sprintf("tl-%d", i), ItemCode: "450224-XK-0002",
			CaseNo: fmt.Sprintf("TL-%d", i), DocKind: permit, Document: doc, AcceptedAt: timestamppb.New(accepted)})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"status=early days=", "status=late days="}[i]
		if !strings.Contains(resp.Record.Detail, want) {
			t.Fatalf("sealing %d: detail %q, want %q", i, resp.Record.Detail, want)
		}
	}
	_, err = client.Seal(e.as("changan-approval"), &sealv1.SealRequest{RequestId: "tl-future", ItemCode: "450224-XK-0002",
		CaseNo: "TL-F", DocKind: permit, Document: doc, AcceptedAt: timestamppb.New(now.Add(48 * time.Hour))})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("accepted the day after tomorrow: %v, want InvalidArgument", err)
	}
	reports := sealv1.NewReportServiceClient(e.conn)
	period := &sealv1.TimelinessRequest{From: timestamppb.New(now.AddDate(0, 0, -1)), To: timestamppb.New(now.AddDate(0, 0, 1))}
	tests := []struct {
		who  string
		rows int
	}{
		{"admin", 1}, {"sup-nongye", 1}, {"sup-minzheng", 0}, {"changan-approval", 1}, {"fushi-approval", 0},
	}
	for _, tt := range tests {
		resp, err := reports.Timeliness(e.as(tt.who), period)
		if err != nil || len(resp.Rows) != tt.rows {
			t.Fatalf("%s: %v, %v; want %d rows", tt.who, resp, err, tt.rows)
		}
		if tt.rows == 1 {
			r := resp.Rows[0]
			if r.TownshipCode != "450224100" || r.ItemCode != "450224-XK-0002" || r.OnTime != 1 || r.Late != 1 || r.MaxDaysLate == 0 {
				t.Fatalf("%s: row %+v", tt.who, r)
			}
		}
	}
	if _, err := reports.Timeliness(e.as("admin"), &sealv1.TimelinessRequest{From: period.To, To: period.From}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a backwards period: %v, want InvalidArgument", err)
	}
	q := url.Values{"from": {period.From.AsTime().Format(time.RFC3339)}, "to": {period.To.AsTime().Format(time.RFC3339)}}
	rest := e.rest(t, "GET", "/v1/reports/timeliness?"+q.Encode(), "admin", nil)
	if rest.code != 200 || !strings.Contains(string(rest.body), `"onTime":1`) || !strings.Contains(string(rest.body), `"late":1`) {
		t.Fatalf("REST: %d %s", rest.code, rest.body)
	}
	// The gauges: the last 30 days, per township and item.
	c := newTimelinessCollector(e.sealer.Ledger.(*seal.Ledger))
	if n := testutil.CollectAndCount(c, "eseal_timeliness_late", "eseal_timeliness_on_time"); n != 2 {
		t.Fatalf("%d timeliness gauges, want 2 (on time and late of one township and item)", n)
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(`# HELP eseal_timeliness_late Sealings of the last 30 days after the item's time limit.
# TYPE eseal_timeliness_late gauge
eseal_timeliness_late{item="450224-XK-0002",township="450224100"} 1
`), "eseal_timeliness_late"); err != nil {
		t.Fatal(err)
	}
}
