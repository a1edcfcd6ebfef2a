package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/storetest"
)

func TestLookupByInput(t *testing.T) {
	storetest.RunLookup(t, storetest.OpenerFunc(func(t *testing.T) (store.Store, store.Store) {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "seal.db"))
		if err != nil {
			t.Fatal(err)
		}
		s := db.Service()
		t.Cleanup(func() { s.Close() })
		return s, s
	}))
}

// TestLookupUsesIndex: the lookup is a range on the sealed records'
// input index, not a scan of the ledger.
func TestLookupUsesIndex(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "seal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.w.Query(`EXPLAIN QUERY PLAN SELECT seq FROM ledger WHERE result = 'sealed' AND input_sm3 >= ? AND input_sm3 < ? ORDER BY seq LIMIT 10`, []byte{1}, []byte{2})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan += detail + "\n"
	}
	if !strings.Contains(plan, "ledger_sealed_input") {
		t.Errorf("plan does not use the index:\n%s", plan)
	}
}
