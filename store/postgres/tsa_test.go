package postgres

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/tsa"
)

// TestTSASerialBlocksAcrossReplicas: two replicas (two pools on one
// database) taking the TSA's serial blocks at once never get the same one,
// so the serials they issue (block×2^32 + n) are unique.
func TestTSASerialBlocksAcrossReplicas(t *testing.T) {
	_, a, b := openKeystoreDB(t)
	ctx := context.Background()
	var (
		mu   sync.Mutex
		seen = map[int64]bool{}
		wg   sync.WaitGroup
	)
	for i := range 40 {
		wg.Go(func() {
			var st keystore.TSAStore = a.Keystore()
			if i%2 == 1 {
				st = b.Keystore()
			}
			n, err := st.NextTSASerialBlock(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[n] {
				t.Errorf("block %d handed out twice", n)
			}
			seen[n] = true
		})
	}
	wg.Wait()
	if len(seen) != 40 {
		t.Errorf("%d distinct blocks, want 40", len(seen))
	}
}

// TestTSAAcrossReplicas: three replicas of the county TSA on one
// PostgreSQL database, started at once, make one TSA key between them, and
// the tokens they issue at once have unique serial numbers.
func TestTSAAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	rs := openReplicas(t, 3)
	certs, errs := race(rs, 9, func(ks *keystore.Keystore) ([]byte, error) {
		_, chain, err := ks.TSAKey().TSASigner(ctx)
		if err != nil {
			return nil, err
		}
		return chain[0].Raw, nil
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica call %d: %v", i, err)
		}
		if !bytes.Equal(certs[i], certs[0]) {
			t.Fatal("the replicas made more than one current TSA key")
		}
	}
	var auths []*tsa.Authority
	for _, r := range rs {
		key := r.ks.TSAKey()
		a, err := tsa.New(key, key, tsa.Config{})
		if err != nil {
			t.Fatal(err)
		}
		auths = append(auths, a)
	}
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		wg   sync.WaitGroup
	)
	sum := sm3.Sum([]byte("signature"))
	for i := range 60 {
		wg.Go(func() {
			token, err := auths[i%len(auths)].Timestamp(ctx, tsa.OIDSM3, sum[:])
			if err != nil {
				t.Error(err)
				return
			}
			info, err := cms.TokenTSTInfo(token)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[info.SerialNumber.String()] {
				t.Errorf("serial %v issued twice", info.SerialNumber)
			}
			seen[info.SerialNumber.String()] = true
		})
	}
	wg.Wait()
	if len(seen) != 60 {
		t.Errorf("%d distinct serials, want 60", len(seen))
	}
}
