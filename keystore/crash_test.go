package keystore_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/store/sqlite"
)

// The crash test runs this test binary again as a child that changes seals
// as fast as it can, kills it with SIGKILL at a random moment, and checks
// that the database it leaves holds the old or the new state of every
// change, never a mix. TestMain turns the binary into the child when
// crashChildEnv is set.
const (
	crashChildEnv = "ESEAL_KEYSTORE_CRASH_CHILD"
	crashDBEnv    = "ESEAL_KEYSTORE_CRASH_DB"
	crashKEKAEnv  = "ESEAL_KEYSTORE_CRASH_KEK_A"
	crashKEKBEnv  = "ESEAL_KEYSTORE_CRASH_KEK_B"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) == "1" {
		os.Exit(crashChild())
	}
	os.Exit(m.Run())
}

// openEither opens the keystore with whichever of two KEKs the store is
// under, and returns it with the KEK in use and the other one.
func openEither(ctx context.Context, db *sqlite.DB, a, b *keystore.KEK) (*keystore.Keystore, *keystore.KEK, *keystore.KEK, error) {
	for _, k := range [][2]*keystore.KEK{{a, b}, {b, a}} {
		ks, err := keystore.Open(ctx, keystore.Config{Store: db.Keystore(), Backend: keystore.NewSoftwareBackend(k[0])})
		if err == nil {
			return ks, k[0], k[1], nil
		}
		if !errors.Is(err, keystore.ErrWrongKEK) {
			return nil, nil, nil, err
		}
	}
	return nil, nil, nil, errors.New("neither KEK opens the store")
}

// crashChild changes seals in a loop and reports each completed change on
// stdout. Any error ends it with status 2, which fails the parent test.
func crashChild() int {
	ctx := context.Background()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "crash child:", err); return 2 }
	a, err := keystore.LoadKEKFile(os.Getenv(crashKEKAEnv))
	if err != nil {
		return fail(err)
	}
	b, err := keystore.LoadKEKFile(os.Getenv(crashKEKBEnv))
	if err != nil {
		return fail(err)
	}
	db, err := sqlite.Open(ctx, os.Getenv(crashDBEnv))
	if err != nil {
		return fail(err)
	}
	ks, _, other, err := openEither(ctx, db, a, b)
	if err != nil {
		return fail(err)
	}
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	for n := 1; ; n++ {
		op, err := crashStep(ctx, ks, rng, &other, a, b)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", op, err))
		}
		fmt.Printf("%d %s\n", n, op)
	}
}

// crashStep makes one random lifecycle change among four townships.
func crashStep(ctx context.Context, ks *keystore.Keystore, rng *rand.Rand, other **keystore.KEK, a, b *keystore.KEK) (string, error) {
	tw := townships[rng.IntN(4)]
	r := rng.IntN(100)
	switch {
	case r < 5:
		_, err := ks.PublishCRL(ctx)
		return "crl", err
	case r < 9:
		next := *other
		if err := ks.RotateKEK(ctx, next); err != nil {
			return "kek", err
		}
		if next == a {
			*other = b
		} else {
			*other = a
		}
		return "kek", nil
	}
	live, err := ks.LiveSeal(ctx, tw.TownshipCode)
	if errors.Is(err, keystore.ErrNoSeal) {
		_, err := ks.Issue(ctx, tw)
		return "issue", err
	}
	if err != nil {
		return "live", err
	}
	switch live.State {
	case keystore.StateIssued:
		if r < 70 {
			_, err = ks.Activate(ctx, live.ID)
			return "activate", err
		}
		_, err = ks.Rotate(ctx, live.ID)
		return "rotate issued", err
	case keystore.StateActive:
		switch {
		case r < 40:
			s, err := ks.Signer(ctx, tw.TownshipCode)
			if err != nil {
				return "signer", err
			}
			_, err = s.Sign(nil, []byte("crash test"), sm2.DefaultSM2SignerOpts)
			return "sign", err
		case r < 60:
			_, err = ks.Suspend(ctx, live.ID)
			return "suspend", err
		case r < 90:
			_, err = ks.Rotate(ctx, live.ID)
			return "rotate", err
		default:
			_, err = ks.Revoke(ctx, live.ID, keystore.ReasonSuperseded)
			return "revoke", err
		}
	case keystore.StateSuspended:
		if r < 75 {
			_, err = ks.Resume(ctx, live.ID)
			return "resume", err
		}
		_, err = ks.Revoke(ctx, live.ID, keystore.ReasonKeyCompromise)
		return "revoke suspended", err
	}
	return "none", fmt.Errorf("live seal %s is %s", live.ID, live.State)
}

