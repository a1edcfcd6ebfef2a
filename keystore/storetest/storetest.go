// Package storetest is the conformance suite of keystore.Store. Every
// implementation (store/sqlite and store/postgres) runs it, so that they all
// keep the keystore's rules the same way: one live seal per township, only
// valid state changes, atomic changes, exact errors.
//
// The suite stores made-up records: handles and certificates are opaque
// bytes to a Store, so no cryptography is involved. It touches only the
// stores its Opener gives it.
package storetest

import (
	"context"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ronganxian/eseal/keystore"
)

// Opener opens a fresh, empty store for one test, and a second handle on the
// same database, as a second process would have.
type Opener func(t *testing.T) (first, second keystore.Store)

// Run runs the whole suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"ClaimBackend", testClaimBackend},
		{"CA", testCA},
		{"SealRoundTrip", testSealRoundTrip},
		{"OneLiveSealPerTownship", testOneLive},
		{"OneLiveSealConcurrently", testOneLiveConcurrent},
		{"Transitions", testTransitions},
		{"FixedFields", testFixedFields},
		{"VersionConflict", testVersionConflict},
		{"ApplyIsAtomic", testApplyAtomic},
		{"DestroyKeys", testDestroyKeys},
		{"NewKeyUnderOtherBackend", testNewKeyWrongBackend},
		{"Events", testEvents},
		{"Queries", testQueries},
		{"RewrapKeys", testRewrap},
		{"CRL", testCRL},
		{"CRLConcurrently", testCRLConcurrently},
		{"LedgerKeys", testLedgerKeys},
		{"LedgerKeyConcurrently", testLedgerKeyConcurrently},
		{"RewrapLedgerKey", testRewrapLedgerKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

const backendID = "storetest-backend-1"

var ctx = context.Background()

// now is the suite's clock, to the microsecond, which every database keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// fresh opens a store and records the suite's backend.
func fresh(t *testing.T, open Opener) (keystore.Store, keystore.Store) {
	t.Helper()
	a, b := open(t)
	if got, err := a.ClaimBackend(ctx, backendID); err != nil || got != backendID {
		t.Fatalf("ClaimBackend = %q, %v", got, err)
	}
	return a, b
}

// der returns a small DER value standing in for a certificate.
func der(s string) []byte {
	b, err := asn1.Marshal(struct{ S string }{s})
	if err != nil {
		panic(err)
	}
	return b
}

// serial numbers the made-up certificates; seals are made from several
// goroutines.
var serial atomic.Int64

func key(id string) keystore.KeyRecord {
	return keystore.KeyRecord{
		ID: "key-" + id, Owner: "seal:" + id, Backend: "storetest", BackendID: backendID,
		PublicKey: der("pub " + id), Handle: []byte("handle " + id), CreatedAt: now(),
	}
}

// seal returns a seal in the given state with the fields that state needs.
func seal(id, township string, state keystore.State) keystore.Seal {
	s := keystore.Seal{
		ID: id, TownshipCode: township, Organization: "组织 " + township, Name: "组织 " + township + "专用章",
		State: "pending", KeyID: "key-" + id, CreatedAt: now(), Version: 1,
	}
	fill(&s, state)
	return s
}

// fill moves s to state, setting what the state requires.
func fill(s *keystore.Seal, state keystore.State) {
	s.State = state
	if state != keystore.StatePending && state != keystore.StateRevoked && s.Certificate == nil {
		s.Certificate, s.Serial = der("cert "+s.ID), big.NewInt(1000+serial.Add(1))
		s.NotBefore, s.NotAfter = now(), now().Add(time.Hour)
	}
	switch state {
	case keystore.StateSuspended:
		s.SuspendedAt = now()
	case keystore.StateRotated:
		s.EndedAt, s.ReplacedBy = now(), s.ID+"-next"
	case keystore.StateRevoked:
		s.EndedAt, s.RevocationReason = now(), keystore.ReasonKeyCompromise
	}
}

// insert stores seals with their keys and a creation event each.
func insert(t *testing.T, st keystore.Store, seals ...keystore.Seal) {
	t.Helper()
	var c keystore.Change
	for _, s := range seals {
		c.Keys = append(c.Keys, key(s.ID))
		c.Insert = append(c.Insert, s)
		c.Events = append(c.Events, keystore.Event{SealID: s.ID, Action: "issue", To: s.State, At: s.CreatedAt})
	}
	if err := st.Apply(ctx, c); err != nil {
		t.Fatalf("insert: %v", err)
	}
}

func mustSeal(t *testing.T, st keystore.Store, id string) keystore.Seal {
	t.Helper()
	s, err := st.Seal(ctx, id)
	if err != nil {
		t.Fatalf("Seal(%s): %v", id, err)
	}
	return s
}

func testClaimBackend(t *testing.T, open Opener) {
	a, b := open(t)
	if got, err := a.ClaimBackend(ctx, "first"); err != nil || got != "first" {
		t.Fatalf("first claim = %q, %v", got, err)
	}
	for _, st := range []keystore.Store{a, b} {
		if got, err := st.ClaimBackend(ctx, "second"); err != nil || got != "first" {
			t.Fatalf("a later claim = %q, %v; want the recorded %q", got, err, "first")
		}
	}
}

func testCA(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	if _, err := a.CA(ctx); !errors.Is(err, keystore.ErrNoCA) {
		t.Fatalf("CA of an empty store: err = %v, want ErrNoCA", err)
	}
	k := key("ca")
	k.Owner = "ca"
	bad := k
	bad.BackendID = "another"
	rec := keystore.CARecord{KeyID: k.ID, Certificate: der("issuing"), Chain: [][]byte{der("inter"), der("root")}, CreatedAt: now()}
	if err := a.PutCA(ctx, rec, &bad); !errors.Is(err, keystore.ErrWrongKEK) {
		t.Fatalf("PutCA with a key under another backend: err = %v, want ErrWrongKEK", err)
	}
	if _, err := a.CA(ctx); !errors.Is(err, keystore.ErrNoCA) {
		t.Fatal("a refused PutCA stored the CA")
	}
	if err := a.PutCA(ctx, rec, &k); err != nil {
		t.Fatalf("PutCA: %v", err)
	}
	got, err := b.CA(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.KeyID != rec.KeyID || string(got.Certificate) != string(rec.Certificate) || fmt.Sprint(got.Chain) != fmt.Sprint(rec.Chain) || !got.CreatedAt.Equal(rec.CreatedAt) {
		t.Fatalf("CA = %+v, want %+v", got, rec)
	}
	if gk, err := b.Key(ctx, k.ID); err != nil || string(gk.Handle) != string(k.Handle) || gk.Owner != "ca" {
		t.Fatalf("CA key = %+v, %v", gk, err)
	}
	if err := b.PutCA(ctx, keystore.CARecord{Certificate: der("other"), CreatedAt: now()}, nil); !errors.Is(err, keystore.ErrCAExists) {
		t.Fatalf("second PutCA: err = %v, want ErrCAExists", err)
	}
	// A CA without a key (an external CA's chain).
	c, _ := fresh(t, open)
	if err := c.PutCA(ctx, keystore.CARecord{Certificate: der("root"), CreatedAt: now()}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.CA(ctx); err != nil || got.KeyID != "" || len(got.Chain) != 0 {
		t.Fatalf("keyless CA = %+v, %v", got, err)
	}
}

func testSealRoundTrip(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	s := seal("seal-a", "450224100", keystore.StateActive)
	s.Replaces = ""
	s.Serial = new(big.Int).Lsh(big.NewInt(0x5a), 120) // a 127-bit serial
	insert(t, a, s)
	got := mustSeal(t, b, s.ID)
	want := s
	if !sameSeal(got, want) {
		t.Fatalf("Seal = %+v\nwant %+v", got, want)
	}
	k, err := b.Key(ctx, s.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	wk := key(s.ID)
	if k.ID != wk.ID || k.Owner != wk.Owner || k.Backend != wk.Backend || k.BackendID != wk.BackendID ||
		string(k.PublicKey) != string(wk.PublicKey) || string(k.Handle) != string(wk.Handle) || !k.DestroyedAt.IsZero() {
		t.Fatalf("Key = %+v\nwant %+v", k, wk)
	}
	for _, id := range []string{"seal-none"} {
		if _, err := b.Seal(ctx, id); !errors.Is(err, keystore.ErrNotFound) {
			t.Fatalf("Seal(%s): err = %v, want ErrNotFound", id, err)
		}
		if _, err := b.Key(ctx, "key-none"); !errors.Is(err, keystore.ErrNotFound) {
			t.Fatalf("Key(key-none): err = %v, want ErrNotFound", err)
		}
	}
}

// sameSeal compares seals field by field (times with Equal).
func sameSeal(a, b keystore.Seal) bool {
	eqSerial := (a.Serial == nil && b.Serial == nil) || (a.Serial != nil && b.Serial != nil && a.Serial.Cmp(b.Serial) == 0)
	return a.ID == b.ID && a.TownshipCode == b.TownshipCode && a.Organization == b.Organization && a.Name == b.Name &&
		a.State == b.State && a.KeyID == b.KeyID && string(a.Certificate) == string(b.Certificate) && eqSerial &&
		a.NotBefore.Equal(b.NotBefore) && a.NotAfter.Equal(b.NotAfter) && a.CreatedAt.Equal(b.CreatedAt) &&
		a.SuspendedAt.Equal(b.SuspendedAt) && a.EndedAt.Equal(b.EndedAt) && a.RevocationReason == b.RevocationReason &&
		a.Replaces == b.Replaces && a.ReplacedBy == b.ReplacedBy && a.Version == b.Version
}

func testOneLive(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	const tw = "450224101"
	insert(t, a, seal("s1", tw, keystore.StateActive))
	for _, state := range []keystore.State{keystore.StateIssued, keystore.StateActive, keystore.StateSuspended} {
		s := seal("s2-"+string(state), tw, state)
		err := b.Apply(ctx, keystore.Change{Keys: []keystore.KeyRecord{key(s.ID)}, Insert: []keystore.Seal{s}})
		if !errors.Is(err, keystore.ErrLiveSealExists) {
			t.Fatalf("a second live (%s) seal: err = %v, want ErrLiveSealExists", state, err)
		}
		if _, err := a.Key(ctx, key(s.ID).ID); !errors.Is(err, keystore.ErrNotFound) {
			t.Fatalf("the refused change stored its key (%v)", err)
		}
	}
	// Ended seals and one pending seal may sit beside the live one.
	insert(t, a, seal("s3", tw, keystore.StateRevoked), seal("s4", tw, keystore.StatePending))
	if err := b.Apply(ctx, keystore.Change{Keys: []keystore.KeyRecord{key("s5")}, Insert: []keystore.Seal{seal("s5", tw, keystore.StatePending)}}); !errors.Is(err, keystore.ErrPendingSealExists) {
		t.Fatalf("a second pending seal: err = %v, want ErrPendingSealExists", err)
	}
	// The pending seal cannot become live beside the live one.
	p := mustSeal(t, a, "s4")
	fill(&p, keystore.StateIssued)
	if err := a.Apply(ctx, keystore.Change{Update: []keystore.Seal{p}}); !errors.Is(err, keystore.ErrLiveSealExists) {
		t.Fatalf("pending -> issued beside a live seal: err = %v, want ErrLiveSealExists", err)
	}
	// Ending the live seal and issuing the pending one in one change works,
	// because updates apply in order.
	live := mustSeal(t, a, "s1")
	fill(&live, keystore.StateRevoked)
	p = mustSeal(t, a, "s4")
	fill(&p, keystore.StateIssued)
	if err := a.Apply(ctx, keystore.Change{Update: []keystore.Seal{live, p}}); err != nil {
		t.Fatalf("revoke the live seal and issue the pending one in one change: %v", err)
	}
	got, err := b.LiveSeal(ctx, tw)
	if err != nil || got.ID != "s4" {
		t.Fatalf("LiveSeal = %s, %v; want s4", got.ID, err)
	}
}

func testOneLiveConcurrent(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	const tw, n = "450224102", 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st := a
			if i%2 == 1 {
				st = b
			}
			s := seal(fmt.Sprintf("c%02d", i), tw, keystore.StateIssued)
			<-start
			errs[i] = st.Apply(ctx, keystore.Change{Keys: []keystore.KeyRecord{key(s.ID)}, Insert: []keystore.Seal{s}})
		}(i)
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, keystore.ErrLiveSealExists):
			t.Errorf("insert %d: err = %v, want ErrLiveSealExists", i, err)
		}
	}
	all, err := a.Seals(ctx, keystore.SealFilter{TownshipCode: tw})
	if won != 1 || err != nil || len(all) != 1 {
		t.Fatalf("%d concurrent inserts succeeded and %d seals are stored (%v); want 1 and 1", won, len(all), err)
	}
}

