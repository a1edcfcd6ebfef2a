// Package storetest is the conformance suite of store.Store: every
// implementation runs it, so that SQLite and PostgreSQL behave alike.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/internal/democatalog"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
)

// Opener opens a fresh, empty store for one test, and a second handle on
// the same database, as a second service replica would have.
type Opener interface {
	Open(t *testing.T) (first, second store.Store)
}

// OpenerFunc adapts a function to Opener.
type OpenerFunc func(t *testing.T) (store.Store, store.Store)

func (f OpenerFunc) Open(t *testing.T) (store.Store, store.Store) { return f(t) }

// Run runs the whole suite.
func Run(t *testing.T, o Opener) {
	t.Run("Registry", func(t *testing.T) { testRegistry(t, o) })
	t.Run("RegistryImportIsAtomic", func(t *testing.T) { testImportAtomic(t, o) })
	t.Run("Principals", func(t *testing.T) { testPrincipals(t, o) })
	t.Run("TokensExpire", func(t *testing.T) { testTokensExpire(t, o) })
	t.Run("TokenRotation", func(t *testing.T) { testTokenRotation(t, o) })
	t.Run("TokenRotationsTakeTurns", func(t *testing.T) { testRotationsTakeTurns(t, o) })
	t.Run("Ledger", func(t *testing.T) { testLedger(t, o) })
	t.Run("LedgerIdempotency", func(t *testing.T) { testIdempotency(t, o) })
	t.Run("LedgerConcurrentReplicas", func(t *testing.T) { testConcurrentAppend(t, o) })
	t.Run("LedgerGroupedAppends", func(t *testing.T) { testGroupedAppends(t, o) })
	t.Run("Checkpoints", func(t *testing.T) { testCheckpoints(t, o) })
}

func loadCatalog(t *testing.T, s store.Store) *seal.Catalog {
	t.Helper()
	c, err := democatalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ImportCatalog(context.Background(), c); err != nil {
		t.Fatalf("ImportCatalog: %v", err)
	}
	return c
}

func testRegistry(t *testing.T, o Opener) {
	ctx := context.Background()
	s, other := o.Open(t)
	c := loadCatalog(t, s)

	towns, err := other.Townships(ctx)
	if err != nil || len(towns) != len(c.Townships) {
		t.Fatalf("Townships: %d, %v; want %d", len(towns), err, len(c.Townships))
	}
	if towns[0] != c.Townships[0] {
		t.Errorf("township round trip: %+v, want %+v", towns[0], c.Townships[0])
	}
	it, err := s.Item(ctx, "450224-XK-0002")
	if err != nil {
		t.Fatal(err)
	}
	var want seal.Item
	for _, x := range c.Items {
		if x.Code == it.Code {
			want = x
		}
	}
	if fmt.Sprint(it) != fmt.Sprint(want) {
		t.Errorf("item round trip:\n got %+v\nwant %+v", it, want)
	}
	if _, err := s.Item(ctx, "450224-XK-9999"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown item: %v", err)
	}
	if _, err := s.Township(ctx, "450224999"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown township: %v", err)
	}
	approval, err := s.Items(ctx, seal.WindowApproval, "")
	if err != nil || len(approval) != 9 {
		t.Errorf("approval items: %d, %v; want 9", len(approval), err)
	}
	minzheng, err := s.Items(ctx, seal.WindowService, "民政")
	if err != nil || len(minzheng) != 3 {
		t.Errorf("民政 service items: %d, %v; want 3", len(minzheng), err)
	}
	for _, tc := range []struct {
		town, item string
		want       bool
	}{
		{"450224100", "450224-XK-0002", true},
		{"450224200", "450224-XK-0006", false}, // not on 雅瑶乡's list
		{"450224100", "450224-PZ-0001", false},
		{"450224999", "450224-XK-0002", false},
	} {
		got, err := s.Implements(ctx, tc.town, tc.item)
		if err != nil || got != tc.want {
			t.Errorf("Implements(%s, %s) = %v, %v; want %v", tc.town, tc.item, got, err, tc.want)
		}
	}
	list, err := s.ImplementationList(ctx, "450224200")
	if err != nil || len(list) != 23 {
		t.Errorf("implementation list of 雅瑶乡: %d items, %v; want 23", len(list), err)
	}

	// A later import replaces the list of each township it names.
	err = s.ImportCatalog(ctx, &seal.Catalog{Implementations: []seal.Implementation{{Township: "450224200", Item: "450224-XK-0001"}}})
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ImplementationList(ctx, "450224200"); len(list) != 1 || list[0].Code != "450224-XK-0001" {
		t.Errorf("replaced list: %v", list)
	}
	if list, _ := s.ImplementationList(ctx, "450224100"); len(list) != 24 {
		t.Errorf("a township the import did not name lost its list: %d items", len(list))
	}

	got, err := s.SetItemActive(ctx, "450224-XK-0003", false)
	if err != nil || got.Active {
		t.Fatalf("SetItemActive: %+v, %v", got, err)
	}
	if it, _ := other.Item(ctx, "450224-XK-0003"); it.Active {
		t.Error("withdrawn item still active through the other handle")
	}
	if _, err := s.SetItemActive(ctx, "450224-XK-9999", true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetItemActive of unknown item: %v", err)
	}
}

