package seal

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ronganxian/eseal/workday"
)

// Timeliness is how a sealing kept its item's time limit (限时办结): the
// case was accepted (受理) at Accepted, the item promises a decision within
// LimitDays working days, so by Deadline; the sealing came Used working
// days after the day of acceptance (that day not counted).
type Timeliness struct {
	Accepted  time.Time
	LimitDays int
	Deadline  workday.Date
	Used      int
	// Unknown, when set, says why no count could be made (the calendar
	// does not cover the dates, or there is none); the rest is then zero
	// but Accepted and LimitDays.
	Unknown string
}

// Timeliness statuses, as a record's note says them.
const (
	TimelyEarly   = "early"   // decided before the deadline's day
	TimelyOnTime  = "on_time" // decided on the deadline's day
	TimelyLate    = "late"    // decided after it
	TimelyUnknown = "unknown"
)

// Status is early, on_time or late, with the working days early or late
// (0 on time).
func (t Timeliness) Status() (string, int) {
	switch {
	case t.Unknown != "":
		return TimelyUnknown, 0
	case t.Used < t.LimitDays:
		return TimelyEarly, t.LimitDays - t.Used
	case t.Used == t.LimitDays:
		return TimelyOnTime, 0
	}
	return TimelyLate, t.Used - t.LimitDays
}

const timelinessPrefix = "限时办结"

// Note is the timeliness as the record's Detail carries it, first of its
// notes, readable and parsed back by ParseTimeliness:
//
//	限时办结 status=early days=2 used=3 limit=5 deadline=2026-03-13 accepted=2026-03-06T17:59:00+08:00
func (t Timeliness) Note(zone *time.Location) string {
	st, days := t.Status()
	acc := t.Accepted.In(zone).Format(time.RFC3339)
	if st == TimelyUnknown { // the reason never holds noteSep, which ends the note
		return fmt.Sprintf("%s status=%s limit=%d accepted=%s reason=%q", timelinessPrefix, st, t.LimitDays, acc,
			strings.ReplaceAll(t.Unknown, noteSep, ", "))
	}
	return fmt.Sprintf("%s status=%s days=%d used=%d limit=%d deadline=%s accepted=%s",
		timelinessPrefix, st, days, t.Used, t.LimitDays, t.Deadline, acc)
}