var allStates = []keystore.State{keystore.StatePending, keystore.StateIssued, keystore.StateActive,
	keystore.StateSuspended, keystore.StateRotated, keystore.StateRevoked}

// testTransitions tries every change of state and checks that the store
// allows exactly those of keystore.ValidTransition.
func testTransitions(t *testing.T, open Opener) {
	a, _ := fresh(t, open)
	i := 0
	for _, from := range allStates {
		for _, to := range allStates {
			if from == to {
				continue
			}
			i++
			tw := fmt.Sprintf("4502243%02d", i)
			s := seal(fmt.Sprintf("t%02d", i), tw, from)
			if from == keystore.StateRotated {
				insert(t, a, seal(s.ReplacedBy, tw, keystore.StateActive))
			}
			insert(t, a, s)
			next := s
			fill(&next, to)
			var c keystore.Change
			if to == keystore.StateRotated {
				c.Update = []keystore.Seal{next}
				repl := seal(next.ReplacedBy, tw, keystore.StateIssued)
				c.Keys, c.Insert = []keystore.KeyRecord{key(repl.ID)}, []keystore.Seal{repl}
			} else {
				c.Update = []keystore.Seal{next}
			}
			err := a.Apply(ctx, c)
			after := mustSeal(t, a, s.ID)
			if keystore.ValidTransition(from, to) {
				if err != nil || after.State != to || after.Version != s.Version+1 {
					t.Errorf("%s -> %s: err = %v, state %s, version %d; want it allowed", from, to, err, after.State, after.Version)
				}
				continue
			}
			if !errors.Is(err, keystore.ErrInvalidTransition) {
				t.Errorf("%s -> %s: err = %v, want ErrInvalidTransition", from, to, err)
			}
			if after.State != from || after.Version != s.Version {
				t.Errorf("%s -> %s: a refused change left the seal %s at version %d", from, to, after.State, after.Version)
			}
		}
	}
}

