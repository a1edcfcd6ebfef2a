package cli

import (
	"fmt"
	"time"

	"github.com/ronganxian/eseal/verify"
)

// timeRows adds what a signature report says of time: the proven time and
// the TSA that proves it, and which time the verdict was judged at, so that
// a reader can tell a proven time from the signer's claim.
func (a *app) timeRows(s verify.SignatureReport, add func(label, value string)) {
	if ts := s.Timestamp; ts != nil {
		if !s.ProvenTime.IsZero() {
			acc := ts.Accuracy.String()
			if ts.Accuracy == 0 {
				acc = "-"
			}
			add("proven", a.when(s.ProvenTime)+a.paren(fmt.Sprintf(a.vt("proven-by"), acc)))
		}
		ok := a.vt("tsa-bad")
		if ts.Valid {
			ok = a.vt("tsa-ok")
		}
		add("tsa", fmt.Sprintf(a.vt("tsa-line"), termText(ts.TSASubject), ts.Serial, ts.Policy, ok))
	}
	switch s.TimeBasis {
	case verify.TimeProven:
		add("basis", a.vt("basis-proven"))
	case verify.TimeClaimed:
		add("basis", a.vt("basis-claimed"))
	}
}

// parseAt reads --at: a date (midnight UTC) or an RFC 3339 time.
func parseAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at %q is neither a date (2050-01-01) nor an RFC 3339 time (2050-01-01T08:00:00+08:00)", s)
	}
	return t, nil
}
