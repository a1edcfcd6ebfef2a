package postgres

import (
	"context"
	"testing"

	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/store/storetest"
)

// TestFence runs the fence's tests on two connections to one PostgreSQL
// database, as two replicas behind a load balancer have.
func TestFence(t *testing.T) {
	srv := pgtest.Shared(t)
	storetest.RunFence(t, func(t testing.TB) (storetest.Replica, storetest.Replica) {
		dsn := srv.NewDatabase(t)
		var rs [2]storetest.Replica
		for i := range rs {
			db, err := Open(context.Background(), dsn)
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
