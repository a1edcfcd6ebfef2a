package postgres

import (
	"context"
	"sync"
	"testing"

	"github.com/ronganxian/eseal/keystore"
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
