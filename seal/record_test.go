package seal_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/seal"
)

func buildChain(n int) []*seal.Record {
	var recs []*seal.Record
	var prev *seal.Record
	t0 := time.Now().Add(-30 * time.Minute).Truncate(time.Second).Add(123456789) // nanoseconds, to show truncation
	for i := range n {
		in := sm3.Sum(fmt.Appendf(nil, "doc %d", i))
		r := &seal.Record{
			Time: t0.Add(time.Duration(i) * time.Minute), RequestID: fmt.Sprintf("req-%d", i),
			Township: "450224100", SealID: "seal-1", CertSerial: "0a1b", Item: "450224-XK-0002", Domain: "农业农村",
			CaseNo: fmt.Sprintf("CA-%04d", i), Principal: "clerk-1", Window: seal.WindowApproval,
			DocKind: "准予行政许可决定书", InputSM3: in[:], Result: seal.ResultSealed,
		}
		if i%3 == 2 {
			r.Result, r.Rule, r.Detail = seal.ResultRefused, seal.RuleWrongWindow, "not at this window"
		} else {
			out := sm3.Sum(fmt.Appendf(nil, "sealed %d", i))
			r.OutputSM3 = out[:]
		}
		r.Link(prev)
		recs = append(recs, r)
		prev = r
	}
	return recs
}

// isTestLedgerKey stands in for keystore.IsLedgerCertificate: the test
// county's ledger key is the leaf named as such.
func isTestLedgerKey(c *smx509.Certificate) bool { return c.Subject.CommonName == ledgerKeyName }

const ledgerKeyName = "融安县电子印章账本签名 (测试)"

func verifyChain(recs []*seal.Record, cps []*seal.Checkpoint, roots *smx509.CertPool) error {
	v, err := seal.NewChainVerifier(cps, &seal.CheckpointTrust{Roots: roots, IsLedgerKey: isTestLedgerKey})
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := v.Add(r); err != nil {
			return err
		}
	}
	return v.Finish()
}

func TestLedgerChain(t *testing.T) {
	county := testpki.MustChain(testpki.Options{LeafName: ledgerKeyName})
	recs := buildChain(10)
	if recs[0].Seq != 1 || recs[9].Seq != 10 || recs[0].Time.Nanosecond()%1000 != 0 {
		t.Fatalf("sequence or time precision wrong: %d..%d, %v", recs[0].Seq, recs[9].Seq, recs[0].Time)
	}
	cp4, err := seal.SignCheckpoint(recs[3], recs[3].Time, county.LeafKey(), county.Leaf())
	if err != nil {
		t.Fatal(err)
	}
	cp9, err := seal.SignCheckpoint(recs[8], recs[8].Time, county.LeafKey(), county.Leaf())
	if err != nil {
		t.Fatal(err)
	}
	cps := []*seal.Checkpoint{cp4, cp9}
	roots := smx509.NewCertPool()
	roots.AddCert(county.Root())
	if err := verifyChain(recs, cps, roots); err != nil {
		t.Fatalf("intact chain: %v", err)
	}

	clone := func() []*seal.Record {
		out := make([]*seal.Record, len(recs))
		for i, r := range recs {
			c := *r
			out[i] = &c
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		recs    func() []*seal.Record
		cps     []*seal.Checkpoint
		wantSeq uint64
	}{
		{"case number changed", func() []*seal.Record { r := clone(); r[4].CaseNo = "CA-9999"; return r }, cps, 5},
		{"refusal turned into sealing", func() []*seal.Record { r := clone(); r[2].Result, r[2].Rule = seal.ResultSealed, ""; return r }, cps, 3},
		{"record removed", func() []*seal.Record { r := clone(); return append(r[:6], r[7:]...) }, cps, 7},
		{"record duplicated", func() []*seal.Record { r := clone(); return append(r[:6], append([]*seal.Record{r[5]}, r[6:]...)...) }, cps, 7},
		{"rewritten and rehashed", func() []*seal.Record {
			// Whoever holds the database can rebuild a consistent chain;
			// only the signed checkpoints catch it.
			r := clone()
			r[1].CaseNo = "CA-forged"
			for i := 1; i < len(r); i++ {
				r[i].Link(r[i-1])
			}
			return r
		}, cps, 4},
		{"cut short after a checkpoint", func() []*seal.Record { return clone()[:7] }, cps, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := verifyChain(tc.recs(), tc.cps, roots)
			var br *seal.ChainBreak
			if !errors.As(err, &br) {
				t.Fatalf("got %v, want a ChainBreak", err)
			}
			if br.Seq != tc.wantSeq {
				t.Fatalf("break at %d (%s), want %d", br.Seq, br.Reason, tc.wantSeq)
			}
		})
	}

	t.Run("forged checkpoint signature", func(t *testing.T) {
		bad := *cp4
		bad.Seq = 5
		if err := verifyChain(recs, []*seal.Checkpoint{&bad}, roots); err == nil {
			t.Fatal("checkpoint with a changed sequence number accepted")
		}
	})
	t.Run("checkpoint by a seal under the same root", func(t *testing.T) {
		// A township's seal certificate chains to the same county root,
		// but a seal must not vouch for the ledger.
		sealKey := testpki.MustChain(testpki.Options{})

		leaf := reissueUnder(t, sealKey, county)
		cp, err := seal.SignCheckpoint(recs[3], recs[3].Time, sealKey.LeafKey(), leaf)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyChain(recs, []*seal.Checkpoint{cp}, roots); !errors.Is(err, seal.ErrUntrustedCheckpoint) {
			t.Fatalf("got %v, want ErrUntrustedCheckpoint", err)
		}
	})
	t.Run("roots without a ledger-key test", func(t *testing.T) {
		if _, err := seal.NewChainVerifier(cps, &seal.CheckpointTrust{Roots: roots}); !errors.Is(err, seal.ErrNoCheckpointTrust) {
			t.Fatalf("got %v, want ErrNoCheckpointTrust", err)
		}
	})
	t.Run("checkpoint by another key", func(t *testing.T) {
		other := testpki.MustChain(testpki.Options{})
		cp, err := seal.SignCheckpoint(recs[3], recs[3].Time, other.LeafKey(), other.Leaf())
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyChain(recs, []*seal.Checkpoint{cp}, roots); !errors.Is(err, seal.ErrUntrustedCheckpoint) {
			t.Fatalf("got %v, want ErrUntrustedCheckpoint", err)
		}
	})
}

