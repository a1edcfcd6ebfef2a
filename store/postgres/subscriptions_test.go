package postgres

import (
	"context"
	"database/sql"
	"testing"

	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/storetest"
)

func TestSubscriptions(t *testing.T) {
	srv := pgtest.Shared(t)
	storetest.RunSubscriptions(t, storetest.OpenerFunc(func(t *testing.T) (store.Store, store.Store) {
		dsn := srv.NewDatabase(t)
		a, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		sa, sb := a.Service(), b.Service()
		t.Cleanup(func() { sa.Close(); sb.Close() })
		return sa, sb
	}))
}

// TestMigrationSubscriptionBatch: a subscription stored before the batch
// size existed comes through the migration as it was sent before.
func TestMigrationSubscriptionBatch(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Shared(t).NewDatabase(t)
	old, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateList(ctx, old, migrationsBefore(t, eventsSchemaBatch)); err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(ctx, storetest.LegacySubscriptionRow); err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckLegacySubscription(t, db.Service())
}