// testFixedFields changes fields that never change, and an ended seal.
func testFixedFields(t *testing.T, open Opener) {
	a, _ := fresh(t, open)
	insert(t, a, seal("f1", "450224110", keystore.StateActive), seal("f2", "450224111", keystore.StateRevoked))
	edits := map[string]func(*keystore.Seal){
		"township":     func(s *keystore.Seal) { s.TownshipCode = "450224199" },
		"organization": func(s *keystore.Seal) { s.Organization = "别的" },
		"name":         func(s *keystore.Seal) { s.Name = "别的章" },
		"key":          func(s *keystore.Seal) { s.KeyID = "key-f2" },
		"created":      func(s *keystore.Seal) { s.CreatedAt = s.CreatedAt.Add(time.Second) },
		"replaces":     func(s *keystore.Seal) { s.Replaces = "f2" },
		"certificate":  func(s *keystore.Seal) { s.Certificate = der("another") },
	}
	for name, edit := range edits {
		s := mustSeal(t, a, "f1")
		edit(&s)
		if err := a.Apply(ctx, keystore.Change{Update: []keystore.Seal{s}}); !errors.Is(err, keystore.ErrInvalidTransition) {
			t.Errorf("changing the %s: err = %v, want ErrInvalidTransition", name, err)
		}
	}
	ended := mustSeal(t, a, "f2")
	ended.RevocationReason = keystore.ReasonSuperseded
	if err := a.Apply(ctx, keystore.Change{Update: []keystore.Seal{ended}}); !errors.Is(err, keystore.ErrInvalidTransition) {
		t.Errorf("changing a revoked seal: err = %v, want ErrInvalidTransition", err)
	}
	if s := mustSeal(t, a, "f1"); s.Version != 1 {
		t.Fatalf("refused changes moved the version to %d", s.Version)
	}
}

