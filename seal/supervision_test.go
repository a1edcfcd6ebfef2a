package seal

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ronganxian/eseal/workday"
)

// TestSupervisionNoteRoundTrip: every note String writes, ParseSupervisionNote
// reads back as it was, and the text is the documented form.
func TestSupervisionNoteRoundTrip(t *testing.T) {
	d := workday.Date{Year: 2026, Month: 12, Day: 3}
	for _, c := range []struct {
		note SupervisionNote
		want string
	}{
		{SupervisionNote{KindOnSite, OutcomeRectify, d, "消防通道堵塞，限十日内整改"},
			`监管结果 kind=onsite outcome=rectify date=2026-12-03 note="消防通道堵塞，限十日内整改"`},
		{SupervisionNote{KindSpotCheck, OutcomePass, d, ""},
			`监管结果 kind=spot_check outcome=pass date=2026-12-03 note=""`},
		{SupervisionNote{KindRectification, OutcomeRectified, d, `quoted "x=1" and \ backslash`},
			`监管结果 kind=rectification outcome=rectified date=2026-12-03 note="quoted \"x=1\" and \\ backslash"`},
		{SupervisionNote{KindReview, OutcomeFail, d, "kind=onsite outcome=pass"}, // fields inside the note stay in it
			`监管结果 kind=review outcome=fail date=2026-12-03 note="kind=onsite outcome=pass"`},
		{SupervisionNote{KindComplaint, OutcomeNoFindings, d, "no\u00a0break"},
			`监管结果 kind=complaint outcome=no_finding date=2026-12-03 note="no\u00a0break"`},
	} {
		got := c.note.String()
		if got != c.want {
			t.Errorf("String() = %s\nwant       %s", got, c.want)
		}
		back, err := ParseSupervisionNote(got)
		if err != nil || back != c.note {
			t.Errorf("ParseSupervisionNote(%s) = %+v, %v; want %+v", got, back, err, c.note)
		}
	}
}

// TestParseSupervisionNoteRefuses: what is not a note in the canonical
// form fails with ErrBadSupervision.
func TestParseSupervisionNoteRefuses(t *testing.T) {
	for _, detail := range []string{
		``,
		`限时办结 status=early days=2 used=3 limit=5 deadline=2026-03-13 accepted=2026-03-06T17:59:00+08:00`,
		`监管结果 kind=night_visit outcome=pass date=2026-12-03 note=""`,
		`监管结果 kind=onsite outcome=maybe date=2026-12-03 note=""`,
		`监管结果 kind=onsite outcome=pass date=2026-13-03 note=""`,
		`监管结果 kind=onsite outcome=pass date=2026-12-03`,
		`监管结果 kind=onsite outcome=pass date=2026-12-03 note=unquoted`,
		`监管结果 kind=onsite kind=onsite outcome=pass date=2026-12-03 note=""`,
		`监管结果 outcome=pass kind=onsite date=2026-12-03 note=""`, // fields out of order
		`监管结果 kind=现场核查 outcome=pass date=2026-12-03 note=""`,   // names are for input, codes for the record
		`监管结果 kind=onsite outcome=pass date=2026-12-03 note="" extra=1`,
		`监管结果  kind=onsite outcome=pass date=2026-12-03 note=""`,
	} {
		if n, err := ParseSupervisionNote(detail); !errors.Is(err, ErrBadSupervision) {
			t.Errorf("ParseSupervisionNote(%q) = %+v, %v; want ErrBadSupervision", detail, n, err)
		}
	}
}

// TestSupervisionNames: kinds and outcomes are read by code or Chinese
// name, and named in both languages; anything else is refused.
func TestSupervisionNames(t *testing.T) {
	for _, c := range []struct {
		in, code, zh, en string
	}{
		{"现场核查", "onsite", "现场核查", "on-site inspection"},
		{"onsite", "onsite", "现场核查", "on-site inspection"},
		{"抽查", "spot_check", "抽查", "spot check"},
		{"整改", "rectification", "整改", "rectification"},
		{"复查", "review", "复查", "follow-up review"},
		{"投诉核查", "complaint", "投诉核查", "complaint investigation"},
	} {
		k, err := ParseSupervisionKind(c.in)
		if err != nil || string(k) != c.code || k.Chinese() != c.zh || k.English() != c.en {
			t.Errorf("kind %q: %q (%s, %s), %v", c.in, k, k.Chinese(), k.English(), err)
		}
	}
	for _, c := range []struct {
		in, code, zh, en string
	}{
		{"合格", "pass", "合格", "passed"},
		{"不合格", "fail", "不合格", "failed"},
		{"限期整改", "rectify", "限期整改", "to be rectified by a deadline"},
		{"已整改", "rectified", "已整改", "rectified"},
		{"no_finding", "no_finding", "未发现问题", "no findings"},
	} {
		o, err := ParseSupervisionOutcome(c.in)
		if err != nil || string(o) != c.code || o.Chinese() != c.zh || o.English() != c.en {
			t.Errorf("outcome %q: %q (%s, %s), %v", c.in, o, o.Chinese(), o.English(), err)
		}
	}
	for _, bad := range []string{"", "Onsite", "现场", "pass ", "合格\u200b"} {
		if _, err := ParseSupervisionKind(bad); !errors.Is(err, ErrBadSupervision) {
			t.Errorf("kind %q taken", bad)
		}
		if _, err := ParseSupervisionOutcome(bad); !errors.Is(err, ErrBadSupervision) {
			t.Errorf("outcome %q taken", bad)
		}
	}
	if SupervisionKind("x").Chinese() != "x" {
		t.Error("an unknown kind is not named by its code")
	}
}