var timelinessFields = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S+)`)

// ParseTimeliness finds the timeliness note in a record's Detail.
func ParseTimeliness(detail string) (Timeliness, bool) {
	var t Timeliness
	for _, note := range strings.Split(detail, noteSep) {
		note = strings.TrimSpace(note)
		if !strings.HasPrefix(note, timelinessPrefix+" ") {
			continue
		}
		f := map[string]string{}
		for _, m := range timelinessFields.FindAllStringSubmatch(note, -1) {
			f[m[1]] = m[2]
		}
		var err error
		if t.Accepted, err = time.Parse(time.RFC3339, f["accepted"]); err != nil {
			return t, false
		}
		if t.LimitDays, err = strconv.Atoi(f["limit"]); err != nil {
			return t, false
		}
		if f["status"] == TimelyUnknown {
			if t.Unknown, err = strconv.Unquote(f["reason"]); err != nil || t.Unknown == "" {
				t.Unknown = "unknown"
			}
			return t, true
		}
		if t.Used, err = strconv.Atoi(f["used"]); err != nil {
			return t, false
		}
		if t.Deadline, err = workday.ParseDate(f["deadline"]); err != nil {
			return t, false
		}
		return t, true
	}
	return t, false
}

// AssessTimeliness counts a sealing at sealed against its item's limit of
// limitDays working days from accepted, on cal with dates in zone. Without
// a calendar, or when it does not cover the dates, the result is Unknown
// with the reason: a sealing is never refused for the calendar's sake.
func AssessTimeliness(cal *workday.Calendar, zone *time.Location, accepted, sealed time.Time, limitDays int) Timeliness {
	t := Timeliness{Accepted: accepted, LimitDays: limitDays}
	if cal == nil {
		t.Unknown = "no working-day calendar is configured"
		return t
	}
	a := workday.DateOf(accepted, zone)
	var err error
	if t.Deadline, err = cal.AddWorkdays(a, limitDays); err == nil {
		t.Used, err = cal.Between(a, workday.DateOf(sealed, zone))
	}
	if err != nil {
		t = Timeliness{Accepted: accepted, LimitDays: limitDays, Unknown: err.Error()}
	}
	return t
}

// TimelinessRow sums up the sealings of one township and item.
type TimelinessRow struct {
	Township, Item string
	OnTime, Late   int // on time counts early ones too
	Unknown        int
	MedianUsed     float64 // working days used, of those counted
	MaxLate        int     // the most working days one was late
}

// SummariseTimeliness groups the sealed records in [from, to) that carry a
// timeliness note by township and item, sorted.
func SummariseTimeliness(recs []*Record, from, to time.Time) []TimelinessRow {
	type group struct {
		row  TimelinessRow
		used []int
	}
	rows := map[[2]string]*group{}
	for _, r := range recs {
		if r.Result != ResultSealed || r.Time.Before(from) || !r.Time.Before(to) {
			continue
		}
		t, ok := ParseTimeliness(r.Detail)
		if !ok {
			continue
		}
		k := [2]string{r.Township, r.Item}
		g := rows[k]
		if g == nil {
			g = &group{row: TimelinessRow{Township: r.Township, Item: r.Item}}
			rows[k] = g
		}
		row := &g.row
		switch st, days := t.Status(); st {
		case TimelyUnknown:
			row.Unknown++
			continue
		case TimelyLate:
			row.Late++
			row.MaxLate = max(row.MaxLate, days)
		default:
			row.OnTime++
		}
		g.used = append(g.used, t.Used)
	}
	out := make([]TimelinessRow, 0, len(rows))
	for _, g := range rows {
		g.row.MedianUsed = medianDays(g.used)
		out = append(out, g.row)
	}
	slices.SortFunc(out, func(a, b TimelinessRow) int {
		return strings.Compare(a.Township+"\x00"+a.Item, b.Township+"\x00"+b.Item)
	})
	return out
}

func medianDays(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return float64(xs[n/2])
	}
	return float64(xs[n/2-1]+xs[n/2]) / 2
}

// acceptedSkew is how far in the future an acceptance time may lie, for
// clocks that disagree.
const acceptedSkew = 5 * time.Minute

// checkAccepted refuses an acceptance time after now: a case is accepted
// before it is decided.
func (s *Sealer) checkAccepted(accepted time.Time) *Refusal {
	if accepted.IsZero() || !accepted.After(s.now().Add(acceptedSkew)) {
		return nil
	}
	return refuse(RuleBadRequest, "accepted time %s is in the future: a case is accepted before it is sealed",
		accepted.In(s.zone()).Format(time.RFC3339))
}

// timeliness is the note a sealing's record carries when its request gave
// the acceptance time, or "".
func (s *Sealer) timeliness(item Item, accepted, sealed time.Time) string {
	if accepted.IsZero() {
		return ""
	}
	return AssessTimeliness(s.Calendar, s.zone(), accepted, sealed, item.TimeLimitDays).Note(s.zone())
}

func (s *Sealer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// zone is the county's zone, whose dates count working days.
func (s *Sealer) zone() *time.Location {
	if s.Zone != nil {
		return s.Zone
	}
	return time.Local
}

// Timeliness reports the sealings in [from, to) that who may read and f
// selects, summed up by township and item (SummariseTimeliness). It finds
// where the period starts by bisection (periodStart), reads the records in
// sequence order from there and stops past to: a report on last month
// costs the same on a ledger of ten years as on one of a month.
func (l *Ledger) Timeliness(ctx context.Context, who *Principal, f RecordFilter, from, to time.Time) ([]TimelinessRow, error) {
	if !from.Before(to) {
		return nil, fmt.Errorf("%w: the period's start %s is not before its end %s", ErrBadPeriod, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if _, err := Scope(who, f); err != nil {
		return nil, err
	}
	after, err := l.periodStart(ctx, from)
	if err != nil {
		return nil, err
	}
	var recs []*Record
	for {
		page, next, err := l.Records(ctx, who, f, after, MaxPage)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			if r.Result == ResultSealed && !r.Time.Before(from) && r.Time.Before(to) && strings.Contains(r.Detail, timelinessPrefix) {
				recs = append(recs, r)
			}
		}
		// Record times rise with the sequence, but for replicas' clocks:
		// read past the end by clockSlack before stopping.
		if next == 0 || (len(page) > 0 && page[len(page)-1].Time.After(to.Add(clockSlack))) {
			break
		}
		after = next
	}
	return SummariseTimeliness(recs, from, to), nil
}

// clockSlack is how far out of order in time the ledger's records may be:
// replicas stamp records by their own clocks, and a record appended later
// may carry an earlier time. A day is far more than any clock in service.
const clockSlack = 24 * time.Hour

// periodStart returns the sequence number to read after so as to see every
// record from t on: the last record before t less clockSlack (0 if none),
// found by bisection over point reads of the store, O(log n), where reading
// from the ledger's start would cost every record ever kept.
func (l *Ledger) periodStart(ctx context.Context, t time.Time) (uint64, error) {
	head, err := l.store.Head(ctx)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	t = t.Add(-clockSlack)
	lo, hi := uint64(0), head.Seq // the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		r, err := l.store.Record(ctx, mid)
		if err != nil {
			return 0, err
		}
		if r.Time.Before(t) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo, nil
}

// ErrBadPeriod: a report's period is empty or backwards.
var ErrBadPeriod = errors.New("seal: bad report period")
