package service

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store/storetest"
)

// TestRetention: the service deletes sealed documents older than
// documents_retention_days, on its own every retention_every, and keeps
// the younger ones and every record; with 0 it deletes none.
func TestRetention(t *testing.T) {
	for _, c := range []struct {
		days    string
		deleted []uint64 // of records 1 (100 days old), 2 (10 days), 3 (now)
	}{
		{"0", nil},
		{"30", []uint64{1}},
		{"5", []uint64{1, 2}},
	} {
		t.Run("days="+c.days, func(t *testing.T) {
			t.Setenv("ESEAL_DATA_DIR", t.TempDir())
			t.Setenv("ESEAL_DOCUMENTS_RETENTION_DAYS", c.days)
			t.Setenv("ESEAL_RETENTION_EVERY", "20ms")
			cfg, err := LoadConfig("")
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			if err := EnsureKEK(cfg.KEKFile); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			svc, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer svc.Close()
			now := time.Now()
			for i, age := range []time.Duration{100 * 24 * time.Hour, 10 * 24 * time.Hour, 0} {
				r := storetest.NewRecord(i+1, seal.ResultSealed)
				r.Time = now.Add(-age)
				if _, err := svc.Store.Append(ctx, r, bytes.Repeat([]byte{byte('a' + i)}, 1000)); err != nil {
					t.Fatal(err)
				}
			}
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { svc.runRetention(runCtx); close(done) }()
			deadline := time.Now().Add(5 * time.Second)
			var gone []uint64
			for {
				gone = gone[:0]
				for seq := uint64(1); seq <= 3; seq++ {
					_, _, err := svc.Store.(interface {
						Document(context.Context, uint64) (*seal.Record, []byte, error)
					}).Document(ctx, seq)
					if errors.Is(err, seal.ErrDocumentDeleted) {
						gone = append(gone, seq)
					} else if err != nil {
						t.Fatal(err)
					}
				}
				if len(gone) == len(c.deleted) || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			stop()
			<-done
			if !slices.Equal(gone, c.deleted) {
				t.Errorf("deleted documents %v, want %v", gone, c.deleted)
			}
			if head, err := svc.Store.Head(ctx); err != nil || head.Seq != 3 {
				t.Errorf("the ledger after the purge: head %v, %v; want record 3", head, err)
			}
		})
	}
}

func TestRetentionConfigRefusesNegatives(t *testing.T) {
	for _, env := range []string{"ESEAL_DOCUMENTS_RETENTION_DAYS", "ESEAL_ARCHIVE_MAX_BYTES"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv("ESEAL_DATA_DIR", t.TempDir())
			t.Setenv(env, "-1")
			cfg, err := LoadConfig("")
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err == nil {
				t.Errorf("%s=-1 validates", env)
			}
		})
	}
}
