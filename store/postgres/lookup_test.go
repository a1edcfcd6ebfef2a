package postgres

import (
	"context"
	"testing"

	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/storetest"
)

func TestLookupByInput(t *testing.T) {
	dsn := pgtest.Shared(t).NewDatabase(t)
	storetest.RunLookup(t, storetest.OpenerFunc(func(t *testing.T) (store.Store, store.Store) {
		db, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		s := db.Service()
		t.Cleanup(func() { s.Close() })
		return s, s
	}))
}
