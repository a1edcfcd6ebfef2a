package sqlite_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store/storetest"
)

// TestBackgroundCheckpoint shows that what a commit puts in the WAL reaches
// the database file soon after, without the writer checkpointing: 2 MB is
// far below the writer's backstop, so only the background checkpointer can
// have copied it.
func TestBackgroundCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seal.db")
	db := openDB(t, path)
	before := fileSize(t, path)
	// A refusal with a 2 MB detail: sealed documents go to the document
	// log, not into the database.
	r := storetest.NewRecord(1, seal.ResultRefused)
	r.Detail = rand.Text()
	for len(r.Detail) < 2<<20 {
		r.Detail += r.Detail
	}
	if _, err := db.Service().Append(context.Background(), r, nil); err != nil {
		t.Fatal(err)
	}
	if wal := fileSize(t, path+"-wal"); wal < int64(len(r.Detail)) {
		t.Fatalf("the WAL holds %d bytes after a %d-byte commit", wal, len(r.Detail))
	}
	deadline := time.Now().Add(5 * time.Second)
	for fileSize(t, path) < before+int64(len(r.Detail)) {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is still %d bytes 5 s after a %d-byte commit: no checkpoint ran", fileSize(t, path), len(r.Detail))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
