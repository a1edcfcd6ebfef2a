package sqlstore

import (
	"context"
	"errors"
	"sync"

	"github.com/ronganxian/eseal/seal"
)

// Ledger appends are committed in groups. Every append takes the ledger's
// lock, reads the head and commits; on SQLite the commit is an fsync of the
// WAL, on PostgreSQL a round trip and a WAL flush, and both hold the ledger
// for the whole of it. Appends that arrive while one commits therefore wait
// in a queue, and the first of them then writes all that queued in one
// transaction: one lock, one head read, one commit for the group. Each
// record is still chained and stored exactly as alone, and no caller
// returns before the transaction holding its record has committed.
//
// There is no background goroutine: the caller that finds the ledger idle
// leads, writes, and hands the lead to the first caller still queued.

const (
	// maxGroupCalls and maxGroupBytes bound one group's transaction.
	maxGroupCalls = 64
	maxGroupBytes = 32 << 20
)

// appendCall is one caller's append, waiting in the queue.
type appendCall struct {
	ctx  context.Context
	rec  seal.Record
	doc  []byte
	ref  []byte        // doc's reference in the backend's DocumentLog, if it has one
	lead chan struct{} // signalled when this call is to write the next group
	done chan struct{} // closed when out and err are set
	out  *seal.Record
	err  error
}

// groupCommit is the queue of appends and whether one is being written.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*appendCall
	writing bool
}

// do queues c and returns once c has been written, or has failed. write is
// called with groups of queued calls, one group at a time, and must set
// each call's out or err.
func (g *groupCommit) do(c *appendCall, write func([]*appendCall)) {
	c.lead = make(chan struct{}, 1)
	c.done = make(chan struct{})
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if g.writing {
		g.mu.Unlock()
		select {
		case <-c.done:
			return
		case <-c.lead:
		}
		g.mu.Lock()
	}
	g.writing = true
	group := g.take()
	g.mu.Unlock()
	defer g.finish(group)
	write(group)
}

// finish answers the calls of a group that has been written and hands the
// lead on. It runs even if write panics (the service recovers panics per
// request), so that the queue never waits for a leader that is gone; calls
// left unanswered then fail.
func (g *groupCommit) finish(group []*appendCall) {
	for _, w := range group {
		if w.out == nil && w.err == nil {
			w.err = errGroupAborted
		}
		close(w.done)
	}
	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].lead <- struct{}{}
	} else {
		g.writing = false
	}
	g.mu.Unlock()
}

var errGroupAborted = errors.New("sqlstore: ledger append: the transaction of its group was abandoned")

// take removes the next group from the front of the queue: at least one
// call, and then as many as fit the bounds. g.mu is held.
func (g *groupCommit) take() []*appendCall {
	n, size := 0, 0
	for n < len(g.queue) && n < maxGroupCalls {
		size += len(g.queue[n].doc)
		if n > 0 && size > maxGroupBytes {
			break
		}
		n++
	}
	group := g.queue[:n:n]
	g.queue = append([]*appendCall(nil), g.queue[n:]...)
	return group
}
