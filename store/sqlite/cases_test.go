package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/storetest"
)

// TestCases runs the case and supervision conformance tests on SQLite.
func TestCases(t *testing.T) {
	storetest.RunCases(t, storetest.OpenerFunc(func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "seal.db")
		a, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		sa, sb := a.Service(), b.Service()
		t.Cleanup(func() { sa.Close(); sb.Close() })
		return sa, sb
	}))
}
