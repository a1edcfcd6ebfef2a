package seal_test

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"testing"
	"time"

	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/tsa"
)

// newTestTSA is an in-process county TSA under a throwaway CA.
func newTestTSA(t testing.TB) *tsa.Authority {
	t.Helper()
	chain := testpki.MustChain(testpki.Options{LeafName: "测试县时间戳服务", LeafExtensions: []pkix.Extension{testpki.TimeStampingEKU(true)}})
	a, err := tsa.New(tsa.StaticKey{Key: chain.LeafKey(), Chain: chain.Certs}, &tsa.MemorySerials{}, tsa.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// downTSA is a TSA that cannot be reached.
type downTSA struct{}

func (downTSA) Timestamp(context.Context, asn1.ObjectIdentifier, []byte) ([]byte, error) {
	return nil, errors.New("dial tcp 127.0.0.1:8318: connection refused")
}

// sealedToken returns the signature's time-stamp token and value.
func sealedToken(t *testing.T, doc []byte) (token, sig []byte) {
	t.Helper()
	sigs, err := pdf.Signatures(bytes.NewReader(doc), int64(len(doc)))
	if err != nil || len(sigs) != 1 {
		t.Fatalf("signatures: %v, %v", sigs, err)
	}
	der, err := cms.TrimPadding(sigs[0].Contents)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cms.Verify(der, sigs[0].SignedBytes(bytes.NewReader(doc)), nil)
	if err != nil {
		t.Fatalf("the seal does not verify: %v", err)
	}
	return res.TimeStampToken, res.Signature
}

// TestSealerTimestamps: with a TSA every seal carries a token over its
// signature value, within the placeholder, and the record says when; a TSA
// that cannot be reached refuses the sealing (refuse) and records the
// refusal, or seals without a token (seal_without) and records why.
func TestSealerTimestamps(t *testing.T) {
	ctx := context.Background()
	f := newSealerFixture(t)
	auth := newTestTSA(t)
	reserve, err := auth.MaxTokenSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.sealer.Timestamping = &seal.Timestamping{TSA: auth, Reserve: reserve}
	before := time.Now().Add(-time.Second)
	out, err := f.sealer.Seal(ctx, f.clerk, f.input("ts-1"))
	if err != nil {
		t.Fatal(err)
	}
	token, sig := sealedToken(t, out.Document)
	if token == nil {
		t.Fatal("the seal carries no time-stamp token")
	}
	tr, err := cms.VerifyTimeStampToken(token, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := tr.TSTInfo.Covers(sig); !ok || !tr.TSTInfo.HashAlgorithm.Equal(tsa.OIDSM3) {
		t.Error("the token's imprint is not the SM3 of the signature value")
	}
	gen, missing := out.Record.Timestamp()
	if missing != "" || !gen.Equal(tr.TSTInfo.GenTime) || gen.Before(before) {
		t.Errorf("record Detail %q: time %v, missing %q; token at %v", out.Record.Detail, gen, missing, tr.TSTInfo.GenTime)
	}

	// Refuse: nothing sealed, the refusal recorded by its rule.
	f.sealer.Timestamping = &seal.Timestamping{TSA: downTSA{}, Reserve: reserve}
	_, err = f.sealer.Seal(ctx, f.clerk, f.input("ts-2"))
	r, ok := seal.AsRefusal(err)
	if !ok || r.Rule != seal.RuleTimestampUnavailable {
		t.Fatalf("TSA down under refuse: %v", err)
	}
	head, err := f.store.Head(ctx)
	if err != nil || head.Result != seal.ResultRefused || head.Rule != seal.RuleTimestampUnavailable {
		t.Fatalf("the refusal is not the ledger's head: %+v, %v", head, err)
	}

	// Seal without: sealed, no token, and the record says why.
	f.sealer.Timestamping.SealWithout = true
	out, err = f.sealer.Seal(ctx, f.clerk, f.input("ts-3"))
	if err != nil {
		t.Fatal(err)
	}
	if token, _ := sealedToken(t, out.Document); token != nil {
		t.Error("a token although the TSA was down")
	}
	if gen, missing := out.Record.Timestamp(); !gen.IsZero() || missing == "" || out.Record.Repaired() != "" {
		t.Errorf("record Detail %q: time %v, missing %q", out.Record.Detail, gen, missing)
	}
}

// TestRecordNotes: a record with both notes gives each back whole.
func TestRecordNotes(t *testing.T) {
	for _, tc := range []struct {
		detail, repaired, missing string
		stamped                   bool
	}{
		{"timestamped: 2026-12-04T01:02:03.456789Z; repaired: rebuilt the file; offsets wrong", "rebuilt the file; offsets wrong", "", true},
		{"not timestamped: dial tcp: refused; repaired: x", "x", "dial tcp: refused", false},
		{"repaired: y", "y", "", false},
		{"", "", "", false},
	} {
		r := &seal.Record{Result: seal.ResultSealed, Detail: tc.detail}
		gen, missing := r.Timestamp()
		if r.Repaired() != tc.repaired || missing != tc.missing || gen.IsZero() == tc.stamped {
			t.Errorf("%q: Repaired %q, Timestamp %v %q", tc.detail, r.Repaired(), gen, missing)
		}
	}
}