func TestLedgerHashCoversEveryField(t *testing.T) {
	base := buildChain(1)[0]
	mutations := map[string]func(r *seal.Record){
		"Seq":        func(r *seal.Record) { r.Seq++ },
		"Time":       func(r *seal.Record) { r.Time = r.Time.Add(time.Microsecond) },
		"RequestID":  func(r *seal.Record) { r.RequestID += "x" },
		"Township":   func(r *seal.Record) { r.Township = "450224101" },
		"SealID":     func(r *seal.Record) { r.SealID += "x" },
		"CertSerial": func(r *seal.Record) { r.CertSerial += "0" },
		"Item":       func(r *seal.Record) { r.Item = "450224-XK-0001" },
		"Domain":     func(r *seal.Record) { r.Domain = "民政" },
		"CaseNo":     func(r *seal.Record) { r.CaseNo += "x" },
		"Principal":  func(r *seal.Record) { r.Principal += "x" },
		"Window":     func(r *seal.Record) { r.Window = seal.WindowService },
		"DocKind":    func(r *seal.Record) { r.DocKind += "x" },
		"InputSM3":   func(r *seal.Record) { r.InputSM3 = append([]byte{}, r.InputSM3...); r.InputSM3[0] ^= 1 },
		"OutputSM3":  func(r *seal.Record) { r.OutputSM3 = nil },
		"Result":     func(r *seal.Record) { r.Result = seal.ResultRefused },
		"Rule":       func(r *seal.Record) { r.Rule = seal.RuleNoSeal },
		"Detail":     func(r *seal.Record) { r.Detail = "x" },
		"PrevHash":   func(r *seal.Record) { r.PrevHash = make([]byte, 32); r.PrevHash[0] = 1 },
		// Moving bytes between adjacent fields must change the hash too.
		"boundary": func(r *seal.Record) { r.Township, r.SealID = r.Township+"s", r.SealID[1:] },
	}
	for name, mutate := range mutations {
		r := *base
		mutate(&r)
		if string(r.ComputeHash()) == string(base.Hash) {
			t.Errorf("changing %s leaves the hash unchanged", name)
		}
	}
}

// reissueUnder certifies key's leaf public key under county's root, as the
// county CA certifies a township seal.
func reissueUnder(t *testing.T, key, county *testpki.Chain) *smx509.Certificate {
	t.Helper()
	tmpl := *key.Leaf()
	der, err := smx509.CreateCertificate(rand.Reader, &tmpl, county.Root(), key.LeafKey().Public(), county.Keys[len(county.Keys)-1])
	if err != nil {
		t.Fatal(err)
	}
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLedgerCheckpointsAtOneRecord: two checkpoints of the same record are
// both checked, so a second, disagreeing one (a fork) is not hidden by the
// first.
func TestLedgerCheckpointsAtOneRecord(t *testing.T) {
	county := testpki.MustChain(testpki.Options{LeafName: ledgerKeyName})
	roots := smx509.NewCertPool()
	roots.AddCert(county.Root())
	recs := buildChain(4)
	a, err := seal.SignCheckpoint(recs[2], recs[2].Time, county.LeafKey(), county.Leaf())
	if err != nil {
		t.Fatal(err)
	}
	b, err := seal.SignCheckpoint(recs[2], recs[3].Time, county.LeafKey(), county.Leaf())
	if err != nil {
		t.Fatal(err)
	}
	trust := &seal.CheckpointTrust{Roots: roots, IsLedgerKey: isTestLedgerKey}
	v, err := seal.NewChainVerifier([]*seal.Checkpoint{a, b}, trust)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := v.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if v.Anchored != 2 {
		t.Fatalf("%d checkpoints matched, want 2", v.Anchored)
	}
	// A fork: the second checkpoint vouches for another head at record 3.
	forked := *recs[2]
	forked.CaseNo = "fork"
	forked.Link(recs[1])
	f, err := seal.SignCheckpoint(&forked, recs[3].Time, county.LeafKey(), county.Leaf())
	if err != nil {
		t.Fatal(err)
	}
	// The fork comes first: one checkpoint per record would keep only the last.
	if err := verifyChain(recs, []*seal.Checkpoint{f, a}, roots); err == nil {
		t.Fatal("a disagreeing second checkpoint at the same record was not noticed")
	}
}
