package api

import (
	"testing"
	"time"
)

func TestRateLog(t *testing.T) {
	now := time.Unix(1000, 0)
	r := newRateLog(3, time.Minute)
	r.now = func() time.Time { return now }
	for i := range 3 {
		if ok, s := r.allow(); !ok || s != 0 {
			t.Fatalf("line %d within the burst: %v, %d", i, ok, s)
		}
	}
	for i := range 5 {
		if ok, _ := r.allow(); ok {
			t.Fatalf("line %d past the burst passed", i+3)
		}
	}
	now = now.Add(time.Minute)
	if ok, s := r.allow(); !ok || s != 5 {
		t.Fatalf("first line of the next period: %v, suppressed %d; want true, 5", ok, s)
	}
	if ok, s := r.allow(); !ok || s != 0 {
		t.Fatalf("the count is reported once: %v, %d", ok, s)
	}
}
