package postgres

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/store/sqlite"
	"github.com/ronganxian/eseal/store/storetest"
)

// BenchmarkSealing seals the one-page decision at 32 concurrent callers
// through the domain's Sealer, fence and ledger, without gRPC: on SQLite,
// on PostgreSQL with one replica, and on PostgreSQL with two replicas
// sharing the callers, in one run, so that the figures stand beside each
// other. PostgreSQL keeps its default durability (pgtest.Durable), as
// SQLite keeps synchronous=FULL. Each reports seals/s, p50-ms and p99-ms,
// and the CPU per seal of this process and of the PostgreSQL server.
func BenchmarkSealing(b *testing.B) {
	sqliteReplicas := func(t testing.TB) (storetest.Replica, storetest.Replica) {
		path := filepath.Join(t.TempDir(), "seal.db")
		var rs [2]storetest.Replica
		for i := range rs {
			db, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			svc := db.Service()
			t.Cleanup(func() { svc.Close() })
			rs[i] = storetest.Replica{Service: svc, Keystore: db.Keystore()}
		}
		return rs[0], rs[1]
	}
	var dbCPU func() time.Duration
	pgReplicas := func(t testing.TB) (storetest.Replica, storetest.Replica) {
		dsn := pgtest.Durable(t).NewDatabase(t)
		dbCPU = serverCPU(t, dsn)
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
	}
	const callers = 32
	for _, c := range []struct {
		name     string
		open     storetest.ReplicaOpener
		replicas int
	}{
		{"sqlite", sqliteReplicas, 1},
		{"postgres-durable", pgReplicas, 1},
		{"postgres-durable-2replicas", pgReplicas, 2},
	} {
		b.Run(fmt.Sprintf("%s/c%d", c.name, callers), func(b *testing.B) {
			dbCPU = nil
			storetest.BenchSealing(b, c.open, c.replicas, callers, func() time.Duration {
				if dbCPU == nil {
					return 0 // SQLite runs in this process
				}
				return dbCPU()
			})
		})
	}
}
