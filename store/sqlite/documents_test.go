package sqlite_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store/sqlite"
	"github.com/ronganxian/eseal/store/storetest"
)

// TestDocumentLog shows that sealed documents are kept in the log beside
// the database and not in it, come back byte for byte after a reopen, and
// that a damaged or truncated log gives ErrDocumentDamaged, never other
// bytes.
func TestDocumentLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seal.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	docs := make([][]byte, 3)
	for i := range docs {
		docs[i] = make([]byte, 20<<10+i)
		rand.Read(docs[i])
		if _, err := db.Service().Append(ctx, storetest.NewRecord(i, seal.ResultSealed), docs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range []string{path, path + "-wal"} {
		b, _ := os.ReadFile(file)
		for i, d := range docs {
			if bytes.Contains(b, d[:64]) {
				t.Errorf("document %d is in %s", i, filepath.Base(file))
			}
		}
	}
	logged, err := os.ReadFile(path + "-documents")
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path + "-documents"); fi.Mode().Perm() != 0o600 {
		t.Errorf("document log mode %04o, want 0600", fi.Mode().Perm())
	}
	for i, d := range docs {
		if !bytes.Contains(logged, d) {
			t.Errorf("document %d is not in the log", i)
		}
	}
	db.Close()

	// A crash after a group's documents were written, before its
	// transaction: bytes no reference names, then more appends.
	f, err := os.OpenFile(path+"-documents", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("half a document that was never recorded"))
	f.Close()
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	docs = append(docs, []byte("%PDF after the crash"))
	if _, err := db.Service().Append(ctx, storetest.NewRecord(3, seal.ResultSealed), docs[3]); err != nil {
		t.Fatal(err)
	}
	for i, d := range docs {
		if _, got, err := db.Service().Result(ctx, "450224100", storetest.NewRecord(i, seal.ResultSealed).RequestID); err != nil || !bytes.Equal(got, d) {
			t.Errorf("document %d after reopening: %d bytes, %v", i, len(got), err)
		}
	}

	// A result stored before the log existed keeps its document inline.
	refusal, err := db.Service().Append(ctx, storetest.NewRecord(9, seal.ResultRefused), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, path)
	if _, err := raw.Exec(`INSERT INTO results (township_code, request_id, seq, document) VALUES ('450224100', 'inline', ?, X'255044462D696E6C696E65')`, refusal.Seq); err != nil {
		t.Fatal(err)
	}
	if _, got, err := db.Service().Result(ctx, "450224100", "inline"); err != nil || string(got) != "%PDF-inline" {
		t.Errorf("an inline document: %q, %v", got, err)
	}

	// One changed byte, then a truncated log.
	logged, _ = os.ReadFile(path + "-documents")
	at := bytes.Index(logged, docs[1])
	damaged := bytes.Clone(logged)
	damaged[at+100] ^= 1
	if err := os.WriteFile(path+"-documents", damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Service().Result(ctx, "450224100", "req-1"); !errors.Is(err, sqlite.ErrDocumentDamaged) {
		t.Errorf("a changed byte: %v, want ErrDocumentDamaged", err)
	}
	if _, _, err := db.Service().Result(ctx, "450224100", "req-0"); err != nil {
		t.Errorf("an intact neighbour: %v", err)
	}
	if err := os.Truncate(path+"-documents", int64(at+10)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Service().Result(ctx, "450224100", "req-2"); !errors.Is(err, sqlite.ErrDocumentDamaged) {
		t.Errorf("a truncated log: %v, want ErrDocumentDamaged", err)
	}
}
