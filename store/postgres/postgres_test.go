package postgres

import (
	"context"
	"testing"

	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestServiceStore(t *testing.T) {
	srv := pgtest.Shared(t)
	storetest.Run(t, storetest.OpenerFunc(func(t *testing.T) (store.Store, store.Store) {
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

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":                         "SELECT 1",
		"a = ? AND b IN (?, ?)":            "a = $1 AND b IN ($2, $3)",
		"INSERT INTO x VALUES (?, '中', ?)": "INSERT INTO x VALUES ($1, '中', $2)",
	} {
		if got := (backend{}).Rebind(in); got != want {
			t.Errorf("Rebind(%q) = %q, want %q", in, got, want)
		}
	}
}
