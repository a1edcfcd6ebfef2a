package sqlstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ronganxian/eseal/seal"
)

// TestGroupCommit queues calls while one group is being written, and
// checks that they are written together, in arrival order, as the next
// group, and that a write that panics fails only its own group and does
// not leave the queue without a leader.
func TestGroupCommit(t *testing.T) {
	var g groupCommit
	var (
		mu     sync.Mutex
		groups [][]string
	)
	release := make(chan struct{})
	write := func(group []*appendCall) {
		var ids []string
		for _, c := range group {
			ids = append(ids, c.rec.RequestID)
		}
		mu.Lock()
		groups = append(groups, ids)
		mu.Unlock()
		if ids[0] == "first" {
			<-release
			panic("write failed")
		}
		for _, c := range group {
			c.out = &c.rec
		}
	}
	call := func(id string) *appendCall {
		return &appendCall{ctx: context.Background(), rec: seal.Record{RequestID: id}}
	}

	first := call("first")
	panicked := make(chan any)
	go func() {
		defer func() { panicked <- recover() }()
		g.do(first, write)
	}()
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(groups) == 1 })

	queued := []*appendCall{call("a"), call("b"), call("c")}
	var wg sync.WaitGroup
	for _, c := range queued {
		wg.Go(func() { g.do(c, write) })
		// One at a time, so that the queue's order is known.
		waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.queue) > 0 && g.queue[len(g.queue)-1] == c })
	}
	close(release)
	if r := <-panicked; r == nil {
		t.Fatal("the panic in write did not reach its leader")
	}
	wg.Wait()
	if !errors.Is(first.err, errGroupAborted) || first.out != nil {
		t.Errorf("the panicked call got %v, %v; want errGroupAborted", first.out, first.err)
	}
	for _, c := range queued {
		if c.err != nil || c.out == nil {
			t.Errorf("queued call %s: %v, %v", c.rec.RequestID, c.out, c.err)
		}
	}
	if len(groups) != 2 || len(groups[1]) != 3 || groups[1][0] != "a" || groups[1][1] != "b" || groups[1][2] != "c" {
		t.Errorf("groups written: %v, want [[first] [a b c]]", groups)
	}

	// The queue has no leader left behind: a new call is written at once.
	last := call("last")
	g.do(last, write)
	if last.out == nil || g.writing {
		t.Errorf("after the groups: out %v, writing %v", last.out, g.writing)
	}
}

// TestGroupCommitBounds checks that a group stops at maxGroupCalls and at
// maxGroupBytes, but always takes at least one call.
func TestGroupCommitBounds(t *testing.T) {
	var g groupCommit
	for range maxGroupCalls + 5 {
		g.queue = append(g.queue, &appendCall{doc: make([]byte, 10)})
	}
	if n := len(g.take()); n != maxGroupCalls {
		t.Errorf("took %d calls, want %d", n, maxGroupCalls)
	}
	if n := len(g.take()); n != 5 {
		t.Errorf("took %d calls, want the 5 left", n)
	}
	big := make([]byte, maxGroupBytes/2+1)
	g.queue = []*appendCall{{doc: big}, {doc: big}, {doc: big}}
	if n := len(g.take()); n != 1 {
		t.Errorf("took %d calls of %d bytes, want 1 under %d bytes", n, len(big), maxGroupBytes)
	}
	g.queue = []*appendCall{{doc: make([]byte, 2*maxGroupBytes)}}
	if n := len(g.take()); n != 1 {
		t.Errorf("took %d calls of a document above the bound, want it alone", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
