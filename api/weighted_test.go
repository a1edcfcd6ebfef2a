package api

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestWeighted checks the semaphore of the bytes in flight: waiters are
// served in order of arrival, a call at work takes room ahead of them,
// and a waiter whose context ends leaves the queue and lets the next in.
func TestWeighted(t *testing.T) {
	s := newWeighted(10)
	if !s.TryAcquire(8) {
		t.Fatal("8 of 10 free: refused")
	}
	// Two waiters: 5, then 2. The 2 would fit now but waits behind the 5.
	got := make(chan int64, 2)
	started := make(chan struct{})
	go func() {
		close(started)
		if s.Acquire(context.Background(), 5) == nil {
			got <- 5
		}
	}()
	<-started
	waitQueue(t, s, 1)
	go func() {
		if s.Acquire(context.Background(), 2) == nil {
			got <- 2
		}
	}()
	waitQueue(t, s, 2) // the 2 waits, though 2 are free: it came after the 5
	if s.TryAcquire(2) {
		t.Fatal("TryAcquire jumped the queue")
	}
	// A call at work takes the 2 that are free, ahead of the waiters.
	if !s.takeNow(2) {
		t.Fatal("takeNow refused 2 free bytes")
	}
	if s.takeNow(1) {
		t.Fatal("takeNow took more than is free")
	}
	s.Release(2 + 8) // 10 free: both go
	if a, b := <-got, <-got; a+b != 7 {
		t.Fatalf("granted %d and %d, want 5 and 2", a, b)
	}
	s.Release(7)

	// A waiter whose context ends takes nothing and unblocks the next.
	if !s.TryAcquire(9) {
		t.Fatal("9 of 10 free: refused")
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { first <- s.Acquire(ctx, 5) }()
	waitQueue(t, s, 1)
	second := make(chan error, 1)
	go func() { second <- s.Acquire(context.Background(), 1) }()
	waitQueue(t, s, 2)
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled waiter: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("the waiter behind it: %v", err)
	}
	s.Release(10)
	if !s.TryAcquire(10) {
		t.Fatal("room was lost: 10 not free at the end")
	}
}

// waitQueue waits until n calls wait in s.
func waitQueue(t *testing.T, s *weighted, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		l := s.wait.Len()
		s.mu.Unlock()
		if l == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters, want %d", l, n)
		}
	}
}
