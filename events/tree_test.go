package events_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ronganxian/eseal/events"
)

// TestSignTree: events signed in one tree each verify alone, as the lines
// a receiver keeps, and as a stream; any change to one of them, to its
// proof, or to the tree's size, fails with ErrForged or ErrMalformed,
// also after the verifier has seen the tree's signature verify.
func TestSignTree(t *testing.T) {
	c := newCounty(t)
	recs := ledger(7)
	sign := func(t *testing.T) []*events.Event {
		var evs []*events.Event
		for i, r := range recs {
			evs = append(evs, events.New(r, "/eseal/test", "platform", uint64(i)))
		}
		if err := events.SignTree(evs, c.key, c.cert, time.Now()); err != nil {
			t.Fatal(err)
		}
		return evs
	}
	evs := sign(t)
	v := events.NewVerifier(c.roots)
	var stream bytes.Buffer
	for _, e := range evs {
		if e.Signature != evs[0].Signature || e.TreeSize != "7" {
			t.Fatalf("event %s: not signed in the one tree of 7", e.ID)
		}
		if err := v.Verify(e); err != nil {
			t.Fatalf("event %s: %v", e.ID, err)
		}
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		stream.Write(append(b, '\n'))
	}
	if rep, err := events.NewVerifier(c.roots).VerifyStream(&stream); err != nil || rep.Distinct != 7 {
		t.Fatalf("the stream: %+v, %v", rep, err)
	}
	// One event alone is signed as before, without a tree.
	one := events.New(recs[0], "/eseal/test", "platform", 0)
	if err := events.SignTree([]*events.Event{one}, c.key, c.cert, time.Now()); err != nil || one.TreeSize != "" {
		t.Fatalf("one event: treesize %q, %v", one.TreeSize, err)
	}
	if err := v.Verify(one); err != nil {
		t.Fatal(err)
	}

	other := newCounty(t)
	tests := []struct {
		name   string
		change func(evs []*events.Event) *events.Event
	}{
		{"prevseq changed", func(evs []*events.Event) *events.Event { evs[3].PrevSeq = "1"; return evs[3] }},
		{"subscription changed", func(evs []*events.Event) *events.Event { evs[3].Subscription = "minzheng"; return evs[3] }},
		{"record changed", func(evs []*events.Event) *events.Event { evs[2].Data.CaseNo = "X"; return evs[2] }},
		{"signedat changed", func(evs []*events.Event) *events.Event {
			evs[2].SignedAt = evs[2].SignedAt.Add(time.Millisecond)
			return evs[2]
		}},
		{"another leaf's index", func(evs []*events.Event) *events.Event { evs[1].TreeIndex = "2"; return evs[1] }},
		{"another leaf's path", func(evs []*events.Event) *events.Event { evs[1].TreePath = evs[2].TreePath; return evs[1] }},
		{"a larger tree", func(evs []*events.Event) *events.Event { evs[0].TreeSize = "8"; return evs[0] }},
		{"a smaller tree", func(evs []*events.Event) *events.Event { evs[0].TreeSize = "6"; return evs[0] }},
		{"a hash flipped in the path", func(evs []*events.Event) *events.Event {
			p := []byte(evs[4].TreePath)
			p[5] ^= 1 // a hex digit to another
			if p[5] < '0' || p[5] > 'f' {
				p[5] = '0'
			}
			evs[4].TreePath = string(p)
			return evs[4]
		}},
		{"the path dropped", func(evs []*events.Event) *events.Event { evs[4].TreePath = ""; return evs[4] }},
		{"the proof dropped", func(evs []*events.Event) *events.Event {
			evs[4].TreeIndex, evs[4].TreeSize, evs[4].TreePath = "", "", ""
			return evs[4]
		}},
		{"path not hex", func(evs []*events.Event) *events.Event { evs[5].TreePath = strings.Repeat("zz", 32); return evs[5] }},
		{"path not whole hashes", func(evs []*events.Event) *events.Event { evs[5].TreePath += "00"; return evs[5] }},
		{"index past the tree", func(evs []*events.Event) *events.Event { evs[6].TreeIndex = "7"; return evs[6] }},
		{"a tree of one", func(evs []*events.Event) *events.Event { evs[6].TreeSize = "1"; return evs[6] }},
		{"a tree too large to hash", func(evs []*events.Event) *events.Event { evs[6].TreeSize = "99999999999"; return evs[6] }},
		{"another county's tree", func([]*events.Event) *events.Event {
			evs := []*events.Event{events.New(recs[0], "/eseal/test", "platform", 0), events.New(recs[1], "/eseal/test", "platform", 1)}
			if err := events.SignTree(evs, other.key, other.cert, time.Now()); err != nil {
				t.Fatal(err)
			}
			return evs[1]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := sign(t)
			for _, e := range evs { // the tree's signature is known good to v
				if err := v.Verify(e); err != nil {
					t.Fatal(err)
				}
			}
			bad := tt.change(evs)
			if err := v.Verify(bad); !errors.Is(err, events.ErrForged) && !errors.Is(err, events.ErrMalformed) {
				t.Fatalf("Verify: %v, want ErrForged or ErrMalformed", err)
			}
		})
	}
}
