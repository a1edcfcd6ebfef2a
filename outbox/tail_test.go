package outbox

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/ronganxian/eseal/seal"
)

// fakeLedger is records in memory, counting the reads of the store.
type fakeLedger struct {
	mu      sync.Mutex
	recs    []*seal.Record
	reads   int
	appends chan struct{} // closed at the next append
}

func newFakeLedger() *fakeLedger { return &fakeLedger{appends: make(chan struct{})} }

func (l *fakeLedger) wake() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appends
}

func (l *fakeLedger) append(domain, township string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, &seal.Record{Seq: uint64(len(l.recs) + 1), Domain: domain, Township: township})
	close(l.appends)
	l.appends = make(chan struct{})
}

func (l *fakeLedger) Records(_ context.Context, f seal.RecordFilter, after uint64, limit int) ([]*seal.Record, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	var out []*seal.Record
	for _, r := range l.recs[min(int(after), len(l.recs)):] {
		if f.Matches(r) {
			out = append(out, r)
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

func (l *fakeLedger) matching(f seal.RecordFilter) []uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []uint64
	for _, r := range l.recs {
		if f.Matches(r) {
			out = append(out, r.Seq)
		}
	}
	return out
}

var tailFilters = []seal.RecordFilter{
	{}, {Domains: []string{"民政"}}, {Domains: []string{"市场监管", "民政"}}, {Township: "450224101"},
	{Township: "450224102", Domains: []string{"市场监管"}}, {Domains: []string{"公安"}},
}

func appendSome(l *fakeLedger, r *rand.Rand, n int) {
	domains := []string{"民政", "市场监管", "公安", seal.AllDomains}
	townships := []string{"450224101", "450224102"}
	for range n {
		l.append(domains[r.IntN(len(domains))], townships[r.IntN(len(townships))])
	}
}

// TestTailOneReadForAll: workers that wake at an append read the store
// once between them, not once each.
func TestTailOneReadForAll(t *testing.T) {
	l := newFakeLedger()
	tl := newTail(l, 1000, l.wake)
	r := rand.New(rand.NewPCG(1, 2))
	appendSome(l, r, 50)
	scanned := make([]uint64, len(tailFilters))
	for round := range 5 {
		appendSome(l, r, 20)
		before := l.reads
		for i, f := range tailFilters {
			recs, s, more, _, err := tl.records(context.Background(), f, scanned[i], 100)
			if err != nil {
				t.Fatal(err)
			}
			if more {
				t.Fatalf("round %d, filter %d: more after reading everything", round, i)
			}
			for _, rec := range recs {
				if !f.Matches(rec) || rec.Seq <= scanned[i] {
					t.Fatalf("round %d, filter %d: record %d does not belong", round, i, rec.Seq)
				}
			}
			scanned[i] = s
		}
		if n := l.reads - before; n != 1 {
			t.Fatalf("round %d: %d reads of the store for %d workers, want 1", round, n, len(tailFilters))
		}
	}
}

// TestTailDeliversEverything: whatever the interleaving of appends and of
// workers reading (behind the tail, ahead of it, in small or large
// pieces, at once), each worker gets exactly the records its filter
// matches, in order, none twice, and never waits while records it has not
// been given are in the ledger without a closed wake channel to say so.
func TestTailDeliversEverything(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		l := newFakeLedger()
		tl := newTail(l, 10+r.IntN(40), l.wake)
		appendSome(l, r, r.IntN(30))
		type worker struct {
			f       seal.RecordFilter
			scanned uint64
			got     []uint64
		}
		var ws []*worker
		for i, f := range tailFilters {
			w := &worker{f: f}
			if i%3 == 2 { // one that starts at the ledger's end, as a new subscription does
				l.mu.Lock()
				w.scanned = uint64(len(l.recs))
				l.mu.Unlock()
			}
			ws = append(ws, w)
		}
		start := make([]int, len(ws)) // what each had to get: from where it started
		for i, w := range ws {
			start[i] = len(slices.DeleteFunc(l.matching(w.f), func(s uint64) bool { return s > w.scanned }))
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			ar := rand.New(rand.NewPCG(seed, 8))
			for range 20 {
				appendSome(l, ar, ar.IntN(15))
			}
		})
		for _, w := range ws {
			wg.Go(func() {
				wr := rand.New(rand.NewPCG(seed, uint64(len(w.got))+9))
				for range 200 {
					wake := l.wake()
					recs, s, more, tw, err := tl.records(context.Background(), w.f, w.scanned, 1+wr.IntN(30))
					if err != nil {
						t.Error(err)
						return
					}
					for _, rec := range recs {
						w.got = append(w.got, rec.Seq)
					}
					w.scanned = s
					if tw != nil {
						wake = tw
					}
					if !more {
						// Nothing it lacks may be in the ledger unless
						// wake says so.
						select {
						case <-wake:
						default:
							if n := len(slices.DeleteFunc(l.matching(w.f), func(s uint64) bool { return s <= w.scanned })); n > 0 {
								select {
								case <-wake: // appended meanwhile: it says so
								default:
									t.Errorf("seed %d: %d records past %d, and nothing to wake the worker", seed, n, w.scanned)
								}
							}
						}
					}
				}
			})
		}
		wg.Wait()
		// Drain: every worker reads until nothing is left.
		for i, w := range ws {
			for {
				recs, s, more, _, err := tl.records(context.Background(), w.f, w.scanned, 7)
				if err != nil {
					t.Fatal(err)
				}
				for _, rec := range recs {
					w.got = append(w.got, rec.Seq)
				}
				w.scanned = s
				if !more && len(recs) == 0 {
					break
				}
			}
			want := l.matching(w.f)[start[i]:]
			if !slices.Equal(w.got, want) {
				t.Fatalf("seed %d, filter %d: got %v, want %v", seed, i, w.got, want)
			}
		}
	}
}
