package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ronganxian/eseal/keystore"
)

// ledgerKey returns a new ledger key record in state with its key.
func ledgerKey(id string, state keystore.LedgerKeyState) (keystore.LedgerKeyRecord, keystore.KeyRecord) {
	k := key(id)
	k.Owner = "ledger:" + id
	r := keystore.LedgerKeyRecord{ID: id, KeyID: k.ID, State: state, CreatedAt: now()}
	if state != keystore.LedgerKeyPending {
		r.Certificate = der("ledger cert " + id)
	}
	return r, k
}

func putLedgerKey(st keystore.Store, id string, state keystore.LedgerKeyState, retire string) error {
	r, k := ledgerKey(id, state)
	return st.ApplyLedgerKey(ctx, keystore.LedgerKeyChange{Retire: retire, At: now(), Key: &k, Put: r})
}

// ledgerStates lists the ledger keys as id=state, oldest first.
func ledgerStates(t *testing.T, st keystore.Store) string {
	t.Helper()
	recs, err := st.LedgerKeys(ctx)
	if err != nil {
		t.Fatalf("LedgerKeys: %v", err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%s=%s", r.ID, r.State))
	}
	return fmt.Sprint(out)
}

func testLedgerKeys(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	if got := ledgerStates(t, a); got != "[]" {
		t.Fatalf("ledger keys of an empty store: %s", got)
	}
	first, firstKey := ledgerKey("lk1", keystore.LedgerKeyCurrent)
	if err := a.ApplyLedgerKey(ctx, keystore.LedgerKeyChange{At: now(), Key: &firstKey, Put: first}); err != nil {
		t.Fatalf("first ledger key: %v", err)
	}
	recs, err := b.LedgerKeys(ctx)
	if err != nil || len(recs) != 1 {
		t.Fatalf("LedgerKeys = %v, %v", recs, err)
	}
	if got := recs[0]; got.ID != first.ID || got.KeyID != first.KeyID || got.State != first.State ||
		string(got.Certificate) != string(first.Certificate) || !got.CreatedAt.Equal(first.CreatedAt) || !got.RetiredAt.IsZero() {
		t.Fatalf("ledger key = %+v\nwant %+v", got, first)
	}
	if k, err := b.Key(ctx, firstKey.ID); err != nil || k.Owner != "ledger:lk1" || string(k.Handle) != string(firstKey.Handle) {
		t.Fatalf("ledger key's key = %+v, %v", k, err)
	}

	refused := []struct {
		name   string
		change func() keystore.LedgerKeyChange
		want   error
	}{
		{"a second current key", func() keystore.LedgerKeyChange {
			r, k := ledgerKey("lk2", keystore.LedgerKeyCurrent)
			return keystore.LedgerKeyChange{Key: &k, Put: r}
		}, keystore.ErrLedgerKeyExists},
		{"retiring a key that does not exist", func() keystore.LedgerKeyChange {
			r, k := ledgerKey("lk2", keystore.LedgerKeyCurrent)
			return keystore.LedgerKeyChange{Retire: "lk-none", At: now(), Key: &k, Put: r}
		}, keystore.ErrNotFound},
		{"retiring for a pending key", func() keystore.LedgerKeyChange {
			r, k := ledgerKey("lk2", keystore.LedgerKeyPending)
			return keystore.LedgerKeyChange{Retire: "lk1", At: now(), Key: &k, Put: r}
		}, keystore.ErrInvalidRequest},
		{"a current key without a certificate", func() keystore.LedgerKeyChange {
			r, k := ledgerKey("lk2", keystore.LedgerKeyCurrent)
			r.Certificate = nil
			return keystore.LedgerKeyChange{Retire: "lk1", At: now(), Key: &k, Put: r}
		}, keystore.ErrInvalidRequest},
		{"a key under another backend", func() keystore.LedgerKeyChange {
			r, k := ledgerKey("lk2", keystore.LedgerKeyCurrent)
			k.BackendID = "an old KEK"
			return keystore.LedgerKeyChange{Retire: "lk1", At: now(), Key: &k, Put: r}
		}, keystore.ErrWrongKEK},
		{"the current key made current again", func() keystore.LedgerKeyChange {
			return keystore.LedgerKeyChange{Put: first}
		}, keystore.ErrInvalidTransition},
	}
	for _, r := range refused {
		if err := b.ApplyLedgerKey(ctx, r.change()); !errors.Is(err, r.want) {
			t.Errorf("%s: err = %v, want %v", r.name, err, r.want)
		}
		if got := ledgerStates(t, a); got != "[lk1=current]" {
			t.Fatalf("%s: a refused change left %s", r.name, got)
		}
		if _, err := a.Key(ctx, "key-lk2"); !errors.Is(err, keystore.ErrNotFound) {
			t.Fatalf("%s: a refused change stored its key (%v)", r.name, err)
		}
		if k, _ := a.Key(ctx, firstKey.ID); k.Handle == nil {
			t.Fatalf("%s: a refused change destroyed the current key", r.name)
		}
	}

	// A pending key waits beside the current one; one pending at a time.
	if err := putLedgerKey(a, "lk2", keystore.LedgerKeyPending, ""); err != nil {
		t.Fatalf("a pending key beside the current one: %v", err)
	}
	if err := putLedgerKey(b, "lk3", keystore.LedgerKeyPending, ""); !errors.Is(err, keystore.ErrLedgerKeyExists) {
		t.Fatalf("a second pending key: err = %v, want ErrLedgerKeyExists", err)
	}
	// Accepting its certificate makes it current and retires the old one.
	pending, _ := ledgerKey("lk2", keystore.LedgerKeyPending)
	recs, _ = a.LedgerKeys(ctx)
	pending.CreatedAt = recs[1].CreatedAt
	accepted := pending
	accepted.State, accepted.Certificate = keystore.LedgerKeyCurrent, der("ledger cert lk2")
	if err := b.ApplyLedgerKey(ctx, keystore.LedgerKeyChange{Put: accepted}); !errors.Is(err, keystore.ErrLedgerKeyExists) {
		t.Fatalf("accepting beside the current key without retiring it: err = %v, want ErrLedgerKeyExists", err)
	}
	moved := accepted
	moved.KeyID = firstKey.ID
	if err := b.ApplyLedgerKey(ctx, keystore.LedgerKeyChange{Retire: "lk1", At: now(), Put: moved}); !errors.Is(err, keystore.ErrInvalidTransition) {
		t.Fatalf("accepting with another key: err = %v, want ErrInvalidTransition", err)
	}
	retiredAt := now()
	if err := b.ApplyLedgerKey(ctx, keystore.LedgerKeyChange{Retire: "lk1", At: retiredAt, Put: accepted}); err != nil {
		t.Fatalf("accepting the pending key: %v", err)
	}
	if got := ledgerStates(t, a); got != "[lk1=retired lk2=current]" {
		t.Fatalf("after accepting: %s", got)
	}
	recs, _ = a.LedgerKeys(ctx)
	if !recs[0].RetiredAt.Equal(retiredAt) || string(recs[1].Certificate) != string(accepted.Certificate) {
		t.Fatalf("after accepting: %+v", recs)
	}
	if k, err := a.Key(ctx, firstKey.ID); err != nil || k.Handle != nil || k.DestroyedAt.IsZero() {
		t.Fatalf("the retired key's key = %+v, %v; want it destroyed", k, err)
	}
	// A stale renewal (from a process that still thinks lk1 is current)
	// is refused, and so is changing a retired key.
	if err := putLedgerKey(a, "lk4", keystore.LedgerKeyCurrent, "lk1"); !errors.Is(err, keystore.ErrConflict) {
		t.Fatalf("retiring a retired key: err = %v, want ErrConflict", err)
	}
	if err := b.ApplyLedgerKey(ctx, keystore.LedgerKeyChange{Put: first}); !errors.Is(err, keystore.ErrInvalidTransition) {
		t.Fatalf("making a retired key current: err = %v, want ErrInvalidTransition", err)
	}
	if got := ledgerStates(t, b); got != "[lk1=retired lk2=current]" {
		t.Fatalf("after the refused changes: %s", got)
	}
}

// testLedgerKeyConcurrently makes the first ledger key from many goroutines
// over two handles, then renews it the same way: each time exactly one
// wins, and the others are told why.
func testLedgerKeyConcurrently(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	race := func(round, retire string, want error) string {
		const n = 12
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := a
				if i%2 == 1 {
					st = b
				}
				r, k := ledgerKey(fmt.Sprintf("%s-%02d", round, i), keystore.LedgerKeyCurrent)
				<-start
				errs[i] = st.ApplyLedgerKey(ctx, keystore.LedgerKeyChange{Retire: retire, At: now(), Key: &k, Put: r})
			}()
		}
		close(start)
		wg.Wait()
		winner := ""
		for i, err := range errs {
			switch {
			case err == nil && winner == "":
				winner = fmt.Sprintf("%s-%02d", round, i)
			case err == nil:
				t.Fatalf("%s: two ledger keys were made current (%s and %d)", round, winner, i)
			case !errors.Is(err, want):
				t.Errorf("%s: change %d: err = %v, want %v", round, i, err, want)
			}
		}
		if winner == "" {
			t.Fatalf("%s: no change succeeded", round)
		}
		return winner
	}
	first := race("first", "", keystore.ErrLedgerKeyExists)
	// Every loser of a renewal finds the key it would retire retired
	// already (ErrConflict): Retire applies first.
	second := race("renew", first, keystore.ErrConflict)
	recs, err := b.LedgerKeys(ctx)
	if err != nil || len(recs) != 2 || recs[0].ID != first || recs[0].State != keystore.LedgerKeyRetired ||
		recs[1].ID != second || recs[1].State != keystore.LedgerKeyCurrent {
		t.Fatalf("after two races: %s (%v); want %s retired and %s current", ledgerStates(t, b), err, first, second)
	}
}

