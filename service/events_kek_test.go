package service

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ronganxian/eseal/outbox"
	"github.com/ronganxian/eseal/seal"
)

// TestRotateKEKKeepsReceiverCredentials: after a KEK rotation the service,
// opened with the new KEK, still opens a subscription's bearer token and
// delivers with it.
func TestRotateKEKKeepsReceiverCredentials(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ESEAL_DATA_DIR", dir)
	t.Setenv("ESEAL_EVENT_POLL", "20ms")
	c, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureKEK(c.KEKFile); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := Open(ctx, c, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.PrepareDemo(ctx); err != nil {
		t.Fatal(err)
	}
	const token = "platform-bearer-token-1"
	var good, bad atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			bad.Add(1)
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		good.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	if _, err := svc.Outbox.Create(ctx, outbox.NewSubscription{ID: "platform", Endpoint: rcv.URL, Auth: outbox.AuthBearer,
		Secret: []byte(token), FromSeq: 1}, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := svc.RotateKEK(ctx, filepath.Join(dir, "kek-2")); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	c.KEKFile = filepath.Join(dir, "kek-2")
	svc, err = Open(ctx, c, log)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	r := &seal.Record{Time: time.Now(), RequestID: "after-rotation", Township: "450224100", Item: "450224-XK-0002",
		Domain: "农业农村", Principal: "450224100-service", Result: seal.ResultRefused, Rule: seal.RuleWrongWindow, Detail: "test"}
	if _, err := svc.Ledger.Append(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	stop := svc.runOutbox(ctx)
	defer stop()
	deadline := time.Now().Add(10 * time.Second)
	for good.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	sub, _ := svc.Outbox.Get(ctx, "platform")
	if good.Load() == 0 || bad.Load() != 0 {
		t.Fatalf("after the rotation: %d deliveries with the token, %d without; subscription %+v", good.Load(), bad.Load(), sub)
	}
}