func testVersionConflict(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	insert(t, a, seal("v1", "450224120", keystore.StateActive))
	s := mustSeal(t, a, "v1")
	suspended, revoked := s, s
	fill(&suspended, keystore.StateSuspended)
	fill(&revoked, keystore.StateRevoked)
	if err := a.Apply(ctx, keystore.Change{Update: []keystore.Seal{suspended}}); err != nil {
		t.Fatal(err)
	}
	// revoked was computed from the same version: it is stale now.
	if err := b.Apply(ctx, keystore.Change{Update: []keystore.Seal{revoked}}); !errors.Is(err, keystore.ErrConflict) {
		t.Fatalf("a stale update: err = %v, want ErrConflict", err)
	}
	if got := mustSeal(t, b, "v1"); got.State != keystore.StateSuspended || got.Version != 2 {
		t.Fatalf("after the conflict: %s at version %d, want suspended at 2", got.State, got.Version)
	}
	missing := seal("v-missing", "450224121", keystore.StateActive)
	if err := a.Apply(ctx, keystore.Change{Update: []keystore.Seal{missing}}); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("updating an unknown seal: err = %v, want ErrNotFound", err)
	}
}

// testApplyAtomic makes the last step of a change fail and checks that its
// first steps left no trace.
func testApplyAtomic(t *testing.T, open Opener) {
	a, _ := fresh(t, open)
	insert(t, a, seal("x1", "450224130", keystore.StateActive), seal("x2", "450224131", keystore.StateActive))
	s := mustSeal(t, a, "x1")
	rotated := s
	fill(&rotated, keystore.StateRotated)
	replacement := seal(rotated.ReplacedBy, "450224130", keystore.StateActive)
	intruder := seal("x3", "450224131", keystore.StateActive) // x2 is live there
	c := keystore.Change{
		Update:      []keystore.Seal{rotated},
		DestroyKeys: []string{s.KeyID},
		Keys:        []keystore.KeyRecord{key(replacement.ID), key(intruder.ID)},
		Insert:      []keystore.Seal{replacement, intruder},
		Events:      []keystore.Event{{SealID: s.ID, Action: "rotate", From: keystore.StateActive, To: keystore.StateRotated, At: now()}},
	}
	if err := a.Apply(ctx, c); !errors.Is(err, keystore.ErrLiveSealExists) {
		t.Fatalf("Apply: err = %v, want ErrLiveSealExists", err)
	}
	if got := mustSeal(t, a, "x1"); got.State != keystore.StateActive || got.Version != 1 {
		t.Fatalf("the failed change rotated x1 (%s, version %d)", got.State, got.Version)
	}
	if k, err := a.Key(ctx, s.KeyID); err != nil || k.Handle == nil {
		t.Fatalf("the failed change destroyed x1's key (%v)", err)
	}
	if _, err := a.Seal(ctx, replacement.ID); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatal("the failed change inserted the replacement")
	}
	if ev, _ := a.Events(ctx, "x1"); len(ev) != 1 {
		t.Fatalf("the failed change wrote events: %d", len(ev))
	}
}