func testImportAtomic(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := o.Open(t)
	loadCatalog(t, s)
	// A catalog that names an unknown item fails in the middle; nothing of
	// it may remain.
	bad := &seal.Catalog{
		Townships: []seal.Township{{Code: "450224300", Name: "新乡", Kind: "乡", SealName: "融安县新乡人民政府政务服务专用章"}},
		Implementations: []seal.Implementation{
			{Township: "450224300", Item: "450224-XK-0001"},
			{Township: "450224300", Item: "450224-XK-9999"},
		},
	}
	if err := s.ImportCatalog(ctx, bad); err == nil {
		t.Fatal("import naming an unknown item succeeded")
	}
	if _, err := s.Township(ctx, "450224300"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed import left its township behind: %v", err)
	}
}

func testPrincipals(t *testing.T, o Opener) {
	ctx := context.Background()
	s, other := o.Open(t)
	clerk := seal.Principal{ID: "clerk-1", Name: "张三", Role: seal.RoleClerk, Township: "450224100",
		Windows: []seal.Window{seal.WindowApproval, seal.WindowService}}
	h1 := sm3.Sum([]byte("token one"))
	if err := s.CreatePrincipal(ctx, clerk, token(h1[:], aYear)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	got, err := other.PrincipalByCredential(ctx, store.CredentialToken, h1[:], now)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(clerk) {
		t.Fatalf("PrincipalByCredential: %+v, %v", got, err)
	}
	if _, err := s.PrincipalByCredential(ctx, store.CredentialCert, h1[:], now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a token hash matched as a certificate: %v", err)
	}
	h2 := sm3.Sum([]byte("token two"))
	if err := s.CreatePrincipal(ctx, clerk, token(h2[:], aYear)); !errors.Is(err, store.ErrExists) {
		t.Errorf("duplicate id: %v", err)
	}
	sup := seal.Principal{ID: "sup-1", Role: seal.RoleSupervisor, Domains: []string{"民政", "医保"}}
	if err := s.CreatePrincipal(ctx, sup, token(h1[:], aYear)); !errors.Is(err, store.ErrExists) {
		t.Errorf("duplicate credential: %v", err)
	}
	if err := s.CreatePrincipal(ctx, sup, token(h2[:], aYear)); err != nil {
		t.Fatal(err)
	}
	cert := sm3.Sum([]byte("certificate"))
	if err := s.AddCredential(ctx, "sup-1", store.Credential{Kind: store.CredentialCert, Hash: cert[:]}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PrincipalByCredential(ctx, store.CredentialCert, cert[:], now); err != nil || got.ID != "sup-1" || len(got.Domains) != 2 {
		t.Errorf("by certificate: %+v, %v", got, err)
	}
	if err := s.AddCredential(ctx, "nobody", token(make([]byte, 32), aYear)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("credential for unknown principal: %v", err)
	}
	all, err := s.ListPrincipals(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("ListPrincipals: %d, %v", len(all), err)
	}
	info, err := s.DisablePrincipal(ctx, "clerk-1")
	if err != nil || !info.Disabled {
		t.Fatalf("DisablePrincipal: %+v, %v", info, err)
	}
	if _, err := other.PrincipalByCredential(ctx, store.CredentialToken, h1[:], now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a disabled principal still authenticates: %v", err)
	}
}

const aYear = 8760 * time.Hour

// token is a token credential of hash that expires after ttl from now.
func token(hash []byte, ttl time.Duration) store.Credential {
	return store.Credential{Kind: store.CredentialToken, Hash: hash, Expires: time.Now().Add(ttl)}
}

// valid reports whether the credential authenticates id at the time at,
// and fails the test if it authenticates anyone else or the store fails.
func valid(t *testing.T, s store.Store, kind string, hash []byte, at time.Time, id string) bool {
	t.Helper()
	p, err := s.PrincipalByCredential(context.Background(), kind, hash, at)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil || p.ID != id {
		t.Fatalf("PrincipalByCredential at %v: %+v, %v; want %s or ErrNotFound", at, p, err, id)
	}
	return true
}

// testTokensExpire: a token works until its expiry and not from then on,
// in every replica, and is refused like an unknown one; a token cannot be
// stored without an expiry; a certificate has none here.
func testTokensExpire(t *testing.T, o Opener) {
	ctx := context.Background()
	s, other := o.Open(t)
	clerk := seal.Principal{ID: "clerk-1", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowApproval}}
	h := sm3.Sum([]byte("expiring token"))
	expires := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	if err := s.CreatePrincipal(ctx, clerk, store.Credential{Kind: store.CredentialToken, Hash: h[:], Expires: expires}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Now(), true},
		{expires.Add(-time.Microsecond), true},
		{expires, false},
		{expires.Add(aYear), false},
	} {
		for i, db := range []store.Store{s, other} {
			if got := valid(t, db, store.CredentialToken, h[:], tc.at, "clerk-1"); got != tc.want {
				t.Errorf("replica %d at expiry%+v: valid %v, want %v", i, tc.at.Sub(expires), got, tc.want)
			}
		}
	}

	never := sm3.Sum([]byte("a token that never expires"))
	for _, err := range []error{
		s.AddCredential(ctx, "clerk-1", store.Credential{Kind: store.CredentialToken, Hash: never[:]}),
		s.CreatePrincipal(ctx, seal.Principal{ID: "sup-1", Role: seal.RoleSupervisor, Domains: []string{"民政"}},
			store.Credential{Kind: store.CredentialToken, Hash: never[:]}),
	} {
		if err == nil || errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("a token without an expiry: %v, want it refused", err)
		}
	}
	if valid(t, s, store.CredentialToken, never[:], time.Now(), "clerk-1") {
		t.Error("the token without an expiry was stored")
	}

	cert := sm3.Sum([]byte("client certificate"))
	if err := s.AddCredential(ctx, "clerk-1", store.Credential{Kind: store.CredentialCert, Hash: cert[:]}); err != nil {
		t.Fatal(err)
	}
	if !valid(t, other, store.CredentialCert, cert[:], time.Now().Add(10*aYear), "clerk-1") {
		t.Error("a certificate credential expired in the store; its own validity applies")
	}
}