// testRewrapLedgerKey checks that KEK rotation rewraps ledger keys but not
// retired ones.
func testRewrapLedgerKey(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	if err := putLedgerKey(a, "rk1", keystore.LedgerKeyCurrent, ""); err != nil {
		t.Fatal(err)
	}
	if err := putLedgerKey(a, "rk2", keystore.LedgerKeyCurrent, "rk1"); err != nil {
		t.Fatal(err)
	}
	if err := putLedgerKey(a, "rk3", keystore.LedgerKeyPending, ""); err != nil {
		t.Fatal(err)
	}
	var seen []string
	if _, err := b.RewrapKeys(ctx, backendID, "next", func(k keystore.KeyRecord) ([]byte, error) {
		seen = append(seen, k.Owner)
		return []byte("rewrapped " + k.ID), nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[ledger:rk2 ledger:rk3]" {
		t.Fatalf("RewrapKeys rewrapped %v, want the current and the pending ledger key", seen)
	}
	for _, id := range []string{"rk2", "rk3"} {
		if k, err := a.Key(ctx, "key-"+id); err != nil || string(k.Handle) != "rewrapped key-"+id || k.BackendID != "next" {
			t.Fatalf("key of %s after rewrap = %+v, %v", id, k, err)
		}
	}
}

// testCRLConcurrently publishes CRLs from many goroutines over two handles:
// the numbers run 1..n, each once.
func testCRLConcurrently(t *testing.T, open Opener) {
	a, b := fresh(t, open)
	const n = 12
	var wg sync.WaitGroup
	numbers := make([]int64, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := a
			if i%2 == 1 {
				st = b
			}
			rec, err := st.PublishCRL(ctx, func(number int64, _ []keystore.Seal) (keystore.CRLRecord, error) {
				t0 := now()
				return keystore.CRLRecord{ThisUpdate: t0, NextUpdate: t0.Add(time.Hour), DER: der(fmt.Sprint("crl ", number))}, nil
			})
			numbers[i], errs[i] = rec.Number, err
		}()
	}
	wg.Wait()
	seen := map[int64]int{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("PublishCRL %d: %v", i, err)
		}
		if j, dup := seen[numbers[i]]; dup {
			t.Fatalf("CRL number %d was given to publications %d and %d", numbers[i], j, i)
		}
		seen[numbers[i]] = i
	}
	for k := int64(1); k <= n; k++ {
		if _, ok := seen[k]; !ok {
			t.Fatalf("CRL numbers %v skip %d", seen, k)
		}
	}
	latest, err := b.LatestCRL(ctx)
	if err != nil || latest.Number != n || string(latest.DER) != string(der(fmt.Sprint("crl ", n))) {
		t.Fatalf("LatestCRL = %d, %v; want %d", latest.Number, err, n)
	}
}
