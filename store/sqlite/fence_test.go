package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ronganxian/eseal/store/storetest"
)

// TestFence runs the fence's tests on two handles of one SQLite file, as
// two processes would share it.
func TestFence(t *testing.T) {
	storetest.RunFence(t, func(t testing.TB) (storetest.Replica, storetest.Replica) {
		path := filepath.Join(t.TempDir(), "seal.db")
		var rs [2]storetest.Replica
		for i := range rs {
			db, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			svc := db.Service()
			t.Cleanup(func() { svc.Close() })
			rs[i] = storetest.Replica{Service: svc, Keystore: db.Keystore()}
		}
		return rs[0], rs[1]
	})
}