// TestCrashSafety kills a child process in the middle of its changes,
// several times over the same database, and checks the invariants after each
// crash: the store opens under exactly one KEK, at most one live seal per
// township, every seal's history leads to its state, every key that should
// open opens and matches its certificate, ended seals' keys are destroyed,
// every key is under the recorded KEK, CRL numbers have no gaps, every active
// seal signs, and the store takes new changes.
func TestCrashSafety(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Fatal("nested crash child")
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "crash.db")
	a, err := keystore.WriteKEKFile(filepath.Join(dir, "kek-a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := keystore.WriteKEKFile(filepath.Join(dir, "kek-b"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keystore.Open(ctx, keystore.Config{Store: db.Keystore(), Backend: keystore.NewSoftwareBackend(a)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateCA(ctx, countyCA); err != nil {
		t.Fatal(err)
	}
	db.Close()

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	const rounds = 8
	total := 0
	for round := 1; round <= rounds; round++ {
		target := 5 + rng.IntN(40)
		done, last := runAndKill(t, path, dir, target, time.Duration(rng.IntN(4000))*time.Microsecond)
		total += done
		t.Logf("round %d: killed after %d changes (last %q)", round, done, last)
		checkAfterCrash(t, path, a, b)
	}
	if total < rounds*5 {
		t.Fatalf("the child made only %d changes in %d rounds", total, rounds)
	}
}

// runAndKill runs the child until it has reported target changes, waits a
// little more so that the kill lands at a random point of the next change,
// and kills it with SIGKILL.
func runAndKill(t *testing.T, path, dir string, target int, extra time.Duration) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		crashChildEnv+"=1", crashDBEnv+"="+path,
		crashKEKAEnv+"="+filepath.Join(dir, "kek-a"), crashKEKBEnv+"="+filepath.Join(dir, "kek-b"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	n, last := 0, ""
	timeout := time.After(60 * time.Second)
wait:
	for n < target {
		select {
		case l, ok := <-lines:
			if !ok {
				break wait
			}
			n, last = n+1, l
		case <-timeout:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the child made %d changes in 60s, want %d; stderr: %s", n, target, stderr.String())
		}
	}
	if n < target {
		cmd.Wait()
		t.Fatalf("the child stopped after %d changes: %s", n, stderr.String())
	}
	time.Sleep(extra)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	for range lines { // drain what it wrote before dying
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("the child ended with %v before it was killed; stderr: %s", err, stderr.String())
	}
	return n, last
}

func checkAfterCrash(t *testing.T, path string, a, b *keystore.KEK) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path) // recovers the WAL
	if err != nil {
		t.Fatalf("reopen after the crash: %v", err)
	}
	defer db.Close()
	ks, cur, other, err := openEither(ctx, db, a, b)
	if err != nil {
		t.Fatalf("after the crash: %v", err)
	}
	if _, err := keystore.Open(ctx, keystore.Config{Store: db.Keystore(), Backend: keystore.NewSoftwareBackend(other)}); !errors.Is(err, keystore.ErrWrongKEK) {
		t.Fatalf("after the crash the store also opens under the other KEK (%v)", err)
	}
	if err := ks.Check(ctx); err != nil {
		t.Fatalf("after the crash: %v", err)
	}

	raw, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	count := func(q string, args ...any) int {
		var n int
		if err := raw.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := count(`SELECT COUNT(*) FROM (SELECT township_code FROM keystore_seals
		WHERE state IN ('issued', 'active', 'suspended') GROUP BY township_code HAVING COUNT(*) > 1)`); n != 0 {
		t.Fatalf("after the crash %d townships have more than one live seal", n)
	}
	if n := count(`SELECT COUNT(*) FROM keystore_keys WHERE handle IS NOT NULL AND backend_id <> ?`, cur.ID()); n != 0 {
		t.Fatalf("after the crash %d keys are not under the KEK in use (%s)", n, cur.ID())
	}
	if n := count(`SELECT COUNT(*) FROM keystore_crls`); n != count(`SELECT COALESCE(MAX(number), 0) FROM keystore_crls`) {
		t.Fatalf("CRL numbers have gaps after the crash")
	}
	if n := count(`SELECT COUNT(*) FROM keystore_seals s WHERE s.version <> (SELECT COUNT(*) FROM keystore_events e WHERE e.seal_id = s.id)`); n != 0 {
		t.Fatalf("after the crash %d seals have a version that does not match their number of events", n)
	}

	seals, err := ks.Seals(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range seals {
		if s.State != keystore.StateActive {
			continue
		}
		signer, err := ks.SealSigner(ctx, s.ID)
		if err != nil {
			t.Fatalf("active seal %s after the crash: %v", s.ID, err)
		}
		msg := []byte("after the crash")
		sig, err := signer.Sign(nil, msg, sm2.DefaultSM2SignerOpts)
		if err != nil {
			t.Fatal(err)
		}
		verifyBoth(t, signer.Public().(*ecdsa.PublicKey), msg, sig)
	}
	// The store takes new changes.
	if _, err := ks.PublishCRL(ctx); err != nil {
		t.Fatalf("PublishCRL after the crash: %v", err)
	}
}
