package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"testing"

	"github.com/ronganxian/eseal/keystore/sealkeys"
	"github.com/ronganxian/eseal/outbox"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// withOutbox returns e served by a second server over the same stores that
// also pushes events (Deps.Outbox), as package service builds it; the
// outbox does not run, since these tests only manage subscriptions.
func withOutbox(t *testing.T, e *env) *env {
	t.Helper()
	st, ok := e.st.(outbox.Store)
	if !ok {
		t.Fatalf("%T keeps no subscriptions", e.st)
	}
	ledger := e.sealer.Ledger.(*seal.Ledger)
	box := outbox.New(outbox.Config{}, st, sealkeys.NewCheckpoints(e.ks), nil, ledger.Appended)
	srv, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		Deps{Sealer: e.sealer, Ledger: ledger, Store: e.st, Keystore: e.ks, Outbox: box})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx); close(done) }()
	o := *e
	o.srv = srv
	o.conn = o.dial(nil)
	t.Cleanup(func() { o.conn.Close(); cancel(); <-done })
	return &o
}

// TestSubscriptionBatch: a subscription's batch size goes in through
// CreateSubscription, over gRPC and REST, and comes back as stored from
// every call that returns a subscription, on both stores; a size past
// outbox.MaxBatch is InvalidArgument and stores nothing.
func TestSubscriptionBatch(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			e := withOutbox(t, newEnv(t, kind, nil))
			c := sealv1.NewSubscriptionServiceClient(e.conn)
			cases := []struct {
				batch uint32
				code  codes.Code
			}{
				{0, codes.OK},
				{1, codes.OK},
				{2, codes.OK},
				{100, codes.OK},
				{outbox.MaxBatch, codes.OK},
				{outbox.MaxBatch + 1, codes.InvalidArgument},
				{math.MaxUint32, codes.InvalidArgument},
			}
			want := map[string]uint32{}
			for _, tc := range cases {
				id := fmt.Sprintf("batch-%d", tc.batch)
				got, err := c.CreateSubscription(e.as("admin"), &sealv1.CreateSubscriptionRequest{Id: id,
					Endpoint: "http://127.0.0.1:9/events", Batch: tc.batch})
				if status.Code(err) != tc.code {
					t.Fatalf("batch %d: %v, want %s", tc.batch, err, tc.code)
				}
				if err != nil {
					continue
				}
				want[id] = tc.batch
				if got.Batch != tc.batch {
					t.Errorf("CreateSubscription batch %d: returned %d", tc.batch, got.Batch)
				}
				st, err := c.GetSubscriptionStatus(e.as("admin"), &sealv1.SubscriptionRequest{Id: id})
				if err != nil || st.Batch != tc.batch {
					t.Errorf("GetSubscriptionStatus batch %d: %v, %v", tc.batch, st, err)
				}
				paused, err := c.PauseSubscription(e.as("admin"), &sealv1.SubscriptionRequest{Id: id})
				if err != nil || paused.Batch != tc.batch {
					t.Errorf("PauseSubscription batch %d: %v, %v", tc.batch, paused, err)
				}
			}

			// REST: the field is "batch" both ways.
			r := e.rest(t, http.MethodPost, "/v1/subscriptions", "admin", []byte(`{"id": "rest-batch", "endpoint": "http://127.0.0.1:9/events", "batch": 50}`))
			if r.code != http.StatusOK {
				t.Fatalf("POST /v1/subscriptions: %d %s", r.code, r.body)
			}
			want["rest-batch"] = 50
			r = e.rest(t, http.MethodGet, "/v1/subscriptions/rest-batch", "admin", nil)
			var one struct{ Batch uint32 }
			if err := json.Unmarshal(r.body, &one); r.code != http.StatusOK || err != nil || one.Batch != 50 {
				t.Errorf("GET /v1/subscriptions/rest-batch: %d %s (%v)", r.code, r.body, err)
			}
			if r := e.rest(t, http.MethodPost, "/v1/subscriptions", "admin",
				[]byte(`{"id": "rest-too-big", "endpoint": "http://127.0.0.1:9/events", "batch": 501}`)); r.code != http.StatusBadRequest {
				t.Errorf("POST batch 501: %d %s, want 400", r.code, r.body)
			}

			list, err := c.ListSubscriptions(e.as("admin"), &sealv1.ListSubscriptionsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]uint32{}
			for _, s := range list.Subscriptions {
				got[s.Id] = s.Batch
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("ListSubscriptions: batches %v, want %v", got, want)
			}
		})
	}
}