func testDestroyKeys(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	insert(t, a, seal("d1", "450224140", keystore.StateActive))
	s := mustSeal(t, a, "d1")
	fill(&s, keystore.StateRevoked)
	if err := a.Apply(ctx, keystore.Change{Update: []keystore.Seal{s}, DestroyKeys: []string{s.KeyID}}); err != nil {
		t.Fatal(err)
	}
	k, err := b.Key(ctx, s.KeyID)
	if err != nil || k.Handle != nil || k.DestroyedAt.IsZero() || len(k.PublicKey) == 0 {
		t.Fatalf("destroyed key = %+v, %v; want no handle, a destruction time and the public key kept", k, err)
	}
	if err := a.Apply(ctx, keystore.Change{DestroyKeys: []string{"key-none"}}); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("destroying an unknown key: err = %v, want ErrNotFound", err)
	}
}

func testNewKeyWrongBackend(t *testing.T, open Opener) {
	a, _ := fresh(t, open)
	s := seal("w1", "450224150", keystore.StateIssued)
	k := key(s.ID)
	k.BackendID = "an old KEK"
	if err := a.Apply(ctx, keystore.Change{Keys: []keystore.KeyRecord{k}, Insert: []keystore.Seal{s}}); !errors.Is(err, keystore.ErrWrongKEK) {
		t.Fatalf("a key under another backend: err = %v, want ErrWrongKEK", err)
	}
	if _, err := a.Seal(ctx, s.ID); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatal("the refused change stored the seal")
	}
}

