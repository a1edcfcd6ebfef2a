package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/storetest"
)

func TestSubscriptions(t *testing.T) {
	storetest.RunSubscriptions(t, storetest.OpenerFunc(func(t *testing.T) (store.Store, store.Store) {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "seal.db"))
		if err != nil {
			t.Fatal(err)
		}
		s := db.Service()
		t.Cleanup(func() { s.Close() })
		return s, s
	}))
}

// TestMigrationSubscriptionBatch: a subscription stored before the batch
// size existed comes through the migration as it was sent before.
func TestMigrationSubscriptionBatch(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seal.db")
	old, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
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
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckLegacySubscription(t, db.Service())
}
