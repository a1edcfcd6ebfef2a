package outbox

import (
	"context"
	"sync"

	"github.com/ronganxian/eseal/seal"
)

// tail is the newest records of the ledger, read once for every worker of
// this process. Ten subscriptions would otherwise read each record ten
// times, taking ten times the CPU and holding the store's readers, which
// sealing needs, ten times as long. Each worker filters the tail for its
// own subscription; a worker behind the tail (a replay, or one that was
// stopped) reads the store itself until it catches up.
type tail struct {
	st   recordReader
	max  int                    // records kept
	wake func() <-chan struct{} // Outbox.wake
	read sync.Mutex             // one read of the store at a time

	mu   sync.Mutex
	recs []*seal.Record // consecutive sequence numbers, ascending
	head uint64         // the newest sequence number read: recs' last, or where the tail starts
	full bool           // the last read found max records: the ledger may have more
	// woke is the wake channel taken just before the last read: closed at
	// the first append after it, which the tail may not hold.
	woke <-chan struct{}
}

// recordReader is the part of Store the tail reads with.
type recordReader interface {
	Records(ctx context.Context, f seal.RecordFilter, afterSeq uint64, limit int) ([]*seal.Record, error)
}

func newTail(st recordReader, max int, wake func() <-chan struct{}) *tail {
	return &tail{st: st, max: max, wake: wake}
}

// records returns up to limit records that f matches, numbered after
// after: from the tail when it covers them, from the store when not.
// scanned is where the caller's next call starts: every record up to it
// was looked at. more reports that the ledger may hold records past
// scanned already; when it is false, the caller waits on wake, which is
// closed at the next append it has not been given (nil: its own).
func (t *tail) records(ctx context.Context, f seal.RecordFilter, after uint64, limit int) (recs []*seal.Record, scanned uint64, more bool, wake <-chan struct{}, err error) {
	if err := t.refresh(ctx, after); err != nil {
		return nil, 0, false, nil, err
	}
	t.mu.Lock()
	if len(t.recs) > 0 && after+1 >= t.recs[0].Seq {
		scanned = t.head
		for _, r := range t.recs[min(int(after+1-t.recs[0].Seq), len(t.recs)):] {
			if f.Matches(r) {
				recs = append(recs, r)
				if len(recs) == limit {
					scanned = r.Seq
					break
				}
			}
		}
		more = len(recs) == limit || t.full
		wake = t.woke
		t.mu.Unlock()
		return recs, max(scanned, after), more, wake, nil
	}
	head := t.head
	t.mu.Unlock()
	recs, err = t.st.Records(ctx, f, after, limit)
	if err != nil {
		return nil, 0, false, nil, err
	}
	if len(recs) == limit {
		return recs, recs[len(recs)-1].Seq, true, nil, nil
	}
	// The store answered with every record it had; those up to head were
	// in it, read before.
	scanned = max(after, head)
	if len(recs) > 0 {
		scanned = max(scanned, recs[len(recs)-1].Seq)
	}
	return recs, scanned, false, nil, nil
}

// refresh reads the records after the tail's head when a caller at after
// has seen all of them: one read for all the workers that wake at an
// append. A caller ahead of the head (a subscription that starts at the
// ledger's end) restarts the tail where it is.
func (t *tail) refresh(ctx context.Context, after uint64) error {
	t.mu.Lock()
	head := t.head
	t.mu.Unlock()
	if after < head {
		return nil // the tail holds records the caller has not seen
	}
	t.read.Lock()
	defer t.read.Unlock()
	t.mu.Lock()
	head = t.head
	t.mu.Unlock()
	if after < head {
		return nil // another worker read meanwhile
	}
	from := max(head, after)
	woke := t.wake() // before reading, so that no append is missed
	recs, err := t.st.Records(ctx, seal.RecordFilter{}, from, t.max)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if from != t.head {
		t.recs = t.recs[:0] // not contiguous: start again at from
	}
	t.recs = append(t.recs, recs...)
	if n := len(t.recs) - t.max; n > 0 {
		t.recs = append(t.recs[:0:0], t.recs[n:]...)
	}
	t.head, t.full, t.woke = from, len(recs) == t.max, woke
	if len(recs) > 0 {
		t.head = recs[len(recs)-1].Seq
	}
	return nil
}