func testEvents(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	insert(t, a, seal("e1", "450224160", keystore.StateIssued))
	s := mustSeal(t, a, "e1")
	at := now()
	for i, to := range []keystore.State{keystore.StateActive, keystore.StateSuspended, keystore.StateActive} {
		from := s.State
		fill(&s, to)
		ev := keystore.Event{SealID: s.ID, Action: fmt.Sprintf("step%d", i), From: from, To: to, At: at.Add(time.Duration(i) * time.Second), Detail: "细节"}
		if err := a.Apply(ctx, keystore.Change{Update: []keystore.Seal{s}, Events: []keystore.Event{ev}}); err != nil {
			t.Fatal(err)
		}
		s.Version++
	}
	ev, err := b.Events(ctx, "e1")
	if err != nil || len(ev) != 4 {
		t.Fatalf("Events = %d, %v; want 4", len(ev), err)
	}
	for i, e := range ev {
		if i > 0 && (e.Seq <= ev[i-1].Seq || e.From != ev[i-1].To) {
			t.Fatalf("event %d does not follow event %d: %+v after %+v", i, i-1, e, ev[i-1])
		}
	}
	last := ev[3]
	if last.Action != "step2" || last.To != keystore.StateActive || !last.At.Equal(at.Add(2*time.Second)) || last.Detail != "细节" {
		t.Fatalf("last event = %+v", last)
	}
	if ev, err := b.Events(ctx, "e-none"); err != nil || len(ev) != 0 {
		t.Fatalf("Events of an unknown seal = %v, %v; want none", ev, err)
	}
}

func testQueries(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	insert(t, a, seal("q1", "450224170", keystore.StateRevoked))
	insert(t, a, seal("q2", "450224170", keystore.StateActive))
	insert(t, a, seal("q3", "450224170", keystore.StatePending))
	insert(t, a, seal("q4", "450224171", keystore.StateSuspended))
	ids := func(ss []keystore.Seal, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return fmt.Sprint(out)
	}
	for _, q := range []struct {
		f    keystore.SealFilter
		want string
	}{
		{keystore.SealFilter{}, "[q1 q2 q3 q4]"},
		{keystore.SealFilter{TownshipCode: "450224170"}, "[q1 q2 q3]"},
		{keystore.SealFilter{States: []keystore.State{keystore.StateSuspended, keystore.StateRevoked}}, "[q1 q4]"},
		{keystore.SealFilter{TownshipCode: "450224170", States: []keystore.State{keystore.StatePending}}, "[q3]"},
		{keystore.SealFilter{TownshipCode: "450224199"}, "[]"},
	} {
		if got := ids(b.Seals(ctx, q.f)); got != q.want {
			t.Errorf("Seals(%+v) = %s, want %s", q.f, got, q.want)
		}
	}
	if s, err := b.LiveSeal(ctx, "450224170"); err != nil || s.ID != "q2" {
		t.Errorf("LiveSeal = %s, %v; want q2", s.ID, err)
	}
	if s, err := b.LiveSeal(ctx, "450224171"); err != nil || s.ID != "q4" {
		t.Errorf("LiveSeal of a suspended seal's township = %s, %v; want q4", s.ID, err)
	}
	insert(t, a, seal("q5", "450224172", keystore.StatePending))
	if _, err := b.LiveSeal(ctx, "450224172"); !errors.Is(err, keystore.ErrNoSeal) {
		t.Errorf("LiveSeal with only a pending seal: err = %v, want ErrNoSeal", err)
	}
}