// testTokenRotation: a rotation's new token works at once, the principal's
// other tokens until the overlap ends and not after, a token that expires
// sooner keeps its expiry, certificates are untouched, and only the newest
// token may rotate itself.
func testTokenRotation(t *testing.T, o Opener) {
	ctx := context.Background()
	s, other := o.Open(t)
	clerk := seal.Principal{ID: "clerk-1", Role: seal.RoleClerk, Township: "450224100", Windows: []seal.Window{seal.WindowApproval}}
	t0, t1, t2, short := sm3.Sum([]byte("t0")), sm3.Sum([]byte("t1")), sm3.Sum([]byte("t2")), sm3.Sum([]byte("short"))
	cert := sm3.Sum([]byte("certificate"))
	if err := s.CreatePrincipal(ctx, clerk, token(t0[:], aYear)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []store.Credential{token(short[:], time.Hour), {Kind: store.CredentialCert, Hash: cert[:]}} {
		if err := s.AddCredential(ctx, "clerk-1", c); err != nil {
			t.Fatal(err)
		}
	}

	now := time.Now()
	overlapEnd := now.Add(24 * time.Hour)
	p, err := s.RotateToken(ctx, store.TokenRotation{ID: "clerk-1", Hash: t1[:], Expires: now.Add(aYear), OverlapEnd: overlapEnd})
	if err != nil || p.ID != "clerk-1" || p.Role != seal.RoleClerk {
		t.Fatalf("RotateToken: %+v, %v", p, err)
	}
	for _, tc := range []struct {
		name string
		kind string
		hash []byte
		at   time.Time
		want bool
	}{
		{"the new token", store.CredentialToken, t1[:], now, true},
		{"the new token after the overlap", store.CredentialToken, t1[:], overlapEnd.Add(time.Hour), true},
		{"the new token after its expiry", store.CredentialToken, t1[:], now.Add(aYear + time.Second), false},
		{"the old token in the overlap", store.CredentialToken, t0[:], overlapEnd.Add(-time.Second), true},
		{"the old token when the overlap ends", store.CredentialToken, t0[:], overlapEnd, false},
		{"a token that expired before the overlap's end", store.CredentialToken, short[:], now.Add(2 * time.Hour), false},
		{"the certificate after the overlap", store.CredentialCert, cert[:], overlapEnd.Add(aYear), true},
	} {
		if got := valid(t, other, tc.kind, tc.hash, tc.at, "clerk-1"); got != tc.want {
			t.Errorf("%s: valid %v, want %v", tc.name, got, tc.want)
		}
	}

	// The principal rotates its own token: only with its newest.
	self := store.TokenRotation{ID: "clerk-1", Hash: t2[:], Expires: now.Add(aYear), OverlapEnd: now.Add(time.Hour), By: t0[:]}
	if _, err := other.RotateToken(ctx, self); !errors.Is(err, store.ErrReplaced) {
		t.Errorf("rotating with a token that was rotated away: %v, want ErrReplaced", err)
	}
	if valid(t, s, store.CredentialToken, t2[:], now, "clerk-1") {
		t.Error("a refused rotation stored its token")
	}
	self.By = t1[:]
	if _, err := other.RotateToken(ctx, self); err != nil {
		t.Fatalf("rotating with the newest token: %v", err)
	}
	if !valid(t, s, store.CredentialToken, t2[:], now, "clerk-1") || valid(t, s, store.CredentialToken, t1[:], now.Add(2*time.Hour), "clerk-1") {
		t.Error("after the second rotation, the new token must work and the one before end with its overlap")
	}
	if valid(t, s, store.CredentialToken, t0[:], overlapEnd, "clerk-1") {
		t.Error("a later rotation extended an old token")
	}

	for _, tc := range []struct {
		name string
		r    store.TokenRotation
		want error
	}{
		{"unknown principal", store.TokenRotation{ID: "nobody", Hash: make([]byte, 32), Expires: now.Add(aYear), OverlapEnd: now}, store.ErrNotFound},
		{"a hash in use", store.TokenRotation{ID: "clerk-1", Hash: t2[:], Expires: now.Add(aYear), OverlapEnd: now}, store.ErrExists},
	} {
		if _, err := s.RotateToken(ctx, tc.r); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := s.RotateToken(ctx, store.TokenRotation{ID: "clerk-1", Hash: make([]byte, 32), OverlapEnd: now}); err == nil {
		t.Error("a rotation to a token without an expiry was accepted")
	}
	if _, err := s.DisablePrincipal(ctx, "clerk-1"); err != nil {
		t.Fatal(err)
	}
	t3 := sm3.Sum([]byte("t3"))
	if _, err := s.RotateToken(ctx, store.TokenRotation{ID: "clerk-1", Hash: t3[:], Expires: now.Add(aYear), OverlapEnd: now}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rotating a disabled principal's token: %v, want ErrNotFound", err)
	}
}

// testRotationsTakeTurns: two replicas rotating one principal's token with
// the same token at once: one succeeds and the other finds the token
// replaced, so that a stolen token racing its owner cannot come out with a
// token of its own beside the owner's.
func testRotationsTakeTurns(t *testing.T, o Opener) {
	ctx := context.Background()
	s, other := o.Open(t)
	first := sm3.Sum([]byte("first"))
	if err := s.CreatePrincipal(ctx, seal.Principal{ID: "clerk-1", Role: seal.RoleClerk, Township: "450224100",
		Windows: []seal.Window{seal.WindowApproval}}, token(first[:], aYear)); err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		// The county office gives the principal a token; then two callers
		// holding it rotate with it at once, through different replicas.
		now := time.Now()
		held := sm3.Sum(fmt.Appendf(nil, "held %d", round))
		if _, err := s.RotateToken(ctx, store.TokenRotation{ID: "clerk-1", Hash: held[:], Expires: now.Add(aYear), OverlapEnd: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, db := range []store.Store{s, other} {
			h := sm3.Sum(fmt.Appendf(nil, "round %d replica %d", round, i))
			wg.Go(func() {
				_, errs[i] = db.RotateToken(ctx, store.TokenRotation{ID: "clerk-1", Hash: h[:],
					Expires: now.Add(aYear), OverlapEnd: now.Add(time.Hour), By: held[:]})
			})
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrReplaced):
				t.Fatalf("round %d, replica %d: %v", round, i, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d rotations with the same token succeeded, want 1 (%v)", round, won, errs)
		}
	}
}

// NewRecord makes a ledger record for tests.
func NewRecord(i int, result seal.Result) *seal.Record {
	in := sm3.Sum(fmt.Appendf(nil, "input %d", i))
	r := &seal.Record{
		Time: time.Now(), RequestID: fmt.Sprintf("req-%d", i), Township: "450224100", SealID: "seal-1",
		CertSerial: "01ab", Item: "450224-XK-0002", Domain: "农业农村", CaseNo: fmt.Sprintf("CA-%d", i),
		Principal: "clerk-1", Window: seal.WindowApproval, DocKind: "准予行政许可决定书", InputSM3: in[:], Result: result,
	}
	if result == seal.ResultSealed {
		out := sm3.Sum(fmt.Appendf(nil, "output %d", i))
		r.OutputSM3 = out[:]
	} else {
		r.Rule, r.Detail = seal.RuleWrongWindow, "not at this window"
	}
	return r
}

func verifyAll(t *testing.T, s store.Store, cps []*seal.Checkpoint) uint64 {
	t.Helper()
	v, err := seal.NewChainVerifier(cps, nil)
	if err != nil {
		t.Fatal(err)
	}
	var after uint64
	for {
		recs, err := s.Records(context.Background(), store.RecordFilter{}, after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			if err := v.Add(r); err != nil {
				t.Fatalf("chain: %v", err)
			}
			after = r.Seq
		}
	}
	if err := v.Finish(); err != nil {
		t.Fatal(err)
	}
	return v.Checked
}

func testLedger(t *testing.T, o Opener) {
	ctx := context.Background()
	s, other := o.Open(t)
	if _, err := s.Head(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("head of an empty ledger: %v", err)
	}
	doc := []byte("%PDF-1.7 sealed")
	first, err := s.Append(ctx, NewRecord(1, seal.ResultSealed), doc)
	if err != nil {
		t.Fatal(err)
	}
	if first.Seq != 1 || !bytes.Equal(first.PrevHash, seal.GenesisHash) || !bytes.Equal(first.Hash, first.ComputeHash()) {
		t.Fatalf("first record %+v", first)
	}
	r2 := NewRecord(2, seal.ResultRefused)
	r2.Domain, r2.Township = "民政", "450224101"
	if _, err := other.Append(ctx, r2, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, NewRecord(3, seal.ResultSealed), doc); err != nil {
		t.Fatal(err)
	}
	head, err := other.Head(ctx)
	if err != nil || head.Seq != 3 {
		t.Fatalf("head: %+v, %v", head, err)
	}
	got, err := other.Record(ctx, 2)
	if err != nil || !bytes.Equal(got.Hash, got.ComputeHash()) || got.Rule != seal.RuleWrongWindow || got.OutputSM3 != nil {
		t.Fatalf("record 2 did not round-trip: %+v, %v", got, err)
	}
	if _, err := s.Record(ctx, 4); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("record 4: %v", err)
	}
	if n := verifyAll(t, other, nil); n != 3 {
		t.Errorf("verified %d records, want 3", n)
	}
	recs, err := s.Records(ctx, store.RecordFilter{Domains: []string{"民政"}}, 0, 10)
	if err != nil || len(recs) != 1 || recs[0].Seq != 2 {
		t.Errorf("民政 records: %v, %v", recs, err)
	}
	recs, err = s.Records(ctx, store.RecordFilter{Township: "450224100"}, 1, 10)
	if err != nil || len(recs) != 1 || recs[0].Seq != 3 {
		t.Errorf("township records after 1: %v, %v", recs, err)
	}
	rec, gotDoc, err := other.Result(ctx, "450224100", "req-3")
	if err != nil || rec.Seq != 3 || !bytes.Equal(gotDoc, doc) {
		t.Errorf("Result(req-3): %v, %q, %v", rec, gotDoc, err)
	}
	if _, _, err := s.Result(ctx, "450224100", "req-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refusal has a result: %v", err)
	}
}

func testIdempotency(t *testing.T, o Opener) {
	ctx := context.Background()
	s, other := o.Open(t)
	refused := NewRecord(1, seal.ResultRefused)
	if _, err := s.Append(ctx, refused, nil); err != nil {
		t.Fatal(err)
	}
	first, err := s.Append(ctx, NewRecord(1, seal.ResultSealed), []byte("one"))
	if err != nil {
		t.Fatalf("a refusal reserved its request id: %v", err)
	}
	again, err := other.Append(ctx, NewRecord(1, seal.ResultSealed), []byte("two"))
	if !errors.Is(err, store.ErrDuplicateRequest) || again == nil || again.Seq != first.Seq {
		t.Fatalf("second sealing with the same request id: %+v, %v", again, err)
	}
	_, doc, err := s.Result(ctx, "450224100", "req-1")
	if err != nil || string(doc) != "one" {
		t.Fatalf("result after a duplicate: %q, %v", doc, err)
	}
	if head, _ := s.Head(ctx); head.Seq != 2 {
		t.Errorf("the duplicate was appended: head %d", head.Seq)
	}

	// Request ids are scoped to the township: another township's req-1 is
	// another request, and each township finds only its own result.
	fushi := NewRecord(1, seal.ResultSealed)
	fushi.Township, fushi.Principal = "450224101", "clerk-fushi"
	theirs, err := other.Append(ctx, fushi, []byte("fushi"))
	if err != nil || theirs.Seq != 3 {
		t.Fatalf("another township's sealing with the same request id: %+v, %v", theirs, err)
	}
	for town, want := range map[string]string{"450224100": "one", "450224101": "fushi"} {
		if rec, doc, err := s.Result(ctx, town, "req-1"); err != nil || string(doc) != want || rec.Township != town {
			t.Errorf("Result(%s, req-1) = %q, %v", town, doc, err)
		}
	}
	if _, _, err := s.Result(ctx, "450224102", "req-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a third township finds req-1: %v", err)
	}
}

