package keystore_test

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/store/sqlite"
)

// TestLifecycle walks one township's seal through its whole life, checking
// after each step what may sign, what the store holds and what history says.
func TestLifecycle(t *testing.T) {
	e := newEnv(t, true)
	ctx := e.ctx
	msg := []byte("融安县长安镇 办件 2025-0001")

	issued, err := e.ks.Issue(ctx, changan)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if issued.State != keystore.StateIssued || issued.Certificate == nil || issued.Serial == nil {
		t.Fatalf("issued seal = %+v", issued)
	}
	if _, err := e.ks.Signer(ctx, changan.TownshipCode); !errors.Is(err, keystore.ErrSealNotActive) {
		t.Fatalf("Signer before activation: err = %v, want ErrSealNotActive", err)
	}

	active, err := e.ks.Activate(ctx, issued.ID)
	if err != nil {
		t.Fatalf("Activate: %v", err)
	}
	held := e.mustSign(changan.TownshipCode, msg)
	if held.Seal().ID != issued.ID {
		t.Fatalf("signer is for seal %s, want %s", held.Seal().ID, issued.ID)
	}

	if _, err := e.ks.Suspend(ctx, active.ID); err != nil {
		t.Fatalf("Suspend: %v", err)
	}
	if _, err := e.ks.Signer(ctx, changan.TownshipCode); !errors.Is(err, keystore.ErrSealSuspended) {
		t.Fatalf("Signer while suspended: err = %v, want ErrSealSuspended", err)
	}
	if _, err := held.Sign(nil, msg, sm2.DefaultSM2SignerOpts); !errors.Is(err, keystore.ErrSealSuspended) {
		t.Fatalf("held signer while suspended: err = %v, want ErrSealSuspended", err)
	}
	var se *keystore.StateError
	if _, err := held.Sign(nil, msg, sm2.DefaultSM2SignerOpts); !errors.As(err, &se) || se.SealID != issued.ID {
		t.Fatalf("held signer while suspended: err = %v, want a *StateError naming %s", err, issued.ID)
	}

	if _, err := e.ks.Resume(ctx, active.ID); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	e.mustSign(changan.TownshipCode, msg)
	if _, err := held.Sign(nil, msg, sm2.DefaultSM2SignerOpts); err != nil {
		t.Fatalf("held signer after resume: %v", err)
	}

	rotated, err := e.ks.Rotate(ctx, active.ID)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if rotated.State != keystore.StateActive || rotated.Replaces != active.ID || rotated.KeyID == active.KeyID {
		t.Fatalf("rotated-in seal = %+v", rotated)
	}
	old, err := e.ks.Seal(ctx, active.ID)
	if err != nil {
		t.Fatal(err)
	}
	if old.State != keystore.StateRotated || old.ReplacedBy != rotated.ID || old.Certificate == nil {
		t.Fatalf("old seal after rotation = %+v (its certificate must stay)", old)
	}
	if _, err := held.Sign(nil, msg, sm2.DefaultSM2SignerOpts); !errors.Is(err, keystore.ErrSealRotated) {
		t.Fatalf("old signer after rotation: err = %v, want ErrSealRotated", err)
	}
	if _, err := e.ks.SealSigner(ctx, old.ID); !errors.Is(err, keystore.ErrSealRotated) {
		t.Fatalf("SealSigner(old): err = %v, want ErrSealRotated", err)
	}
	newSigner := e.mustSign(changan.TownshipCode, msg)
	if newSigner.Public().(*ecdsa.PublicKey).Equal(held.Public()) {
		t.Fatal("rotation kept the same public key")
	}

	revoked, err := e.ks.Revoke(ctx, rotated.ID, keystore.ReasonCessationOfOperation)
	if err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if revoked.State != keystore.StateRevoked || revoked.RevocationReason != keystore.ReasonCessationOfOperation || revoked.EndedAt.IsZero() {
		t.Fatalf("revoked seal = %+v", revoked)
	}
	if _, err := e.ks.Signer(ctx, changan.TownshipCode); !errors.Is(err, keystore.ErrSealRevoked) {
		t.Fatalf("Signer after revocation: err = %v, want ErrSealRevoked", err)
	}
	if _, err := newSigner.Sign(nil, msg, sm2.DefaultSM2SignerOpts); !errors.Is(err, keystore.ErrSealRevoked) {
		t.Fatalf("held signer after revocation: err = %v, want ErrSealRevoked", err)
	}

	// After 注销 the township may be given a new seal.
	again := e.issueActive(changan)
	e.mustSign(changan.TownshipCode, msg)

	all, err := e.ks.Seals(ctx, changan.TownshipCode)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range all {
		got = append(got, fmt.Sprintf("%s:%s", s.ID, s.State))
	}
	want := []string{active.ID + ":rotated", rotated.ID + ":revoked", again.ID + ":active"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Seals = %v, want %v", got, want)
	}

	history := map[string][]string{
		active.ID:  {"issue:->issued", "activate:issued->active", "suspend:active->suspended", "resume:suspended->active", "rotate:active->rotated"},
		rotated.ID: {"rotate:->active", "revoke:active->revoked"},
		again.ID:   {"issue:->issued", "activate:issued->active"},
	}
	for id, want := range history {
		ev, err := e.ks.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range ev {
			got = append(got, fmt.Sprintf("%s:%s->%s", x.Action, x.From, x.To))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("History(%s) = %v, want %v", id, got, want)
		}
	}
	if err := e.ks.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// TestTransitionsRefused tries every lifecycle operation from every state
// that does not allow it: each fails with ErrInvalidTransition and the
// state's own error, and leaves the seal as it was.
func TestTransitionsRefused(t *testing.T) {
	e := newEnv(t, true)
	ctx := e.ctx

	// One seal in each state, each in its own township.
	byState := map[keystore.State]keystore.Seal{}
	mk := func(i int, steps ...func(string) (keystore.Seal, error)) keystore.Seal {
		s, err := e.ks.Issue(ctx, townships[i])
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range steps {
			if s, err = step(s.ID); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	activate := func(id string) (keystore.Seal, error) { return e.ks.Activate(ctx, id) }
	suspend := func(id string) (keystore.Seal, error) { return e.ks.Suspend(ctx, id) }
	revoke := func(id string) (keystore.Seal, error) { return e.ks.Revoke(ctx, id, keystore.ReasonUnspecified) }
	byState[keystore.StateIssued] = mk(0)
	byState[keystore.StateActive] = mk(1, activate)
	byState[keystore.StateSuspended] = mk(2, activate, suspend)
	byState[keystore.StateRevoked] = mk(3, revoke)
	r := mk(4, activate)
	if _, err := e.ks.Rotate(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	byState[keystore.StateRotated], _ = e.ks.Seal(ctx, r.ID)

	ops := map[string]func(string) error{
		"activate": func(id string) error { _, err := e.ks.Activate(ctx, id); return err },
		"suspend":  func(id string) error { _, err := e.ks.Suspend(ctx, id); return err },
		"resume":   func(id string) error { _, err := e.ks.Resume(ctx, id); return err },
		"rotate":   func(id string) error { _, err := e.ks.Rotate(ctx, id); return err },
		"revoke":   func(id string) error { _, err := e.ks.Revoke(ctx, id, keystore.ReasonKeyCompromise); return err },
		"accept":   func(id string) error { _, err := e.ks.AcceptCertificate(ctx, id, []byte("x")); return err },
	}
	allowed := map[string][]keystore.State{
		"activate": {keystore.StateIssued},
		"suspend":  {keystore.StateActive},
		"resume":   {keystore.StateSuspended},
		"rotate":   {keystore.StateIssued, keystore.StateActive},
		"revoke":   {keystore.StateIssued, keystore.StateActive, keystore.StateSuspended},
	}
	stateErr := map[keystore.State]error{
		keystore.StateIssued:    keystore.ErrSealNotActive,
		keystore.StateSuspended: keystore.ErrSealSuspended,
		keystore.StateRotated:   keystore.ErrSealRotated,
		keystore.StateRevoked:   keystore.ErrSealRevoked,
	}
	tried := 0
	for op, do := range ops {
	states:
		for state, s := range byState {
			for _, a := range allowed[op] {
				if a == state {
					continue states
				}
			}
			tried++
			err := do(s.ID)
			if !errors.Is(err, keystore.ErrInvalidTransition) {
				t.Errorf("%s from %s: err = %v, want ErrInvalidTransition", op, state, err)
			}
			if want := stateErr[state]; want != nil && !errors.Is(err, want) {
				t.Errorf("%s from %s: err = %v, want it to match %v", op, state, err, want)
			}
			after, _ := e.ks.Seal(ctx, s.ID)
			if after.State != s.State || after.Version != s.Version {
				t.Errorf("%s from %s changed the seal to %s (version %d -> %d)", op, state, after.State, s.Version, after.Version)
			}
		}
	}
	if tried < 20 {
		t.Fatalf("only %d refused transitions tried", tried)
	}
	if err := e.ks.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// TestOneLiveSealPerTownship issues seals for one township concurrently from
// two Keystores on two database connections (as two processes would): exactly
// one issue succeeds, the others fail with ErrLiveSealExists, and the store
// holds one seal.
func TestOneLiveSealPerTownship(t *testing.T) {
	e := newEnv(t, true)
	other, err := e.open(e.openDB(), e.kek)
	if err != nil {
		t.Fatal(err)
	}
	keystores := []*keystore.Keystore{e.ks, other}

	const n = 12
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  []keystore.Seal
		errs []error
	)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(ks *keystore.Keystore) {
			defer wg.Done()
			<-start
			s, err := ks.Issue(e.ctx, changan)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else {
				won = append(won, s)
			}
		}(keystores[i%2])
	}
	close(start)
	wg.Wait()

	if len(won) != 1 {
		t.Fatalf("%d concurrent issues succeeded, want 1", len(won))
	}
	for _, err := range errs {
		if !errors.Is(err, keystore.ErrLiveSealExists) {
			t.Errorf("losing issue: err = %v, want ErrLiveSealExists", err)
		}
	}
	all, err := e.ks.Seals(e.ctx, changan.TownshipCode)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != won[0].ID {
		t.Fatalf("store holds %d seals for the township, want only %s", len(all), won[0].ID)
	}
	if err := e.ks.Check(e.ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// TestStateSeenAcrossProcesses suspends a seal through one Keystore and checks
// that another Keystore, on its own connection and with the key cached,
// refuses to hand out a signer for it at once.
func TestStateSeenAcrossProcesses(t *testing.T) {
	e := newEnv(t, true)
	s := e.issueActive(changan)
	db2, err := sqlite.Open(e.ctx, e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	other, err := e.open(db2, e.kek)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Signer(e.ctx, changan.TownshipCode); err != nil {
		t.Fatalf("other Signer: %v", err)
	}
	if _, err := e.ks.Suspend(e.ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Signer(e.ctx, changan.TownshipCode); !errors.Is(err, keystore.ErrSealSuspended) {
		t.Fatalf("other Signer after suspension elsewhere: err = %v, want ErrSealSuspended", err)
	}
	if _, err := e.ks.Resume(e.ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Signer(e.ctx, changan.TownshipCode); err != nil {
		t.Fatalf("other Signer after resumption elsewhere: %v", err)
	}
}
