package api

import (
	"sync"
	"time"
)

// rateLog lets through at most burst log lines per period and counts the
// ones it holds back, so that a flood of failed logins cannot flood the
// log, and the next line that passes says how many were held back.
type rateLog struct {
	burst  int
	period time.Duration
	now    func() time.Time

	mu         sync.Mutex
	start      time.Time
	passed     int
	suppressed int
}

func newRateLog(burst int, period time.Duration) *rateLog {
	return &rateLog{burst: burst, period: period, now: time.Now}
}

// allow reports whether a line may be logged now and, if so, how many
// lines were held back since the last one that passed. A nil rateLog lets
// every line through.
func (r *rateLog) allow() (ok bool, suppressed int) {
	if r == nil {
		return true, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.start) >= r.period {
		r.start, r.passed = now, 0
	}
	if r.passed >= r.burst {
		r.suppressed++
		return false, 0
	}
	r.passed++
	suppressed, r.suppressed = r.suppressed, 0
	return true, suppressed
}
