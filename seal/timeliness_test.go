package seal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/workday"
)

// TestSealerTimeliness: a sealing whose request gives the acceptance time
// says in its record whether it kept the item's time limit (450224-XK-0002
// promises 20 working days), counted on the 2026 calendar in the county's
// zone; the note survives the record's hash and is read back.
func TestSealerTimeliness(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	accepted := time.Date(2026, 3, 6, 17, 59, 0, 0, cst) // a Friday, a minute before closing
	// Day one is Monday 9 March; the twentieth Friday 3 April (清明 follows).
	tests := []struct {
		name     string
		sealed   time.Time
		accepted time.Time
		want     string
		status   string
		days     int
	}{
		{"early", time.Date(2026, 3, 20, 10, 0, 0, 0, cst), accepted, "status=early days=10 used=10 limit=20 deadline=2026-04-03", seal.TimelyEarly, 10},
		{"on the deadline's day", time.Date(2026, 4, 3, 17, 0, 0, 0, cst), accepted, "status=on_time days=0 used=20 limit=20 deadline=2026-04-03", seal.TimelyOnTime, 0},
		{"during 清明 is still on time", time.Date(2026, 4, 5, 9, 0, 0, 0, cst), accepted, "status=on_time days=0 used=20", seal.TimelyOnTime, 0},
		{"the first day after 清明 is late", time.Date(2026, 4, 7, 9, 0, 0, 0, cst), accepted, "status=late days=1 used=21", seal.TimelyLate, 1},
		{"accepted before the calendar", time.Date(2026, 1, 20, 9, 0, 0, 0, cst), time.Date(2025, 12, 30, 9, 0, 0, 0, cst),
			`status=unknown limit=20 accepted=2025-12-30T09:00:00+08:00 reason="workday: the calendar does not cover the date: 2025-12-30`, seal.TimelyUnknown, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSealerFixture(t)
			now := func() time.Time { return tt.sealed }
			f.sealer.Now, f.sealer.Policy.Now, f.sealer.Zone = now, now, cst
			f.sealer.Calendar = workday.China2026()
			key := f.sealer.Policy.Keys.(memKeys)["450224100"]
			key.NotBefore = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			in := f.input("t-" + tt.name)
			in.Accepted = tt.accepted
			out, err := f.sealer.Seal(context.Background(), f.clerk, in)
			if err != nil {
				t.Fatal(err)
			}
			r := out.Record
			if !strings.HasPrefix(r.Detail, "限时办结 ") || !strings.Contains(r.Detail, tt.want) {
				t.Fatalf("detail %q, want it to hold %q", r.Detail, tt.want)
			}
			if string(r.Hash) != string(r.ComputeHash()) {
				t.Fatal("the record's hash does not cover its detail")
			}
			tl, ok := seal.ParseTimeliness(r.Detail)
			if st, days := tl.Status(); !ok || st != tt.status || days != tt.days || !tl.Accepted.Equal(tt.accepted) {
				t.Fatalf("read back %+v (%v): %s by %d, want %s by %d", tl, ok, st, days, tt.status, tt.days)
			}
		})
	}
}

func TestSealerAcceptedRules(t *testing.T) {
	f := newSealerFixture(t)
	ctx := context.Background()
	in := f.input("no-acceptance")
	out, err := f.sealer.Seal(ctx, f.clerk, in)
	if err != nil || strings.Contains(out.Record.Detail, "限时办结") {
		t.Fatalf("without an acceptance time: %q, %v", out.Record.Detail, err)
	}
	in = f.input("accepted-tomorrow")
	in.Accepted = time.Now().Add(24 * time.Hour)
	_, err = f.sealer.Seal(ctx, f.clerk, in)
	if r, ok := seal.AsRefusal(err); !ok || r.Rule != seal.RuleBadRequest {
		t.Fatalf("accepted tomorrow: %v, want a bad_request refusal", err)
	}
	in = f.input("no-calendar")
	in.Accepted = time.Now().Add(-time.Hour)
	out, err = f.sealer.Seal(ctx, f.clerk, in)
	if err != nil || !strings.Contains(out.Record.Detail, `status=unknown`) || !strings.Contains(out.Record.Detail, "no working-day calendar") {
		t.Fatalf("without a calendar: %q, %v", out.Record.Detail, err)
	}
}

func TestSummariseTimeliness(t *testing.T) {
	acc := time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC)
	note := func(used, limit int) string {
		return seal.Timeliness{Accepted: acc, LimitDays: limit, Used: used, Deadline: workday.Date{Year: 2026, Month: 3, Day: 13}}.Note(time.UTC)
	}
	at := time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC)
	recs := []*seal.Record{
		{Township: "A", Item: "X", Result: seal.ResultSealed, Time: at, Detail: note(3, 5)},
		{Township: "A", Item: "X", Result: seal.ResultSealed, Time: at, Detail: note(5, 5) + "; 已修复: xref"},
		{Township: "A", Item: "X", Result: seal.ResultSealed, Time: at, Detail: note(8, 5)},
		{Township: "A", Item: "X", Result: seal.ResultSealed, Time: at, Detail: "时间戳 2026-03-20T09:00:00Z; " + note(9, 5)},
		{Township: "A", Item: "X", Result: seal.ResultSealed, Time: at, Detail: seal.Timeliness{Accepted: acc, LimitDays: 5, Unknown: "x; y"}.Note(time.UTC)},
		{Township: "A", Item: "X", Result: seal.ResultRefused, Time: at, Detail: note(1, 5)},
		{Township: "A", Item: "X", Result: seal.ResultSealed, Time: at.AddDate(0, 1, 0), Detail: note(1, 5)}, // after the period
		{Township: "B", Item: "X", Result: seal.ResultSealed, Time: at, Detail: ""},                          // no acceptance time
		{Township: "A", Item: "Y", Result: seal.ResultSealed, Time: at, Detail: note(2, 0)},
	}
	got := seal.SummariseTimeliness(recs, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	want := []seal.TimelinessRow{
		{Township: "A", Item: "X", OnTime: 2, Late: 2, Unknown: 1, MedianUsed: 6.5, MaxLate: 4},
		{Township: "A", Item: "Y", Late: 1, MedianUsed: 2, MaxLate: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("rows %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
