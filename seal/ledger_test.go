package seal_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/sqlite"
)

var (
	admin    = &seal.Principal{ID: "admin", Role: seal.RoleAdmin}
	nongye   = &seal.Principal{ID: "sup-nongye", Role: seal.RoleSupervisor, Domains: []string{"农业农村"}}
	changan  = &seal.Principal{ID: "changan", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowApproval}}
	stranger = &seal.Principal{ID: "x", Role: "root"}
)

func TestScope(t *testing.T) {
	for _, tc := range []struct {
		name    string
		who     *seal.Principal
		ask     seal.RecordFilter
		want    seal.RecordFilter
		allowed bool
	}{
		{"the county office reads everything", admin, seal.RecordFilter{}, seal.RecordFilter{}, true},
		{"the county office narrows as it likes", admin, seal.RecordFilter{Township: "450224101", Domains: []string{"民政"}},
			seal.RecordFilter{Township: "450224101", Domains: []string{"民政"}}, true},
		{"a supervisor reads its domains", nongye, seal.RecordFilter{}, seal.RecordFilter{Domains: []string{"农业农村"}}, true},
		{"a supervisor narrows to a township", nongye, seal.RecordFilter{Township: "450224101"},
			seal.RecordFilter{Township: "450224101", Domains: []string{"农业农村"}}, true},
		{"a supervisor asks for another domain", nongye, seal.RecordFilter{Domains: []string{"民政"}}, seal.RecordFilter{}, false},
		{"a clerk reads its township", changan, seal.RecordFilter{}, seal.RecordFilter{Township: "450224100"}, true},
		{"a clerk narrows to a domain", changan, seal.RecordFilter{Domains: []string{"民政"}},
			seal.RecordFilter{Township: "450224100", Domains: []string{"民政"}}, true},
		{"a clerk asks for another township", changan, seal.RecordFilter{Township: "450224101"}, seal.RecordFilter{}, false},
		{"no credentials", nil, seal.RecordFilter{}, seal.RecordFilter{}, false},
		{"an unknown role", stranger, seal.RecordFilter{}, seal.RecordFilter{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := seal.Scope(tc.who, tc.ask)
			if !tc.allowed {
				if !errors.Is(err, seal.ErrPermission) {
					t.Fatalf("Scope = %+v, %v; want ErrPermission", got, err)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("Scope = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// ledgerFixture is a ledger in SQLite with records of two townships and
// two domains.
func ledgerFixture(t *testing.T, keys seal.CheckpointKeys) (*seal.Ledger, store.Store) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := db.Service()
	t.Cleanup(func() { st.Close() })
	return seal.NewLedger(st, keys), st
}

func appendRecord(t *testing.T, l *seal.Ledger, i int, town, domain string) *seal.Record {
	t.Helper()
	r := &seal.Record{Time: time.Now(), RequestID: fmt.Sprintf("r-%d", i), Township: town, Item: "450224-XK-0002",
		Domain: domain, CaseNo: fmt.Sprintf("C-%d", i), Principal: "clerk", InputSM3: make([]byte, 32),
		Result: seal.ResultRefused, Rule: seal.RuleWrongWindow, Detail: "test"}
	got, err := l.Append(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestLedgerReadsOnlyWhatTheCallerMay(t *testing.T) {
	ctx := context.Background()
	l, _ := ledgerFixture(t, nil)
	appendRecord(t, l, 1, "450224100", "农业农村")
	appendRecord(t, l, 2, "450224101", "农业农村")
	appendRecord(t, l, 3, "450224100", "民政")

	seqs := func(recs []*seal.Record) string {
		var s []uint64
		for _, r := range recs {
			s = append(s, r.Seq)
		}
		return fmt.Sprint(s)
	}
	for _, tc := range []struct {
		who  *seal.Principal
		want string
	}{{admin, "[1 2 3]"}, {nongye, "[1 2]"}, {changan, "[1 3]"}} {
		recs, next, err := l.Records(ctx, tc.who, seal.RecordFilter{}, 0, 0)
		if err != nil || seqs(recs) != tc.want || next != 0 {
			t.Errorf("%s reads %s (next %d), %v; want %s", tc.who.ID, seqs(recs), next, err, tc.want)
		}
	}
	// Pages: a full page says where to go on.
	recs, next, err := l.Records(ctx, admin, seal.RecordFilter{}, 0, 2)
	if err != nil || seqs(recs) != "[1 2]" || next != 2 {
		t.Errorf("first page %s, next %d, %v", seqs(recs), next, err)
	}
	if _, _, err := l.Records(ctx, changan, seal.RecordFilter{Township: "450224101"}, 0, 0); !errors.Is(err, seal.ErrPermission) {
		t.Errorf("a clerk reads another township: %v", err)
	}
	// One record: another township's does not exist for the clerk.
	if r, err := l.Record(ctx, changan, 3); err != nil || r.Seq != 3 {
		t.Errorf("the clerk's own record: %v, %v", r, err)
	}
	if _, err := l.Record(ctx, changan, 2); !errors.Is(err, seal.ErrNotFound) {
		t.Errorf("another township's record: %v, want ErrNotFound", err)
	}
	if _, err := l.Record(ctx, nongye, 3); !errors.Is(err, seal.ErrNotFound) {
		t.Errorf("another domain's record: %v, want ErrNotFound", err)
	}
}

func TestLedgerWatchWakesOnAppend(t *testing.T) {
	l, _ := ledgerFixture(t, nil)
	appendRecord(t, l, 1, "450224100", "农业农村")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(chan uint64, 10)
	done := make(chan error, 1)
	go func() {
		done <- l.Watch(ctx, nongye, seal.RecordFilter{}, 0, func(r *seal.Record) error { got <- r.Seq; return nil })
	}()
	if seq := <-got; seq != 1 {
		t.Fatalf("first record %d", seq)
	}
	appendRecord(t, l, 2, "450224100", "民政") // not the supervisor's
	appendRecord(t, l, 3, "450224101", "农业农村")
	select {
	case seq := <-got:
		if seq != 3 {
			t.Fatalf("watched record %d, want 3", seq)
		}
	case <-ctx.Done():
		t.Fatal("the watch was not woken by the append")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Watch ended with %v", err)
	}
	if err := l.Watch(context.Background(), stranger, seal.RecordFilter{}, 0, nil); !errors.Is(err, seal.ErrPermission) {
		t.Fatalf("a watch without ledger access: %v", err)
	}
}

// testCheckpointKeys signs checkpoints with a test county's ledger key.
type testCheckpointKeys struct {
	county *testpki.Chain
}

func (k testCheckpointKeys) CheckpointKey(context.Context) (crypto.Signer, *smx509.Certificate, error) {
	return k.county.LeafKey(), k.county.Leaf(), nil
}

func (k testCheckpointKeys) CheckpointTrust(context.Context) (*seal.CheckpointTrust, error) {
	pool := smx509.NewCertPool()
	pool.AddCert(k.county.Root())
	return &seal.CheckpointTrust{Roots: pool, IsLedgerKey: isTestLedgerKey}, nil
}

func TestLedgerCheckpoints(t *testing.T) {
	ctx := context.Background()
	county := testpki.MustChain(testpki.Options{Length: 2, LeafName: ledgerKeyName})
	l, st := ledgerFixture(t, testCheckpointKeys{county})
	if _, err := l.Checkpoint(ctx); !errors.Is(err, seal.ErrLedgerEmpty) {
		t.Fatalf("a checkpoint of an empty ledger: %v", err)
	}
	for i := range 3 {
		appendRecord(t, l, i, "450224100", "农业农村")
	}
	c, err := l.Checkpoint(ctx)
	if err != nil || c.Seq != 3 {
		t.Fatalf("Checkpoint = %+v, %v", c, err)
	}
	appendRecord(t, l, 4, "450224100", "农业农村")
	rep, err := l.Verify(ctx)
	if err != nil || !rep.Valid || rep.RecordsChecked != 4 || rep.CheckpointsMatched != 1 || rep.Break != nil {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}

	// A checkpoint signed by a key that does not chain to the county's
	// root breaks the ledger's verification, though its signature holds.
	rogue := testpki.MustChain(testpki.Options{Length: 2, LeafName: ledgerKeyName})
	head, _ := st.Head(ctx)
	forged, err := seal.SignCheckpoint(head, time.Now(), rogue.LeafKey(), rogue.Leaf())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddCheckpoint(ctx, forged); err != nil {
		t.Fatal(err)
	}
	rep, err = l.Verify(ctx)
	if err != nil || rep.Valid || rep.Break == nil || rep.Break.Reason == "" {
		t.Fatalf("Verify with an untrusted checkpoint = %+v, %v; want a break", rep, err)
	}

	// Without checkpoint keys there is nothing to sign with or check against.
	bare := seal.NewLedger(st, nil)
	if _, err := bare.Checkpoint(ctx); !errors.Is(err, seal.ErrNoCheckpointKey) {
		t.Errorf("Checkpoint without keys: %v", err)
	}
	if _, err := bare.Verify(ctx); !errors.Is(err, seal.ErrNoCheckpointKey) {
		t.Errorf("Verify without keys: %v", err)
	}
}

func TestRunCheckpointsSignsWhenTheHeadMoved(t *testing.T) {
	county := testpki.MustChain(testpki.Options{Length: 2, LeafName: ledgerKeyName})
	l, st := ledgerFixture(t, testCheckpointKeys{county})
	appendRecord(t, l, 1, "450224100", "农业农村")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.RunCheckpoints(ctx, 10*time.Millisecond, discardLog()); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		cps, err := st.Checkpoints(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(cps) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint was signed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The head has not moved since: no second checkpoint.
	time.Sleep(100 * time.Millisecond)
	cancel()
	<-done
	if cps, _ := st.Checkpoints(context.Background()); len(cps) != 1 {
		t.Fatalf("%d checkpoints of one unchanged head", len(cps))
	}
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