func testRewrap(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	insert(t, a, seal("r1", "450224180", keystore.StateActive), seal("r2", "450224181", keystore.StateActive), seal("r3", "450224182", keystore.StateActive))
	gone := mustSeal(t, a, "r3")
	fill(&gone, keystore.StateRevoked)
	if err := a.Apply(ctx, keystore.Change{Update: []keystore.Seal{gone}, DestroyKeys: []string{gone.KeyID}}); err != nil {
		t.Fatal(err)
	}
	handles := func() string {
		var out []string
		for _, id := range []string{"r1", "r2", "r3"} {
			k, err := b.Key(ctx, "key-"+id)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s=%q/%s", id, k.Handle, k.BackendID))
		}
		return fmt.Sprint(out)
	}
	before := handles()

	if _, err := a.RewrapKeys(ctx, "not recorded", "next", func(k keystore.KeyRecord) ([]byte, error) { return []byte("x"), nil }); !errors.Is(err, keystore.ErrWrongKEK) {
		t.Fatalf("RewrapKeys from an id that is not recorded: err = %v, want ErrWrongKEK", err)
	}
	boom := errors.New("boom")
	calls := 0
	_, err := a.RewrapKeys(ctx, backendID, "next", func(k keystore.KeyRecord) ([]byte, error) {
		calls++
		if calls == 2 {
			return nil, boom
		}
		return []byte("rewrapped " + k.ID), nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("RewrapKeys failing on the second key: err = %v, want the callback's error", err)
	}
	if after := handles(); after != before {
		t.Fatalf("a failed rewrap changed handles:\n%s\n%s", before, after)
	}
	if got, _ := b.ClaimBackend(ctx, "x"); got != backendID {
		t.Fatalf("a failed rewrap changed the recorded backend to %s", got)
	}

	var seen []string
	n, err := a.RewrapKeys(ctx, backendID, "next", func(k keystore.KeyRecord) ([]byte, error) {
		seen = append(seen, k.ID)
		return []byte("rewrapped " + k.ID), nil
	})
	if err != nil || n != 2 || len(seen) != 2 {
		t.Fatalf("RewrapKeys = %d, %v (saw %v); want the 2 keys that are not destroyed", n, err, seen)
	}
	want := `[r1="rewrapped key-r1"/next r2="rewrapped key-r2"/next r3=""/` + backendID + `]`
	if got := handles(); got != want {
		t.Fatalf("after rewrap: %s\nwant %s", got, want)
	}
	if got, _ := b.ClaimBackend(ctx, "x"); got != "next" {
		t.Fatalf("recorded backend after rewrap = %s, want next", got)
	}
	s := seal("r4", "450224183", keystore.StateIssued)
	if err := a.Apply(ctx, keystore.Change{Keys: []keystore.KeyRecord{key(s.ID)}, Insert: []keystore.Seal{s}}); !errors.Is(err, keystore.ErrWrongKEK) {
		t.Fatalf("adding a key under the old backend after rewrap: err = %v, want ErrWrongKEK", err)
	}
}

func testCRL(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	if _, err := a.LatestCRL(ctx); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("LatestCRL of an empty store: err = %v, want ErrNotFound", err)
	}
	insert(t, a,
		seal("l1", "450224190", keystore.StateActive),
		seal("l2", "450224191", keystore.StateSuspended),
		seal("l3", "450224192", keystore.StateRevoked),
		seal("l4", "450224193", keystore.StateRevoked), // revoked while pending: no certificate
		seal("l5", "450224194", keystore.StatePending),
	)
	// l3 and l4 were revoked before they had a certificate; l6 is revoked
	// with one.
	r := seal("l6", "450224195", keystore.StateActive)
	insert(t, a, r)
	r = mustSeal(t, a, "l6")
	fill(&r, keystore.StateRevoked)
	if err := a.Apply(ctx, keystore.Change{Update: []keystore.Seal{r}}); err != nil {
		t.Fatal(err)
	}

	boom := errors.New("boom")
	if _, err := a.PublishCRL(ctx, func(int64, []keystore.Seal) (keystore.CRLRecord, error) { return keystore.CRLRecord{}, boom }); !errors.Is(err, boom) {
		t.Fatalf("PublishCRL with a failing build: err = %v", err)
	}
	for i := int64(1); i <= 2; i++ {
		var listed string
		rec, err := b.PublishCRL(ctx, func(number int64, seals []keystore.Seal) (keystore.CRLRecord, error) {
			if number != i {
				return keystore.CRLRecord{}, fmt.Errorf("number %d, want %d (a failed build must not use one up)", number, i)
			}
			var ids []string
			for _, s := range seals {
				ids = append(ids, s.ID)
			}
			listed = fmt.Sprint(ids)
			t0 := now()
			return keystore.CRLRecord{ThisUpdate: t0, NextUpdate: t0.Add(time.Hour), DER: der(fmt.Sprint("crl ", number))}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Number != i || listed != "[l2 l6]" {
			t.Fatalf("CRL %d lists %s, want [l2 l6] (suspended and revoked with a certificate)", rec.Number, listed)
		}
	}
	latest, err := a.LatestCRL(ctx)
	if err != nil || latest.Number != 2 || string(latest.DER) != string(der("crl 2")) || latest.NextUpdate.Sub(latest.ThisUpdate) != time.Hour {
		t.Fatalf("LatestCRL = %+v, %v", latest, err)
	}
}
