package tsa

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/seal/cms"
)

// TestClient: the Client gets a verified token for its imprint from a TSA
// over HTTP (SM3 and SHA-256), reports a rejection as the *Failure it is,
// and refuses a token that answers another request.
func TestClient(t *testing.T) {
	ctx := context.Background()
	a, _ := newTestAuthority(t, Config{})
	good := httptest.NewServer(&Handler{Authority: a})
	defer good.Close()
	c := &Client{URL: good.URL}
	sm3sum, shasum := sm3.Sum([]byte("sig")), sha256.Sum256([]byte("sig"))
	for _, tc := range []struct {
		name string
		alg  []int
		sum  []byte
	}{{"SM3", OIDSM3, sm3sum[:]}, {"SHA-256", []int{2, 16, 840, 1, 101, 3, 4, 2, 1}, shasum[:]}} {
		token, err := c.Timestamp(ctx, tc.alg, tc.sum)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		tr, err := cms.VerifyTimeStampToken(token, nil)
		if err != nil || !tr.TSTInfo.HashAlgorithm.Equal(tc.alg) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	var f *Failure
	if _, err := c.Timestamp(ctx, []int{1, 3, 14, 3, 2, 26}, make([]byte, 20)); !errors.As(err, &f) || f.Info != FailBadAlg {
		t.Errorf("SHA-1: %v, want badAlg", err)
	}
	// A TSA that answers every request with one token made earlier.
	stale, err := a.Timestamp(ctx, OIDSM3, sm3sum[:])
	if err != nil {
		t.Fatal(err)
	}
	replay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(marshalGranted(stale))
	}))
	defer replay.Close()
	if _, err := (&Client{URL: replay.URL}).Timestamp(ctx, OIDSM3, sm3sum[:]); !errors.Is(err, ErrTokenMismatch) {
		t.Errorf("a replayed token (no nonce): %v, want ErrTokenMismatch", err)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	if _, err := (&Client{URL: down.URL}).Timestamp(ctx, OIDSM3, sm3sum[:]); err == nil {
		t.Error("a TSA that is down gave a token")
	}
}
