package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/keystore/storetest"
	"github.com/ronganxian/eseal/store/sqlite"
)

// TestKeystoreStore runs the keystore.Store conformance suite on SQLite, with
// two handles on one file standing for two processes.
func TestKeystoreStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (keystore.Store, keystore.Store) {
		path := filepath.Join(t.TempDir(), "ks.db")
		a := openDB(t, path)
		b := openDB(t, path)
		return a.Keystore(), b.Keystore()
	})
}

func openDB(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