// testConcurrentAppend appends from many goroutines through two handles,
// as two replicas would, and checks the chain has no gap or duplicate.
func testConcurrentAppend(t *testing.T, o Opener) {
	ctx := context.Background()
	a, b := o.Open(t)
	const workers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for i := range each {
				n := w*1000 + i
				res := seal.ResultSealed
				if i%4 == 3 {
					res = seal.ResultRefused
				}
				if _, err := s.Append(ctx, NewRecord(n, res), []byte("doc")); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent append: %v", err)
	}
	if n := verifyAll(t, a, nil); n != workers*each {
		t.Fatalf("chain has %d records, want %d", n, workers*each)
	}
}

// testGroupedAppends releases many appends at once, so that the store
// commits them in groups, and mixes in the calls that must not spoil a
// group: the same request id sealed four times, callers that gave up
// before their turn and, in the second round, records the database
// refuses. Every other call must be stored, with its own document, and the
// chain stay whole. (A group holding a refused record is written again
// call by call, so the first round is the one that checks groups of
// several writes.)
func testGroupedAppends(t *testing.T, o Opener) {
	s, _ := o.Open(t)
	stored := appendAtOnce(t, s, 0, false)
	stored += appendAtOnce(t, s, 1, true)
	if got := verifyAll(t, s, nil); got != uint64(stored) {
		t.Errorf("chain has %d records, want %d", got, stored)
	}
}

