package sqlite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/storetest"
)

func TestRetention(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seal.db")
	storetest.RunRetention(t, storetest.OpenerFunc(func(t *testing.T) (store.Store, store.Store) {
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
	}), func(t *testing.T, doc []byte) bool {
		log, err := os.ReadFile(path + "-documents")
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Contains(log, doc)
	})
}
