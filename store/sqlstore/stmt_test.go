package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, for a pool of one connection
)

// TestStmtCacheDoesNotHoldItsLockWhilePreparing: on a pool of one
// connection, held by a transaction, a goroutine preparing a new query
// waits for that connection; the transaction's own goroutine must still get
// its prepared statements from the cache, finish and free the connection.
// With the lock held across the prepare, the two waited for each other
// until the preparer's deadline.
func TestStmtCacheDoesNotHoldItsLockWhilePreparing(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	c := newStmtCache(db, func(q string) string { return q })
	defer c.close()
	const insert = "INSERT INTO t (v) VALUES (?)"
	if err := c.prepare(ctx, []string{insert}); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil) // holds the only connection
	if err != nil {
		t.Fatal(err)
	}
	prepared := make(chan error, 1)
	go func() {
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, err := c.get(pctx, "SELECT count(*) FROM t") // waits for the connection
		prepared <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the preparer reach its wait
	done := make(chan error, 1)
	go func() {
		st, err := c.txStmt(ctx, tx, insert)
		if err == nil {
			_, err = st.ExecContext(ctx, 1)
		}
		if err == nil {
			err = tx.Commit()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the transaction could not get its prepared statement while another query was being prepared")
	}
	if err := <-prepared; err != nil {
		t.Fatalf("preparing after the transaction ended: %v", err)
	}
}
