package api

import (
	"container/list"
	"context"
	"sync"
)

// weighted is a weighted semaphore whose waiters are served in order of
// arrival, like golang.org/x/sync/semaphore's, with one thing more: a
// call already at work may take room ahead of the waiters (takeNow). The
// waiters are calls that hold nothing yet; a call at work holds its
// document and what reading it has decoded, and finishing it is what
// frees room. Were it to queue behind the waiters, the room it holds
// would be stuck with it, and a queue of large documents would starve
// every call under way.
type weighted struct {
	size int64
	mu   sync.Mutex
	cur  int64
	wait list.List // of *waiter, first come first
}

type waiter struct {
	n     int64
	ready chan struct{} // closed when the room is granted
}

func newWeighted(n int64) *weighted { return &weighted{size: n} }

// Acquire takes n, waiting in turn until ctx ends; then it takes nothing
// and returns ctx's error.
func (s *weighted) Acquire(ctx context.Context, n int64) error {
	s.mu.Lock()
	if s.size-s.cur >= n && s.wait.Len() == 0 {
		s.cur += n
		s.mu.Unlock()
		return nil
	}
	if n > s.size {
		s.mu.Unlock()
		<-ctx.Done()
		return ctx.Err()
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	e := s.wait.PushBack(w)
	s.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		select {
		case <-w.ready: // granted as the context ended: give it back
			s.cur -= n
			s.notify()
		default:
			front := s.wait.Front() == e
			s.wait.Remove(e)
			if front { // the next may fit now that this one leaves
				s.notify()
			}
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

// TryAcquire takes n at once if it fits and nobody waits.
func (s *weighted) TryAcquire(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.size-s.cur >= n && s.wait.Len() == 0 {
		s.cur += n
		return true
	}
	return false
}

// takeNow takes n at once if it fits, ahead of any waiter.
func (s *weighted) takeNow(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.size-s.cur >= n {
		s.cur += n
		return true
	}
	return false
}

// Release gives n back, and grants the waiters that now fit, in order.
func (s *weighted) Release(n int64) {
	s.mu.Lock()
	s.cur -= n
	if s.cur < 0 {
		s.mu.Unlock()
		panic("api: released more room than was taken")
	}
	s.notify()
	s.mu.Unlock()
}

// notify grants the waiters at the front that fit. s.mu is held.
func (s *weighted) notify() {
	for {
		e := s.wait.Front()
		if e == nil {
			return
		}
		w := e.Value.(*waiter)
		if s.size-s.cur < w.n {
			return // the first waits for room; the others wait behind it
		}
		s.cur += w.n
		s.wait.Remove(e)
		close(w.ready)
	}
}
