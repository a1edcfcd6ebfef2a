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
// size existed comes through the migration with batch 0, one event a
// request, which is what it was sent before.
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
	if _, err := old.ExecContext(ctx, `INSERT INTO subscriptions (id, endpoint, township_code, domains, auth_kind, state,
		generation, cursor, failures, last_error, delivered, last_delivered_us, lease_owner, lease_until_us, created_us, created_by)
		VALUES ('gx-platform', 'https://platform.example/events', '', '[]', 'none', 'active', 3, 41, 0, '', 41, 0, '', 0, 0, 'admin')`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, err := db.Service().Subscription(ctx, "gx-platform")
	if err != nil {
		t.Fatal(err)
	}
	if sub.Batch != 0 || sub.Cursor != 41 || sub.Generation != 3 {
		t.Errorf("after the migration: batch %d, cursor %d, generation %d; want 0, 41, 3", sub.Batch, sub.Cursor, sub.Generation)
	}
}
