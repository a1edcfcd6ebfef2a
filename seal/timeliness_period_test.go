package seal_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/workday"
)

// countingStore counts the records a ledger reads through Records that
// are older than before.
type countingStore struct {
	store.Store
	before time.Time
	old    int
}

func (c *countingStore) Records(ctx context.Context, f seal.RecordFilter, after uint64, limit int) ([]*seal.Record, error) {
	recs, err := c.Store.Records(ctx, f, after, limit)
	for _, r := range recs {
		if r.Time.Before(c.before) {
			c.old++
		}
	}
	return recs, err
}

// TestTimelinessReadsOnlyThePeriod: a report on two days of a ledger that
// spans fifty reads no record from more than a day (and a replica's skew)
// before those days, not the ledger from its start, and counts exactly
// what a full reading counts; a record stamped
// out of order by a replica's clock (within a day) is still counted.
func TestTimelinessReadsOnlyThePeriod(t *testing.T) {
	ctx := context.Background()
	_, st := ledgerFixture(t, nil)
	zone := time.FixedZone("CST", 8*3600)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, zone)
	const hours = 50 * 24
	for i := range hours / 4 { // one sealing every four hours
		at := t0.Add(time.Duration(4*i) * time.Hour)
		if i == 200 { // a replica a few hours behind
			at = at.Add(-5 * time.Hour)
		}
		note := seal.Timeliness{Accepted: at.Add(-72 * time.Hour), LimitDays: 5, Used: 3,
			Deadline: workday.DateOf(at.Add(48*time.Hour), zone)}.Note(zone)
		r := &seal.Record{Time: at, RequestID: fmt.Sprintf("p-%d", i), Township: "450224100", Item: "450224-XK-0002",
			Domain: "自然资源", CaseNo: fmt.Sprintf("P-%d", i), Principal: "clerk", InputSM3: make([]byte, 32),
			OutputSM3: make([]byte, 32), Result: seal.ResultSealed, Detail: note}
		if _, err := st.Append(ctx, r, []byte("%PDF-1.7 sealed")); err != nil {
			t.Fatal(err)
		}
	}
	admin := &seal.Principal{ID: "county", Role: seal.RoleAdmin}
	tests := []struct {
		name     string
		from, to time.Time
		want     int // sealings in [from, to)
	}{
		{"two days in the middle", t0.Add(30 * 24 * time.Hour), t0.Add(32 * 24 * time.Hour), 12},
		{"around the late-stamped record", t0.Add(795 * time.Hour), t0.Add(796 * time.Hour), 1},
		{"before the ledger", t0.Add(-48 * time.Hour), t0.Add(-24 * time.Hour), 0},
		{"the first day", t0, t0.Add(24 * time.Hour), 6},
		{"the whole ledger", t0, t0.Add(hours * time.Hour), hours / 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A day of slack, and the replica's five hours, before the
			// period: nothing older is read.
			counting := &countingStore{Store: st, before: tt.from.Add(-30 * time.Hour)}
			rows, err := seal.NewLedger(counting, nil).Timeliness(ctx, admin, seal.RecordFilter{}, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for _, r := range rows {
				got += r.OnTime + r.Late
			}
			if got != tt.want {
				t.Fatalf("counted %d sealings, want %d", got, tt.want)
			}
			var all []*seal.Record
			for after := uint64(0); ; {
				page, err := st.Records(ctx, seal.RecordFilter{}, after, seal.MaxPage)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, page...)
				if len(page) < seal.MaxPage {
					break
				}
				after = page[len(page)-1].Seq
			}
			if full := seal.SummariseTimeliness(all, tt.from, tt.to); !reflect.DeepEqual(rows, full) {
				t.Fatalf("the report differs from a full reading:\n got %+v\nwant %+v", rows, full)
			}
			if counting.old > 0 {
				t.Errorf("read %d records from before the period and its slack", counting.old)
			}
		})
	}
}
