package postgres

import (
	"context"
	"testing"

	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/storetest"
)

// TestCases runs the case and supervision conformance tests on PostgreSQL.
func TestCases(t *testing.T) {
	srv := pgtest.Shared(t)
	storetest.RunCases(t, storetest.OpenerFunc(func(t *testing.T) (store.Store, store.Store) {
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