// appendAtOnce is one round of testGroupedAppends. It returns how many
// records it stored.
func appendAtOnce(t *testing.T, s store.Store, round int, withBad bool) int {
	t.Helper()
	const n = 32
	type outcome struct {
		rec *seal.Record
		err error
	}
	var (
		start    = make(chan struct{})
		outcomes [n]outcome
		wg       sync.WaitGroup
	)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	kind := func(i int) string {
		switch {
		case i < 4:
			return "duplicate"
		case i < 6:
			return "cancelled"
		case i < 8 && withBad:
			return "bad"
		}
		return "good"
	}
	id := func(i int) int { return 1000*(round+1) + i }
	doc := func(i int) []byte { return fmt.Appendf(nil, "%%PDF sealed %d", id(i)) }
	for i := range n {
		wg.Go(func() {
			ctx, r := context.Background(), NewRecord(id(i), seal.ResultSealed)
			switch kind(i) {
			case "duplicate":
				r.RequestID = fmt.Sprintf("req-dup-%d", round)
			case "bad":
				r.Result = "bogus"
			case "cancelled":
				ctx = cancelled
			}
			<-start
			rec, err := s.Append(ctx, r, doc(i))
			outcomes[i] = outcome{rec, err}
		})
	}
	close(start)
	wg.Wait()

	ctx := context.Background()
	stored, dupWinner, want := 0, -1, 0
	for i, o := range outcomes {
		switch k := kind(i); {
		case k == "bad" || k == "cancelled":
			if o.err == nil {
				t.Errorf("round %d: %s call %d was stored as %d", round, k, i, o.rec.Seq)
			}
			if k == "cancelled" && !errors.Is(o.err, context.Canceled) {
				t.Errorf("round %d: cancelled call %d: %v, want context.Canceled", round, i, o.err)
			}
		case k == "duplicate" && errors.Is(o.err, store.ErrDuplicateRequest):
			// Checked against the winner below.
		case o.err != nil:
			t.Errorf("round %d: %s call %d failed: %v", round, k, i, o.err)
		default:
			stored++
			if k == "duplicate" {
				if dupWinner >= 0 {
					t.Errorf("round %d: one request id sealed twice, by calls %d and %d", round, dupWinner, i)
				}
				dupWinner = i
			}
			got, err := s.Record(ctx, o.rec.Seq)
			if err != nil || !bytes.Equal(got.Hash, o.rec.Hash) || got.RequestID != o.rec.RequestID {
				t.Errorf("round %d: call %d was told record %d, which is stored as %+v (%v)", round, i, o.rec.Seq, got, err)
			}
			if _, d, err := s.Result(ctx, o.rec.Township, o.rec.RequestID); err != nil || !bytes.Equal(d, doc(i)) {
				t.Errorf("round %d: call %d's stored document is %q (%v), want %q", round, i, d, err, doc(i))
			}
		}
		if kind(i) == "good" {
			want++
		}
	}
	if dupWinner < 0 {
		t.Fatalf("round %d: no call sealed the duplicated request id", round)
	}
	for i := range 4 {
		if o := outcomes[i]; i != dupWinner && (o.rec == nil || o.rec.Seq != outcomes[dupWinner].rec.Seq) {
			t.Errorf("round %d: duplicate call %d got %+v, %v; want record %d", round, i, o.rec, o.err, outcomes[dupWinner].rec.Seq)
		}
	}
	if want++; stored != want {
		t.Errorf("round %d: %d calls stored, want %d", round, stored, want)
	}
	return stored
}

func testCheckpoints(t *testing.T, o Opener) {
	ctx := context.Background()
	s, other := o.Open(t)
	county := testpki.MustChain(testpki.Options{LeafName: "账本签名 (测试)"})
	var cps []*seal.Checkpoint
	for i := 1; i <= 5; i++ {
		r, err := s.Append(ctx, NewRecord(i, seal.ResultSealed), []byte("d"))
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			cp, err := seal.SignCheckpoint(r, time.Now(), county.LeafKey(), county.Leaf())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.AddCheckpoint(ctx, cp); err != nil {
				t.Fatal(err)
			}
			cps = append(cps, cp)
		}
	}
	got, err := other.Checkpoints(ctx)
	if err != nil || len(got) != 2 {
		t.Fatalf("Checkpoints: %d, %v", len(got), err)
	}
	for i := range got {
		if got[i].Seq != cps[i].Seq || !bytes.Equal(got[i].Signature, cps[i].Signature) || !got[i].Time.Equal(cps[i].Time) {
			t.Errorf("checkpoint %d did not round-trip", i)
		}
	}
	verifyAll(t, other, got)
}