// TestSupervisionCheck: the input's bounds, each refused with
// ErrBadSupervision, and a valid input's note.
func TestSupervisionCheck(t *testing.T) {
	s := &Supervision{Now: func() time.Time { return time.Date(2026, 12, 3, 16, 30, 0, 0, time.UTC) }, Zone: time.FixedZone("CST", 8*3600)}
	ok := SupervisionInput{Township: "450224100", CaseNo: "CASE-1", Kind: "抽查", Outcome: "合格", Date: "2026-12-04"}
	// 16:30 UTC is 00:30 on the 4th in the county: the 4th is today.
	if n, err := s.check(&ok); err != nil || n.Kind != KindSpotCheck || n.Date.String() != "2026-12-04" {
		t.Fatalf("a valid input: %+v, %v", n, err)
	}
	for _, c := range []struct {
		name string
		edit func(*SupervisionInput)
	}{
		{"tomorrow", func(i *SupervisionInput) { i.Date = "2026-12-05" }},
		{"no date", func(i *SupervisionInput) { i.Date = "" }},
		{"a date with a time", func(i *SupervisionInput) { i.Date = "2026-12-03T10:00:00Z" }},
		{"no township", func(i *SupervisionInput) { i.Township = "" }},
		{"a township name", func(i *SupervisionInput) { i.Township = "长安镇" }},
		{"no case", func(i *SupervisionInput) { i.CaseNo = "" }},
		{"a case with a bidi override", func(i *SupervisionInput) { i.CaseNo = "CASE-\u202e1" }},
		{"a note too long", func(i *SupervisionInput) { i.Note = strings.Repeat("整", MaxSupervisionNoteLen/3+1) }},
		{"a note with a line break", func(i *SupervisionInput) { i.Note = "a\nb" }},
		{"an attachment digest of 31 bytes", func(i *SupervisionInput) { i.AttachmentSM3 = make([]byte, 31) }},
		{"an unknown outcome", func(i *SupervisionInput) { i.Outcome = "good" }},
	} {
		in := ok
		c.edit(&in)
		if _, err := s.check(&in); !errors.Is(err, ErrBadSupervision) {
			t.Errorf("%s: %v, want ErrBadSupervision", c.name, err)
		}
	}
	long := ok
	long.Note = strings.Repeat("整", MaxSupervisionNoteLen/3)
	if _, err := s.check(&long); err != nil {
		t.Errorf("a note of %d bytes: %v", len(long.Note), err)
	}
}

// TestTimelinessCountsOnlySealings: a supervision result or a seal change
// in a case or township is no sealing, and the timeliness report does not
// count it, even were its Detail to carry a timeliness note.
func TestTimelinessCountsOnlySealings(t *testing.T) {
	acc := time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC)
	at := time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC)
	note := Timeliness{Accepted: acc, LimitDays: 5, Used: 3, Deadline: workday.Date{Year: 2026, Month: 3, Day: 13}}.Note(time.UTC)
	recs := []*Record{
		{Township: "A", Item: "X", Result: ResultSealed, Time: at, Detail: note},
		{Township: "A", Item: "X", Result: ResultSupervised, Time: at, Detail: note},
		{Township: "A", Item: "X", Result: ResultLifecycle, Time: at, Detail: note},
		{Township: "A", Item: "X", Result: ResultSupervised, Time: at,
			Detail: SupervisionNote{KindOnSite, OutcomePass, workday.Date{Year: 2026, Month: 3, Day: 20}, note}.String()},
	}
	got := SummariseTimeliness(recs, at.AddDate(0, 0, -1), at.AddDate(0, 0, 1))
	if len(got) != 1 || got[0].OnTime != 1 || got[0].Late != 0 {
		t.Fatalf("rows %+v, want one sealing on time", got)
	}
}
