package postgres

import (
	"context"
	"database/sql"
	"testing"

	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/storetest"
)

func TestRetention(t *testing.T) {
	srv := pgtest.Shared(t)
	dsn := srv.NewDatabase(t)
	var raw *sql.DB
	storetest.RunRetention(t, storetest.OpenerFunc(func(t *testing.T) (store.Store, store.Store) {
		a, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		raw = a.db
		sa, sb := a.Service(), b.Service()
		t.Cleanup(func() { sa.Close(); sb.Close() })
		return sa, sb
	}), func(t *testing.T, doc []byte) bool {
		var n int
		if err := raw.QueryRow(`SELECT (SELECT count(*) FROM documents WHERE document = $1) +
			(SELECT count(*) FROM results WHERE document = $1)`, doc).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
}
